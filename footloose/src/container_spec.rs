//! How a machine becomes a container: a pure function from the machine's
//! spec and the host's facts to a [`ContainerPlan`], footloose's own
//! description of the container to create (the engine backend turns it
//! into its API's request), so that every choice here is unit-tested
//! without an engine.
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
//!
//! ## Sandboxed units (user namespaces)
//! systemd's sandboxing directives (`PrivateTmp=`, `ProtectSystem=`,
//! `PrivateNetwork=` …) need namespaces, which a process without
//! `CAP_SYS_ADMIN` — a machine's root — may create only inside a user
//! namespace of its own, as an unprivileged user on a VM does. systemd
//! makes one for a unit with `PrivateUsers=true` and sets up the rest
//! inside it. Docker's default seccomp profile refuses
//! `unshare(CLONE_NEWUSER)` (a unit with `PrivateUsers=true` fails with
//! `217/USER`), so unless the spec says `userNamespaces: false`, is
//! privileged, or names a `seccomp=` profile of its own, a machine on an
//! engine whose default refuses them gets
//! [`allow_user_namespaces`](ContainerPlan::allow_user_namespaces): the
//! backend sends a profile that is its engine's default plus the
//! namespace system calls (see `backend/docker/seccomp.rs`). The kernel
//! still checks every one of them against the caller's capabilities in
//! its user namespace: nothing is granted that an unprivileged process on
//! the host could not do. No capability is added. Where the host confines
//! containers with AppArmor, such a machine also gets
//! `apparmor=unconfined`: `docker-default` and `containers-default` have
//! no `userns` rule (under AppArmor 4's mediation `PrivateUsers=true`
//! fails with "Permission denied") and deny `mount`.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

use footloose_config::{MachineInstance, VolumeType};

use crate::guest::USER_MANAGER_ENV;
use crate::host::{CgroupVersion, HostFacts};
use crate::plan::container_name;

/// The tmpfs mounts every machine gets: systemd expects these to be
/// memory-backed and empty at boot.
pub const BASE_TMPFS: [(&str, &str); 3] = [
    ("/run", "rw,nosuid,nodev,exec,mode=755"),
    ("/run/lock", "rw,nosuid,nodev,noexec,size=5m"),
    ("/tmp", "rw,nosuid,nodev,exec"),
];

/// The signal that makes systemd as PID 1 shut down cleanly.
pub const STOP_SIGNAL: &str = "SIGRTMIN+3";

/// Which cgroup namespace a machine runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupNamespace {
    /// The host's.
    Host,
    /// One of its own.
    Private,
}

/// A port to publish on the engine's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortPublish {
    /// The port inside the machine.
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// The host address to bind.
    pub host_ip: String,
    /// The host port, `None` for any free one.
    pub host_port: Option<u16>,
}

/// A mount besides the tmpfs ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountPlan {
    /// An engine volume: named, or anonymous without `name`.
    Volume {
        /// The volume's name.
        name: Option<String>,
        /// The path inside the machine.
        target: String,
        /// Mounted read-only.
        read_only: bool,
        /// Labels for a volume the engine creates.
        labels: HashMap<String, String>,
    },
    /// A path of the engine's host.
    Bind {
        /// The host path, absolute.
        source: String,
        /// The path inside the machine.
        target: String,
        /// Mounted read-only.
        read_only: bool,
    },
}

/// A container to create, as footloose decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPlan {
    /// The container name: `<cluster>-<hostname>`.
    pub name: String,
    /// The image.
    pub image: String,
    /// The hostname, also its alias on user networks.
    pub hostname: String,
    /// PID 1 and its arguments.
    pub cmd: Vec<String>,
    /// PID 1's environment, `KEY=value`.
    pub env: Vec<String>,
    /// The container's labels (its anonymous volumes get the ownership ones).
    pub labels: HashMap<String, String>,
    /// Published ports.
    pub ports: Vec<PortPublish>,
    /// tmpfs mounts: path and options.
    pub tmpfs: BTreeMap<String, String>,
    /// Host paths bound in `source:target:mode` form (the cgroup tree).
    pub binds: Vec<String>,
    /// Volumes and bind mounts from the config.
    pub mounts: Vec<MountPlan>,
    /// The cgroup namespace.
    pub cgroupns: CgroupNamespace,
    /// `--privileged`.
    pub privileged: bool,
    /// Capabilities added.
    pub cap_add: Vec<String>,
    /// Capabilities dropped.
    pub cap_drop: Vec<String>,
    /// Security options, such as `seccomp=unconfined`.
    pub security_opt: Vec<String>,
    /// The machine may create user namespaces although the engine's
    /// default seccomp profile refuses them: the backend relaxes that
    /// profile (see the module documentation).
    pub allow_user_namespaces: bool,
    /// The network it is created on (name or id); the engine's default
    /// bridge when `None`.
    pub network: Option<String>,
    /// Networks beyond the first, connected before the container starts.
    pub extra_networks: Vec<String>,
    /// The signal that stops it.
    pub stop_signal: String,
    /// Started again by the engine when PID 1 exits non-zero: a reboot in
    /// the machine exits with [`REBOOT_EXIT_CODE`](crate::guest::REBOOT_EXIT_CODE),
    /// a poweroff (and `footloose stop`) with 0.
    pub restart_on_failure: bool,
}

