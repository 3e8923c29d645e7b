//! Files in the upstream format load unchanged, and what footloose writes
//! reads back the same.

use footloose_config::{Config, Protocol, VolumeType, DEFAULT_CMD};

/// The example from the original footloose README, verbatim.
const UPSTREAM: &str = "cluster:
  name: cluster
  privateKey: cluster-key
machines:
- count: 3
  spec:
    image: quay.io/footloose/centos7
    name: node%d
    portMappings:
    - containerPort: 22
";

#[test]
fn the_upstream_readme_example_loads() {
    let config = Config::from_yaml(UPSTREAM, "footloose.yaml").unwrap();
    assert_eq!(config.cluster.name, "cluster");
    assert_eq!(config.cluster.private_key, "cluster-key");
    let machines: Vec<_> = config.machines().collect();
    let names: Vec<_> = machines.iter().map(|m| m.hostname.as_str()).collect();
    assert_eq!(names, ["node0", "node1", "node2"]);
    assert_eq!(machines[1].cmd(), DEFAULT_CMD);
    assert_eq!(machines[2].spec.port_mappings[0].container_port, 22);
}

#[test]
fn the_upstream_docker_in_docker_example_loads() {
    let text = format!("{UPSTREAM}    privileged: true\n    volumes:\n    - type: volume\n      destination: /var/lib/docker\n");
    let config = Config::from_yaml(&text, "f").unwrap();
    let spec = &config.machines[0].spec;
    assert!(spec.privileged);
    assert_eq!(spec.volumes[0].kind, VolumeType::Volume);
    assert_eq!(spec.volumes[0].source, None);
}

#[test]
fn every_field_loads() {
    let text = "cluster:
  name: full
machines:
- count: 2
  spec:
    image: footloose/debian13
    name: web-%d
    portMappings:
    - containerPort: 22
    - containerPort: 80
      hostPort: 8080
      address: 0.0.0.0
      protocol: udp
    volumes:
    - type: bind
      source: ./data
      destination: /data
      readOnly: true
    networks: [front, back]
    cmd: /lib/systemd/systemd --log-level=debug
    backend: docker
    env: {A: '1'}
    labels: {team: infra}
    capAdd: [SYS_ADMIN, CAP_NET_ADMIN]
    capDrop: [MKNOD]
    tmpfs: [/var/cache]
- spec:
    image: footloose/debian11
    name: db%d
";
    let config = Config::from_yaml(text, "f").unwrap();
    assert_eq!(config.cluster.private_key, "cluster-key");
    let machines: Vec<_> = config.machines().collect();
    let names: Vec<_> = machines.iter().map(|m| m.hostname.as_str()).collect();
    assert_eq!(names, ["web-0", "web-1", "db0"]);
    let http = &machines[1].spec.port_mappings[1];
    assert_eq!(http.protocol, Protocol::Udp);
    assert_eq!(machines[0].host_port(http), Some(8080));
    assert_eq!(machines[1].host_port(http), Some(8081));
    assert_eq!(
        machines[1].host_port(&machines[1].spec.port_mappings[0]),
        None
    );
    assert_eq!(machines[2].set, 1);
    assert_eq!(machines[2].index, 0);
}

#[test]
fn written_configs_read_back_identically() {
    let config = Config::with_replicas("demo", "footloose/debian12", 3);
    let yaml = config.to_yaml().unwrap();
    assert_eq!(Config::from_yaml(&yaml, "f").unwrap(), config);
    assert!(yaml.contains("name: node%d"), "{yaml}");
    assert!(
        !yaml.contains("privileged"),
        "defaults are left out: {yaml}"
    );
}

#[test]
fn set_image_replaces_every_image() {
    let mut config = Config::from_yaml(UPSTREAM, "f").unwrap();
    config.set_image("footloose/debian11");
    assert!(config
        .machines()
        .all(|m| m.spec.image == "footloose/debian11"));
}

#[test]
fn short_image_names_name_footloose_images_and_other_words_stay() {
    let yaml = "cluster: {name: c}\nmachines:\n- spec: {image: rocky9, name: a%d}\n- spec: {image: ubuntu, name: b%d}\n- spec: {image: quay.io/footloose/centos7, name: c%d}\n";
    let config = Config::from_yaml(yaml, "footloose.yaml").unwrap();
    let images: Vec<String> = config.machines().map(|m| m.spec.image).collect();
    assert_eq!(
        images,
        ["footloose/rocky9", "ubuntu", "quay.io/footloose/centos7"]
    );
    let mut config = config;
    config.set_image("leap16.0");
    assert!(config
        .machines()
        .all(|m| m.spec.image == "footloose/leap16.0"));
}

