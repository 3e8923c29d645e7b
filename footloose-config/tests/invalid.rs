//! Every invalid configuration gets one clear error naming file, line,
//! column and field. Each case is a `spec:` fragment appended to a valid
//! document (or a whole document), and the exact text expected.

use footloose_config::Config;

const HEAD: &str = "cluster:\n  name: c\n  privateKey: k\nmachines:\n- count: 2\n  spec:\n    image: footloose/debian12\n";

/// A valid document whose machine entry ends with `rest` (which must give
/// the `name:` line itself when it matters).
fn with_spec(rest: &str) -> String {
    format!("{HEAD}{rest}")
}

fn named(rest: &str) -> String {
    with_spec(&format!("    name: node%d\n{rest}"))
}

fn error_of(text: &str) -> String {
    match Config::from_yaml(text, "f.yaml") {
        Ok(config) => panic!("accepted an invalid config:\n{text}\n=> {config:?}"),
        Err(err) => err.to_string(),
    }
}

macro_rules! invalid {
    ($($test:ident: $text:expr => $expected:expr;)*) => {$(
        #[test]
        fn $test() {
            let got = error_of(&$text);
            assert_eq!(got, $expected, "for config:\n{}", $text);
        }
    )*};
}

invalid! {
    empty_file: "" =>
        "f.yaml: the file is empty: a config needs a `cluster:` section (footloose config create writes one)";
    not_a_mapping: "- a\n" =>
        "f.yaml:1:1: invalid type: sequence, expected struct Config";
    syntax_error: named("    networks: [a\n") =>
        "f.yaml:10:1: did not find expected ',' or ']' at line 10 column 1, while parsing a flow sequence at line 9 column 15";
    missing_cluster: "machines: []\n" =>
        "f.yaml:1:1: missing field `cluster`";
    missing_cluster_name: "cluster:\n  privateKey: k\n" =>
        "f.yaml:2:3: cluster: missing field `name`";
    unknown_top_level_key: "cluster:\n  name: c\nmachine: []\n" =>
        "f.yaml:3:1: unknown field `machine`, expected one of `cluster`, `machines`, `ansible`";
    unknown_cluster_key: "cluster:\n  name: c\n  privatekey: k\n" =>
        "f.yaml:3:3: cluster: unknown field `privatekey`, expected one of `name`, `privateKey`, `publishAddress`, `reach`";
    bad_cluster_name: "cluster:\n  name: my cluster\n" =>
        "f.yaml:2:9: cluster.name: `my cluster` is not a valid cluster name: use 1 to 40 letters, digits, `-`, `_` or `.`, starting with a letter or digit";
    empty_private_key: "cluster:\n  name: c\n  privateKey: ''\n" =>
        "f.yaml:3:15: cluster.privateKey: must be a file path";
    count_not_a_number: "cluster:\n  name: c\nmachines:\n- count: three\n  spec: {image: i, name: n%d}\n" =>
        "f.yaml:4:10: machines[0].count: invalid type: string \"three\", expected u32";
    negative_count: "cluster:\n  name: c\nmachines:\n- count: -1\n  spec: {image: i, name: n%d}\n" =>
        "f.yaml:4:10: machines[0].count: invalid type: integer `-1`, expected u32";
    missing_spec: "cluster:\n  name: c\nmachines:\n- count: 1\n" =>
        "f.yaml:4:3: machines[0]: missing field `spec`";
    unknown_spec_key: named("    privilegd: true\n") =>
        "f.yaml:9:5: machines[0].spec: unknown field `privilegd`, expected one of `image`, `name`, `portMappings`, `privileged`, `volumes`, `networks`, `cmd`, `backend`, `env`, `labels`, `capAdd`, `capDrop`, `tmpfs`, `securityOpt`, `userManager`, `userNamespaces`, `resources`";
    missing_name: with_spec("    cmd: /sbin/init\n") =>
        "f.yaml:7:5: machines[0].spec: missing field `name`";
    empty_image: "cluster:\n  name: c\nmachines:\n- spec:\n    image: ''\n    name: n%d\n" =>
        "f.yaml:5:12: machines[0].spec.image: must name an image";
    name_without_index: with_spec("    name: node\n") =>
        "f.yaml:8:11: machines[0].spec.name: `node` needs exactly one `%d`, replaced by the machine's index (such as `node%d`)";
    name_with_two_indexes: with_spec("    name: n%d-%d\n") =>
        "f.yaml:8:11: machines[0].spec.name: `n%d-%d` has 2 `%d`; it needs exactly one";
    name_with_other_verb: with_spec("    name: n%s%d\n") =>
        "f.yaml:8:11: machines[0].spec.name: `n%s%d` has a `%` other than its one `%d`";
    name_not_dns: with_spec("    name: Node_%d\n") =>
        "f.yaml:8:11: machines[0].spec.name: `Node_1` is not a valid hostname: use lowercase letters, digits and `-` (at most 63), not starting or ending with `-`";
    duplicate_machine: format!("{}- count: 1\n  spec:\n    image: i\n    name: node%d\n", named("")) =>
        "f.yaml:12:11: machines[1].spec.name: machine `node0` is already defined by machines[0].spec.name";
    privileged_not_bool: named("    privileged: yes\n") =>
        "f.yaml:9:17: machines[0].spec.privileged: invalid type: string \"yes\", expected a boolean";
    ignite_backend: named("    backend: ignite\n") =>
        "f.yaml:9:14: machines[0].spec.backend: backend `ignite` is not supported: footloose runs machines as containers (use `docker` or `incus`, or leave it out)";
    unknown_backend: named("    backend: k8s\n") =>
        "f.yaml:9:14: machines[0].spec.backend: unknown variant `k8s`, expected one of `docker`, `ignite`, `incus`";
    empty_cmd: named("    cmd: ' '\n") =>
        "f.yaml:9:10: machines[0].spec.cmd: must not be empty";
    port_zero: named("    portMappings:\n    - containerPort: 0\n") =>
        "f.yaml:10:22: machines[0].spec.portMappings[0].containerPort: must be a port from 1 to 65535";
    port_out_of_range: named("    portMappings:\n    - containerPort: 70000\n") =>
        "f.yaml:10:22: machines[0].spec.portMappings[0].containerPort: invalid value: integer `70000`, expected u16";
    host_port_not_a_number: named("    portMappings:\n    - containerPort: 22\n    - containerPort: 80\n      hostPort: x\n") =>
        "f.yaml:12:17: machines[0].spec.portMappings[1].hostPort: invalid type: string \"x\", expected u16";
    host_ports_overflow: named("    portMappings:\n    - containerPort: 22\n      hostPort: 65535\n") =>
        "f.yaml:11:17: machines[0].spec.portMappings[0].hostPort: 2 machines need host ports 65535 to 65536, beyond 65535";
    port_missing_container_port: named("    portMappings:\n    - hostPort: 2222\n") =>
        "f.yaml:10:7: machines[0].spec.portMappings[0]: missing field `containerPort`";
    bad_address: named("    portMappings:\n    - containerPort: 22\n      address: localhost\n") =>
        "f.yaml:11:16: machines[0].spec.portMappings[0].address: `localhost` is not an IP address";
    bad_protocol: named("    portMappings:\n    - containerPort: 22\n      protocol: sctp\n") =>
        "f.yaml:11:17: machines[0].spec.portMappings[0].protocol: unknown variant `sctp`, expected `tcp` or `udp`";
    volume_type_unknown: named("    volumes:\n    - type: nfs\n      destination: /x\n") =>
        "f.yaml:10:13: machines[0].spec.volumes[0].type: unknown variant `nfs`, expected `volume` or `bind`";
    volume_relative_destination: named("    volumes:\n    - type: volume\n      destination: var/lib\n") =>
        "f.yaml:11:20: machines[0].spec.volumes[0].destination: `var/lib` must be an absolute path";
    bind_without_source: named("    volumes:\n    - type: bind\n      destination: /x\n") =>
        "f.yaml:10:7: machines[0].spec.volumes[0].source: a bind mount needs a host path";
    volume_bad_name: named("    volumes:\n    - type: volume\n      source: a/b\n      destination: /x\n") =>
        "f.yaml:11:15: machines[0].spec.volumes[0].source: `a/b` is not a valid volume name";
    volume_unknown_key: named("    volumes:\n    - type: volume\n      destination: /x\n      readonly: true\n") =>
        "f.yaml:12:7: machines[0].spec.volumes[0]: unknown field `readonly`, expected one of `type`, `source`, `destination`, `readOnly`";
    networks_not_a_list: named("    networks: my-net\n") =>
        "f.yaml:9:15: machines[0].spec.networks: invalid type: string \"my-net\", expected a sequence";
    bad_network_name: named("    networks: [ok, 'not ok']\n") =>
        "f.yaml:9:20: machines[0].spec.networks[1]: `not ok` is not a valid network name";
    env_not_a_map: named("    env: [A=1]\n") =>
        "f.yaml:9:10: machines[0].spec.env: invalid type: sequence, expected a map";
    reserved_label: named("    labels:\n      io.footloose.cluster: x\n") =>
        "f.yaml:10:29: machines[0].spec.labels.io.footloose.cluster: labels starting with `io.footloose.` are footloose's own";
    bad_capability: named("    capAdd: [NET_ADMIN, sys-admin]\n") =>
        "f.yaml:9:25: machines[0].spec.capAdd[1]: `sys-admin` is not a capability name (such as NET_ADMIN)";
    bad_security_option: named("    securityOpt: [unconfined]\n") =>
        "f.yaml:9:19: machines[0].spec.securityOpt[0]: `unconfined` is not a security option (such as seccomp=unconfined)";
    relative_tmpfs: named("    tmpfs: [var/cache]\n") =>
        "f.yaml:9:13: machines[0].spec.tmpfs[0]: `var/cache` must be an absolute path";
    zero_cpus: named("    resources:\n      cpus: 0\n") =>
        "f.yaml:10:13: machines[0].spec.resources.cpus: `0` is not a number of CPUs: use one from 0.01 up, fractions allowed, such as 0.5 or 2";
    negative_cpus: named("    resources: {cpus: -1.5, memory: 1Gi}\n") =>
        "f.yaml:9:23: machines[0].spec.resources.cpus: `-1.5` is not a number of CPUs: use one from 0.01 up, fractions allowed, such as 0.5 or 2";
    too_few_cpus: named("    resources:\n      cpus: 0.001\n") =>
        "f.yaml:10:13: machines[0].spec.resources.cpus: `0.001` is not a number of CPUs: use one from 0.01 up, fractions allowed, such as 0.5 or 2";
    too_many_cpus: named("    resources:\n      cpus: 1e10\n") =>
        "f.yaml:10:13: machines[0].spec.resources.cpus: `10000000000` is more CPUs than an engine can limit a machine to";
    cpus_not_a_number: named("    resources:\n      cpus: two\n") =>
        "f.yaml:10:13: machines[0].spec.resources.cpus: invalid type: string \"two\", expected f64";
    bad_memory: named("    resources:\n      cpus: 1\n      memory: 512 MB\n") =>
        "f.yaml:11:15: machines[0].spec.resources.memory: `512 MB` is not a memory size: use a byte count or a number with a suffix, `Ki`, `Mi`, `Gi`, `Ti` (powers of 1024) or `K`, `M`, `G`, `T` (powers of 1000), such as 512Mi or 1G";
    ambiguous_memory_unit: named("    resources:\n      memory: 512m\n") =>
        "f.yaml:10:15: machines[0].spec.resources.memory: `512m` is not a memory size: `m` is ambiguous; use `Mi` (powers of 1024, as `docker run -m` reads `m`) or `M` (powers of 1000)";
    zero_memory: named("    resources:\n      memory: 0Mi\n") =>
        "f.yaml:10:15: machines[0].spec.resources.memory: must be more than 0 bytes";
    negative_memory: named("    resources:\n      memory: -1\n") =>
        "f.yaml:10:15: machines[0].spec.resources.memory: `-1` is not a memory size: use a byte count or a number with a suffix, `Ki`, `Mi`, `Gi`, `Ti` (powers of 1024) or `K`, `M`, `G`, `T` (powers of 1000), such as 512Mi or 1G";
    partial_byte: named("    resources:\n      memory: 0.1Ki\n") =>
        "f.yaml:10:15: machines[0].spec.resources.memory: `0.1Ki` is not a whole number of bytes";
    exbibytes_are_no_unit: named("    resources:\n      memory: 9Ei\n") =>
        "f.yaml:10:15: machines[0].spec.resources.memory: `9Ei` is not a memory size: use a byte count or a number with a suffix, `Ki`, `Mi`, `Gi`, `Ti` (powers of 1024) or `K`, `M`, `G`, `T` (powers of 1000), such as 512Mi or 1G";
    memory_beyond_8_eib: named("    resources:\n      memory: 8388608Ti\n") =>
        "f.yaml:10:15: machines[0].spec.resources.memory: `8388608Ti` is more memory than an engine can limit a machine to (at most 8 EiB)";
    memory_not_a_scalar: named("    resources:\n      memory: [1Gi]\n") =>
        "f.yaml:10:15: machines[0].spec.resources.memory: invalid type: sequence, expected a string";
    unknown_resources_key: named("    resources:\n      cpus: 1\n      cpu: 1\n") =>
        "f.yaml:11:7: machines[0].spec.resources: unknown field `cpu`, expected `cpus` or `memory`";
    resources_not_a_map: named("    resources: 2\n") =>
        "f.yaml:9:16: machines[0].spec.resources: invalid type: integer `2`, expected struct Resources";
    bad_publish_address: "cluster:\n  name: c\n  publishAddress: engine-host\nmachines: []\n" =>
        "f.yaml:3:19: cluster.publishAddress: `engine-host` is not an IP address";
    bad_reach: "cluster:\n  name: c\n  reach: tunnel\nmachines: []\n" =>
        "f.yaml:3:10: cluster.reach: `tunnel` is not a way to reach machines: use `auto`, `published`, `published:ADDRESS`, `network` or `network:NAME`";
    bad_group: named("  groups: [web, web-servers]\n") =>
        "f.yaml:9:17: machines[0].groups[1]: `web-servers` is not an Ansible group name: use letters, digits and `_`, not starting with a digit, and not `all` or `ungrouped`";
    groups_not_a_list: named("  groups: web\n") =>
        "f.yaml:9:11: machines[0].groups: invalid type: string \"web\", expected a sequence";
    bad_var_name: named("  ansible:\n    vars:\n      redis-port: 6380\n") =>
        "f.yaml:11:19: machines[0].ansible.vars.redis-port: `redis-port` is not an Ansible variable name: use letters, digits and `_`, not starting with a digit";
    footloose_var: named("  ansible:\n    vars:\n      ansible_port: 2222\n") =>
        "f.yaml:11:21: machines[0].ansible.vars.ansible_port: `ansible_port` is footloose's own: it sets it so that Ansible reaches the machine";
    vars_not_a_map: named("  ansible:\n    vars: [a]\n") =>
        "f.yaml:10:11: machines[0].ansible.vars: invalid type: sequence, expected a map";
    unknown_machine_ansible_key: named("  ansible:\n    hostvars: {}\n") =>
        "f.yaml:10:5: machines[0].ansible: unknown field `hostvars`, expected `vars`";
    unknown_group_in_group_vars: format!("{}ansible:\n  groupVars:\n    node: {{a: 1}}\n    fronted: {{a: 1}}\n", named("  groups: [frontend]\n")) =>
        "f.yaml:13:15: ansible.groupVars.fronted: no machine is in group `fronted`: name `all`, a `machines:` entry's group (its name without `%d`) or one of its `groups` (`all`, `node`, `frontend`)";
    bad_group_var_name: format!("{}ansible:\n  groupVars:\n    all:\n      1st: x\n", named("")) =>
        "f.yaml:12:12: ansible.groupVars.all.1st: `1st` is not an Ansible variable name: use letters, digits and `_`, not starting with a digit";
    unknown_top_level_ansible_key: format!("{}ansible:\n  group_vars: {{}}\n", named("")) =>
        "f.yaml:10:3: ansible: unknown field `group_vars`, expected `groupVars`";
}

#[test]
fn a_missing_file_names_the_path() {
    let err = Config::load(std::path::Path::new("/nonexistent/footloose.yaml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read config file /nonexistent/footloose.yaml"
    );
    // The cause is the error's source, printed once by a chain printer.
    let cause = std::error::Error::source(&err).expect("the operating system's error");
    assert!(
        cause.to_string().contains("No such file or directory"),
        "{cause}"
    );
}
