//! How a machine becomes a container: a pure function from the machine's
//! spec and the host's facts to the engine's create request, so that every
//! choice here is unit-tested without an engine.
//!
//! ## cgroups
//! systemd as PID 1 needs a cgroup tree it may manage.
//! - **cgroup v1** (verified on footloose's CI host): the host cgroup
//!   namespace and `/sys/fs/cgroup` bound read-only; Docker gives the
//!   container its own writable `name=systemd` subtree.
//! - **cgroup v2, unprivileged** (the default on most hosts): Docker mounts
//!   a private cgroup namespace read-only for unprivileged containers, which
//!   systemd cannot use. footloose runs the machine in the *host* cgroup
//!   namespace with `/sys/fs/cgroup` bound read-write, the recipe of
//!   bootloose. The trade-off: a machine's root can write to the host's
//!   cgroup tree, but gets no device access and no other privilege.
//! - **privileged** (any version): a private cgroup namespace, which a
//!   privileged container gets writable, the recipe of kind.

use std::collections::HashMap;
use std::path::Path;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, HostConfigCgroupnsModeEnum, Mount,
    MountType, MountVolumeOptions, NetworkingConfig, PortBinding,
};
use footloose_config::{MachineInstance, VolumeType};

use crate::engine::{CgroupVersion, HostFacts};

/// The tmpfs mounts every machine gets: systemd expects these to be
/// memory-backed and empty at boot.
pub const BASE_TMPFS: [(&str, &str); 3] = [
    ("/run", "rw,nosuid,nodev,exec,mode=755"),
    ("/run/lock", "rw,nosuid,nodev,noexec,size=5m"),
    ("/tmp", "rw,nosuid,nodev,exec"),
];

/// The address ports bind to when the config gives none.
pub const DEFAULT_BIND_ADDRESS: &str = "127.0.0.1";

/// A container to create, and the networks to attach after creating it.
#[derive(Debug, Clone)]
pub struct ContainerPlan {
    /// The container name: `<cluster>-<hostname>`.
    pub name: String,
    /// The create request.
    pub body: ContainerCreateBody,
    /// Networks beyond the first, connected before the container starts.
    pub extra_networks: Vec<String>,
}

/// The name of a cluster's own copy of the network `network` named in
/// its config.
pub fn private_network_name(cluster: &str, network: &str) -> String {
    format!("{cluster}-{network}")
}

impl ContainerPlan {
    /// The plan with networks named by id (`ids` maps name to id), so that
    /// two networks of one name, which Docker allows for a moment while
    /// creators race, cannot make the request ambiguous.
    pub fn with_network_ids(mut self, ids: &HashMap<String, String>) -> ContainerPlan {
        let by_id = |name: &String| ids.get(name).cloned().unwrap_or_else(|| name.clone());
        if let Some(host) = self.body.host_config.as_mut() {
            host.network_mode = host.network_mode.as_ref().map(by_id);
        }
        if let Some(endpoints) = self
            .body
            .networking_config
            .as_mut()
            .and_then(|n| n.endpoints_config.as_mut())
        {
            *endpoints = endpoints
                .drain()
                .map(|(name, endpoint)| (by_id(&name), endpoint))
                .collect();
        }
        self.extra_networks = self.extra_networks.iter().map(by_id).collect();
        self
    }
}

/// The container name of `hostname` in `cluster`.
pub fn container_name(cluster: &str, hostname: &str) -> String {
    format!("{cluster}-{hostname}")
}

