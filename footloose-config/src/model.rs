//! The configuration's data types, as they stand in `footloose.yaml`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::resources::Resources;

/// The image a machine runs when the configuration names none.
///
/// ```
/// let spec = footloose_config::MachineSpec::new(footloose_config::DEFAULT_IMAGE, "node%d");
/// assert_eq!(spec.image, "footloose/debian12");
/// ```
pub const DEFAULT_IMAGE: &str = "footloose/debian12";
/// The command a machine runs as PID 1 when the configuration names none.
///
/// ```
/// let config = footloose_config::Config::with_replicas("demo", "footloose/debian12", 1);
/// assert_eq!(config.machines().next().unwrap().cmd(), footloose_config::DEFAULT_CMD);
/// ```
pub const DEFAULT_CMD: &str = "/sbin/init";
/// The private key path a new configuration uses.
///
/// ```
/// assert_eq!(footloose_config::ClusterSpec::new("c").private_key, footloose_config::DEFAULT_PRIVATE_KEY);
/// ```
pub const DEFAULT_PRIVATE_KEY: &str = "cluster-key";

/// A whole `footloose.yaml`: one cluster and the machines in it.
///
/// Read one with [`Config::load`] or [`Config::from_yaml`] (both validate
/// it), or make one in code from [`Config::new`] or
/// [`Config::with_replicas`]; every field is public, so what the
/// constructors leave out is set afterwards:
///
/// ```
/// use footloose_config::{ClusterSpec, Config, MachineSet, MachineSpec, PortMapping};
///
/// let mut web = MachineSpec::new("footloose/debian12", "web%d");
/// web.port_mappings.push(PortMapping::new(80));
/// let config = Config::new(ClusterSpec::new("shop"), vec![MachineSet::new(2, web)]);
///
/// let yaml = config.to_yaml().unwrap();
/// assert_eq!(Config::from_yaml(&yaml, "generated.yaml").unwrap(), config);
/// let hostnames: Vec<String> = config.machines().map(|m| m.hostname).collect();
/// assert_eq!(hostnames, ["web0", "web1"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct Config {
    /// Settings of the cluster as a whole.
    pub cluster: ClusterSpec,
    /// Groups of identical machines.
    #[serde(default)]
    pub machines: Vec<MachineSet>,
    /// Ansible variables of groups (a footloose extension), written into
    /// the inventory.
    #[serde(default, skip_serializing_if = "AnsibleSpec::is_empty")]
    pub ansible: AnsibleSpec,
}

/// Ansible variables, by name: any YAML value.
pub type AnsibleVars = BTreeMap<String, serde_json::Value>;

/// The top-level `ansible:` section (a footloose extension): variables of
/// Ansible groups, as Molecule's `group_vars`, written into the inventory
/// (`footloose show -o ansible`, and the one a `Playbook` runs with).
///
/// ```
/// let yaml = "cluster:\n  name: c\nmachines:\n- spec:\n    image: footloose/debian12\n    name: web%d\nansible:\n  groupVars:\n    all: {ntp_server: ntp.example}\n    web: {http_port: 8080}\n";
/// let config = footloose_config::Config::from_yaml(yaml, "footloose.yaml").unwrap();
/// assert_eq!(config.ansible.group_vars["web"]["http_port"], 8080);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct AnsibleSpec {
    /// Variables by group: `all`, the cluster's group, a `machines:`
    /// entry's group (its name pattern without `%d`) or one of its
    /// `groups`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub group_vars: BTreeMap<String, AnsibleVars>,
}

impl AnsibleSpec {
    fn is_empty(&self) -> bool {
        self.group_vars.is_empty()
    }
}

/// The `ansible:` of a `machines:` entry (a footloose extension).
///
/// ```
/// let yaml = "cluster:\n  name: c\nmachines:\n- spec:\n    image: footloose/debian12\n    name: db%d\n  ansible:\n    vars:\n      postgres_port: 5433\n";
/// let config = footloose_config::Config::from_yaml(yaml, "footloose.yaml").unwrap();
/// let db0 = config.machines().next().unwrap();
/// assert_eq!(db0.ansible_vars["postgres_port"], 5433);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct MachineAnsible {
    /// Host variables of each machine of the entry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: AnsibleVars,
}

