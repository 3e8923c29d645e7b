//! footloose against the raw engine, side by side, in one run.
//!
//! ```console
//! cargo run --release -p footloose --example bench [-- --rounds N --exec-count N --copy-mb N]
//! ```
//!
//! Each figure alternates footloose and a baseline (the `docker` CLI plus
//! OpenSSH, as a shell script would do it) for several rounds and prints
//! `name  footloose  baseline  ratio` with the median, and min..max. The
//! machines are shared with other work, so read the ratios: absolute times
//! drift, ratios hold. Everything made is labelled and removed; the run
//! ends by checking the engine for leftovers.

mod baseline;
mod report;
mod scenarios;

use std::time::Duration;

use report::Report;

/// How much to measure.
pub struct Settings {
    pub rounds: usize,
    pub exec_count: usize,
    pub copy_mb: usize,
}

fn settings() -> Settings {
    let mut settings = Settings {
        rounds: 3,
        exec_count: 500,
        copy_mb: 100,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse().ok());
        match (pair[0].as_str(), value) {
            ("--rounds", Some(v)) => settings.rounds = v,
            ("--exec-count", Some(v)) => settings.exec_count = v,
            ("--copy-mb", Some(v)) => settings.copy_mb = v,
            _ => {
                eprintln!("usage: bench [--rounds N] [--exec-count N] [--copy-mb N]");
                std::process::exit(2);
            }
        }
    }
    settings
}

fn main() {
    let settings = settings();
    let work = scenarios::Workspace::new();
    let mut report = Report::default();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scenarios::create_and_delete(&work, &settings, &mut report);
        scenarios::exec_round_trip(&work, &settings, &mut report);
        scenarios::copy(&work, &settings, &mut report);
        scenarios::per_test_overhead(&work, &settings, &mut report);
    }));
    work.remove_everything();
    std::thread::sleep(Duration::from_millis(500));
    let left = work.leftovers();
    println!();
    report.print_targets();
    println!("leftover containers labelled by this bench: {left}");
    if outcome.is_err() || left != 0 {
        std::process::exit(1);
    }
}
