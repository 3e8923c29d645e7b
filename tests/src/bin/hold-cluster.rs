//! Creates a one-machine test cluster, prints its name, and waits. The
//! cleanup tests end it with a signal from outside, or by writing `kill`
//! on its standard input, which makes it SIGKILL itself (for when it runs
//! in another pid namespace, where the test cannot name its pid).

use std::io::BufRead;

// Test clusters made here get the cleanup watchdog: the binary has the
// hooks a `#[footloose::cluster]` test binary has.
footloose::test_hooks!();

fn main() {
    let config = footloose::Config::with_replicas("held", "footloose/debian12", 1);
    let guard = footloose::Cluster::builder(config)
        .unique_name()
        .private_key(std::env::temp_dir().join("footloose-tests-key"))
        .start()
        .expect("cannot create the cluster");
    println!("{}", guard.name());
    for line in std::io::stdin().lock().lines() {
        if line.is_ok_and(|l| l.trim() == "kill") {
            // SAFETY: a plain system call; no destructor may run, as in a crash.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
    }
    std::thread::sleep(std::time::Duration::from_secs(600));
}