impl MachineAnsible {
    fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

/// The `cluster:` section.
///
/// ```
/// use footloose_config::ClusterSpec;
///
/// let mut cluster = ClusterSpec::new("ci");
/// cluster.reach = Some("network:ci_default".to_owned());
/// cluster.publish_address = Some("172.17.0.1".to_owned());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClusterSpec {
    /// Prefix of every container name: `<name>-<hostname>`.
    pub name: String,
    /// Path of the ssh private key (relative to the config file, `~`
    /// expanded); the public key is `<privateKey>.pub` beside it. Generated
    /// when missing.
    #[serde(default = "default_private_key")]
    pub private_key: String,
    /// The host address machines' ports are published on when a port
    /// mapping names none (a footloose extension): by default loopback for
    /// a local engine, the engine's address for a remote one
    /// (`DOCKER_HOST=tcp://…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_address: Option<String>,
    /// How footloose reaches the machines from where it runs (a footloose
    /// extension): `auto` (the default), `published[:ADDRESS]` or
    /// `network[:NAME]`; see [`Reach`](crate::Reach). `FOOTLOOSE_REACH`
    /// overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<String>,
}

fn default_private_key() -> String {
    DEFAULT_PRIVATE_KEY.to_owned()
}

/// One `machines:` entry: `count` machines made from one `spec`.
///
/// ```
/// let config = footloose_config::Config::with_replicas("demo", "footloose/debian12", 3);
/// let set = &config.machines[0];
/// assert_eq!((set.count, set.spec.name.as_str()), (3, "node%d"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct MachineSet {
    /// How many machines; their hostnames number from 0 within the entry.
    #[serde(default = "one")]
    pub count: u32,
    /// What each machine is.
    pub spec: MachineSpec,
    /// Extra Ansible groups for these machines (a footloose extension;
    /// every machine is also in its cluster's group and in the group named
    /// after its name pattern without `%d`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Ansible variables of these machines (a footloose extension).
    #[serde(default, skip_serializing_if = "MachineAnsible::is_empty")]
    pub ansible: MachineAnsible,
}

fn one() -> u32 {
    1
}

/// The `spec:` of a machine entry.
///
/// ```
/// use footloose_config::{MachineSpec, Volume};
///
/// let mut spec = MachineSpec::new("footloose/debian12", "db%d");
/// spec.privileged = true;
/// spec.volumes.push(Volume::named("pgdata", "/var/lib/postgresql"));
/// spec.env.insert("PGPORT".to_owned(), "5433".to_owned());
/// assert_eq!(spec.cmd, None); // /sbin/init
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct MachineSpec {
    /// The container image, such as `footloose/debian12`.
    pub image: String,
    /// Hostname template with exactly one `%d`, replaced by the index.
    pub name: String,
    /// Ports published on the host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<PortMapping>,
    /// Run the container privileged (needs a host that allows it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub privileged: bool,
    /// Volumes and bind mounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// User networks to attach; footloose creates missing ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<String>,
    /// PID 1 of the machine; `/sbin/init` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<String>,
    /// Where machines run; only `docker` is supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<Backend>,
    /// Environment variables of PID 1.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Extra container labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Linux capabilities to add, such as `SYS_ADMIN`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// Linux capabilities to drop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// Extra tmpfs mount points (beyond `/run`, `/run/lock` and `/tmp`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    /// Docker security options, such as `seccomp=unconfined` (which Docker
    /// in a machine needs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    /// Start systemd's per-user manager at login (`systemctl --user`,
    /// `loginctl enable-linger`). footloose's images leave it off, as it
    /// costs CPU at every first login and most machines never use it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub user_manager: bool,
    /// Let the machine create user namespaces, as an unprivileged user on
    /// a VM may: what systemd needs for `PrivateUsers=` and, inside one,
    /// for every other sandboxing directive of a unit. A footloose
    /// extension, on by default. Docker's default seccomp profile refuses
    /// them, so on Docker footloose sends a profile of its own (Docker's
    /// rules plus the namespace system calls); Podman's default allows
    /// them already. On AppArmor hosts the machine also runs
    /// `apparmor=unconfined`, as the engines' default AppArmor profiles
    /// refuse them. `false` keeps the engine's default profiles, as do
    /// `seccomp=` and `apparmor=` entries of your own in `securityOpt`.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub user_namespaces: bool,
    /// How much CPU and memory the machine may use (a footloose
    /// extension): `resources: {cpus: 1.5, memory: 512Mi}`; no limit
    /// when absent. See [`Resources`].
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_true(value: &bool) -> bool {
    *value
}

fn yes() -> bool {
    true
}

/// The `backend:` of a machine. Upstream also knew `ignite`; this
/// implementation refuses it with a clear message.
///
/// ```
/// use footloose_config::{Backend, Config};
///
/// let yaml = "cluster:\n  name: c\nmachines:\n- spec:\n    image: footloose/debian12\n    name: node%d\n    backend: docker\n";
/// let config = Config::from_yaml(yaml, "footloose.yaml").unwrap();
/// assert_eq!(config.machines[0].spec.backend, Some(Backend::Docker));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Backend {
    /// Machines are Docker containers.
    Docker,
    /// Firecracker micro-VMs (upstream only; not supported here).
    Ignite,
    /// Incus system containers.
    Incus,
}

