//! The test framework as users write with it: the attribute on sync and
//! async tests, Result tests, shared clusters, the image matrix, panics,
//! `keep_on_failure`, exec and copy.

use std::cell::RefCell;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use footloose::{Cluster, ExitStatus, Machine};
use footloose_tests::{containers_of, wait_until_gone};

#[footloose::cluster("footloose.yaml")]
fn a_sync_test_gets_a_ready_machine(cluster: &Cluster) {
    let node = cluster.machine("node0");
    assert_eq!(node.hostname(), "node0");
    assert_eq!(node.container_name(), format!("{}-node0", cluster.name()));
    assert!(node.ip().is_some());
    assert!(node.host_port(22).is_some());
    let out = node
        .exec("hostname && systemctl is-system-running")
        .unwrap();
    assert!(out.success(), "{}", out.stderr());
    assert_eq!(out.stdout(), "node0\nrunning\n");
}

#[footloose::cluster("footloose.yaml")]
async fn an_async_test_uses_the_async_twins(cluster: &Cluster) {
    let node = cluster.machine("node0");
    node.write_file_async("/etc/motd", b"async hello\n".to_vec())
        .await
        .unwrap();
    let text = node.read_file_async("/etc/motd").await.unwrap();
    assert_eq!(text, b"async hello\n");
    // The test's own runtime works as under #[tokio::test].
    tokio::time::sleep(Duration::from_millis(1)).await;
    let out = node.exec_async("cat /etc/motd").await.unwrap();
    assert_eq!(out.stdout(), "async hello\n");
}

#[footloose::cluster("footloose.yaml")]
fn a_result_test_can_use_the_question_mark(cluster: &Cluster) -> footloose::Result<()> {
    let out = cluster.machine("node0").exec("id -u")?.checked()?;
    assert_eq!(out.stdout().trim(), "0");
    Ok(())
}

#[should_panic(expected = "test returned an error")]
#[footloose::cluster("footloose.yaml")]
fn a_result_test_that_returns_an_error_fails(cluster: &Cluster) -> footloose::Result<()> {
    cluster.machine("node0").exec("exit 3")?.checked()?;
    Ok(())
}

#[footloose::cluster("footloose.yaml")]
fn exec_keeps_stdout_stderr_and_status_apart(cluster: &Cluster) {
    let node = cluster.machine("node0");
    let out = node.exec("echo out; echo err >&2; exit 3").unwrap();
    assert!(!out.success());
    assert_eq!(out.exit_code(), Some(3));
    assert_eq!(out.stdout(), "out\n");
    assert_eq!(out.stderr(), "err\n");
    let err = out.checked().unwrap_err().to_string();
    assert!(err.contains("`echo out; echo err >&2; exit 3`"), "{err}");
    assert!(err.contains("exit code 3") && err.contains("err"), "{err}");

    let killed = node.exec("kill -KILL $$").unwrap();
    assert_eq!(killed.status, ExitStatus::Signal("KILL".into()));
    assert_eq!(killed.signal(), Some("KILL"));

    // 3 MB of stderr must not stall stdout (nor the other way round).
    let loud = node
        .exec("head -c 3000000 /dev/zero | tr '\\0' e >&2; head -c 3000000 /dev/zero | tr '\\0' o")
        .unwrap();
    assert_eq!(
        (loud.stdout.len(), loud.stderr.len()),
        (3_000_000, 3_000_000)
    );

    let fed = node
        .exec_with("tr a-z A-Z", b"shout\n", Duration::from_secs(10))
        .unwrap();
    assert_eq!(fed.stdout(), "SHOUT\n");
    let slow = node
        .exec_with("sleep 30", b"", Duration::from_millis(500))
        .unwrap();
    assert_eq!(slow.status, ExitStatus::TimedOut);
    // The machine is still usable after a timeout.
    assert!(node.exec("true").unwrap().success());
}

