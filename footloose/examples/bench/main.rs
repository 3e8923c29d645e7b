//! footloose against the raw engine, side by side, in one run.
//!
//! ```console
//! cargo build --release -p footloose --features cli   # the CLI, for the `footloose ssh` figures
//! cargo run --release -p footloose --features cli --example bench [-- --rounds N --exec-count N --copy-mb N --only create,ssh]
//! cargo run --release -p footloose --features cli --example bench -- --rounds 3 --only incus
//! cargo run --release -p footloose --features cli --example bench -- --rounds 1 --only pool [--pool-samples 20 --suite-tests 40]
//! ```
//!
//! Each figure alternates footloose and a baseline (the `docker` CLI plus
//! OpenSSH, as the fastest shell script does it: `baseline.sh` starts every
//! machine at once) for several rounds and prints
//! `name  footloose  baseline  ratio` with the median, and min..max. The
//! machines are shared with other work, so read the ratios: absolute times
//! drift, ratios hold. Everything made is labelled and removed; the run
//! ends by checking the engine for leftovers.
//!
//! `incus` (run when named, or when an Incus daemon answers the `incus`
//! CLI) makes 10 machines on Incus with footloose (`FOOTLOOSE_BACKEND=incus`)
//! and with `baseline-incus.sh` (parallel `incus create`, `incus file push`,
//! `incus start`, ssh polled through a proxy device), and the same 10 on
//! Docker with footloose and `baseline.sh`, in the same rounds.
//!
//! `pool` measures warm pools: the latency a test process sees to its first
//! `exec` (warm pool, cold pool, no pool; each sample a fresh process, this
//! executable run again with `--one-test`), and a suite of 40 one-machine
//! tests under `cargo nextest run -j 2` and `-j 4` with and without pools,
//! against `baseline-suite.sh` (the same 40 machines with `docker run`,
//! `ssh` and `docker rm -f`, run 2 resp. 4 at a time by `xargs -P`).

mod baseline;
mod cpu;
mod pool;
mod report;
mod scenarios;

use std::time::Duration;

use report::Report;

// The `test` figures run tests as the attribute does, and the `pool`
// figures run this executable as a test process: the binary needs the hooks
// its tests would have (the watchdog, the removals at exit, the pool's
// refiller).
footloose::test_hooks!();

/// How much to measure.
pub struct Settings {
    pub rounds: usize,
    pub exec_count: usize,
    pub copy_mb: usize,
    /// Fresh processes per pool variant for the `pool` latency figures.
    pub pool_samples: usize,
    /// Tests in the `pool` figures' suite.
    pub suite_tests: usize,
    /// Only these scenarios (`create`, `ssh`, `exec`, `copy`, `test`,
    /// `pool`, `incus`); all when empty (`incus` where Incus answers).
    pub only: Vec<String>,
}

impl Settings {
    fn runs(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }
}

fn settings() -> Settings {
    let mut settings = Settings {
        rounds: 3,
        exec_count: 500,
        copy_mb: 100,
        pool_samples: 20,
        suite_tests: 40,
        only: Vec::new(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse().ok());
        if pair[0] == "--only" && pair.len() == 2 {
            settings.only = pair[1].split(',').map(str::to_owned).collect();
            continue;
        }
        match (pair[0].as_str(), value) {
            ("--rounds", Some(v)) => settings.rounds = v,
            ("--exec-count", Some(v)) => settings.exec_count = v,
            ("--copy-mb", Some(v)) => settings.copy_mb = v,
            ("--pool-samples", Some(v)) => settings.pool_samples = v,
            ("--suite-tests", Some(v)) => settings.suite_tests = v,
            _ => {
                eprintln!("usage: bench [--rounds N] [--exec-count N] [--copy-mb N] [--pool-samples N] [--suite-tests N] [--only create,ssh,exec,copy,test,pool,pool-latency,pool-suite,incus]");
                std::process::exit(2);
            }
        }
    }
    settings
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(pool::ONE_TEST) {
        pool::one_test(&args[2..]);
        return;
    }
    let settings = settings();
    let work = scenarios::Workspace::new();
    let mut report = Report::default();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        report.header();
        if settings.runs("create") {
            scenarios::create_and_delete(&work, &settings, &mut report);
        }
        if settings.runs("ssh") {
            scenarios::cli_ssh(&work, &settings, &mut report);
        }
        if settings.runs("exec") {
            scenarios::exec_round_trip(&work, &settings, &mut report);
        }
        if settings.runs("copy") {
            scenarios::copy(&work, &settings, &mut report);
        }
        if settings.runs("test") {
            scenarios::per_test_overhead(&work, &settings, &mut report);
        }
        if settings.runs("pool") || settings.runs("pool-latency") {
            pool::latency(&work, &settings, &mut report);
        }
        if settings.runs("pool") || settings.runs("pool-suite") {
            pool::suite(&work, &settings, &mut report);
        }
        if settings.only.iter().any(|s| s == "incus") {
            scenarios::incus_against_docker(&work, &settings, &mut report);
        } else if settings.only.is_empty() {
            if baseline::incus_instances().is_some() {
                scenarios::incus_against_docker(&work, &settings, &mut report);
            } else {
                println!("incus: skipped, no Incus daemon answers the incus CLI");
            }
        }
    }));
    work.remove_everything();
    std::thread::sleep(Duration::from_millis(500));
    let left = work.leftovers();
    let left_on_incus = work.incus_leftovers();
    let left_in_pools = work.pool_leftovers();
    println!();
    report.print_targets();
    println!("leftover containers labelled by this bench: {left}");
    println!("leftover Incus instances named bench-*: {left_on_incus}");
    println!("leftover clusters and refillers of this bench's pools: {left_in_pools}");
    if outcome.is_err() || left != 0 || left_on_incus != 0 || left_in_pools != 0 {
        std::process::exit(1);
    }
}
