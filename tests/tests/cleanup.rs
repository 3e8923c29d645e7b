//! Nothing is left behind even when a test process is killed, and clusters
//! of concurrent tests never collide.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use footloose::{Cluster, Config};
use footloose_tests::{containers_of, require_docker, wait_until_gone};

/// Starts `hold-cluster` and returns it with the name of its ready cluster.
fn hold_cluster(watchdog: bool) -> (Child, String) {
    require_docker();
    let mut command = Command::new(env!("CARGO_BIN_EXE_hold-cluster"));
    command.stdout(Stdio::piped());
    if !watchdog {
        command.env("FOOTLOOSE_WATCHDOG", "off");
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let cluster = line.trim().to_owned();
    assert!(!cluster.is_empty(), "hold-cluster printed no cluster name");
    assert_eq!(containers_of(&cluster).len(), 1);
    (child, cluster)
}

#[test]
fn a_killed_test_process_is_cleaned_up_by_its_watchdog() {
    let (mut child, cluster) = hold_cluster(true);
    child.kill().unwrap(); // SIGKILL: no destructor, no guard runs.
    child.wait().unwrap();
    assert!(
        wait_until_gone(&cluster, 60),
        "the watchdog did not remove {cluster}: {:?}",
        containers_of(&cluster)
    );
}

#[test]
fn the_janitor_removes_clusters_whose_owner_is_gone() {
    let (mut child, cluster) = hold_cluster(false);
    let engine = require_docker();
    let container = format!("{cluster}-node0");
    let labels = footloose::runtime::block_on(engine.docker().inspect_container(&container, None))
        .unwrap()
        .config
        .and_then(|c| c.labels)
        .unwrap_or_default();
    assert!(
        !labels.contains_key(footloose::labels::WATCHDOG_PID),
        "FOOTLOOSE_WATCHDOG=off leaves no watchdog to wait for"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // Any janitor may take it: this one, or that of a test process starting
    // meanwhile (nextest runs many). Either way it must be gone.
    let swept = footloose::runtime::block_on(footloose::testing::janitor::sweep(&engine)).unwrap();
    assert!(
        containers_of(&cluster).is_empty(),
        "{cluster} survived a sweep (swept: {swept:?})"
    );
}

#[test]
fn sixteen_clusters_at_once_do_not_collide() {
    require_docker();
    let key = std::env::temp_dir().join("footloose-tests-key");
    let names: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let key = key.clone();
                scope.spawn(move || {
                    let config = Config::with_replicas("crowd", "footloose/debian12", 1);
                    let guard = Cluster::builder(config)
                        .unique_name()
                        .private_key(key)
                        .ready_timeout(std::time::Duration::from_secs(180))
                        .start()
                        .unwrap();
                    let node = guard.machine("node0");
                    let out = node.exec("hostname").unwrap();
                    assert_eq!(out.stdout().trim(), "node0");
                    guard.name().to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 16, "{names:?}");
    for name in &names {
        assert!(containers_of(name).is_empty(), "{name} was left behind");
    }
}