#[footloose::cluster("footloose.yaml")]
fn files_and_directories_copy_both_ways(cluster: &Cluster) {
    let node = cluster.machine("node0");
    let local = tempfile::tempdir().unwrap();

    // A 10 MB file with content that is not all the same byte.
    let big: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let source = local.path().join("big.bin");
    std::fs::write(&source, &big).unwrap();
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o640)).unwrap();
    node.copy_to(&source, "/root/big.bin").unwrap();
    let remote = node
        .exec("stat -c %a /root/big.bin && sha256sum /root/big.bin")
        .unwrap()
        .stdout();
    assert!(remote.starts_with("640\n"), "{remote}");
    let back = local.path().join("back.bin");
    node.copy_from("/root/big.bin", &back).unwrap();
    assert!(
        std::fs::read(&back).unwrap() == big,
        "the file came back changed"
    );
    assert_eq!(
        std::fs::metadata(&back).unwrap().permissions().mode() & 0o777,
        0o640
    );

    // A tree with a nested directory, an executable and an empty file.
    let tree = local.path().join("tree");
    std::fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    std::fs::write(tree.join("a.txt"), "alpha").unwrap();
    std::fs::write(tree.join("sub/run.sh"), "#!/bin/sh\necho ran\n").unwrap();
    std::fs::set_permissions(
        tree.join("sub/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(tree.join("sub/deeper/empty"), "").unwrap();
    node.copy_to(&tree, "/opt/tree").unwrap();
    assert_eq!(node.exec("/opt/tree/sub/run.sh").unwrap().stdout(), "ran\n");
    assert_eq!(node.read_file("/opt/tree/a.txt").unwrap(), b"alpha");

    node.exec("echo made-inside > /opt/tree/sub/new.txt")
        .unwrap()
        .checked()
        .unwrap();
    let returned = local.path().join("returned");
    node.copy_from("/opt/tree", &returned).unwrap();
    assert_eq!(
        std::fs::read_to_string(returned.join("a.txt")).unwrap(),
        "alpha"
    );
    assert_eq!(
        std::fs::read_to_string(returned.join("sub/new.txt")).unwrap(),
        "made-inside\n"
    );
    assert_eq!(
        std::fs::read(returned.join("sub/deeper/empty")).unwrap(),
        b""
    );
    let mode = std::fs::metadata(returned.join("sub/run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);

    let missing = node
        .copy_from("/nonexistent", local.path().join("x"))
        .unwrap_err();
    assert!(
        missing.to_string().contains("no such file or directory"),
        "{missing}"
    );
}

#[footloose::cluster("footloose.yaml")]
fn waits_for_units(cluster: &Cluster) {
    let node = cluster.machine("node0");
    node.exec("systemd-run --unit=late sh -c 'sleep 1; exec sleep 600' >/dev/null 2>&1")
        .unwrap()
        .checked()
        .unwrap();
    node.wait_for_unit("late", Duration::from_secs(20)).unwrap();
    // A oneshot unit's start ends when its command does: `broken` has
    // failed when systemd-run returns (a simple one is briefly active).
    node.exec("systemd-run --unit=broken -p Type=oneshot false")
        .unwrap();
    let err = node
        .wait_for_unit("broken", Duration::from_secs(5))
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("did not become active"), "{message}");
    assert!(message.contains("broken.service: failed"), "{message}");
    assert!(message.contains("journal (this boot"), "{message}");
    assert!(
        message.contains("broken.service: Failed with result 'exit-code'"),
        "{message}"
    );
    assert!(node.unit_status("late").unwrap().is_active());
    let broken = node.unit_status("broken").unwrap();
    assert!(broken.is_failed(), "{broken}");
    assert_eq!(broken.result, "exit-code", "{broken}");
    let journal = node.journal("broken", 20).unwrap();
    assert!(journal.contains("broken.service"), "{journal}");
    let missing = node.unit_status("no-such-unit").unwrap();
    assert_eq!(missing.load_state, "not-found", "{missing}");
}

#[footloose::cluster("two-nodes.yaml")]
fn machines_are_listed_and_missing_ones_are_none(cluster: &Cluster) {
    let names: Vec<&str> = cluster.machines().iter().map(Machine::hostname).collect();
    assert_eq!(names, ["node0", "node1"]);
    assert!(cluster.get("node7").is_none());
    let message = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cluster.machine("node7");
    }))
    .unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("no machine node7") && message.contains("it has: node0, node1"),
        "{message}"
    );
}