#[test]
fn ansible_vars_go_to_the_machines_of_their_entry_and_groups() {
    let text = "cluster:
  name: vars
machines:
- count: 2
  spec:
    image: footloose/debian12
    name: web-%d
  groups: [frontend]
  ansible:
    vars:
      http_port: 8080
      tls: {enabled: true, ciphers: [a, b]}
- spec:
    image: footloose/debian12
    name: db%d
ansible:
  groupVars:
    all: {ntp_server: ntp.example}
    frontend: {tier: front}
    db: {tier: back}
";
    let config = Config::from_yaml(text, "f").unwrap();
    let machines: Vec<_> = config.machines().collect();
    assert_eq!(machines[1].ansible_vars["http_port"], 8080);
    assert_eq!(machines[1].ansible_vars["tls"]["ciphers"][1], "b");
    assert!(machines[2].ansible_vars.is_empty());
    let groups = |i: usize| machines[i].group_vars.keys().cloned().collect::<Vec<_>>();
    assert_eq!(groups(0), ["all", "frontend"]);
    assert_eq!(groups(2), ["all", "db"]);
    assert_eq!(machines[2].group_vars["db"]["tier"], "back");
    // Written and read back, they are the same.
    let yaml = config.to_yaml().unwrap();
    assert_eq!(Config::from_yaml(&yaml, "f").unwrap(), config);
    assert!(yaml.contains("groupVars:"), "{yaml}");
}

#[test]
fn user_namespaces_are_on_unless_a_spec_says_false_and_the_default_is_not_written() {
    let config = Config::from_yaml(UPSTREAM, "f").unwrap();
    assert!(
        config.machines[0].spec.user_namespaces,
        "upstream files get the default"
    );
    let text = format!("{UPSTREAM}    userNamespaces: false\n");
    let strict = Config::from_yaml(&text, "f").unwrap();
    assert!(!strict.machines[0].spec.user_namespaces);
    let written = config.to_yaml().unwrap();
    assert!(!written.contains("userNamespaces"), "{written}");
    let written = strict.to_yaml().unwrap();
    assert!(written.contains("userNamespaces: false"), "{written}");
    assert_eq!(Config::from_yaml(&written, "f").unwrap(), strict);
}

#[test]
fn resources_load_in_every_form_and_read_back_the_same() {
    let text = format!(
        "{UPSTREAM}    resources: {{cpus: 1.5, memory: 512Mi}}\n- spec:\n    image: footloose/debian12\n    name: db%d\n    resources:\n      cpus: 2\n      memory: 268435456\n- spec:\n    image: footloose/debian12\n    name: cache%d\n    resources: {{memory: 1GB}}\n"
    );
    let config = Config::from_yaml(&text, "f").unwrap();
    let resources: Vec<_> = config.machines.iter().map(|m| &m.spec.resources).collect();
    assert_eq!(resources[0].cpus, Some(1.5));
    assert_eq!(resources[0].memory.as_deref(), Some("512Mi"));
    assert_eq!(resources[0].nano_cpus(), Ok(Some(1_500_000_000)));
    assert_eq!(resources[0].memory_bytes(), Ok(Some(536_870_912)));
    assert_eq!(resources[1].nano_cpus(), Ok(Some(2_000_000_000)));
    assert_eq!(
        resources[1].memory.as_deref(),
        Some("268435456"),
        "a plain count is kept as written"
    );
    assert_eq!(resources[1].memory_bytes(), Ok(Some(268_435_456)));
    assert_eq!(resources[2].nano_cpus(), Ok(None));
    assert_eq!(resources[2].memory_bytes(), Ok(Some(1_000_000_000)));
    let written = config.to_yaml().unwrap();
    assert!(written.contains("resources:"), "{written}");
    assert_eq!(Config::from_yaml(&written, "f").unwrap(), config);
    // As the machine record keeps the spec: JSON.
    let json = serde_json::to_string(&config.machines[0].spec).unwrap();
    assert!(
        json.contains(r#""resources":{"cpus":1.5,"memory":"512Mi"}"#),
        "{json}"
    );
    let spec: footloose_config::MachineSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(spec, config.machines[0].spec);
}

#[test]
fn no_resources_means_no_limits_and_nothing_written() {
    let config = Config::from_yaml(UPSTREAM, "f").unwrap();
    let resources = &config.machines[0].spec.resources;
    assert!(resources.is_empty());
    assert_eq!(resources.nano_cpus(), Ok(None));
    assert_eq!(resources.memory_bytes(), Ok(None));
    assert!(!config.to_yaml().unwrap().contains("resources"));
    let empty = Config::from_yaml(&format!("{UPSTREAM}    resources: {{}}\n"), "f").unwrap();
    assert_eq!(empty, config);
}
