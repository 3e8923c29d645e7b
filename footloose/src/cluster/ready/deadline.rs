//! When a wait for a machine gives up, and what it was for.

use std::time::{Duration, Instant};

/// When waiting for readiness ends, and how long it was allowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub(crate) at: Instant,
    pub(crate) allowed: Duration,
}

impl Deadline {
    /// A deadline `allowed` from now.
    pub(crate) fn after(allowed: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + allowed,
            allowed,
        }
    }
}
