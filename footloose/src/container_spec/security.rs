//! A machine's security settings: its security options (with
//! `apparmor=unconfined` where AppArmor would refuse user namespaces), and
//! whether the engine's default seccomp profile is relaxed for them.
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
//! [`allow_user_namespaces`](crate::container_spec::ContainerPlan::allow_user_namespaces): the
//! backend sends a profile that is its engine's default plus the
//! namespace system calls (see `backend/docker/seccomp.rs`). The kernel
//! still checks every one of them against the caller's capabilities in
//! its user namespace: nothing is granted that an unprivileged process on
//! the host could not do. No capability is added. Where the host confines
//! containers with AppArmor, such a machine also gets
//! `apparmor=unconfined`: `docker-default` and `containers-default` have
//! no `userns` rule (under AppArmor 4's mediation `PrivateUsers=true`
//! fails with "Permission denied") and deny `mount`.

use footloose_config::MachineInstance;

use crate::host::HostFacts;

/// The spec's security options, and `apparmor=unconfined` where the host
/// confines containers with AppArmor and the machine may create user
/// namespaces (the default): the engines' default AppArmor profiles
/// (`docker-default`, `containers-default`) refuse them, and mounts in
/// them, where AppArmor mediates user namespaces (Debian 13, Ubuntu 23.10
/// and later). Not when the spec names an `apparmor=` profile of its own,
/// says `userNamespaces: false`, or is privileged.
pub(super) fn security_options(machine: &MachineInstance, facts: HostFacts) -> Vec<String> {
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
