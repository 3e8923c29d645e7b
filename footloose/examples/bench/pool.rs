//! Warm pools: what a test process waits for before its first command, and
//! what a suite of short tests takes, with a warm pool, a cold one and
//! none, side by side.
//!
//! Every sample is a fresh process, as `cargo nextest` runs each test: the
//! latency figures run this executable again in its "one test" mode
//! ([`ONE_TEST`]), the suite figures run a generated crate of cluster tests
//! under `cargo nextest run`. Each pool variant has a config in a
//! directory of its own (the directory is part of the pool key), so pools
//! never mix; every pool made is drained at the end, and its refillers
//! waited for.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use footloose::engine::Engine;
use footloose::pool::PoolState;
use footloose::ClusterBuilder;

use crate::baseline;
use crate::cpu;
use crate::report::{Report, Samples, Target};
use crate::scenarios::{footloose_cli, timed, Workspace};
use crate::Settings;

/// The first argument that makes this executable one test process.
pub const ONE_TEST: &str = "--one-test";

/// The pool size of the latency figures. Samples run one at a time, so
/// any size of one or more serves a warm sample; the cold variant shows
/// how soon a pool of this size fills behind tests that come one after
/// another.
const LATENCY_POOL: usize = 4;

/// How long a pool may take to fill, or to be gone once drained.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(180);

/// One test process, as `cargo nextest` runs a cluster test: takes a
/// cluster of the config `args[0]` with a pool of `args[1]` (0: none), as
/// a test with the attribute's `pool = N` does, runs `true` on `node0`,
/// prints `CLUSTER TAKE-MS EXEC-MS` (from `main`'s start), and removes the
/// cluster as a test's end does.
pub fn one_test(args: &[String]) {
    let started = Instant::now();
    let [config, size] = args else {
        eprintln!("usage: bench {ONE_TEST} CONFIG POOL-SIZE");
        std::process::exit(2);
    };
    let size: usize = size.parse().expect("a pool size");
    let guard = ClusterBuilder::from_file(config)
        .expect("cannot read the config")
        .unique_name()
        .pool(size)
        .start()
        .expect("cannot take a cluster");
    let taken = started.elapsed();
    let out = guard
        .machine("node0")
        .exec("true")
        .expect("the first command fails");
    let done = started.elapsed();
    assert!(out.success(), "true failed: {}", out.stderr());
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{} {:.3} {:.3}",
        guard.name(),
        ms(taken),
        ms(done - taken)
    )
    .unwrap();
    stdout.flush().unwrap();
    drop(stdout);
    drop(guard);
}

/// A config of one machine (`footloose/debian12`, port 22 published) in a
/// directory of its own under the workspace, for one pool variant.
struct Variant {
    config: PathBuf,
    /// The pool size its tests ask for (0: none).
    size: usize,
}

impl Variant {
    fn new(work: &Workspace, what: &str, size: usize) -> Variant {
        let dir = work.dir().join(format!("pool-{what}"));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("footloose.yaml");
        std::fs::write(
            &config,
            one_machine_config(&format!("bench-pool-{what}"), &work.key()),
        )
        .unwrap();
        Variant { config, size }
    }

    /// The builder its tests use (as [`one_test`] makes it).
    fn builder(&self) -> ClusterBuilder {
        ClusterBuilder::from_file(&self.config)
            .unwrap()
            .unique_name()
    }

    /// Its pool key, remembered for the final drain.
    fn key(&self, work: &Workspace) -> String {
        let key = footloose::runtime::block_on(footloose::pool::key(&self.builder()))
            .unwrap()
            .expect("footloose/debian12 is there");
        work.remember_pool(&key);
        key
    }