impl Backend {
    /// The backend named `name` as the config writes it (`docker`,
    /// `incus`, `ignite`), `None` for any other.
    ///
    /// ```
    /// use footloose_config::Backend;
    ///
    /// assert_eq!(Backend::named("incus"), Some(Backend::Incus));
    /// assert_eq!(Backend::named("lxd"), None);
    /// ```
    pub fn named(name: &str) -> Option<Backend> {
        match name {
            "docker" => Some(Backend::Docker),
            "incus" => Some(Backend::Incus),
            "ignite" => Some(Backend::Ignite),
            _ => None,
        }
    }

    /// Its name as the config writes it.
    ///
    /// ```
    /// assert_eq!(footloose_config::Backend::Incus.name(), "incus");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Backend::Docker => "docker",
            Backend::Ignite => "ignite",
            Backend::Incus => "incus",
        }
    }
}

/// A published port.
///
/// ```
/// use footloose_config::{PortMapping, Protocol};
///
/// let mut dns = PortMapping::new(53);
/// dns.protocol = Protocol::Udp;
/// dns.host_port = Some(5353);
/// assert_eq!(dns.address, None); // 127.0.0.1
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct PortMapping {
    /// The port inside the machine.
    pub container_port: u16,
    /// The port on the host; absent or 0 picks a free one. With `count` > 1
    /// machine `i` of the entry gets `hostPort + i`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<u16>,
    /// The host address to bind; `127.0.0.1` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `tcp` (default) or `udp`.
    #[serde(default, skip_serializing_if = "Protocol::is_tcp")]
    pub protocol: Protocol,
}

/// Transport protocol of a port mapping.
///
/// ```
/// use footloose_config::{PortMapping, Protocol};
///
/// assert_eq!(PortMapping::new(22).protocol, Protocol::Tcp);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Protocol {
    /// TCP.
    #[default]
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    fn is_tcp(&self) -> bool {
        *self == Protocol::Tcp
    }

    /// `tcp` or `udp`, as Docker spells it.
    ///
    /// ```
    /// assert_eq!(footloose_config::Protocol::Udp.as_str(), "udp");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A volume or bind mount.
///
/// ```
/// use footloose_config::{Volume, VolumeType};
///
/// let mut src = Volume::bind("./src", "/src");
/// src.read_only = true;
/// assert_eq!(src.kind, VolumeType::Bind);
/// assert_eq!(Volume::anonymous("/var/cache").source, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct Volume {
    /// `volume` or `bind`.
    #[serde(rename = "type")]
    pub kind: VolumeType,
    /// Volume name or host path; an anonymous volume when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Absolute path inside the machine.
    pub destination: String,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
}

