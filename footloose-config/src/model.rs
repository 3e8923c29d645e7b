//! The configuration's data types, as they stand in `footloose.yaml`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// The image a machine runs when the configuration names none.
pub const DEFAULT_IMAGE: &str = "footloose/debian12";
/// The command a machine runs as PID 1 when the configuration names none.
pub const DEFAULT_CMD: &str = "/sbin/init";
/// The private key path a new configuration uses.
pub const DEFAULT_PRIVATE_KEY: &str = "cluster-key";

/// A whole `footloose.yaml`: one cluster and the machines in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Settings of the cluster as a whole.
    pub cluster: ClusterSpec,
    /// Groups of identical machines.
    #[serde(default)]
    pub machines: Vec<MachineSet>,
}

/// The `cluster:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
}

fn one() -> u32 {
    1
}

/// The `spec:` of a machine entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The `backend:` of a machine. Upstream also knew `ignite`; this
/// implementation refuses it with a clear message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Machines are Docker containers.
    Docker,
    /// Firecracker micro-VMs (upstream only; not supported here).
    Ignite,
}

/// A published port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
    pub fn as_str(&self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A volume or bind mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VolumeType {
    /// A Docker volume (named, or anonymous without `source`).
    Volume,
    /// A host directory or file.
    Bind,
}

/// One machine of a configuration, with its template expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl MachineInstance {
    /// The host port that `mapping` gets on this machine, `None` for any.
    pub fn host_port(&self, mapping: &PortMapping) -> Option<u16> {
        match mapping.host_port {
            None | Some(0) => None,
            Some(port) => u16::try_from(u32::from(port) + self.index).ok(),
        }
    }

    /// PID 1's command line.
    pub fn cmd(&self) -> &str {
        self.spec.cmd.as_deref().unwrap_or(DEFAULT_CMD)
    }
}

impl Config {
    /// A cluster named `name` of `replicas` machines `node0`, `node1`, …
    /// running `image`, with ssh published on a free host port: what
    /// `footloose config create` writes and what runs with no config file.
    pub fn with_replicas(name: &str, image: &str, replicas: u32) -> Config {
        Config {
            cluster: ClusterSpec {
                name: name.to_owned(),
                private_key: DEFAULT_PRIVATE_KEY.to_owned(),
                publish_address: None,
                reach: None,
            },
            machines: vec![MachineSet {
                count: replicas,
                spec: MachineSpec {
                    image: image.to_owned(),
                    name: "node%d".to_owned(),
                    port_mappings: vec![PortMapping {
                        container_port: 22,
                        host_port: None,
                        address: None,
                        protocol: Protocol::Tcp,
                    }],
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
                },
                groups: Vec::new(),
            }],
        }
    }

    /// The configuration as YAML, in the upstream layout.
    pub fn to_yaml(&self) -> Result<String, ConfigError> {
        serde_yaml::to_string(self).map_err(|e| ConfigError::Serialise(e.to_string()))
    }

    /// Every machine, in order, with hostnames expanded.
    pub fn machines(&self) -> impl Iterator<Item = MachineInstance> + '_ {
        self.machines.iter().enumerate().flat_map(|(set, entry)| {
            (0..entry.count).map(move |index| MachineInstance {
                hostname: entry.spec.name.replacen("%d", &index.to_string(), 1),
                index,
                set,
                spec: entry.spec.clone(),
                groups: entry.groups.clone(),
            })
        })
    }

    /// Runs every machine on `image` instead of the images the file names
    /// (the test attribute's `images = [...]`).
    pub fn set_image(&mut self, image: &str) {
        for entry in &mut self.machines {
            entry.spec.image = image.to_owned();
        }
    }
}
