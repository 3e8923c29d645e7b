//! Clusters shared by every test of a process that asks for the same
//! config and image (`#[footloose::cluster("…", shared)]`): created on
//! first use, removed when the process exits.
//!
//! Under `cargo nextest`, which runs each test in its own process, a shared
//! cluster is in effect one cluster per test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::{Cluster, ClusterBuilder, Settings};

type Slot = Arc<OnceLock<Result<Arc<Cluster>, String>>>;

fn registry() -> &'static Mutex<HashMap<String, Slot>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The shared cluster for `key`, made by `make` on first use (the
/// watchdog started as `settings` say); concurrent callers wait for the
/// first. A creation failure is returned to every caller with that key.
pub fn get_or_create(
    key: &str,
    settings: &Settings,
    make: impl FnOnce() -> crate::Result<ClusterBuilder>,
) -> Result<Arc<Cluster>, String> {
    let slot = registry()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key.to_owned())
        .or_default()
        .clone();
    slot.get_or_init(|| {
        let watchdog = super::watchdog::ensure_started(settings);
        let made = make()
            .and_then(|builder| builder.watched_by(watchdog).create())
            .map(Arc::new)
            .map_err(|e| crate::error::chain(&e));
        super::watchdog::sweep_soon(settings);
        made
    })
    .clone()
}

/// Removes every shared cluster of this process. Runs at exit (the exit
/// hook, see [`super::hooks`]).
pub fn remove_all() {
    let slots: Vec<Slot> = registry()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .drain()
        .map(|(_, slot)| slot)
        .collect();
    let clusters: Vec<Arc<Cluster>> = slots
        .iter()
        .filter_map(|slot| slot.get().and_then(|r| r.as_ref().ok()).cloned())
        .collect();
    if clusters.is_empty() {
        return;
    }
    // At exit the shared runtime may be unusable: a fresh thread with its
    // own runtime and engine connection does the work.
    let names: Vec<(String, Settings)> = clusters
        .iter()
        .map(|c| (c.name().to_owned(), c.settings().clone()))
        .collect();
    // One connection, to the engine the first cluster's settings choose:
    // the shared clusters of a process were all made with its settings.
    let first = names[0].1.clone();
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            for engine in super::janitor::engines_of(&first).await.ok()? {
                for (name, settings) in &names {
                    let _ = crate::cluster::delete_with(&engine, name, settings).await;
                }
            }
            Some(())
        })
    })
    .join();
}
