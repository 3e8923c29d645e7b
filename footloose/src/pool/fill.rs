//! Filling a pool: booting clusters for it, never more at once than the
//! host's cores sustain, and filing each as ready once it answers.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::pace::Gate;
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
    /// Whether it stopped because the host stayed busy: a refiller's
    /// boots wait for idle cores, for 10 minutes at most.
    pub host_busy: bool,
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
/// [`boot_slots`], each when `gate` allows (see `pace.rs`); waits for the
/// ones it boots. With a `permit`, a cluster booted after the permit was
/// taken away is removed instead of filed, and the fill ends.
pub(crate) async fn fill(
    engine: &Engine,
    template: &ClusterBuilder,
    key: &str,
    size: usize,
    permit: Option<&dyn Permit>,
    gate: &mut dyn Gate,
) -> Result<Filled> {
    let boot = |name: String| fill_one(engine, template, key, permit, name);
    fill_with(engine, key, size, permit, gate, boot).await
}

/// How long a fill waits for its gate before it checks that its permit
/// still holds (`pool drain` stops a waiting refiller too).
const GATE_CHECK: Duration = Duration::from_secs(5);

/// How long a fill waits for its gate in all before it gives up: a host
/// busy for that long is running something the pool should not slow down,
/// and the next take starts another refiller.
const GATE_LIMIT: Duration = Duration::from_secs(10 * 60);

/// [`fill`], booting each cluster (named by the fill) with `boot`, which
/// returns its name once it is filed as ready, `None` when the permit was
/// taken away meanwhile.
pub(crate) async fn fill_with<B, F>(
    engine: &Engine,
    key: &str,
    size: usize,
    permit: Option<&dyn Permit>,
    gate: &mut dyn Gate,
    boot: B,
) -> Result<Filled>
where
    B: Fn(String) -> F,
    F: Future<Output = Result<Option<String>>>,
{
    let mut fill = Boots::default();
    let mut booting = FuturesUnordered::new();
    let mut gated = Duration::ZERO;
    loop {
        let pooled = match records::survey(engine, Some(key)).await {
            Ok(pooled) => pooled,
            Err(err) => {
                fill.failed(err);
                return fill.finish(booting, engine, key).await;
            }
        };
        let ready = pooled
            .iter()
            .filter(|p| p.state == PoolState::Ready)
            .count();
        // Boots of others (another filler, a dead refiller's leftovers
        // until its watchdog removes them), and this fill's own: a cluster
        // being created may not be listed yet.
        let others = pooled
            .iter()
            .filter(|p| p.state == PoolState::Booting && !fill.mine.contains(&p.cluster))
            .count();
        let busy = others + fill.mine.len();
        let wanted = size.saturating_sub(ready + busy);
        let room = boot_slots().saturating_sub(busy);
        if fill.stopped.is_some() || (wanted == 0 && booting.is_empty()) {
            return fill.finish(booting, engine, key).await;
        }
        if wanted == 0 || room == 0 {
            match booting.next().await {
                Some((name, result)) => fill.ended(name, result),
                // Others are booting for this pool: wait for them to finish.
                None => tokio::time::sleep(Duration::from_millis(250)).await,
            }
            continue;
        }
        tokio::select! {
            open = gate.wait(GATE_CHECK) => {
                if open {
                    let name = crate::naming::unique_cluster_name(
                        &format!("pool-{}", &key[..8.min(key.len())]),
                    );
                    fill.mine.insert(name.clone());
                    let boot = boot(name.clone());
                    booting.push(async move { (name, boot.await) });
                    continue;
                }
                gated += GATE_CHECK;
                if let Some(permit) = permit {
                    match permit.holds(engine).await {
                        Ok(true) => {}
                        Ok(false) => fill.stopped = Some(Stop::Drained),
                        Err(err) => fill.failed(err),
                    }
                }
                if gated >= GATE_LIMIT {
                    tracing::info!(
                        "The host stayed busy for {}s: the pool {key} waits for the next refiller",
                        gated.as_secs()
                    );
                    fill.stopped.get_or_insert(Stop::Busy);
                }
            }
            Some((name, result)) = booting.next(), if !booting.is_empty() => {
                fill.ended(name, result);
            }
        }
    }
}

/// Why a fill stops before the pool is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Its permit was taken away.
    Drained,
    /// The host stayed busy past [`GATE_LIMIT`].
    Busy,
    /// A boot failed.
    Failed,
}

/// What a fill's boots came to so far.
#[derive(Default)]
struct Boots {
    /// The clusters it is booting.
    mine: BTreeSet<String>,
    /// The ones it filed as ready.
    made: Vec<String>,
    /// The first failure, of a boot or of the fill's own requests.
    failed: Option<crate::Error>,
    /// Why it stops early, once it does.
    stopped: Option<Stop>,
}

impl Boots {
    /// Takes in the end of the boot of `name`.
    fn ended(&mut self, name: String, result: Result<Option<String>>) {
        self.mine.remove(&name);
        match result {
            Ok(Some(name)) => self.made.push(name),
            Ok(None) if self.stopped != Some(Stop::Failed) => self.stopped = Some(Stop::Drained),
            Ok(None) => {}
            Err(err) => self.failed(err),
        }
    }

    /// Takes in a failure: the fill stops once its boots have ended, and
    /// the first failure is its error.
    fn failed(&mut self, err: crate::Error) {
        self.failed.get_or_insert(err);
        self.stopped = Some(Stop::Failed);
    }

    /// Waits for the boots still `booting`, then says what the fill did:
    /// a boot dropped half-way would leave its cluster to the lease.
    async fn finish<S>(mut self, mut booting: S, engine: &Engine, key: &str) -> Result<Filled>
    where
        S: futures_util::Stream<Item = (String, Result<Option<String>>)> + Unpin,
    {
        while let Some((name, result)) = booting.next().await {
            self.ended(name, result);
        }
        self.into_filled(engine, key).await
    }

    /// What the fill did, once its boots have ended: the first failure, or
    /// what it made and how many of the pool are ready now.
    async fn into_filled(self, engine: &Engine, key: &str) -> Result<Filled> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        let ready = records::survey(engine, Some(key))
            .await?
            .iter()
            .filter(|p| p.state == PoolState::Ready)
            .count();
        Ok(Filled {
            key: key.to_owned(),
            made: self.made,
            ready,
            drained: self.stopped == Some(Stop::Drained),
            host_busy: self.stopped == Some(Stop::Busy),
        })
    }
}

/// Boots the cluster `name` of `template` for the pool `key` (its create
/// undoes itself on failure), then files it as ready. Returns its name;
/// `None` when the permit was taken away meanwhile (the cluster is
/// removed).
async fn fill_one(
    engine: &Engine,
    template: &ClusterBuilder,
    key: &str,
    permit: Option<&dyn Permit>,
    name: String,
) -> Result<Option<String>> {
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
