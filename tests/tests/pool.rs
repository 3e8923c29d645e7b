//! Warm pools on a real engine: processes taking from one pool never share
//! a cluster, and what they take is their test's (hostnames, network,
//! neighbours by name, key); refillers and takers killed mid-way, `pool
//! drain` and `prune --expired` leave nothing behind.
//!
//! Each test copies `pool.yaml` into a directory of its own, which gives
//! it a pool of its own (the directory is part of the pool key): the tests
//! run at once without taking each other's clusters.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use footloose::pool::{PoolState, PooledCluster};
use footloose::{Cluster, ClusterBuilder};
use footloose_tests::{footloose_bin, require_docker, wait_until_gone, workspace};

/// `pool.yaml` in a directory of its own; the directory goes with the value.
struct Pool {
    dir: tempfile::TempDir,
}

impl Pool {
    fn new() -> Pool {
        require_docker();
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            workspace().join("tests/pool.yaml"),
            dir.path().join("pool.yaml"),
        )
        .unwrap();
        Pool { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("pool.yaml")
    }

    /// The builder a test of this config makes (as `pool-claim` does).
    fn builder(&self) -> ClusterBuilder {
        ClusterBuilder::from_file(self.config())
            .unwrap()
            .unique_name()
    }

    fn fill(&self, size: usize) -> String {
        let filled = footloose::runtime::block_on(footloose::pool::fill(&self.builder(), size))
            .unwrap_or_else(|e| panic!("cannot fill the pool: {e:?}"));
        assert_eq!(filled.ready, size, "{filled:?}");
        filled.key
    }

    fn key(&self) -> String {
        footloose::runtime::block_on(footloose::pool::key(&self.builder()))
            .unwrap()
            .expect("the image is there")
    }
}

/// What the engine holds of this pool: its clusters and refiller lock.
fn held(key: &str) -> (Vec<PooledCluster>, Vec<String>) {
    let engine = require_docker();
    let pooled: Vec<PooledCluster> = footloose::runtime::block_on(footloose::pool::list(&engine))
        .unwrap()
        .into_iter()
        .filter(|p| p.key == key)
        .collect();
    let lock = format!("pool-{key}-refiller");
    let left = footloose::runtime::block_on(engine.leftovers(Some(&lock))).unwrap();
    (pooled, left.volumes)
}

