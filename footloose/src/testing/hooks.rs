//! The test binary's start-up and exit hooks. The library installs none
//! itself, so that no program linking footloose (the CLI included) runs
//! code before `main` or at exit because of it: `#[footloose::cluster]`
//! installs them in the tests it makes, and `footloose::test_hooks!()` in
//! any other binary, through `footloose::__private`.
//!
//! Both hooks are idempotent: a binary with many cluster tests has many
//! copies, and the first does the work.

use std::sync::atomic::{AtomicBool, Ordering};

static STARTED: AtomicBool = AtomicBool::new(false);
static EXITED: AtomicBool = AtomicBool::new(false);

/// Before `main`: records that this binary has the hooks, and makes the
/// process the watchdog when it was started as one (never returning to
/// the program's `main` then).
pub fn on_start() {
    if STARTED.swap(true, Ordering::SeqCst) {
        return;
    }
    super::watchdog::at_start();
    crate::pool::refill::become_refiller_when_asked();
}

/// At exit: waits for the refillers being started and the background
/// removals of test clusters, and removes the process's shared clusters.
pub fn on_exit() {
    if EXITED.swap(true, Ordering::SeqCst) {
        return;
    }
    crate::pool::refill::wait_for_starts();
    super::reaper::wait_all();
    super::shared::remove_all();
}

/// Whether this binary's start-up hook ran (so that it starts watchdogs:
/// see [`super::watchdog`]).
pub fn installed() -> bool {
    super::watchdog::hooked()
}
