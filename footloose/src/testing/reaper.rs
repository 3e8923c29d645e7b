//! Removing test clusters in the background, so that a test's teardown
//! overlaps the next test instead of adding to it. Every removal is
//! awaited before the process exits; should the process die first, the
//! watchdog removes what is left.

use std::sync::Mutex;
use std::thread::JoinHandle;

use crate::Cluster;

static PENDING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Removes `cluster` on a background thread.
pub fn remove_later(cluster: Cluster) {
    let handle = std::thread::Builder::new()
        .name(format!("footloose-reap-{}", cluster.name()))
        .spawn(move || {
            if let Err(err) = cluster.delete() {
                eprintln!(
                    "footloose: could not remove cluster {}: {}",
                    cluster.name(),
                    crate::error::chain(&err)
                );
            }
        });
    match handle {
        Ok(handle) => {
            let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
            pending.retain(|h| !h.is_finished());
            pending.push(handle);
        }
        Err(err) => eprintln!("footloose: cannot start a teardown thread: {err}"),
    }
}

/// Waits until every background removal of this process has finished.
pub fn wait_all() {
    let handles: Vec<JoinHandle<()>> =
        std::mem::take(&mut *PENDING.lock().unwrap_or_else(|e| e.into_inner()));
    for handle in handles {
        let _ = handle.join();
    }
}