/// The name of a cluster's own copy of the network `network` named in
/// its config.
pub fn private_network_name(cluster: &str, network: &str) -> String {
    format!("{cluster}-{network}")
}

impl ContainerPlan {
    /// The plan with the machine also on `network`, where footloose
    /// reaches its sshd (see [`Route`](crate::reach::Route)), as an extra
    /// network (attached without an alias: it is not footloose's).
    /// `default_network` is where the engine puts a container that asks
    /// for none: a machine that asks for none is on it already.
    pub fn reachable_on(mut self, network: &str, default_network: &str) -> ContainerPlan {
        let already = match &self.network {
            None => network == default_network,
            Some(first) => first == network,
        } || self.extra_networks.iter().any(|n| n == network);
        if !already {
            self.extra_networks.push(network.to_owned());
        }
        self
    }

    /// The plan with networks named by id (`ids` maps name to id), so that
    /// two networks of one name, which Docker allows for a moment while
    /// creators race, cannot make the request ambiguous.
    pub fn with_network_ids(mut self, ids: &HashMap<String, String>) -> ContainerPlan {
        let by_id = |name: &String| ids.get(name).cloned().unwrap_or_else(|| name.clone());
        self.network = self.network.as_ref().map(by_id);
        self.extra_networks = self.extra_networks.iter().map(by_id).collect();
        self
    }
}

/// Plans the container of `machine`. `labels` are set on the container
/// and its anonymous volumes; relative bind sources are resolved against
/// `config_dir` (and `~` against the settings' home); ports whose mapping
/// names no address are published on `publish_address`.
pub fn plan(
    cluster: &str,
    machine: &MachineInstance,
    facts: HostFacts,
    labels: &HashMap<String, String>,
    config_dir: &Path,
    publish_address: IpAddr,
    settings: &crate::Settings,
) -> ContainerPlan {
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

    let ports = spec
        .port_mappings
        .iter()
        .map(|mapping| PortPublish {
            container_port: mapping.container_port,
            protocol: mapping.protocol.as_str().to_owned(),
            host_ip: mapping
                .address
                .clone()
                .unwrap_or_else(|| publish_address.to_string()),
            host_port: machine.host_port(mapping),
        })
        .collect();

    // Podman's systemd mode mounts these itself.
    let base_tmpfs = if systemd_mode {
        &[][..]
    } else {
        &BASE_TMPFS[..]
    };
    let mut tmpfs: BTreeMap<String, String> = base_tmpfs
        .iter()
        .map(|(path, options)| (path.to_string(), options.to_string()))
        .collect();
    for path in &spec.tmpfs {
        tmpfs.insert(path.clone(), "rw,nosuid,nodev,exec".to_owned());
    }

    let mounts = spec
        .volumes
        .iter()
        .filter_map(|volume| match volume.kind {
            VolumeType::Volume => Some(MountPlan::Volume {
                name: volume.source.clone(),
                target: volume.destination.clone(),
                read_only: volume.read_only,
                labels: labels.clone(),
            }),
            VolumeType::Bind => Some(MountPlan::Bind {
                source: settings
                    .resolve_path(volume.source.as_deref().unwrap_or_default(), config_dir)
                    .display()
                    .to_string(),
                target: volume.destination.clone(),
                read_only: volume.read_only,
            }),
            // A kind of a newer footloose-config than this footloose knows.
            other => {
                tracing::warn!(
                    "{}: footloose does not know volumes of type {other:?}; {} is left out",
                    machine.hostname,
                    volume.destination
                );
                None
            }
        })
        .collect();

    let (cgroupns, cgroup_bind) = cgroup_setup(facts, spec.privileged);
    let mut networks = spec.networks.iter().cloned();

    ContainerPlan {
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
        restart_on_failure: true,
    }
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
        restart_on_failure: false,
    }
}