    /// One fresh test process of this variant, timed from its spawn.
    fn sample(&self) -> Sample {
        let started = Instant::now();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg(ONE_TEST)
            .arg(&self.config)
            .arg(self.size.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cannot run this bench as a test process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let total = started.elapsed();
        let status = child.wait().unwrap();
        assert!(status.success(), "the test process failed: {status}");
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [cluster, take, exec] = fields[..] else {
            panic!("the test process said {line:?}");
        };
        Sample {
            total: total.as_secs_f64() * 1000.0,
            take: take.parse().unwrap(),
            exec: exec.parse().unwrap(),
            pooled: cluster.starts_with("pool-"),
        }
    }
}

/// The YAML of a one-machine cluster `name` with the key `key`.
fn one_machine_config(name: &str, key: &Path) -> String {
    format!(
        "cluster:\n  name: {name}\n  privateKey: {}\nmachines:\n- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n    portMappings:\n    - containerPort: 22\n",
        key.display()
    )
}

/// What one test process took, in ms.
struct Sample {
    /// From its spawn to its first `exec` returning, as its parent saw it.
    total: f64,
    /// From `main` to the cluster in hand.
    take: f64,
    /// The first `exec("true")`.
    exec: f64,
    /// Whether the cluster came from the pool.
    pooled: bool,
}

/// The samples of one variant.
#[derive(Default)]
struct Latency {
    total: Samples,
    /// Before `main`: exec of the binary, its hooks, the pipe.
    startup: Samples,
    take: Samples,
    exec: Samples,
    pooled: usize,
}

impl Latency {
    fn push(&mut self, s: Sample) {
        self.total.0.push(s.total);
        self.startup.0.push((s.total - s.take - s.exec).max(0.0));
        self.take.0.push(s.take);
        self.exec.0.push(s.exec);
        self.pooled += usize::from(s.pooled);
    }
}

/// Latency to the first `exec` of a fresh test process: warm pool (filled
/// with `footloose::pool::fill`, and full again before every sample), cold
/// pool (empty at the start, samples back to back: the first miss and
/// boot, later ones may take what the refiller made meanwhile), no pool.
/// Warm and no-pool samples alternate, each on a quiet host (the warm
/// pool's refill of the previous sample done).
pub fn latency(work: &Workspace, settings: &Settings, report: &mut Report) {
    let warm = Variant::new(work, "warm", LATENCY_POOL);
    let cold = Variant::new(work, "cold", LATENCY_POOL);
    let none = Variant::new(work, "none", 0);
    // Warm-up: page cache, the key, the binary.
    none.sample();

    let warm_key = warm.key(work);
    let (filled, fill_took) = timed(|| {
        footloose::runtime::block_on(footloose::pool::fill(&warm.builder(), LATENCY_POOL))
            .expect("cannot fill the pool")
    });
    assert_eq!(filled.ready, LATENCY_POOL, "{filled:?}");
    let (mut warm_samples, mut none_samples) = (Latency::default(), Latency::default());
    for i in 0..settings.pool_samples {
        for turn in 0..2 {
            wait_until_full(&work.engine, &warm_key, LATENCY_POOL);
            if (i + turn) % 2 == 0 {
                warm_samples.push(warm.sample());
            } else {
                none_samples.push(none.sample());
            }
        }
    }
    wait_until_full(&work.engine, &warm_key, LATENCY_POOL);

    let cold_key = cold.key(work);
    let mut cold_samples = Latency::default();
    for _ in 0..settings.pool_samples {
        cold_samples.push(cold.sample());
    }
    drain_and_wait(&work.engine, &[warm_key, cold_key]);

    latency_rows(report, &warm_samples, &cold_samples, &none_samples);
    println!(
        "   pool fill {LATENCY_POOL} (footloose::pool::fill): {:.0} ms; taken from the pool: warm {}/{}, cold {}/{}",
        fill_took.as_secs_f64() * 1000.0,
        warm_samples.pooled,
        warm_samples.total.0.len(),
        cold_samples.pooled,
        cold_samples.total.0.len(),
    );
}

/// The latency figures: each pool variant against no pool, then where a
/// warm sample's time goes.
fn latency_rows(report: &mut Report, warm: &Latency, cold: &Latency, none: &Latency) {
    println!(
        "-- pool: a fresh test process to its first exec (left: pool of {LATENCY_POOL}, right: no pool)"
    );
    report.value_row(
        "first exec p50, warm pool",
        "ms",
        warm.total.median(),
        none.total.median(),
        Some(Target::ValueAtMost(100.0)),
    );
    report.value_row(
        "first exec p99, warm pool",
        "ms",
        warm.total.percentile(99.0),
        none.total.percentile(99.0),
        None,
    );
    report.value_row(
        "first exec p50, cold pool",
        "ms",
        cold.total.median(),
        none.total.median(),
        None,
    );
    report.value_row(
        "first exec p99, cold pool",
        "ms",
        cold.total.percentile(99.0),
        none.total.percentile(99.0),
        None,
    );
    report.value_row(
        "  start-up p50, warm",
        "ms",
        warm.startup.median(),
        none.startup.median(),
        None,
    );
    report.value_row(
        "  take p50, warm",
        "ms",
        warm.take.median(),
        none.take.median(),
        None,
    );
    report.value_row(
        "  first exec p50, warm",
        "ms",
        warm.exec.median(),
        none.exec.median(),
        None,
    );
}

/// The pool size of the suite: every test of it, as a CI job warms it
/// (`footloose pool fill --size N` while the tests compile). A smaller
/// pool runs out within the suite, and its refills then wait for idle
/// cores that a suite of quick tests does not leave (see
/// `footloose::pool`'s pace): from there on the tests boot their own.
fn suite_pool_size(tests: usize) -> usize {
    tests
}

/// How many inotify instances a machine's systemd, D-Bus and logind hold
/// (measured on `footloose/debian12`: 3 to 5).
const INOTIFY_PER_MACHINE: usize = 5;

/// Why this host cannot run `machines` at once: Linux's per-user inotify
/// limit (128 by default, about 30 machines), which the pool suite's
/// warm pool plus its running tests exceed.
fn inotify_shortage(machines: usize) -> Option<String> {
    let limit: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_user_instances")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    // What the host's own daemons hold besides.
    let needed = machines * INOTIFY_PER_MACHINE + 64;
    (limit < needed).then(|| {
        format!(
            "{machines} machines at once need about {needed} inotify instances, and fs.inotify.max_user_instances is {limit}: run `sysctl -w fs.inotify.max_user_instances=8192` first"
        )
    })
}

/// A suite of one-machine tests under `cargo nextest run -j 2` and `-j 4`:
/// wall time and CPU-seconds per test with a warm pool (`footloose pool
/// fill` first, timed apart), with `FOOTLOOSE_POOL=N` and no warm-up, and
/// with no pool (`FOOTLOOSE_POOL=0`), against `baseline-suite.sh`. The
/// variants take turns, each round starting one further; every pool is
/// drained, and its refiller gone, before the next variant.
pub fn suite(work: &Workspace, settings: &Settings, report: &mut Report) {
    let Some(cli) = footloose_cli() else {
        println!(
            "pool suite: skipped, build the CLI first (cargo build --release -p footloose --features cli)"
        );
        return;
    };
    let tests = settings.suite_tests;
    let size = suite_pool_size(tests);
    // The pool, the tests of -j 4 and the refiller's boots (one per core).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    if let Some(shortage) = inotify_shortage(size + 4 + cores) {
        println!("pool suite: SKIPPED: {shortage}");
        return;
    }
    let suite = Suite::new(work, tests);
    let key = suite.key(work);
    for jobs in [2, 4] {
        let mut runs: [Run; 4] = Default::default();
        let mut fill = Run::default();
        for round in 0..settings.rounds {
            for turn in 0..4 {
                let variant = (round + turn) % 4;
                let run = &mut runs[variant];
                match variant {
                    0 => {
                        fill.push(timed_cpu(|| suite.fill(&cli, size)), size);
                        run.push(timed_cpu(|| suite.run(jobs, size)), tests);
                    }
                    1 => run.push(timed_cpu(|| suite.run(jobs, size)), tests),
                    2 => run.push(timed_cpu(|| suite.run(jobs, 0)), tests),
                    _ => {
                        let name = work.name("suite-base");
                        let facts = work.engine.facts();
                        run.push(
                            timed_cpu(|| baseline::suite(&name, tests, jobs, &work.keys, facts)),
                            tests,
                        );
                    }
                }
                drain_and_wait(&work.engine, std::slice::from_ref(&key));
            }
        }
        suite_rows(report, tests, jobs, size, &runs, &fill);
    }
}

