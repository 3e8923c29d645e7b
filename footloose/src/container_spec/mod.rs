//! How a machine becomes a container: a pure function from the machine's
//! spec and the host's facts to a [`ContainerPlan`], footloose's own
//! description of the container to create (the engine backend turns it
//! into its API's request), so that every choice here is unit-tested
//! without an engine.
//!
//! The plan is made per concern, each in a file of its own: the cgroup
//! namespace and tree (`cgroups.rs`), the mounts (`mounts.rs`), the
//! published ports (`ports.rs`), the networks (`networks.rs`), the
//! security options and user namespaces (`security.rs`), the CPU and
//! memory limits (`limits.rs`); the plan's type is `container_plan.rs`'s.
//!
//! ## Engines with a systemd mode (Podman)
//! Podman runs a container whose command is `/sbin/init` (or systemd) in
//! its own *systemd mode*: it mounts `/run`, `/run/lock`, `/tmp` and the
//! cgroup tree the way systemd wants them, sets `container=podman` and
//! stops it with `SIGRTMIN+3`, on cgroup v1 and v2, rootful and rootless,
//! and it ignores a cgroup namespace or a `/sys/fs/cgroup` bind asked for
//! over its Docker API. So where the backend reports
//! `Capabilities::systemd_mode`, footloose asks for none of that and
//! relies on systemd mode knowingly: a private cgroup namespace, no cgroup
//! bind, no tmpfs of its own beyond the config's, no `container=docker`.

mod cgroups;
mod container_plan;
mod limits;
mod mounts;
mod networks;
mod ports;
mod security;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

use footloose_config::MachineInstance;

pub use cgroups::{cgroup_setup, CgroupNamespace};
pub use container_plan::ContainerPlan;
pub use mounts::MountPlan;
pub use networks::private_network_name;
pub use ports::PortPublish;
pub use security::allow_user_namespaces;

use crate::error::Result;
use crate::guest::USER_MANAGER_ENV;
use crate::host::HostFacts;
use crate::plan::container_name;
use limits::limits;
use mounts::{mounts, tmpfs};
use ports::ports;
use security::security_options;

/// The signal that makes systemd as PID 1 shut down cleanly.
pub const STOP_SIGNAL: &str = "SIGRTMIN+3";

/// Plans the container of `machine`. `labels` are set on the container
/// and its anonymous volumes; relative bind sources are resolved against
/// `config_dir` (and `~` against the settings' home); ports whose mapping
/// names no address are published on `publish_address`. Fails only for
/// a spec made in code whose `resources` a config file may not have.
pub fn plan(
    cluster: &str,
    machine: &MachineInstance,
    facts: HostFacts,
    labels: &HashMap<String, String>,
    config_dir: &Path,
    publish_address: IpAddr,
    settings: &crate::Settings,
) -> Result<ContainerPlan> {
    let spec = &machine.spec;
    let mut container_labels: HashMap<String, String> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    container_labels.extend(labels.clone());

    let systemd_mode = facts.capabilities.systemd_mode;
    // An engine's systemd mode sets `container=` itself.
    let mut env = if systemd_mode {
        Vec::new()
    } else {
        vec!["container=docker".to_owned()]
    };
    env.extend(spec.env.iter().map(|(k, v)| format!("{k}={v}")));
    if spec.user_manager {
        // footloose's images start user@.service only when this is set.
        env.push(format!("{USER_MANAGER_ENV}=1"));
    }

    let ports = ports(machine, publish_address);
    let tmpfs = tmpfs(machine, systemd_mode);
    let mounts = mounts(machine, labels, config_dir, settings);

    let (cgroupns, cgroup_bind) = cgroup_setup(facts, spec.privileged);
    let mut networks = spec.networks.iter().cloned();
    let limits = limits(machine)?;

    Ok(ContainerPlan {
        name: container_name(cluster, &machine.hostname),
        image: spec.image.clone(),
        hostname: machine.hostname.clone(),
        cmd: machine
            .cmd()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        env,
        labels: container_labels,
        ports,
        tmpfs,
        binds: cgroup_bind.map(|b| vec![b.to_owned()]).unwrap_or_default(),
        mounts,
        cgroupns,
        privileged: spec.privileged,
        cap_add: spec.cap_add.clone(),
        cap_drop: spec.cap_drop.clone(),
        security_opt: security_options(machine, facts),
        allow_user_namespaces: allow_user_namespaces(machine, facts),
        network: networks.next(),
        extra_networks: networks.collect(),
        stop_signal: STOP_SIGNAL.to_owned(),
        nano_cpus: limits.nano_cpus,
        memory_bytes: limits.memory_bytes,
        restart_on_failure: true,
    })
}

