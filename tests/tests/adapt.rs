//! Any systemd image made usable: an image footloose did not build, with
//! no ssh daemon (or not even systemd), is adapted once, labelled, reused,
//! adapted again when its base changes, and boots to `running` beside
//! footloose's own images in one `images = [...]` matrix.
//!
//! The images are made here from footloose's Debian 12 base
//! (`footloose_tests::test_images`), as users' images from a registry
//! would be; the packages the adapter installs come from Debian's archive.

use footloose::image::{self, BuildOutcome};
use footloose::{Cluster, Error};
use footloose_tests::test_images::{self, BARE, NO_SSHD};

/// The test that needs [`NO_SSHD`] before its cluster starts.
const MATRIX_TEST: &str =
    "a_matrix_runs_on_footloose_images_and_adapted_ones::footloose_test_nosshd_bookworm";

/// The matrix test's image is made before any test runs (the attribute
/// starts its cluster first thing), when the test harness was asked to run
/// that test: not while tests are listed, nor in a run filtered to others
/// (such as a CI job container's, which has no docker CLI). A failure is
/// printed, not raised here: the test then fails on the missing image.
#[ctor::ctor]
fn make_the_matrix_image() {
    if selected(MATRIX_TEST, std::env::args().skip(1)) {
        let made = std::panic::catch_unwind(|| test_images::make(NO_SSHD, ""));
        if let Err(panic) = made {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            eprintln!("adapt.rs: cannot make {NO_SSHD}: {reason}");
        }
    }
}

/// Whether the test harness, given `args`, runs the test named `test`.
fn selected(test: &str, args: impl Iterator<Item = String>) -> bool {
    const WITH_VALUE: [&str; 7] = [
        "--skip",
        "--test-threads",
        "--color",
        "--format",
        "--logfile",
        "--shuffle-seed",
        "-Z",
    ];
    let (mut filters, mut exact, mut skip_next) = (Vec::new(), false, false);
    for arg in args {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        match arg.as_str() {
            "--list" => return false,
            "--exact" => exact = true,
            flag if WITH_VALUE.contains(&flag) => skip_next = true,
            flag if flag.starts_with('-') => {}
            _ => filters.push(arg),
        }
    }
    filters.is_empty()
        || filters.iter().any(|filter| {
            if exact {
                filter == test
            } else {
                test.contains(filter.as_str())
            }
        })
}

#[test]
fn the_image_is_made_only_for_runs_that_select_the_matrix_test() {
    let args = |list: &[&str]| {
        list.iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    };
    assert!(selected(MATRIX_TEST, args(&[])));
    assert!(selected(
        MATRIX_TEST,
        args(&["--test-threads", "2", "nosshd"])
    ));
    assert!(selected(
        MATRIX_TEST,
        args(&["--exact", MATRIX_TEST, "--nocapture"])
    ));
    assert!(!selected(MATRIX_TEST, args(&["--list"])));
    assert!(!selected(
        MATRIX_TEST,
        args(&[
            "--exact",
            "a_sync_test_gets_a_ready_machine",
            "files_and_directories_copy_both_ways"
        ])
    ));
    assert!(!selected(MATRIX_TEST, args(&["--skip", "x", "reboot"])));
}

/// What every machine of footloose's must have, however its image came.
fn assert_is_a_machine(cluster: &Cluster) {
    let node = cluster.machine("node0");
    let state = node.exec("systemctl is-system-running --wait").unwrap();
    let failed = node
        .exec("systemctl --failed --no-legend")
        .unwrap()
        .stdout();
    assert_eq!(state.stdout().trim(), "running", "failed units: {failed}");
    let checks = node
        .exec("python3 -c 'print(42)' && test -s /etc/ssh/ssh_host_ed25519_key && systemctl is-enabled footloose-boot.service && hostname")
        .unwrap();
    assert!(checks.success(), "{checks:?}");
    assert_eq!(
        checks.stdout().lines().collect::<Vec<_>>(),
        ["42", "enabled", "node0"]
    );
}

// The issue's own words: a matrix of footloose's image and a systemd image
// without sshd runs the test on both.
#[footloose::cluster("adapt.yaml", images = ["debian12", "footloose-test/nosshd:bookworm"])]
fn a_matrix_runs_on_footloose_images_and_adapted_ones(cluster: &Cluster) {
    assert_is_a_machine(cluster);
    let sshd = cluster
        .machine("node0")
        .exec("dpkg-query -W -f='${Status}' openssh-server")
        .unwrap();
    assert_eq!(sshd.stdout(), "install ok installed");
}

#[test]
fn an_image_with_nothing_is_adapted_once_reused_and_adapted_again_when_its_base_changes() {
    let engine = footloose_tests::require_docker();
    let adapted = image::adapted_reference(BARE);
    test_images::make(BARE, "");
    // Only this test uses it: start from nothing.
    test_images::remove(&adapted);

    let first = footloose::runtime::block_on(image::prepare(&engine, BARE)).unwrap();
    assert_eq!(first.outcome, BuildOutcome::Adapted);
    assert_eq!(first.reference, adapted);
    let built = test_images::id(&adapted).expect("the adapted image is there");

    let again = footloose::runtime::block_on(image::prepare(&engine, BARE)).unwrap();
    assert_eq!(
        (again.outcome, again.reference.as_str()),
        (BuildOutcome::Present, adapted.as_str())
    );
    assert_eq!(
        test_images::id(&adapted).as_deref(),
        Some(built.as_str()),
        "reused, not rebuilt"
    );

    let cluster = footloose::ClusterBuilder::from_file("adapt.yaml")
        .unwrap()
        .unique_name()
        .image(BARE)
        .start()
        .unwrap();
    assert_is_a_machine(&cluster);
    let show = cluster
        .machine("node0")
        .exec("cat /etc/os-release")
        .unwrap()
        .stdout();
    assert!(show.contains("bookworm"), "{show}");
    drop(cluster);

    // A new image under the same reference is a new base.
    test_images::make(BARE, " io.footloose.test.round=2");
    let rebuilt = footloose::runtime::block_on(image::prepare(&engine, BARE)).unwrap();
    assert_eq!(rebuilt.outcome, BuildOutcome::Adapted);
    assert_ne!(test_images::id(&adapted).unwrap(), built);
    test_images::make(BARE, "");
}

