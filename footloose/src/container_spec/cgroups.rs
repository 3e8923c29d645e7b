//! Which cgroup namespace a machine runs in, and whether the cgroup tree
//! is bound into it.
//!
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

use crate::host::{CgroupVersion, HostFacts};

/// Which cgroup namespace a machine runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupNamespace {
    /// The host's.
    Host,
    /// One of its own.
    Private,
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