/// Drains the pool, stopping its refiller, and waits until the engine
/// holds nothing of it; panics with what is left after `seconds`.
fn drain_and_wait(key: &str, seconds: u64) {
    let engine = require_docker();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        footloose::runtime::block_on(footloose::pool::drain(&engine, Some(key))).unwrap();
        let (pooled, lock) = held(key);
        if pooled.is_empty() && lock.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "left of pool {key}: {pooled:?} {lock:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Waits until the engine holds nothing of the pool `key`; panics with
/// what `by` left after `seconds`, or at once when what is left is not
/// something `may_wait` lets go on (a cluster being removed, say).
fn wait_until_pool_gone(
    key: &str,
    seconds: u64,
    by: &str,
    may_wait: impl Fn(&[PooledCluster]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let (pooled, lock) = held(key);
        if pooled.is_empty() && lock.is_empty() {
            return;
        }
        assert!(
            may_wait(&pooled) && Instant::now() < deadline,
            "{by} left {pooled:?} {lock:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Runs the `footloose` binary with `args` and `env`; panics with its
/// output unless it succeeds.
fn footloose(args: &[&str], env: &[(&str, &str)]) {
    let out = Command::new(footloose_bin(env!("CARGO_BIN_EXE_pool-claim")))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "footloose {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `pool-claim` process: its cluster, and what its machines said.
struct Taker {
    child: Child,
    cluster: String,
    said: Vec<String>,
}

fn take(config: &Path, size: usize) -> Taker {
    taken(start_taking(config, size))
}

/// Starts a `pool-claim` process. Its refiller boots at once: paced (the
/// default), it would wait for an idle core, which a busy test run may
/// not leave it for minutes (the pacing has tests of its own, in the
/// library's `pool::tests`).
fn start_taking(config: &Path, size: usize) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pool-claim"))
        .arg(config)
        .arg(size.to_string())
        .env("FOOTLOOSE_POOL_PACE", "eager")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot run pool-claim")
}

/// What the `pool-claim` process `child` took, once it says.
fn taken(mut child: Child) -> Taker {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let next = |lines: &mut std::io::Lines<BufReader<ChildStdout>>| {
        lines.next().and_then(Result::ok).unwrap_or_default()
    };
    let first = next(&mut lines);
    let cluster = first
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(!cluster.is_empty(), "pool-claim took no cluster");
    let said = vec![next(&mut lines), next(&mut lines)];
    Taker {
        child,
        cluster,
        said,
    }
}

impl Taker {
    /// Ends it as a test ends: its cluster is removed.
    fn finish(mut self) {
        drop(self.child.stdin.take());
        assert!(self.child.wait().unwrap().success());
    }

    /// SIGKILLs it: no destructor runs.
    fn kill(mut self) {
        writeln!(self.child.stdin.as_mut().unwrap(), "kill").unwrap();
        let _ = self.child.wait();
    }
}

#[test]
fn processes_taking_from_one_pool_never_share_and_get_their_tests_machines() {
    let pool = Pool::new();
    let key = pool.fill(2);
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(|| take(&pool.config(), 2));
        let b = s.spawn(|| take(&pool.config(), 2));
        (a.join().unwrap(), b.join().unwrap())
    });
    let names = [first.cluster.clone(), second.cluster.clone()];
    assert_ne!(names[0], names[1], "two processes took one cluster");
    let prefix = format!("pool-{}", &key[..8]);
    assert!(
        names.iter().all(|n| n.starts_with(&prefix)),
        "both should come from the warm pool {key}: {names:?}"
    );
    for taker in [&first, &second] {
        let hosts: Vec<&str> = taker
            .said
            .iter()
            .map(|line| line.split_whitespace().next().unwrap_or_default())
            .collect();
        assert_eq!(
            hosts,
            ["node0", "node1"],
            "{}: {:?}",
            taker.cluster,
            taker.said
        );
        for line in &taker.said {
            let address = line.split_whitespace().nth(1).unwrap_or_default();
            assert!(
                address.parse::<std::net::IpAddr>().is_ok(),
                "{}: a neighbour does not resolve by name: {line:?}",
                taker.cluster
            );
        }
    }
    first.finish();
    second.finish();
    for name in &names {
        assert!(wait_until_gone(name, 30), "{name} outlived its test");
    }
    drain_and_wait(&key, 90);
}

#[test]
fn a_killed_taker_leaves_its_cluster_to_its_watchdog() {
    let pool = Pool::new();
    let key = pool.fill(1);
    let taker = take(&pool.config(), 1);
    let cluster = taker.cluster.clone();
    assert!(
        cluster.starts_with(&format!("pool-{}", &key[..8])),
        "{cluster}"
    );
    taker.kill();
    assert!(
        wait_until_gone(&cluster, 60),
        "the killed taker's watchdog did not remove {cluster}"
    );
    drain_and_wait(&key, 90);
}

#[test]
fn a_refiller_killed_mid_boot_leaves_nothing() {
    let pool = Pool::new();
    let key = pool.key();
    // An empty pool: the taker boots its own cluster, and starts a
    // refiller for the pool.
    let taker = start_taking(&pool.config(), 2);
    let engine = require_docker();
    let deadline = Instant::now() + Duration::from_secs(60);
    let refiller = loop {
        let (pooled, _) = held(&key);
        let booting = pooled.iter().any(|p| p.state == PoolState::Booting);
        let pid = footloose::runtime::block_on(footloose::pool::refillers(&engine))
            .unwrap()
            .into_iter()
            .find(|r| r.key == key)
            .map(|r| r.pid as i32);
        if let (true, Some(pid)) = (booting, pid) {
            break pid;
        }
        assert!(Instant::now() < deadline, "no refiller booted for {key}");
        std::thread::sleep(Duration::from_millis(50));
    };
    // SAFETY: a plain system call on a process this test's taker started.
    assert_eq!(unsafe { libc::kill(refiller, libc::SIGKILL) }, 0);
    taken(taker).finish();
    wait_until_pool_gone(&key, 90, "the killed refiller", |_| true);
}

#[test]
fn pool_drain_and_prune_expired_leave_nothing() {
    let pool = Pool::new();
    let key = pool.fill(1);
    footloose(&["pool", "drain", &key], &[]);
    let (pooled, lock) = held(&key);
    assert!(pooled.is_empty() && lock.is_empty(), "{pooled:?} {lock:?}");
    // A pool whose lease has run out: `prune --expired` removes it.
    let config = pool.config();
    let config = config.to_str().unwrap();
    footloose(
        &["-c", config, "pool", "fill", "--size", "1"],
        &[("FOOTLOOSE_POOL_LEASE", "1s")],
    );
    assert_eq!(held(&key).0.len(), 1);
    std::thread::sleep(Duration::from_secs(2));
    footloose(&["prune", "--expired"], &[]);
    // Gone, or being removed: a janitor of a test starting in parallel
    // (each runs one) may have claimed the expired cluster first, and
    // `prune` rightly leaves a claimed cluster to its claimer.
    wait_until_pool_gone(&key, 60, "prune --expired", |pooled| {
        pooled.iter().all(|p| p.state == PoolState::Claimed)
    });
}

/// Run alone by [`an_attribute_test_takes_what_pool_fill_warmed`], in a
/// process of its own, as `cargo nextest` runs a test.
#[footloose::cluster("pool.yaml", pool = 1)]
#[ignore = "run by an_attribute_test_takes_what_pool_fill_warmed"]
fn attribute_taker(cluster: &Cluster) {
    let hostname = cluster.machine("node1").exec("hostname").unwrap();
    println!("TAKEN {} {}", cluster.name(), hostname.stdout().trim());
}

#[test]
fn an_attribute_test_takes_what_pool_fill_warmed() {
    // `pool.yaml` where the attribute names it: its own pool, which only
    // this test and the CLI below fill.
    let config = workspace().join("tests/pool.yaml");
    footloose(
        &[
            "-c",
            config.to_str().unwrap(),
            "pool",
            "fill",
            "--size",
            "1",
        ],
        &[],
    );
    let builder = ClusterBuilder::from_file(&config).unwrap().unique_name();
    let key = footloose::runtime::block_on(footloose::pool::key(&builder))
        .unwrap()
        .unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "attribute_taker", "--nocapture"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let taken = stdout
        .lines()
        .find_map(|l| l.strip_prefix("TAKEN "))
        .unwrap_or_else(|| panic!("the attribute test said nothing: {stdout}"));
    assert!(
        taken.starts_with(&format!("pool-{}", &key[..8])) && taken.ends_with(" node1"),
        "the attribute test did not take the warmed cluster of pool {key}: {taken}"
    );
    drain_and_wait(&key, 90);
}