// --- shared clusters ------------------------------------------------------
//
// A shared cluster is shared by the tests of one process. `cargo test` runs
// every test of this file in one process, `cargo nextest run` each in its
// own, so an in-process comparison would check nothing under nextest.
// Instead `shared_clusters_are_one_per_process_and_removed_at_exit` runs
// this binary again as a child process with only the two readers below,
// which then log the cluster they got, and compares the two.

/// Set in the child process: the file the readers append their cluster to.
const SHARED_LOG_ENV: &str = "FOOTLOOSE_TESTS_SHARED_LOG";

/// Appends `test cluster pid` to the log, in the child process only.
fn log_shared_cluster(test: &str, cluster: &Cluster) {
    let Some(path) = std::env::var_os(SHARED_LOG_ENV) else {
        return;
    };
    use std::io::Write;
    // The readers run on two threads: one line, one write, one at a time.
    static LOG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = LOG.lock().unwrap_or_else(|e| e.into_inner());
    let line = format!("{test} {} {}\n", cluster.name(), std::process::id());
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut log| log.write_all(line.as_bytes()))
        .unwrap();
}

#[footloose::cluster("footloose.yaml", shared)]
fn shared_cluster_first_reader(cluster: &Cluster) {
    log_shared_cluster("first", cluster);
    assert!(cluster
        .machine("node0")
        .exec("test -d /etc")
        .unwrap()
        .success());
}

#[footloose::cluster("footloose.yaml", shared)]
fn shared_cluster_second_reader(cluster: &Cluster) {
    log_shared_cluster("second", cluster);
    assert!(cluster.machine("node0").exec("true").unwrap().success());
}

#[test]
fn shared_clusters_are_one_per_process_and_removed_at_exit() {
    footloose_tests::require_docker();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("shared.log");
    // Both readers in one process, on two threads, whichever runner runs
    // this test.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "shared_cluster_first_reader",
            "shared_cluster_second_reader",
            "--exact",
            "--test-threads=2",
        ])
        .env(SHARED_LOG_ENV, &log)
        .output()
        .expect("cannot run this test binary again");
    let report = footloose_tests::output_text(&out);
    assert!(
        out.status.success() && report.contains("2 passed"),
        "the child process did not pass both readers:\n{report}"
    );

    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let entries: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
    assert!(
        entries.iter().all(|e| e.len() == 3),
        "malformed log:\n{text}"
    );
    let seen_by = |test: &str| -> Vec<&str> {
        entries
            .iter()
            .filter(|e| e[0] == test)
            .map(|e| e[1])
            .collect()
    };
    let (first, second) = (seen_by("first"), seen_by("second"));
    // One run per image (FOOTLOOSE_IMAGES runs a plain test on each).
    assert!(
        !first.is_empty(),
        "the first reader logged nothing:\n{text}"
    );
    let mut first_sorted = first.clone();
    let mut second_sorted = second.clone();
    first_sorted.sort_unstable();
    second_sorted.sort_unstable();
    assert_eq!(
        first_sorted, second_sorted,
        "the two readers of one process saw different clusters:\n{text}"
    );
    let pids: std::collections::BTreeSet<&str> = entries.iter().map(|e| e[2]).collect();
    assert_eq!(pids.len(), 1, "the readers ran in one process:\n{text}");
    assert_ne!(
        pids.into_iter().next(),
        Some(std::process::id().to_string().as_str()),
        "the readers ran in the child"
    );
    // Removed when the child exited, not by this process.
    for cluster in first {
        assert!(
            wait_until_gone(cluster, 30),
            "shared cluster {cluster} outlived its process"
        );
    }
}

// --- the image matrix -----------------------------------------------------