/// A container that is only read from and never started: how footloose
/// looks inside an image it is to adapt (`image::Probe`).
pub fn inert(name: &str, image: &str, labels: HashMap<String, String>) -> ContainerPlan {
    ContainerPlan {
        name: name.to_owned(),
        image: image.to_owned(),
        hostname: "probe".to_owned(),
        cmd: vec!["/footloose-probe-never-starts".to_owned()],
        env: Vec::new(),
        labels,
        ports: Vec::new(),
        tmpfs: BTreeMap::new(),
        binds: Vec::new(),
        mounts: Vec::new(),
        cgroupns: CgroupNamespace::Private,
        privileged: false,
        cap_add: Vec::new(),
        cap_drop: Vec::new(),
        security_opt: Vec::new(),
        allow_user_namespaces: false,
        network: None,
        extra_networks: Vec::new(),
        stop_signal: STOP_SIGNAL.to_owned(),
        nano_cpus: None,
        memory_bytes: None,
        restart_on_failure: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Capabilities, CgroupDriver, CgroupVersion, Flavour};
    use footloose_config::Config;

    const DOCKER: Capabilities = Capabilities {
        systemd_mode: false,
        duplicate_network_names: true,
        default_network: "bridge",
        user_namespaces_by_default: false,
    };

    pub(super) const V1: HostFacts = HostFacts {
        cgroup: CgroupVersion::V1,
        driver: CgroupDriver::Cgroupfs,
        flavour: Flavour::Docker,
        apparmor: false,
        capabilities: DOCKER,
    };
    const V2: HostFacts = HostFacts {
        cgroup: CgroupVersion::V2,
        driver: CgroupDriver::Systemd,
        flavour: Flavour::Docker,
        apparmor: false,
        capabilities: DOCKER,
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

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    pub(super) fn planned(extra: &str, facts: HostFacts) -> ContainerPlan {
        plan(
            "c",
            &machine(extra),
            facts,
            &HashMap::new(),
            Path::new("/"),
            LOCAL,
            &crate::Settings::from_vars(|_| None),
        )
        .unwrap()
    }

    #[test]
    fn cgroup_v1_uses_the_host_namespace_and_a_read_only_bind() {
        let p = planned("", V1);
        assert_eq!(p.cgroupns, CgroupNamespace::Host);
        assert_eq!(p.binds, ["/sys/fs/cgroup:/sys/fs/cgroup:ro"]);
        assert!(!p.privileged);
    }

    #[test]
    fn cgroup_v2_uses_the_host_namespace_and_a_writable_bind() {
        let p = planned("", V2);
        assert_eq!(p.cgroupns, CgroupNamespace::Host);
        assert_eq!(p.binds, ["/sys/fs/cgroup:/sys/fs/cgroup:rw"]);
    }

    #[test]
    fn privileged_machines_get_a_private_namespace_on_both_versions() {
        for facts in [V1, V2] {
            let p = planned("    privileged: true\n", facts);
            assert_eq!(p.cgroupns, CgroupNamespace::Private);
            assert!(p.binds.is_empty());
            assert!(p.privileged);
        }
    }

    #[test]
    fn podman_is_left_to_its_systemd_mode_on_both_versions() {
        for cgroup in [CgroupVersion::V1, CgroupVersion::V2] {
            let facts = HostFacts {
                cgroup,
                driver: CgroupDriver::Systemd,
                flavour: Flavour::Podman,
                apparmor: false,
                capabilities: Capabilities {
                    systemd_mode: true,
                    duplicate_network_names: false,
                    default_network: "podman",
                    user_namespaces_by_default: true,
                },
            };
            let p = planned("    env: {A: '1'}\n    tmpfs: [/var/cache]\n", facts);
            assert_eq!(p.cgroupns, CgroupNamespace::Private);
            assert!(p.binds.is_empty(), "{:?}", p.binds);
            assert_eq!(p.env, ["A=1"]);
            assert_eq!(p.tmpfs.keys().collect::<Vec<_>>(), ["/var/cache"]);
            assert_eq!(p.stop_signal, "SIGRTMIN+3");
            assert!(!p.allow_user_namespaces, "Podman's default allows them");
        }
    }

    #[test]
    fn user_namespaces_are_allowed_on_docker_unless_the_spec_decides_the_profile() {
        for facts in [V1, V2] {
            assert!(planned("", facts).allow_user_namespaces);
            assert!(!planned("    userNamespaces: false\n", facts).allow_user_namespaces);
            assert!(!planned("    privileged: true\n", facts).allow_user_namespaces);
            for own in ["seccomp=unconfined", "seccomp=/etc/p.json", "seccomp:x"] {
                let p = planned(&format!("    securityOpt: ['{own}']\n"), facts);
                assert!(!p.allow_user_namespaces, "{own}");
                assert_eq!(p.security_opt, [own]);
            }
            let p = planned("    securityOpt: [no-new-privileges]\n", facts);
            assert!(
                p.allow_user_namespaces,
                "another option leaves the profile to footloose"
            );
        }
    }

    #[test]
    fn identity_init_and_stop_signal() {
        let labels = HashMap::from([("io.footloose.cluster".to_owned(), "c".to_owned())]);
        let p = plan(
            "c",
            &machine("    labels: {team: infra}\n"),
            V1,
            &labels,
            Path::new("/"),
            LOCAL,
            &crate::Settings::from_vars(|_| None),
        )
        .unwrap();
        assert_eq!(p.name, "c-node1");
        assert_eq!(p.hostname, "node1");
        assert_eq!(p.image, "footloose/debian12");
        assert_eq!(p.cmd, ["/sbin/init"]);
        assert_eq!(p.stop_signal, "SIGRTMIN+3");
        assert!(p.restart_on_failure, "a reboot would leave it stopped");
        assert_eq!(p.labels["io.footloose.cluster"], "c");
        assert_eq!(p.labels["team"], "infra");
        for path in ["/run", "/run/lock", "/tmp"] {
            assert!(p.tmpfs.contains_key(path), "{path} missing");
        }
    }

    #[test]
    fn ports_bind_to_loopback_unless_told_and_offset_by_index() {
        let p = planned(
            "    portMappings:\n    - containerPort: 22\n    - containerPort: 80\n      hostPort: 8080\n      address: 0.0.0.0\n",
            V1,
        );
        assert_eq!(
            p.ports,
            [
                PortPublish {
                    container_port: 22,
                    protocol: "tcp".into(),
                    host_ip: "127.0.0.1".into(),
                    host_port: None,
                },
                PortPublish {
                    container_port: 80,
                    protocol: "tcp".into(),
                    host_ip: "0.0.0.0".into(),
                    host_port: Some(8081), // node1 is index 1
                },
            ]
        );
    }

    #[test]
    fn ports_without_an_address_are_published_where_asked() {
        let remote = IpAddr::from([10, 250, 0, 2]);
        let p = plan(
            "c",
            &machine("    portMappings:\n    - containerPort: 22\n    - containerPort: 80\n      address: 0.0.0.0\n"),
            V1,
            &HashMap::new(),
            Path::new("/"),
            remote,
            &crate::Settings::from_vars(|_| None),
        ).unwrap();
        assert_eq!(p.ports[0].host_ip, "10.250.0.2");
        assert_eq!(p.ports[1].host_ip, "0.0.0.0");
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
            LOCAL,
            &crate::Settings::from_vars(|_| None),
        ).unwrap();
        assert_eq!(
            p.mounts,
            [
                MountPlan::Volume {
                    name: None,
                    target: "/var/lib/docker".into(),
                    read_only: false,
                    labels: labels.clone(),
                },
                MountPlan::Bind {
                    source: "/project/data".into(),
                    target: "/data".into(),
                    read_only: true,
                },
            ]
        );
    }

    #[test]
    fn the_first_network_is_the_machines_and_the_rest_are_connected() {
        let p = planned("    networks: [front, back]\n", V1);
        assert_eq!(p.network.as_deref(), Some("front"));
        assert_eq!(p.extra_networks, ["back"]);
        assert_eq!(planned("", V1).network, None);
    }

    #[test]
    fn the_user_manager_switch_is_passed_to_the_machine() {
        let p = planned("    userManager: true\n", V1);
        assert!(
            p.env.contains(&"FOOTLOOSE_USER_MANAGER=1".to_owned()),
            "{:?}",
            p.env
        );
        let p = planned("", V1);
        assert!(!p
            .env
            .iter()
            .any(|e| e.starts_with("FOOTLOOSE_USER_MANAGER")));
    }

    #[test]
    fn env_and_capabilities_pass_through() {
        let p = planned("    env: {A: '1'}\n    capAdd: [SYS_ADMIN]\n    securityOpt: [seccomp=unconfined]\n    cmd: /lib/systemd/systemd --unit=multi-user.target\n", V1);
        assert_eq!(p.env, ["container=docker", "A=1"]);
        assert_eq!(p.cap_add, ["SYS_ADMIN"]);
        assert_eq!(p.security_opt, ["seccomp=unconfined"]);
        assert_eq!(p.cmd, ["/lib/systemd/systemd", "--unit=multi-user.target"]);
    }

    #[test]
    fn resources_become_the_limits_in_engine_units() {
        let p = planned("    resources: {cpus: 0.5, memory: 256Mi}\n", V1);
        assert_eq!(p.nano_cpus, Some(500_000_000));
        assert_eq!(p.memory_bytes, Some(268_435_456));
        let p = planned("    resources: {memory: 1G}\n", V2);
        assert_eq!((p.nano_cpus, p.memory_bytes), (None, Some(1_000_000_000)));
        let p = planned("", V1);
        assert_eq!((p.nano_cpus, p.memory_bytes), (None, None));
    }

    #[test]
    fn resources_made_in_code_that_a_file_may_not_have_are_refused() {
        let mut machine = machine("");
        machine.spec.resources.memory = Some("512m".to_owned());
        let err = plan(
            "c",
            &machine,
            V1,
            &HashMap::new(),
            Path::new("/"),
            LOCAL,
            &crate::Settings::from_vars(|_| None),
        )
        .unwrap_err();
        assert!(matches!(err, crate::Error::Setting { .. }), "{err:?}");
        assert_eq!(
            crate::error::chain(&err),
            "cannot use machines[0].spec.resources.memory: `512m` is not a memory size: `m` is ambiguous; use `Mi` (powers of 1024, as `docker run -m` reads `m`) or `M` (powers of 1000)"
        );
        machine.spec.resources.memory = None;
        machine.spec.resources.cpus = Some(0.0);
        let err = plan(
            "c",
            &machine,
            V1,
            &HashMap::new(),
            Path::new("/"),
            LOCAL,
            &crate::Settings::from_vars(|_| None),
        )
        .unwrap_err();
        assert!(
            crate::error::chain(&err).starts_with(
                "cannot use machines[0].spec.resources.cpus: `0` is not a number of CPUs"
            ),
            "{err:?}"
        );
    }
}
