//! The container footloose decides a machine becomes: [`ContainerPlan`],
//! which the engine backend turns into its API's request.

use std::collections::{BTreeMap, HashMap};

use super::cgroups::CgroupNamespace;
use super::mounts::MountPlan;
use super::ports::PortPublish;

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
    /// profile (see `security.rs`).
    pub allow_user_namespaces: bool,
    /// The network it is created on (name or id); the engine's default
    /// bridge when `None`.
    pub network: Option<String>,
    /// Networks beyond the first, connected before the container starts.
    pub extra_networks: Vec<String>,
    /// The signal that stops it.
    pub stop_signal: String,
    /// The CPU time it may use, in billionths of a CPU (the spec's
    /// `resources.cpus`); no limit when `None`.
    pub nano_cpus: Option<i64>,
    /// The memory it may use, in bytes (the spec's `resources.memory`);
    /// no limit when `None`.
    pub memory_bytes: Option<i64>,
    /// Started again by the engine when PID 1 exits non-zero: a reboot in
    /// the machine exits with [`REBOOT_EXIT_CODE`](crate::guest::REBOOT_EXIT_CODE),
    /// a poweroff (and `footloose stop`) with 0.
    pub restart_on_failure: bool,
}
