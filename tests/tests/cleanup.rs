//! Nothing is left behind even when a test process is killed, and clusters
//! of concurrent tests never collide.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use footloose::{Cluster, Config};
use footloose_tests::{containers_of, require_docker, wait_until_gone};

// These tests use `ClusterBuilder` without the attribute: the hooks give
// their clusters the cleanup watchdog a `#[footloose::cluster]` test has.
footloose::test_hooks!();

/// Starts `hold-cluster` and returns it with the name of its ready cluster.
fn hold_cluster(watchdog: bool) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hold-cluster"));
    if !watchdog {
        command.env("FOOTLOOSE_WATCHDOG", "off");
    }
    spawn_holder(command)
}

/// `hold-cluster` in a pid namespace of its own, as in a CI job's
/// container: its pid means nothing to this process. It is not the
/// namespace's init (a shell is), so that its watchdog outlives it; the
/// whole namespace dies with the returned child (`--kill-child`).
fn hold_cluster_in_another_namespace(env: &[(&str, &str)]) -> (Child, String) {
    let mut command = Command::new("unshare");
    command
        .args(["--pid", "--fork", "--mount-proc", "--kill-child"])
        .args(["sh", "-c", "\"$0\"; sleep 300"])
        .arg(env!("CARGO_BIN_EXE_hold-cluster"))
        .envs(env.iter().copied());
    spawn_holder(command)
}

fn spawn_holder(mut command: Command) -> (Child, String) {
    require_docker();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let cluster = line.trim().to_owned();
    assert!(!cluster.is_empty(), "hold-cluster printed no cluster name");
    assert_eq!(containers_of(&cluster).len(), 1);
    (child, cluster)
}