/// Builds the create request of `machine`. `labels` are set on the
/// container and its anonymous volumes; relative bind sources are resolved
/// against `config_dir`.
pub fn plan(
    cluster: &str,
    machine: &MachineInstance,
    facts: HostFacts,
    labels: &HashMap<String, String>,
    config_dir: &Path,
) -> ContainerPlan {
    let spec = &machine.spec;
    let mut container_labels: HashMap<String, String> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    container_labels.extend(labels.clone());

    let mut env = vec!["container=docker".to_owned()];
    env.extend(spec.env.iter().map(|(k, v)| format!("{k}={v}")));

    let mut exposed_ports = Vec::new();
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for mapping in &spec.port_mappings {
        let key = format!("{}/{}", mapping.container_port, mapping.protocol.as_str());
        exposed_ports.push(key.clone());
        let binding = PortBinding {
            host_ip: Some(
                mapping
                    .address
                    .clone()
                    .unwrap_or_else(|| DEFAULT_BIND_ADDRESS.to_owned()),
            ),
            host_port: Some(
                machine
                    .host_port(mapping)
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            ),
        };
        port_bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(binding);
    }

    let mut tmpfs: HashMap<String, String> = BASE_TMPFS
        .iter()
        .map(|(path, options)| (path.to_string(), options.to_string()))
        .collect();
    for path in &spec.tmpfs {
        tmpfs.insert(path.clone(), "rw,nosuid,nodev,exec".to_owned());
    }

    let mounts = spec
        .volumes
        .iter()
        .map(|volume| match volume.kind {
            VolumeType::Volume => Mount {
                target: Some(volume.destination.clone()),
                source: volume.source.clone(),
                typ: Some(MountType::VOLUME),
                read_only: Some(volume.read_only),
                volume_options: Some(MountVolumeOptions {
                    labels: Some(labels.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            VolumeType::Bind => Mount {
                target: Some(volume.destination.clone()),
                source: volume
                    .source
                    .as_deref()
                    .map(|s| resolve_bind_source(s, config_dir)),
                typ: Some(MountType::BIND),
                read_only: Some(volume.read_only),
                ..Default::default()
            },
        })
        .collect::<Vec<_>>();

    let (cgroupns, cgroup_bind) = cgroup_setup(facts, spec.privileged);

    let mut networks = spec.networks.iter();
    let first_network = networks.next().cloned();
    let extra_networks: Vec<String> = networks.cloned().collect();
    let networking_config = first_network.as_ref().map(|network| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            network.clone(),
            endpoint_settings(&machine.hostname),
        )])),
    });

    let host_config = HostConfig {
        port_bindings: Some(port_bindings),
        tmpfs: Some(tmpfs),
        binds: cgroup_bind.map(|b| vec![b.to_owned()]),
        mounts: Some(mounts),
        cgroupns_mode: Some(cgroupns),
        privileged: Some(spec.privileged),
        cap_add: non_empty(spec.cap_add.clone()),
        cap_drop: non_empty(spec.cap_drop.clone()),
        security_opt: non_empty(spec.security_opt.clone()),
        network_mode: first_network,
        ..Default::default()
    };

    ContainerPlan {
        name: container_name(cluster, &machine.hostname),
        body: ContainerCreateBody {
            image: Some(spec.image.clone()),
            hostname: Some(machine.hostname.clone()),
            cmd: Some(
                machine
                    .cmd()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
            ),
            tty: Some(true),
            env: Some(env),
            labels: Some(container_labels),
            exposed_ports: Some(exposed_ports),
            stop_signal: Some("SIGRTMIN+3".to_owned()),
            host_config: Some(host_config),
            networking_config,
            ..Default::default()
        },
        extra_networks,
    }
}

/// The endpoint of a machine on a user network: reachable by its hostname.
pub fn endpoint_settings(hostname: &str) -> EndpointSettings {
    EndpointSettings {
        aliases: Some(vec![hostname.to_owned()]),
        ..Default::default()
    }
}

/// The cgroup namespace and the `/sys/fs/cgroup` bind, if any (see the
/// module documentation for why).
pub fn cgroup_setup(
    facts: HostFacts,
    privileged: bool,
) -> (HostConfigCgroupnsModeEnum, Option<&'static str>) {
    match (facts.cgroup, privileged) {
        (_, true) => (HostConfigCgroupnsModeEnum::PRIVATE, None),
        (CgroupVersion::V1, false) => (
            HostConfigCgroupnsModeEnum::HOST,
            Some("/sys/fs/cgroup:/sys/fs/cgroup:ro"),
        ),
        (CgroupVersion::V2, false) => (
            HostConfigCgroupnsModeEnum::HOST,
            Some("/sys/fs/cgroup:/sys/fs/cgroup:rw"),
        ),
    }
}

