//! systemd's sandboxing directives in machines that are not privileged, as
//! on a VM: each in a oneshot unit of its own whose command proves the
//! sandbox applied (and is checked to fail outside it).
//!
//! What a machine's root, without `CAP_SYS_ADMIN`, can have: every
//! directive starts (systemd skips the namespaces it may not make,
//! "assuming containerized execution", except for `DynamicUser=`, which
//! insists on its mount namespace); those built on seccomp, `prctl` and
//! capabilities apply, and so does `PrivateUsers=`, since footloose lets
//! machines create user namespaces; the mount, network and UTS namespaces
//! apply beside `PrivateUsers=true` where systemd makes the user namespace
//! first (Debian 12). `userNamespaces: false` keeps the engine's default
//! profile, where Docker's refuses `PrivateUsers=true` (`217/USER`).
//! And the measure: Debian's `redis-server`, whose unit uses most
//! of these, installed by a role that converges and is idempotent on
//! Debian 11, 12 and 13 with no prepare step.

use std::time::Instant;

use footloose::ansible::Playbook;
use footloose::Cluster;
use footloose_tests::require_docker;
use footloose_tests::sandboxing::{failures, named, needing, Needs, DIRECTIVES};

#[footloose::cluster("sandboxing.yaml", images = ["debian11", "debian12", "debian13"])]
fn every_directive_but_dynamic_user_starts_alone(cluster: &Cluster) {
    let alone: Vec<_> = DIRECTIVES
        .iter()
        .filter(|d| d.name != "DynamicUser")
        .copied()
        .collect();
    let failed = failures(cluster.machine("node0"), &alone, false, true);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[footloose::cluster("sandboxing.yaml", images = ["debian11", "debian12", "debian13"])]
fn private_users_and_the_directives_without_namespaces_apply(cluster: &Cluster) {
    let applied = needing(&[Needs::Nothing, Needs::UserNamespace]);
    assert_eq!(applied.len(), 9, "{applied:?}");
    let failed = failures(cluster.machine("node0"), &applied, false, false);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[footloose::cluster("sandboxing.yaml", images = ["debian12"])]
fn every_directive_applies_beside_private_users(cluster: &Cluster) {
    // systemd 252 makes a unit's user namespace first when it lacks
    // CAP_SYS_ADMIN, and the other namespaces inside it.
    let failed = failures(cluster.machine("node0"), DIRECTIVES, true, false);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[footloose::cluster("sandboxing.yaml")]
fn user_namespaces_false_keeps_the_engines_default_profile(cluster: &Cluster) {
    let relaxed = cluster.machine("node0");
    let strict = cluster.machine("strict0");
    assert!(relaxed.exec("unshare -U true").unwrap().success());
    let engine = require_docker();
    if engine.facts().capabilities.user_namespaces_by_default {
        // Podman's default allows them: nothing to keep.
        assert!(strict.exec("unshare -U true").unwrap().success());
        return;
    }
    let refused = strict.exec("unshare -U true").unwrap();
    assert!(
        !refused.success(),
        "the engine's default profile allowed a user namespace"
    );
    assert!(
        refused.stderr().contains("Operation not permitted"),
        "{}",
        refused.stderr()
    );
    let failed = failures(strict, &named(&["PrivateUsers"]), true, false);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("217/USER"), "{}", failed[0]);
}

/// Debian's `redis-server` (its unit sets `PrivateUsers=true` on Debian 12
/// and 13) converges and is idempotent with no prepare step, as on a VM.
#[footloose::cluster("redis.yaml", images = ["debian11", "debian12", "debian13"], ready_timeout = "90s")]
fn a_role_with_sandboxed_units_converges_and_is_idempotent(
    cluster: &Cluster,
) -> footloose::Result<()> {
    let site = Playbook::new("redis.yml");
    let started = Instant::now();
    let converged = site.run(cluster)?;
    let converge = started.elapsed();
    // The package starts and enables the service itself; the role's
    // service task then finds it so.
    assert!(converged.changed() >= 1, "{}", converged.stdout);
    let again = Instant::now();
    site.assert_idempotent(cluster)?;
    let node = cluster.machine("redis0");
    let release = node
        .exec(". /etc/os-release && echo $PRETTY_NAME")?
        .checked()?;
    println!(
        "footloose: redis on {}: converge {:.1} s, idempotence {:.1} s",
        release.stdout().trim(),
        converge.as_secs_f64(),
        again.elapsed().as_secs_f64()
    );
    let status = node.unit_status("redis-server")?;
    assert!(status.is_active(), "{status}");
    let ping = node.exec("redis-cli ping")?.checked()?;
    assert_eq!(ping.stdout().trim(), "PONG");
    // The unit runs sandboxed where it asks for a user namespace.
    let uses_userns = node
        .exec("systemctl show -p PrivateUsers --value redis-server")?
        .checked()?;
    if uses_userns.stdout().trim() == "yes" {
        let map = node
            .exec("cat /proc/$(systemctl show -p MainPID --value redis-server)/uid_map")?
            .checked()?;
        assert!(!map.stdout().contains("4294967295"), "{}", map.stdout());
    }
    Ok(())
}
