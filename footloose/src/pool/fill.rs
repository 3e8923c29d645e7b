//! Filling a pool: booting clusters for it, never more at once than the
//! host's cores sustain, and filing each as ready once it answers.

use std::time::Duration;

use futures_util::future::join_all;

use crate::cluster::records::{self, now_secs, ready_labels, record_name, PoolState};
use crate::cluster::{create, delete_with, ClusterBuilder};
use crate::engine::Engine;
use crate::error::Result;

/// The lease of pooled clusters: `FOOTLOOSE_POOL_LEASE`, else 30 minutes.
///
/// ```
/// let settings = footloose::Settings::from_vars(|_| None);
/// assert_eq!(footloose::pool::lease(&settings)?, std::time::Duration::from_secs(1800));
/// # Ok::<(), footloose::Error>(())
/// ```
pub fn lease(settings: &crate::Settings) -> Result<Duration> {
    Ok(settings.pool_lease_or_default()?)
}

/// How many clusters may boot at once on the engine: one per core of this
/// host (a boot is CPU-bound: systemd's start plus the engine's work).
pub(crate) fn boot_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// What one fill did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Filled {
    /// The pool key.
    pub key: String,
    /// The clusters this call made ready.
    pub made: Vec<String>,
    /// How many were ready when it ended (its own and others').
    pub ready: usize,
    /// Whether it stopped because the pool was drained.
    pub drained: bool,
}

/// A filler's permission to go on: a refiller's lock, which `pool drain`
/// takes away to stop it.
#[async_trait::async_trait]
pub(crate) trait Permit: Send + Sync {
    /// Whether the filler may still file what it made as ready.
    async fn holds(&self, engine: &Engine) -> Result<bool>;
}

/// Boots clusters of `template` for the pool `key` until `size` are ready
/// or booting (by anyone), never more booting at once than
/// [`boot_slots`]; waits for the ones it boots. With a `permit`, a cluster
/// booted after the permit was taken away is removed instead of filed,
/// and the fill ends.
pub(crate) async fn fill(
    engine: &Engine,
    template: &ClusterBuilder,
    key: &str,
    size: usize,
    permit: Option<&dyn Permit>,
) -> Result<Filled> {
    let mut made = Vec::new();
    loop {
        let pooled = records::survey(engine, Some(key)).await?;
        let ready = pooled
            .iter()
            .filter(|p| p.state == PoolState::Ready)
            .count();
        let booting = pooled
            .iter()
            .filter(|p| p.state == PoolState::Booting)
            .count();
        let wanted = size.saturating_sub(ready + booting);
        let room = boot_slots().saturating_sub(booting);
        if wanted == 0 {
            return Ok(Filled {
                key: key.to_owned(),
                made,
                ready,
                drained: false,
            });
        }
        if room == 0 {
            // Others are booting for this pool: wait for them to finish.
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        let boots =
            join_all((0..wanted.min(room)).map(|_| fill_one(engine, template, key, permit))).await;
        let mut stopped = false;
        for boot in boots {
            match boot? {
                Some(name) => made.push(name),
                None => stopped = true,
            }
        }
        if stopped {
            return Ok(Filled {
                key: key.to_owned(),
                made,
                ready: 0,
                drained: true,
            });
        }
    }
}

/// Boots one cluster of `template` for the pool `key` (its create undoes
/// itself on failure), then files it as ready. Returns its name; `None`
/// when the permit was taken away meanwhile (the cluster is removed).
async fn fill_one(
    engine: &Engine,
    template: &ClusterBuilder,
    key: &str,
    permit: Option<&dyn Permit>,
) -> Result<Option<String>> {
    let name = crate::naming::unique_cluster_name(&format!("pool-{}", &key[..8.min(key.len())]));
    let builder = template.clone().name(&name).private_networks(true);
    let mut request = builder.request()?;
    let lease = lease(&request.settings)?;
    // `pool`, not `test`: an older footloose's janitor reads it as a
    // command line cluster and leaves it alone, rather than taking the
    // refiller that made it (gone once the pool is full) for its owner.
    request.lifetime = crate::labels::Lifetime::Pool;
    request.lease = Some(lease);
    request.pool = Some(key.to_owned());
    request.watchdog = crate::testing::watchdog::identity();
    create(engine, &request).await?;
    if let Some(permit) = permit {
        if !permit.holds(engine).await? {
            tracing::info!("The pool {key} was drained: removing {name}");
            delete_with(engine, &name, &request.settings).await?;
            return Ok(None);
        }
    }
    let expires = now_secs() + lease.as_secs();
    engine
        .backend()
        .create_volume(
            &record_name(&name, records::READY),
            &ready_labels(&name, key, expires),
        )
        .await?;
    tracing::info!("Pooled cluster {name} is ready (pool {key})");
    Ok(Some(name))
}
