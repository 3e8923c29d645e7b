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

/// Connects to every engine a test process may have made clusters on:
/// the one `settings` choose (`FOOTLOOSE_BACKEND`, else Docker), and each
/// other backend's that answers (a test's config may name its backend).
/// Where the janitor, the watchdog and the signal handler remove clusters.
/// An error only when none answers: the chosen one's.
pub(crate) async fn engines_of(settings: &Settings) -> Result<Vec<Engine>> {
    use crate::config::Backend;
    let chosen = settings.engine.backend_for(None)?;
    let mut engines = Vec::new();
    let mut failure = None;
    for backend in [chosen, Backend::Docker, Backend::Incus] {
        if engines.iter().any(|(kind, _)| *kind == backend) {
            continue;
        }
        match Engine::connect_with(backend, &settings.engine).await {
            Ok(engine) => engines.push((backend, engine)),
            Err(err) if backend == chosen => failure = Some(err),
            Err(_) => {}
        }
    }
    match (engines.is_empty(), failure) {
        (true, Some(err)) => Err(err),
        _ => Ok(engines.into_iter().map(|(_, engine)| engine).collect()),
    }
}