/// The kind of a [`Volume`].
///
/// ```
/// use footloose_config::{Volume, VolumeType};
///
/// assert_eq!(Volume::named("data", "/data").kind, VolumeType::Volume);
/// assert_eq!(Volume::bind("/srv", "/srv").kind, VolumeType::Bind);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum VolumeType {
    /// A Docker volume (named, or anonymous without `source`).
    Volume,
    /// A host directory or file.
    Bind,
}

/// One machine of a configuration, with its template expanded, as
/// [`Config::machines`] yields them.
///
/// ```
/// let config = footloose_config::Config::with_replicas("demo", "footloose/debian12", 2);
/// let second = config.machines().nth(1).unwrap();
/// assert_eq!((second.hostname.as_str(), second.index, second.set), ("node1", 1, 0));
/// assert_eq!(second.cmd(), "/sbin/init");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MachineInstance {
    /// The machine's hostname, such as `node1`.
    pub hostname: String,
    /// Its index within its `machines:` entry.
    pub index: u32,
    /// Which `machines:` entry it comes from.
    pub set: usize,
    /// The entry's spec.
    pub spec: MachineSpec,
    /// The entry's extra Ansible groups.
    pub groups: Vec<String>,
    /// The entry's Ansible host variables.
    pub ansible_vars: AnsibleVars,
    /// The variables the top-level `ansible.groupVars` gives the groups it
    /// is in (`all`, its entry's group, its `groups`), by group.
    pub group_vars: BTreeMap<String, AnsibleVars>,
}

impl MachineInstance {
    /// The host port that `mapping` gets on this machine, `None` for any.
    ///
    /// ```
    /// use footloose_config::{ClusterSpec, Config, MachineSet, MachineSpec, PortMapping};
    ///
    /// let mut spec = MachineSpec::new("footloose/debian12", "node%d");
    /// let mut http = PortMapping::new(80);
    /// http.host_port = Some(8080);
    /// spec.port_mappings.push(http.clone());
    /// let config = Config::new(ClusterSpec::new("c"), vec![MachineSet::new(3, spec)]);
    /// let ports: Vec<_> = config.machines().map(|m| m.host_port(&http)).collect();
    /// assert_eq!(ports, [Some(8080), Some(8081), Some(8082)]);
    /// ```
    pub fn host_port(&self, mapping: &PortMapping) -> Option<u16> {
        match mapping.host_port {
            None | Some(0) => None,
            Some(port) => u16::try_from(u32::from(port) + self.index).ok(),
        }
    }

    /// PID 1's command line.
    ///
    /// ```
    /// let mut config = footloose_config::Config::with_replicas("demo", "footloose/debian12", 1);
    /// config.machines[0].spec.cmd = Some("/lib/systemd/systemd --log-level=debug".to_owned());
    /// assert_eq!(config.machines().next().unwrap().cmd(), "/lib/systemd/systemd --log-level=debug");
    /// ```
    pub fn cmd(&self) -> &str {
        self.spec.cmd.as_deref().unwrap_or(DEFAULT_CMD)
    }
}

impl ClusterSpec {
    /// A cluster named `name`, its key at [`DEFAULT_PRIVATE_KEY`], the
    /// rest left to footloose.
    ///
    /// ```
    /// let cluster = footloose_config::ClusterSpec::new("demo");
    /// assert_eq!((cluster.name.as_str(), cluster.private_key.as_str()), ("demo", "cluster-key"));
    /// ```
    pub fn new(name: &str) -> ClusterSpec {
        ClusterSpec {
            name: name.to_owned(),
            private_key: DEFAULT_PRIVATE_KEY.to_owned(),
            publish_address: None,
            reach: None,
        }
    }
}

impl MachineSet {
    /// The Ansible groups of its machines besides `all` and the cluster's:
    /// the one named after its name pattern without `%d`, then `groups`.
    ///
    /// ```
    /// use footloose_config::{MachineSet, MachineSpec};
    ///
    /// let mut web = MachineSet::new(2, MachineSpec::new("footloose/debian12", "web-%d"));
    /// web.groups.push("frontend".to_owned());
    /// assert_eq!(web.ansible_groups(), ["web", "frontend"]);
    /// ```
    pub fn ansible_groups(&self) -> Vec<String> {
        let mut groups = vec![ansible_group_name(&self.spec.name.replacen("%d", "", 1))];
        for group in &self.groups {
            if !groups.contains(group) {
                groups.push(group.clone());
            }
        }
        groups
    }

