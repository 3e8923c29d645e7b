//! Takes a cluster of the config file `argv[1]` as a test with `pool =
//! argv[2]` would, runs its first command, and prints one line:
//! `CLUSTER MILLISECONDS`, then one line per machine (`HOSTNAME
//! NEIGHBOUR-ADDRESS`: its own hostname, and the address its neighbour's
//! name resolves to in it). Then waits: `kill` on standard input makes it
//! SIGKILL itself (its watchdog then removes the cluster); end of input
//! removes the cluster as a test's end does.

use std::io::{BufRead, Write};
use std::time::Instant;

footloose::test_hooks!();

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::absolute(&args[1]).expect("a config path");
    let size: usize = args[2].parse().expect("a pool size");
    let started = Instant::now();
    let guard = footloose::ClusterBuilder::from_file(&path)
        .expect("cannot read the config")
        .unique_name()
        .pool(size)
        .start()
        .expect("cannot take a cluster");
    guard.machines()[0]
        .exec("true")
        .expect("the first command fails");
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} {}", guard.name(), started.elapsed().as_millis()).unwrap();
    let hostnames: Vec<String> = guard
        .machines()
        .iter()
        .map(|m| m.hostname().to_owned())
        .collect();
    for (i, machine) in guard.machines().iter().enumerate() {
        let neighbour = &hostnames[(i + 1) % hostnames.len()];
        let said = machine
            .exec(&format!(
                "echo $(hostname) $(getent hosts {neighbour} | cut -d' ' -f1)"
            ))
            .expect("cannot ask the machine");
        writeln!(out, "{}", said.stdout().trim()).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    for line in std::io::stdin().lock().lines() {
        if line.is_ok_and(|l| l.trim() == "kill") {
            // SAFETY: a plain system call; no destructor may run, as in a crash.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
    }
    drop(guard);
}
