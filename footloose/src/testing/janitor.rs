//! Removing test clusters that nobody can be shown to hold any more: the
//! rule is [`Verdict`](crate::Verdict) (`ownership.rs` gives the reasons
//! for it).

use std::collections::BTreeSet;

use crate::engine::Engine;
use crate::error::Result;
use crate::Settings;

/// Removes every test cluster whose owner is provably gone (same boot, pid
/// namespace and host; its watchdog gone too), or whose owner cannot be
/// seen and whose lease has run out. A cluster of a process in another pid
/// namespace or on another host is left alone until its lease runs out.
/// Returns the clusters removed. `settings` say where their state
/// directories are.
pub async fn sweep(engine: &Engine, settings: &Settings) -> Result<BTreeSet<String>> {
    let removed = crate::cluster::prune_abandoned_with(engine, settings).await?;
    for (cluster, verdict) in &removed {
        tracing::info!("Removed test cluster {cluster}: {verdict:?}");
    }
    Ok(removed.into_iter().map(|(cluster, _)| cluster).collect())
}

/// Connects to the Docker engine `settings` choose (as
/// [`Engine::connect`] does from the environment): where the janitor,
/// the watchdog and the signal handler remove clusters.
pub(crate) async fn engine_of(settings: &Settings) -> Result<Engine> {
    Engine::connect_with(crate::config::Backend::Docker, &settings.engine).await
}