/// Wall times and CPU-seconds per machine of one variant's runs.
#[derive(Default)]
struct Run {
    wall: Samples,
    cpu: Samples,
}

impl Run {
    fn push(&mut self, (took, cpu): (Duration, f64), machines: usize) {
        self.wall.push_duration(took);
        self.cpu.0.push(cpu / machines as f64);
    }
}

/// `work` timed, with the host's busy CPU-seconds meanwhile (`/proc/stat`).
fn timed_cpu(work: impl FnOnce()) -> (Duration, f64) {
    let before = cpu::Snapshot::now();
    let ((), took) = timed(work);
    let after = cpu::Snapshot::now();
    let split = cpu::Split::between(before, after, 0.0, false, cpu::Daemons::Docker);
    (took, split.total)
}

/// The suite figures of `-j jobs`: each pool variant against no pool, then
/// each footloose variant against the script.
fn suite_rows(
    report: &mut Report,
    tests: usize,
    jobs: usize,
    size: usize,
    runs: &[Run; 4],
    fill: &Run,
) {
    let [warm, cold, none, script] = runs;
    println!(
        "-- pool: {tests} one-machine tests, nextest -j {jobs}, pool of {size} (left: pool, right: no pool)"
    );
    report.row(
        &format!("suite -j{jobs}, warm pool"),
        "ms",
        &warm.wall,
        &none.wall,
        Some(Target::RatioAtMost(0.5)),
    );
    // No goal for the cold pool: without a warm-up every test's cluster
    // is still booted during the run, and the boots are the suite's work.
    report.row(
        &format!("suite -j{jobs}, cold pool"),
        "ms",
        &cold.wall,
        &none.wall,
        None,
    );
    report.row(
        &format!("  CPU/test -j{jobs}, warm"),
        "cpu-s",
        &warm.cpu,
        &none.cpu,
        None,
    );
    report.row(
        &format!("  CPU/test -j{jobs}, cold"),
        "cpu-s",
        &cold.cpu,
        &none.cpu,
        None,
    );
    println!(
        "   before the warm runs: footloose pool fill --size {size}: {:.0} ms (min..max {:.0}..{:.0}), {:.3} cpu-s per machine",
        fill.wall.median(),
        fill.wall.min(),
        fill.wall.max(),
        fill.cpu.median(),
    );
    println!("-- the same suite (left: footloose, right: baseline-suite.sh, xargs -P {jobs})");
    for (what, run) in [("warm pool", warm), ("cold pool", cold), ("no pool", none)] {
        report.row(
            &format!("suite -j{jobs}, {what}"),
            "ms",
            &run.wall,
            &script.wall,
            None,
        );
    }
    for (what, run) in [("warm", warm), ("cold", cold), ("none", none)] {
        report.row(
            &format!("  CPU/test -j{jobs}, {what}"),
            "cpu-s",
            &run.cpu,
            &script.cpu,
            None,
        );
    }
}

