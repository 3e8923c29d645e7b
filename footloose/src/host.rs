//! What footloose knows of the engine's host and of what the engine can
//! do: the facts every plan is made from. Backends read them from their
//! engine; plans read them and nothing else of the engine.

/// Which cgroup hierarchy the engine's host uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// cgroup v1 (or hybrid), as on older distributions.
    V1,
    /// The unified cgroup v2 hierarchy, as on most current distributions.
    V2,
}

/// Which cgroup driver the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupDriver {
    /// The engine writes cgroups itself.
    Cgroupfs,
    /// The engine asks the host's systemd.
    Systemd,
}

/// Which engine runs the machines.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// use footloose::engine::Flavour;
///
/// if engine.facts().flavour == Flavour::Podman {
///     println!("Podman's Docker API, at {}", engine.endpoint());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flavour {
    /// Docker (moby).
    Docker,
    /// Podman's Docker-compatible service.
    Podman,
    /// Incus (its own REST API).
    Incus,
}

/// What footloose needs to know about the engine and its host.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// use footloose::engine::CgroupVersion;
///
/// let facts = engine.facts();
/// assert!(facts.cgroup == CgroupVersion::V2 || !facts.capabilities.systemd_mode);
/// println!("{:?}, {:?} cgroups with the {:?} driver", facts.flavour, facts.cgroup, facts.driver);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostFacts {
    /// The cgroup version.
    pub cgroup: CgroupVersion,
    /// The cgroup driver.
    pub driver: CgroupDriver,
    /// Which engine it is (for messages and reports: plans ask
    /// [`capabilities`](Self::capabilities) instead).
    pub flavour: Flavour,
    /// The engine confines containers with AppArmor (its `/info` lists
    /// `name=apparmor`): their default profile may refuse user namespaces
    /// and mounts in them.
    pub apparmor: bool,
    /// What the engine can do, as its backend reports it.
    pub capabilities: Capabilities,
}

/// What a backend can do, so that plans ask for what it offers instead of
/// switching on which engine it is.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let network = engine.facts().capabilities.default_network; // "bridge" or "podman"
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The engine runs a container whose command is an init in a *systemd
    /// mode* of its own (Podman): it mounts `/run`, `/tmp` and the cgroup
    /// tree as systemd wants them and sets `container=`, and ignores a
    /// cgroup namespace or `/sys/fs/cgroup` bind asked for.
    pub systemd_mode: bool,
    /// Two creators racing may both create a network of one name (Docker:
    /// names are not unique), so creators must settle on one afterwards.
    pub duplicate_network_names: bool,
    /// The network a container without one is put on (`bridge`,
    /// `podman`), where network-scoped aliases are refused.
    pub default_network: &'static str,
    /// The engine's default seccomp profile already lets a container
    /// create user namespaces (Podman's does; Docker's refuses them
    /// without `CAP_SYS_ADMIN`), so footloose need not relax it.
    pub user_namespaces_by_default: bool,
}