/// Runs one janitor sweep in a pid namespace of its own; returns what it removed.
fn sweep_from_another_namespace() -> Vec<String> {
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(env!("CARGO_BIN_EXE_sweep"))
        .output()
        .expect("cannot run unshare (util-linux)");
    assert!(
        out.status.success(),
        "sweep failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Ends a holder and, with `--kill-child`, its whole namespace.
fn end(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
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
    let labels = footloose::runtime::block_on(engine.container(&container))
        .unwrap()
        .expect("the held machine exists")
        .labels;
    assert!(
        !labels.contains_key(footloose::labels::WATCHDOG_PID),
        "FOOTLOOSE_WATCHDOG=off leaves no watchdog to wait for"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // Any janitor may take it: this one, or that of a test process starting
    // meanwhile (nextest runs many). Either way it must be gone.
    let swept = footloose::runtime::block_on(sweep(&engine));
    assert!(
        containers_of(&cluster).is_empty(),
        "{cluster} survived a sweep (swept: {swept:?})"
    );
}

#[test]
fn a_janitor_in_another_pid_namespace_leaves_a_live_cluster_alone() {
    // No watchdog: only the janitor's rule protects the cluster.
    let (holder, cluster) = hold_cluster(false);
    let swept = sweep_from_another_namespace();
    let survived = containers_of(&cluster);
    end(holder);
    let _ = footloose::runtime::block_on(footloose::delete(&require_docker(), &cluster));
    assert!(
        !swept.contains(&cluster) && survived.len() == 1,
        "a janitor that cannot see the owner removed {cluster} (swept: {swept:?})"
    );
}

#[test]
fn a_host_janitor_leaves_a_live_cluster_of_another_namespace_alone() {
    let (holder, cluster) = hold_cluster_in_another_namespace(&[("FOOTLOOSE_WATCHDOG", "off")]);
    let engine = require_docker();
    let swept = footloose::runtime::block_on(sweep(&engine));
    let survived = containers_of(&cluster);
    end(holder);
    let _ = footloose::runtime::block_on(footloose::delete(&engine, &cluster));
    assert!(
        !swept.contains(&cluster) && survived.len() == 1,
        "the host's janitor removed {cluster} of another pid namespace (swept: {swept:?})"
    );
}

#[test]
fn a_dead_owner_in_another_namespace_is_cleaned_up_by_its_watchdog() {
    let (mut holder, cluster) = hold_cluster_in_another_namespace(&[]);
    // The holder SIGKILLs itself; its watchdog lives on in the namespace.
    writeln!(holder.stdin.as_mut().unwrap(), "kill").unwrap();
    let gone = wait_until_gone(&cluster, 60);
    end(holder);
    assert!(gone, "the watchdog did not remove {cluster}");
}

#[test]
fn an_unseen_owner_is_pruned_past_its_lease_and_kept_within_it() {
    const SHORT_LEASE_SECONDS: u64 = 15;
    let started = Instant::now();
    let short = SHORT_LEASE_SECONDS.to_string();
    let (expiring, expiring_cluster) = hold_cluster_in_another_namespace(&[
        ("FOOTLOOSE_WATCHDOG", "off"),
        ("FOOTLOOSE_LEASE", short.as_str()),
    ]);
    let (leased, leased_cluster) = hold_cluster_in_another_namespace(&[
        ("FOOTLOOSE_WATCHDOG", "off"),
        ("FOOTLOOSE_LEASE", "1h"),
    ]);
    // Both owners die with their namespaces, and no watchdog is left:
    // a CI job's container killed whole.
    end(expiring);
    end(leased);
    let engine = require_docker();
    let early = footloose::runtime::block_on(footloose::prune_abandoned(&engine)).unwrap();
    let early: Vec<&String> = early.iter().map(|(cluster, _)| cluster).collect();
    let wait = Duration::from_secs(SHORT_LEASE_SECONDS + 1).saturating_sub(started.elapsed());
    std::thread::sleep(wait);
    footloose::runtime::block_on(footloose::prune_abandoned(&engine)).unwrap();
    let expired_left = containers_of(&expiring_cluster);
    let leased_left = containers_of(&leased_cluster);
    let _ = footloose::runtime::block_on(footloose::delete(&engine, &leased_cluster));
    assert!(
        !early.contains(&&leased_cluster),
        "pruned {leased_cluster} within its lease"
    );
    assert!(
        expired_left.is_empty(),
        "{expiring_cluster} survived past its lease"
    );
    assert_eq!(
        leased_left.len(),
        1,
        "{leased_cluster} was removed within its lease"
    );
}

#[test]
fn sigint_to_a_test_process_removes_its_clusters_before_it_exits() {
    // No watchdog: only the process itself can remove the cluster.
    let (child, cluster) = hold_cluster(false);
    // SAFETY: a plain system call on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let left = containers_of(&cluster);
    let _ = footloose::runtime::block_on(footloose::delete(&require_docker(), &cluster));
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert!(left.is_empty(), "{cluster} outlived its process: {left:?}");
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

#[test]
fn test_clusters_naming_one_network_each_get_their_own() {
    require_docker();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/backplane.yaml");
    let seen: Vec<(String, String, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let guard = footloose::ClusterBuilder::from_file(config)
                        .unwrap()
                        .unique_name()
                        .start()
                        .unwrap();
                    let node1 = guard.machine("node1").ip().unwrap().to_string();
                    let out = guard
                        .machine("node0")
                        .exec("getent ahostsv4 node1 | cut -d' ' -f1 | sort -u")
                        .unwrap();
                    let answers = out.stdout().lines().map(str::to_owned).collect();
                    (guard.name().to_owned(), node1, answers)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (cluster, node1, answers) in &seen {
        assert_eq!(
            answers,
            &vec![node1.clone()],
            "node1 in {cluster} resolved to another cluster's machine too"
        );
    }
    let engine = require_docker();
    for (cluster, _, _) in &seen {
        // A test cluster's own copy of a named network: `<cluster>-<name>`.
        let own = format!("{cluster}-backplane");
        let named = footloose::runtime::block_on(engine.networks_named(&own)).unwrap();
        let labelled = footloose::runtime::block_on(engine.leftovers(Some(cluster))).unwrap();
        assert!(
            named.is_empty() && labelled.is_empty(),
            "{cluster} left {named:?} {labelled:?}"
        );
    }
}

/// One janitor sweep with this process's settings.
async fn sweep(engine: &footloose::engine::Engine) -> std::collections::BTreeSet<String> {
    let settings = footloose::Settings::from_env();
    footloose::testing::janitor::sweep(engine, &settings)
        .await
        .unwrap()
}