    /// `count` machines made from `spec`, in no extra Ansible group.
    ///
    /// ```
    /// use footloose_config::{MachineSet, MachineSpec};
    ///
    /// let mut workers = MachineSet::new(3, MachineSpec::new("footloose/debian12", "worker%d"));
    /// workers.groups.push("workers".to_owned());
    /// assert_eq!(workers.count, 3);
    /// ```
    pub fn new(count: u32, spec: MachineSpec) -> MachineSet {
        MachineSet {
            count,
            spec,
            groups: Vec::new(),
            ansible: MachineAnsible::default(),
        }
    }
}

impl MachineSpec {
    /// Machines running `image`, named after `name` (a template with one
    /// `%d`), with nothing else asked for: no published ports, volumes or
    /// networks, `/sbin/init` as PID 1.
    ///
    /// ```
    /// let spec = footloose_config::MachineSpec::new("footloose/debian13", "node%d");
    /// assert!(spec.port_mappings.is_empty() && !spec.privileged);
    /// ```
    pub fn new(image: &str, name: &str) -> MachineSpec {
        MachineSpec {
            image: image.to_owned(),
            name: name.to_owned(),
            port_mappings: Vec::new(),
            privileged: false,
            volumes: Vec::new(),
            networks: Vec::new(),
            cmd: None,
            backend: None,
            env: BTreeMap::new(),
            labels: BTreeMap::new(),
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            tmpfs: Vec::new(),
            security_opt: Vec::new(),
            user_manager: false,
            user_namespaces: true,
            resources: Resources::default(),
        }
    }
}

impl PortMapping {
    /// TCP port `container_port` of the machine, published on a free host
    /// port of `127.0.0.1` (or the cluster's publish address).
    ///
    /// ```
    /// let mut http = footloose_config::PortMapping::new(80);
    /// http.address = Some("0.0.0.0".to_owned()); // reachable from other hosts
    /// ```
    pub fn new(container_port: u16) -> PortMapping {
        PortMapping {
            container_port,
            host_port: None,
            address: None,
            protocol: Protocol::Tcp,
        }
    }
}

impl Volume {
    /// The host path `source` mounted at `destination`.
    ///
    /// ```
    /// let conf = footloose_config::Volume::bind("./nginx.conf", "/etc/nginx/nginx.conf");
    /// assert_eq!(conf.source.as_deref(), Some("./nginx.conf"));
    /// ```
    pub fn bind(source: &str, destination: &str) -> Volume {
        Volume::new(VolumeType::Bind, Some(source), destination)
    }

    /// The volume `name` (made when missing) mounted at `destination`.
    ///
    /// ```
    /// let data = footloose_config::Volume::named("pgdata", "/var/lib/postgresql");
    /// assert_eq!(data.destination, "/var/lib/postgresql");
    /// ```
    pub fn named(name: &str, destination: &str) -> Volume {
        Volume::new(VolumeType::Volume, Some(name), destination)
    }

    /// A volume of the machine's own, removed with it, at `destination`.
    ///
    /// ```
    /// let cache = footloose_config::Volume::anonymous("/var/cache/apt");
    /// assert!(cache.source.is_none() && !cache.read_only);
    /// ```
    pub fn anonymous(destination: &str) -> Volume {
        Volume::new(VolumeType::Volume, None, destination)
    }

    fn new(kind: VolumeType, source: Option<&str>, destination: &str) -> Volume {
        Volume {
            kind,
            source: source.map(str::to_owned),
            destination: destination.to_owned(),
            read_only: false,
        }
    }
}