#[footloose::cluster("footloose.yaml", images = ["debian11", "debian12", "debian13"])]
fn boots(cluster: &Cluster) {
    let node = cluster.machine("node0");
    let state = node.exec("systemctl is-system-running").unwrap().stdout();
    let failed = node
        .exec("systemctl --failed --no-legend")
        .unwrap()
        .stdout();
    assert_eq!(state.trim(), "running", "failed units: {failed}");
    let version = node.read_file("/etc/debian_version").unwrap();
    // The cluster is named after the test, such as boots-debian11-….
    let expected = ["11", "12", "13"]
        .into_iter()
        .find(|v| cluster.name().contains(&format!("debian{v}")))
        .expect("the cluster name tells the image");
    assert!(
        String::from_utf8_lossy(&version).starts_with(expected),
        "{} runs Debian {}",
        node.container_name(),
        String::from_utf8_lossy(&version)
    );
    // What Ansible needs.
    assert!(node.exec("python3 -c 'import json'").unwrap().success());
}

// --- panics clean up ------------------------------------------------------

thread_local! {
    static LAST_CLUSTER: RefCell<Option<String>> = const { RefCell::new(None) };
}

#[should_panic(expected = "the test's own message")]
#[footloose::cluster("footloose.yaml")]
fn a_panicking_test_keeps_its_message(cluster: &Cluster) {
    LAST_CLUSTER.with(|last| *last.borrow_mut() = Some(cluster.name().to_owned()));
    assert!(!containers_of(cluster.name()).is_empty());
    panic!("the test's own message");
}

#[test]
fn a_panicking_test_leaves_nothing_behind() {
    let result = std::panic::catch_unwind(a_panicking_test_keeps_its_message);
    assert!(result.is_err(), "the test panicked");
    let cluster = LAST_CLUSTER
        .with(|last| last.borrow().clone())
        .expect("the test ran");
    // Teardown runs in the background, overlapping the next test.
    assert!(
        wait_until_gone(&cluster, 30),
        "cluster {cluster} was left behind"
    );
}

// --- keep_on_failure ------------------------------------------------------
//
// Run again as a child process with FAIL_ON_PURPOSE_ENV set, the test below
// fails and keeps its cluster; in every other run it passes, and its
// cluster goes as any other.

/// Set in the child process: the test fails.
const FAIL_ON_PURPOSE_ENV: &str = "FOOTLOOSE_TESTS_FAIL_ON_PURPOSE";

#[footloose::cluster("footloose.yaml", keep_on_failure, ready_timeout = "2m")]
fn a_failed_test_with_keep_on_failure(cluster: &Cluster) {
    assert!(cluster.machine("node0").exec("true").unwrap().success());
    assert!(
        std::env::var_os(FAIL_ON_PURPOSE_ENV).is_none(),
        "failing on purpose"
    );
}

#[test]
fn keep_on_failure_keeps_the_cluster_and_says_how_to_reach_and_delete_it() {
    let engine = footloose_tests::require_docker();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["a_failed_test_with_keep_on_failure", "--exact"])
        .env(FAIL_ON_PURPOSE_ENV, "1")
        .env_remove("FOOTLOOSE_KEEP")
        .output()
        .expect("cannot run this test binary again");
    let report = footloose_tests::output_text(&out);
    // One cluster per run (FOOTLOOSE_IMAGES runs a plain test on each image).
    let kept: Vec<String> = report
        .lines()
        .filter_map(|line| line.strip_prefix("footloose: kept cluster "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let left: Vec<Vec<String>> = kept.iter().map(|name| containers_of(name)).collect();
    for name in &kept {
        let _ = footloose::runtime::block_on(footloose::delete(&engine, name));
    }
    assert!(
        !out.status.success() && report.contains("failing on purpose"),
        "the child process did not fail the test:\n{report}"
    );
    assert!(
        !kept.is_empty(),
        "no cluster was said to be kept:\n{report}"
    );
    for (name, left) in kept.iter().zip(&left) {
        assert_eq!(left.len(), 1, "{name} was not kept:\n{report}");
        for instruction in [
            format!("footloose: kept cluster {name} (keep_on_failure)"),
            format!("--cluster {name} ssh root@node0"),
            format!("--cluster {name} delete"),
        ] {
            assert!(
                report.contains(&instruction),
                "no `{instruction}` in:\n{report}"
            );
        }
    }
}