/// The generated crate of cluster tests, built once into a target
/// directory of its own under the bench's (so later runs reuse the build
/// of footloose and its dependencies).
struct Suite {
    dir: PathBuf,
    target: PathBuf,
}

impl Suite {
    /// Writes the crate (`tests` tests, each a fresh cluster of
    /// `cluster.yaml` and `exec("true")`) and builds it.
    fn new(work: &Workspace, tests: usize) -> Suite {
        let dir = work.dir().join("pool-suite");
        std::fs::create_dir_all(dir.join("tests")).unwrap();
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), suite_manifest()).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "").unwrap();
        std::fs::write(dir.join("tests/suite.rs"), suite_tests(tests)).unwrap();
        std::fs::write(
            dir.join("cluster.yaml"),
            one_machine_config("bench-suite", &work.key()),
        )
        .unwrap();
        // The workspace's lock file: the same versions, no resolution.
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        let suite = Suite {
            dir,
            target: suite_target_dir(),
        };
        let (_, took) = timed(|| suite.build());
        println!(
            "   (the pool suite's crate built in {:.1} s, into {})",
            took.as_secs_f64(),
            suite.target.display()
        );
        suite
    }

    /// The key of the suite's pool, remembered for the final drain.
    fn key(&self, work: &Workspace) -> String {
        let builder = ClusterBuilder::from_file(self.dir.join("cluster.yaml"))
            .unwrap()
            .unique_name();
        let key = footloose::runtime::block_on(footloose::pool::key(&builder))
            .unwrap()
            .expect("footloose/debian12 is there");
        work.remember_pool(&key);
        key
    }

    fn cargo(&self, args: &[&str]) -> Command {
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
        command
            .args(args)
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target);
        command
    }

    /// Builds the tests (before anything is timed).
    fn build(&self) {
        baseline::run(&mut self.cargo(&["nextest", "run", "--no-run", "--cargo-quiet"]));
    }

    /// `cargo nextest run -j jobs` with `FOOTLOOSE_POOL=pool`.
    fn run(&self, jobs: usize, pool: usize) {
        baseline::run(
            self.cargo(&[
                "nextest",
                "run",
                "--cargo-quiet",
                "--no-fail-fast",
                "-j",
                &jobs.to_string(),
            ])
            .env("FOOTLOOSE_POOL", pool.to_string()),
        );
    }

    /// `footloose -c cluster.yaml pool fill --size size`.
    fn fill(&self, cli: &Path, size: usize) {
        baseline::run(
            Command::new(cli)
                .arg("-c")
                .arg(self.dir.join("cluster.yaml"))
                .args(["pool", "fill", "--size", &size.to_string()]),
        );
    }
}