/// The spec's security options, and `apparmor=unconfined` where the host
/// confines containers with AppArmor and the machine may create user
/// namespaces (the default): the engines' default AppArmor profiles
/// (`docker-default`, `containers-default`) refuse them, and mounts in
/// them, where AppArmor mediates user namespaces (Debian 13, Ubuntu 23.10
/// and later). Not when the spec names an `apparmor=` profile of its own,
/// says `userNamespaces: false`, or is privileged.
fn security_options(machine: &MachineInstance, facts: HostFacts) -> Vec<String> {
    let spec = &machine.spec;
    let mut options = spec.security_opt.clone();
    let own_profile = options
        .iter()
        .any(|opt| opt.starts_with("apparmor=") || opt.starts_with("apparmor:"));
    if facts.apparmor && spec.user_namespaces && !spec.privileged && !own_profile {
        options.push("apparmor=unconfined".to_owned());
    }
    options
}

/// Whether `machine` needs the engine's default seccomp profile relaxed
/// for user namespaces: it asks for them (the default), the engine's
/// default refuses them, and neither privilege nor a `seccomp=` option of
/// the spec decides the profile instead.
pub fn allow_user_namespaces(machine: &MachineInstance, facts: HostFacts) -> bool {
    let spec = &machine.spec;
    let own_profile = spec
        .security_opt
        .iter()
        .any(|opt| opt.starts_with("seccomp=") || opt.starts_with("seccomp:"));
    spec.user_namespaces
        && !spec.privileged
        && !own_profile
        && !facts.capabilities.user_namespaces_by_default
}

/// The cgroup namespace and the `/sys/fs/cgroup` bind, if any (see the
/// module documentation for why).
pub fn cgroup_setup(facts: HostFacts, privileged: bool) -> (CgroupNamespace, Option<&'static str>) {
    match (facts.cgroup, privileged) {
        _ if facts.capabilities.systemd_mode => (CgroupNamespace::Private, None),
        (_, true) => (CgroupNamespace::Private, None),
        (CgroupVersion::V1, false) => (
            CgroupNamespace::Host,
            Some("/sys/fs/cgroup:/sys/fs/cgroup:ro"),
        ),
        (CgroupVersion::V2, false) => (
            CgroupNamespace::Host,
            Some("/sys/fs/cgroup:/sys/fs/cgroup:rw"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Capabilities, CgroupDriver, Flavour};
    use footloose_config::Config;

    const DOCKER: Capabilities = Capabilities {
        systemd_mode: false,
        duplicate_network_names: true,
        default_network: "bridge",
        user_namespaces_by_default: false,
    };

    const V1: HostFacts = HostFacts {
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

    fn planned(extra: &str, facts: HostFacts) -> ContainerPlan {
        plan(
            "c",
            &machine(extra),
            facts,
            &HashMap::new(),
            Path::new("/"),
            LOCAL,
            &crate::Settings::from_vars(|_| None),
        )
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
        );
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
        );
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
        );
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
    fn a_machine_joins_the_network_it_is_reached_on_once() {
        let own = planned("", V1).reachable_on("ci", "bridge");
        assert_eq!(own.network, None, "it stays on the default network too");
        assert_eq!(own.extra_networks, ["ci"]);
        let default = planned("", V1).reachable_on("bridge", "bridge");
        assert_eq!(default.network, None, "the default network takes no alias");
        let extra = planned("    networks: [front]\n", V1).reachable_on("ci", "bridge");
        assert_eq!(extra.network.as_deref(), Some("front"));
        assert_eq!(extra.extra_networks, ["ci"]);
        let listed = planned("    networks: [front, ci]\n", V1).reachable_on("ci", "bridge");
        assert_eq!(listed.extra_networks, ["ci"]);
    }

    #[test]
    fn networks_can_be_named_by_id() {
        let ids = HashMap::from([
            ("front".to_owned(), "1d".to_owned()),
            ("back".to_owned(), "2d".to_owned()),
        ]);
        let p = planned("    networks: [front, back]\n", V1).with_network_ids(&ids);
        assert_eq!(p.network.as_deref(), Some("1d"));
        assert_eq!(p.extra_networks, ["2d"]);
        assert_eq!(
            private_network_name("t-1a2b3c-0", "front"),
            "t-1a2b3c-0-front"
        );
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
}
