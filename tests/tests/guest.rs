//! Where the CI host cannot go itself: a Debian 13 (trixie) guest under
//! QEMU (tests/engines/guest.sh) -- cgroup v2 with the systemd driver,
//! AppArmor enforcing docker-default, systemd 257, the nearest Debian has
//! to GitHub's ubuntu-24.04 runners -- runs the smoke suite (tests/src/bin/
//! smoke.rs: the CLI walk and the test framework) against Docker, rootful
//! Podman and rootless Podman, and prints what it ran on. Slow (software
//! emulation): one test, one boot.

use std::path::Path;
use std::process::Command;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/engines/guest.sh");

#[test]
fn the_smoke_suite_passes_in_a_cgroup_v2_guest_on_docker_and_podman() {
    let qemu = Command::new("qemu-system-x86_64").arg("--version").output();
    assert!(
        qemu.is_ok_and(|q| q.status.success()),
        "this test needs QEMU: apt-get install -t bookworm-backports qemu-system-x86"
    );
    let smoke = Path::new(env!("CARGO_BIN_EXE_smoke"));
    let footloose = footloose_tests::footloose_bin(env!("CARGO_BIN_EXE_smoke"));
    let out = Command::new("bash")
        .arg(SCRIPT)
        .arg(&footloose)
        .arg(smoke)
        .output()
        .expect("cannot run the guest script");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(report.contains("guest: cgroup cgroup2fs"), "{report}");
    assert!(report.contains("guest: apparmor enabled Y"), "{report}");
    // A machine on Docker really runs confined, as on an AppArmor host (the
    // smoke suite's CLI walk, whose machines say `userNamespaces: false`),
    // and one that may create user namespaces (the default) unconfined.
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("guest: docker machine ")
                && l.ends_with("runs under AppArmor docker-default (enforce)")),
        "no Docker machine seen under docker-default (enforce):\n{report}"
    );
    assert!(
        report.contains("sandboxed units: PID 1 under AppArmor unconfined"),
        "no machine with user namespaces seen unconfined:\n{report}"
    );
    for engine in ["docker", "podman", "podman-rootless"] {
        assert!(
            report.contains(&format!(
                "smoke {engine}: {} passed, 0 failed",
                footloose_tests::SMOKE_CHECKS
            )),
            "{engine} failed in the guest:\n{report}"
        );
    }
    assert!(out.status.success(), "{report}");
}