/// The suite crate's manifest: footloose by path, the workspace's
/// debug-info settings (a test build as the workspace's own).
fn suite_manifest() -> String {
    format!(
        "[package]\nname = \"bench-pool-suite\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dev-dependencies]\nfootloose = {{ path = \"{}\" }}\n\n\
         [profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n\n\
         [workspace]\n",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `tests` cluster tests with a trivial body; their clusters are named
/// `bench-suite-tNN-…` (the final leftover check's `bench-`).
fn suite_tests(tests: usize) -> String {
    let mut text = String::from("use footloose::Cluster;\n");
    for i in 0..tests {
        text.push_str(&format!(
            "\n#[footloose::cluster(\"cluster.yaml\")]\nfn bench_suite_t{i:02}(cluster: &Cluster) {{\n    assert!(cluster.machine(\"node0\").exec(\"true\").unwrap().success());\n}}\n"
        ));
    }
    text
}

/// `pool-suite` in the bench's target directory (`target/`, above
/// `release/examples/bench`).
fn suite_target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .expect("the bench runs from target/PROFILE/examples")
        .join("pool-suite")
}

/// The pooled clusters of `key` in `state`, and whether a refiller works
/// on it.
fn pool_state(engine: &Engine, key: &str, state: PoolState) -> (usize, bool) {
    let pooled = footloose::runtime::block_on(footloose::pool::list(engine)).unwrap();
    let refillers = footloose::runtime::block_on(footloose::pool::refillers(engine)).unwrap();
    (
        pooled
            .iter()
            .filter(|p| p.key == key && p.state == state)
            .count(),
        refillers.iter().any(|r| r.key == key),
    )
}

/// Waits until the pool `key` has `size` ready clusters and no refiller.
fn wait_until_full(engine: &Engine, key: &str, size: usize) {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        let (ready, refilling) = pool_state(engine, key, PoolState::Ready);
        if ready >= size && !refilling {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the pool {key} has {ready} ready of {size} after {SETTLE_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Drains the pools `keys` and waits until nothing of them is left: no
/// pooled cluster, no refiller's lock, and no refiller process seen
/// holding one still running. A refiller whose lock is taken away
/// finishes the boot it is in and removes it, then may take the lock again
/// for another round (a test claimed meanwhile): hence the loop, and the
/// two quiet looks in a row it ends on. Says so and gives up after
/// [`SETTLE_TIMEOUT`].
pub fn drain_and_wait(engine: &Engine, keys: &[String]) {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut seen: HashSet<u32> = HashSet::new();
    let mut quiet = 0;
    while quiet < 2 {
        for key in keys {
            if let Err(e) = footloose::runtime::block_on(footloose::pool::drain(engine, Some(key)))
            {
                eprintln!("draining pool {key}: {e}");
            }
        }
        let refillers =
            footloose::runtime::block_on(footloose::pool::refillers(engine)).unwrap_or_default();
        seen.extend(
            refillers
                .iter()
                .filter(|r| keys.contains(&r.key))
                .map(|r| r.pid),
        );
        let running = seen
            .iter()
            .filter(|pid| Path::new(&format!("/proc/{pid}")).exists())
            .count();
        let left = leftovers(engine, keys);
        quiet = if left == 0 && running == 0 {
            quiet + 1
        } else {
            0
        };
        if Instant::now() > deadline {
            eprintln!(
                "pools {keys:?}: {left} left and {running} refiller(s) running after {SETTLE_TIMEOUT:?}"
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// What the engine holds of the pools `keys`: pooled clusters (ready,
/// booting or claimed), refillers' locks, and containers of clusters named
/// as these pools name theirs (`pool-KEY8-…`).
pub fn leftovers(engine: &Engine, keys: &[String]) -> usize {
    if keys.is_empty() {
        return 0;
    }
    let mine = |key: &str| keys.iter().any(|k| k == key);
    let pooled = footloose::runtime::block_on(footloose::pool::list(engine));
    let refillers = footloose::runtime::block_on(footloose::pool::refillers(engine));
    let machines = footloose::runtime::block_on(footloose::status(engine, None));
    let (Ok(pooled), Ok(refillers), Ok(machines)) = (pooled, refillers, machines) else {
        return usize::MAX;
    };
    let prefixes: Vec<String> = keys
        .iter()
        .map(|k| format!("pool-{}-", &k[..8.min(k.len())]))
        .collect();
    pooled.iter().filter(|p| mine(&p.key)).count()
        + refillers.iter().filter(|r| mine(&r.key)).count()
        + machines
            .iter()
            .filter(|m| prefixes.iter().any(|p| m.cluster().starts_with(p)))
            .count()
}
