//! Support for tests: what `#[footloose::cluster]` expands to, and the
//! safety nets that keep killed test processes from leaking machines.
//!
//! - Every test cluster is labelled with its owner process
//!   (its pid, pid namespace, host and boot) and `io.footloose.lifetime=test`.
//! - A [watchdog] process, started with the first test cluster, holds a
//!   pipe to its parent; when the pipe closes (the parent exited or was
//!   killed, even by SIGKILL) it removes the parent's clusters.
//! - Test clusters are removed by a [reaper] thread, so that teardown
//!   overlaps the next test; the process waits for it before exiting.
//! - A [janitor] removes, at the first cluster of a process, test clusters
//!   that nobody can be shown to hold: the owner provably gone, or unseen
//!   past its lease (see [`Verdict`](crate::Verdict)).
//! - SIGINT and SIGTERM make the process remove its test clusters before
//!   it exits.
//! - The watchdog and the removals at exit need the binary's hooks:
//!   `#[footloose::cluster]` installs them, [`test_hooks!`](crate::test_hooks)
//!   does elsewhere.

mod guard;
#[doc(hidden)]
pub mod hooks;
#[doc(hidden)]
pub mod janitor;
#[doc(hidden)]
pub mod reaper;
mod run;
#[doc(hidden)]
pub mod shared;
mod signals;
#[doc(hidden)]
pub mod watchdog;

pub use guard::ClusterGuard;
pub use run::{
    block_on_test, keep_policy, run_test, KeepPolicy, TestFailure, TestResult, TestSpec,
};