impl Config {
    /// A configuration of `cluster` with the `machines:` entries
    /// `machines`. It is not validated: [`Config::from_yaml`] of its
    /// [`to_yaml`](Config::to_yaml) does that.
    ///
    /// ```
    /// use footloose_config::{ClusterSpec, Config, MachineSet, MachineSpec};
    ///
    /// let db = MachineSet::new(1, MachineSpec::new("footloose/debian12", "db%d"));
    /// let web = MachineSet::new(2, MachineSpec::new("footloose/debian12", "web%d"));
    /// let config = Config::new(ClusterSpec::new("shop"), vec![db, web]);
    /// assert_eq!(config.machines().count(), 3);
    /// ```
    pub fn new(cluster: ClusterSpec, machines: Vec<MachineSet>) -> Config {
        Config {
            cluster,
            machines,
            ansible: AnsibleSpec::default(),
        }
    }

    /// A cluster named `name` of `replicas` machines `node0`, `node1`, …
    /// running `image`, with ssh published on a free host port: what
    /// `footloose config create` writes and what runs with no config file.
    ///
    /// ```
    /// let config = footloose_config::Config::with_replicas("demo", "footloose/debian12", 3);
    /// assert_eq!(config.machines().count(), 3);
    /// assert_eq!(config.machines[0].spec.port_mappings[0].container_port, 22);
    /// ```
    pub fn with_replicas(name: &str, image: &str, replicas: u32) -> Config {
        let mut spec = MachineSpec::new(image, "node%d");
        spec.port_mappings.push(PortMapping::new(22));
        Config::new(
            ClusterSpec::new(name),
            vec![MachineSet::new(replicas, spec)],
        )
    }

    /// The configuration as YAML, in the upstream layout.
    ///
    /// ```
    /// let yaml = footloose_config::Config::with_replicas("demo", "footloose/debian12", 1)
    ///     .to_yaml()
    ///     .unwrap();
    /// assert!(yaml.starts_with("cluster:\n  name: demo\n"));
    /// ```
    pub fn to_yaml(&self) -> Result<String, ConfigError> {
        serde_yaml::to_string(self).map_err(|e| ConfigError::Serialise(Box::new(e)))
    }

    /// Every machine, in order, with hostnames expanded (see
    /// [`MachineInstance`]).
    ///
    /// ```
    /// let config = footloose_config::Config::with_replicas("demo", "footloose/debian12", 2);
    /// for machine in config.machines() {
    ///     println!("{} runs {}", machine.hostname, machine.spec.image);
    /// }
    /// ```
    pub fn machines(&self) -> impl Iterator<Item = MachineInstance> + '_ {
        self.machines.iter().enumerate().flat_map(|(set, entry)| {
            let group_vars: BTreeMap<String, AnsibleVars> = std::iter::once("all".to_owned())
                .chain(entry.ansible_groups())
                .filter_map(|g| {
                    let vars = self.ansible.group_vars.get(&g)?.clone();
                    Some((g, vars))
                })
                .collect();
            (0..entry.count).map(move |index| MachineInstance {
                hostname: entry.spec.name.replacen("%d", &index.to_string(), 1),
                index,
                set,
                spec: entry.spec.clone(),
                groups: entry.groups.clone(),
                ansible_vars: entry.ansible.vars.clone(),
                group_vars: group_vars.clone(),
            })
        })
    }

    /// Runs every machine on `image` instead of the images the file names
    /// (the test attribute's `images = [...]`).
    ///
    /// ```
    /// let mut config = footloose_config::Config::with_replicas("demo", "footloose/debian12", 2);
    /// config.set_image("footloose/debian13");
    /// assert!(config.machines().all(|m| m.spec.image == "footloose/debian13"));
    /// ```
    pub fn set_image(&mut self, image: &str) {
        let image = crate::images::expand(image);
        for entry in &mut self.machines {
            entry.spec.image = image.clone();
        }
    }
}

/// `text` as an Ansible group name: every character other than a letter,
/// digit or `_` becomes `_`, trailing ones are dropped, and a leading digit
/// gets a `_` before it (`web-%d` is `web`, `my-cluster` is `my_cluster`):
/// the groups footloose makes of a cluster's name and of each `machines:`
/// entry's name pattern.
///
/// ```
/// use footloose_config::ansible_group_name;
///
/// assert_eq!(ansible_group_name("my-cluster.1"), "my_cluster_1");
/// assert_eq!(ansible_group_name("web-"), "web");
/// ```
pub fn ansible_group_name(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .trim_end_matches('_')
        .to_owned();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}