#[test]
fn an_image_footloose_cannot_adapt_is_a_clear_error_and_leaves_nothing() {
    let engine = footloose_tests::require_docker();
    // No package manager, and no sshd: nothing can supply it.
    let image = "footloose-test/no-package-manager:bookworm";
    let out = std::process::Command::new("docker")
        .args(["build", "-q", "-t", image, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(
                format!("FROM {NO_SSHD}\nRUN rm -f /usr/bin/apt-get /usr/bin/apt /usr/bin/dpkg\nLABEL io.footloose.test=true\n").as_bytes(),
            )?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let err = footloose::runtime::block_on(image::prepare(&engine, image)).unwrap_err();
    assert!(matches!(err, Error::Adapt { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("image {image} cannot be made a footloose machine: Debian GNU/Linux 12 (bookworm) lacks sshd and has no package manager footloose can install it with (looked for apt-get, dnf, microdnf, yum, zypper, pacman, apk)")
    );
    assert_eq!(
        test_images::id(&image::adapted_reference(image)),
        None,
        "no adapted image"
    );
    // The probe container is gone too (other tests here probe their own
    // images at the same time).
    let probes = std::process::Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=io.footloose.probe={image}"),
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&probes.stdout).trim().is_empty(),
        "{probes:?}"
    );
}

/// Runs footloose's set-up script in a container of footloose's Debian 12
/// base after `prepare` reshaped it, and returns what `report` printed
/// after it, and everything it printed.
fn set_up_in(prepare: &str, report: &str) -> (bool, String, String) {
    footloose_tests::local_image("footloose/debian12");
    let script = footloose_tests::workspace().join("images/common/setup.sh");
    let out = std::process::Command::new("docker")
        .args(["run", "--rm", "--label", "io.footloose.test=true", "-v"])
        .arg(format!("{}:/footloose-setup:ro", script.display()))
        .args(["--entrypoint", "sh", "footloose/base:bookworm", "-c"])
        .arg(format!(
            "set -e; {prepare}; sh /footloose-setup >/dev/null; echo ---; {report}"
        ))
        .output()
        .expect("cannot run docker");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = stdout.split("---\n").nth(1).unwrap_or_default().to_owned();
    (
        out.status.success(),
        report,
        footloose_tests::output_text(&out),
    )
}

// The other families' layouts, made in a Debian root file system: the
// script finds the ssh unit by its name there, makes sshd_config read its
// drop-ins, links /sbin/init and unlocks a locked root, as it must on the
// Red Hat family, SUSE and Arch (whose archives are not reachable here).
#[test]
fn the_set_up_script_finds_what_differs_between_families() {
    let (ok, report, text) = set_up_in(
        "systemctl disable ssh.service; \
         mv /usr/lib/systemd/system/ssh.service /usr/lib/systemd/system/sshd.service; \
         sed -i '/^Alias=/d' /usr/lib/systemd/system/sshd.service; \
         rm -f /usr/lib/systemd/system/ssh.socket /usr/lib/systemd/system/ssh@.service; \
         sed -i '/^Include/d' /etc/ssh/sshd_config; \
         sed -i 's/^root:[^:]*:/root:!!:/' /etc/shadow; \
         rm -f /sbin/init",
        "systemctl is-enabled sshd.service; \
         cat /etc/systemd/system/sshd.service.d/footloose.conf | tr '\\n' ' '; echo; \
         head -1 /etc/ssh/sshd_config; \
         grep ^root: /etc/shadow | cut -d: -f2; \
         readlink /sbin/init; \
         test -L /etc/systemd/system/getty.target && echo masked",
    );
    assert!(ok, "{text}");
    assert_eq!(
        report.lines().collect::<Vec<_>>(),
        [
            "enabled",
            "[Service] ExecStartPre= ",
            "Include /etc/ssh/sshd_config.d/*.conf",
            "*",
            "/usr/lib/systemd/systemd",
            "masked"
        ],
        "{text}"
    );
}

#[test]
fn the_set_up_script_refuses_a_root_file_system_without_an_ssh_daemon() {
    let (ok, _, text) = set_up_in("rm -f /usr/sbin/sshd", "true");
    assert!(!ok, "{text}");
    assert!(
        text.contains(
            "footloose-setup: error: no ssh daemon (sshd is not on PATH nor in /usr/sbin)"
        ),
        "{text}"
    );
}

// footloose's own Debian base holds systemd, sshd and python3 but not the
// boot unit: adapting it adds only the set-up (no package is installed).
#[test]
fn an_image_that_has_everything_but_the_boot_unit_gets_only_the_set_up() {
    let engine = footloose_tests::require_docker();
    footloose_tests::local_image("footloose/debian12");
    let base = "footloose/base:bookworm";
    let prepared = footloose::runtime::block_on(image::prepare(&engine, base)).unwrap();
    assert_eq!(prepared.reference, image::adapted_reference(base));
    let cluster = footloose::ClusterBuilder::from_file("adapt.yaml")
        .unwrap()
        .unique_name()
        .image(base)
        .start()
        .unwrap();
    assert_is_a_machine(&cluster);
}