fn resolve_bind_source(source: &str, config_dir: &Path) -> String {
    crate::paths::resolve(source, config_dir)
        .display()
        .to_string()
}

fn non_empty(list: Vec<String>) -> Option<Vec<String>> {
    (!list.is_empty()).then_some(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::CgroupDriver;
    use footloose_config::Config;

    const V1: HostFacts = HostFacts {
        cgroup: CgroupVersion::V1,
        driver: CgroupDriver::Cgroupfs,
    };
    const V2: HostFacts = HostFacts {
        cgroup: CgroupVersion::V2,
        driver: CgroupDriver::Systemd,
    };

    fn machine(extra: &str) -> MachineInstance {
        let text = format!(
            "cluster: {{name: c}}\nmachines:\n- count: 2\n  spec:\n    image: footloose/debian12\n    name: node%d\n{extra}"
        );
        Config::from_yaml(&text, "t")
            .unwrap()
            .machines()
            .nth(1)
            .unwrap()
    }

    fn host(plan: &ContainerPlan) -> &HostConfig {
        plan.body.host_config.as_ref().unwrap()
    }

    #[test]
    fn cgroup_v1_uses_the_host_namespace_and_a_read_only_bind() {
        let p = plan("c", &machine(""), V1, &HashMap::new(), Path::new("/"));
        assert_eq!(
            host(&p).cgroupns_mode,
            Some(HostConfigCgroupnsModeEnum::HOST)
        );
        assert_eq!(
            host(&p).binds,
            Some(vec!["/sys/fs/cgroup:/sys/fs/cgroup:ro".to_owned()])
        );
        assert_eq!(host(&p).privileged, Some(false));
    }

    #[test]
    fn cgroup_v2_uses_the_host_namespace_and_a_writable_bind() {
        let p = plan("c", &machine(""), V2, &HashMap::new(), Path::new("/"));
        assert_eq!(
            host(&p).cgroupns_mode,
            Some(HostConfigCgroupnsModeEnum::HOST)
        );
        assert_eq!(
            host(&p).binds,
            Some(vec!["/sys/fs/cgroup:/sys/fs/cgroup:rw".to_owned()])
        );
    }

    #[test]
    fn privileged_machines_get_a_private_namespace_on_both_versions() {
        for facts in [V1, V2] {
            let p = plan(
                "c",
                &machine("    privileged: true\n"),
                facts,
                &HashMap::new(),
                Path::new("/"),
            );
            assert_eq!(
                host(&p).cgroupns_mode,
                Some(HostConfigCgroupnsModeEnum::PRIVATE)
            );
            assert_eq!(host(&p).binds, None);
            assert_eq!(host(&p).privileged, Some(true));
        }
    }

    #[test]
    fn identity_tty_init_and_stop_signal() {
        let labels = HashMap::from([("io.footloose.cluster".to_owned(), "c".to_owned())]);
        let p = plan(
            "c",
            &machine("    labels: {team: infra}\n"),
            V1,
            &labels,
            Path::new("/"),
        );
        assert_eq!(p.name, "c-node1");
        assert_eq!(p.body.hostname.as_deref(), Some("node1"));
        assert_eq!(p.body.tty, Some(true));
        assert_eq!(p.body.cmd, Some(vec!["/sbin/init".to_owned()]));
        assert_eq!(p.body.stop_signal.as_deref(), Some("SIGRTMIN+3"));
        let container_labels = p.body.labels.as_ref().unwrap();
        assert_eq!(container_labels["io.footloose.cluster"], "c");
        assert_eq!(container_labels["team"], "infra");
        let tmpfs = host(&p).tmpfs.as_ref().unwrap();
        for path in ["/run", "/run/lock", "/tmp"] {
            assert!(tmpfs.contains_key(path), "{path} missing");
        }
    }

    #[test]
    fn ports_bind_to_loopback_unless_told_and_offset_by_index() {
        let p = plan(
            "c",
            &machine("    portMappings:\n    - containerPort: 22\n    - containerPort: 80\n      hostPort: 8080\n      address: 0.0.0.0\n"),
            V1,
            &HashMap::new(),
            Path::new("/"),
        );
        let bindings = host(&p).port_bindings.as_ref().unwrap();
        let ssh = bindings["22/tcp"].as_ref().unwrap();
        assert_eq!(ssh[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(ssh[0].host_port.as_deref(), Some(""));
        let http = bindings["80/tcp"].as_ref().unwrap();
        assert_eq!(http[0].host_ip.as_deref(), Some("0.0.0.0"));
        assert_eq!(
            http[0].host_port.as_deref(),
            Some("8081"),
            "node1 is index 1"
        );
    }

    #[test]
    fn volumes_carry_labels_and_bind_sources_resolve_against_the_config() {
        let labels = HashMap::from([("io.footloose.cluster".to_owned(), "c".to_owned())]);
        let p = plan(
            "c",
            &machine("    volumes:\n    - type: volume\n      destination: /var/lib/docker\n    - type: bind\n      source: data\n      destination: /data\n      readOnly: true\n"),
            V1,
            &labels,
            Path::new("/project"),
        );
        let mounts = host(&p).mounts.as_ref().unwrap();
        assert_eq!(mounts[0].source, None);
        assert_eq!(
            mounts[0].volume_options.as_ref().unwrap().labels.as_ref(),
            Some(&labels)
        );
        assert_eq!(mounts[1].source.as_deref(), Some("/project/data"));
        assert_eq!(mounts[1].read_only, Some(true));
    }

    #[test]
    fn networks_give_hostname_aliases() {
        let p = plan(
            "c",
            &machine("    networks: [front, back]\n"),
            V1,
            &HashMap::new(),
            Path::new("/"),
        );
        assert_eq!(host(&p).network_mode.as_deref(), Some("front"));
        let endpoints = p.body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(endpoints["front"].aliases, Some(vec!["node1".to_owned()]));
        assert_eq!(p.extra_networks, vec!["back".to_owned()]);
    }

    #[test]
    fn networks_can_be_named_by_id() {
        let ids = HashMap::from([
            ("front".to_owned(), "1d".to_owned()),
            ("back".to_owned(), "2d".to_owned()),
        ]);
        let p = plan(
            "c",
            &machine("    networks: [front, back]\n"),
            V1,
            &HashMap::new(),
            Path::new("/"),
        )
        .with_network_ids(&ids);
        assert_eq!(host(&p).network_mode.as_deref(), Some("1d"));
        let endpoints = p.body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(endpoints["1d"].aliases, Some(vec!["node1".to_owned()]));
        assert_eq!(p.extra_networks, vec!["2d".to_owned()]);
        assert_eq!(
            private_network_name("t-1a2b3c-0", "front"),
            "t-1a2b3c-0-front"
        );
    }

    #[test]
    fn env_and_capabilities_pass_through() {
        let p = plan(
            "c",
            &machine("    env: {A: '1'}\n    capAdd: [SYS_ADMIN]\n    securityOpt: [seccomp=unconfined]\n    cmd: /lib/systemd/systemd --unit=multi-user.target\n"),
            V1,
            &HashMap::new(),
            Path::new("/"),
        );
        assert!(p.body.env.as_ref().unwrap().contains(&"A=1".to_owned()));
        assert!(p
            .body
            .env
            .as_ref()
            .unwrap()
            .contains(&"container=docker".to_owned()));
        assert_eq!(host(&p).cap_add, Some(vec!["SYS_ADMIN".to_owned()]));
        assert_eq!(
            host(&p).security_opt,
            Some(vec!["seccomp=unconfined".to_owned()])
        );
        assert_eq!(
            p.body.cmd,
            Some(vec![
                "/lib/systemd/systemd".to_owned(),
                "--unit=multi-user.target".to_owned()
            ])
        );
    }
}
