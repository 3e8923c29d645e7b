//! Warm pools: booted, never-used clusters that tests take instead of
//! waiting for a boot.
//!
//! A cluster test pays for its machines' boot before its first line runs;
//! footloose's cold boot is already at the engine's floor, so the only way
//! further is to boot before the test asks. With a pool (the attribute's
//! `pool = N`, `FOOTLOOSE_POOL=N`, [`ClusterBuilder::pool`], or
//! `footloose pool fill` before the run), a test takes a ready cluster of
//! its config in a few engine calls, and a refiller boots its successor
//! in the background, overlapping the tests.
//!
//! The rules, and where each is kept:
//! - **Fresh**: a pooled cluster is made by the same `create` a test runs,
//!   is handed out once, and is removed after its test like any test's
//!   cluster; it never returns to the pool.
//! - **Same as made for the test**: pools are keyed by everything a
//!   cluster is made of (`key.rs`); what is taken needs no change
//!   (`claim.rs` says why nothing could be changed on Docker anyway).
//! - **Claimed atomically** across threads, processes, pid namespaces,
//!   job containers and hosts: the engine decides, by a claim record
//!   (`claim.rs`, on `crate::cluster::records`).
//! - **Fast to take**: the candidate's machines start their ssh logins
//!   before the claim is made (`claim.rs`), and the refiller a take starts
//!   waits a moment and runs at a lower priority (`refill.rs`), so that
//!   the test's first command finds the cores free.
//! - **Bounded**: a pool is topped up to its size, and no more clusters
//!   boot at once on the engine than this host has cores (`fill.rs`); one
//!   refiller per pool (`refill.rs`).
//! - **Background work**: a refiller starts each boot once a core of the
//!   host stayed idle (`pace.rs` says why the boots' priority could not
//!   do this), so refills fill the cores the tests leave, and never slow
//!   a suite that keeps them busy.
//! - **Nothing left behind**: a cluster being booted belongs to its
//!   refiller (its watchdog removes it when the refiller dies), a ready
//!   one has the pool's lease (`FOOTLOOSE_POOL_LEASE`, 30 minutes), a
//!   claimed one belongs to its test (watchdog, janitor, lease, as every
//!   test cluster). The janitor, `footloose prune --expired` and `pool
//!   drain` remove a ready cluster by first claiming it, so that a test
//!   never takes one that is being removed; a booting one is left to its
//!   refiller, so that each cluster has one remover.

mod claim;
mod fill;
mod key;
mod pace;
pub(crate) mod refill;
#[cfg(test)]
mod tests;

use futures_util::future::join_all;

pub use crate::cluster::records::{PoolState, PooledCluster};
pub use crate::ownership::DEFAULT_POOL_LEASE;
pub use fill::{lease, Filled};

use crate::cluster::records;

use crate::cluster::{create, ClusterBuilder, CreateRequest};
use crate::engine::Engine;
use crate::error::Result;
use crate::labels;
use crate::ownership::Ownership;
use crate::{Cluster, Settings};

/// Every pooled cluster on `engine`, of every pool.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// for pooled in footloose::pool::list(engine).await? {
///     println!("{} {} ({})", pooled.key, pooled.cluster, pooled.state);
/// }
/// # Ok(()) }
/// ```
pub async fn list(engine: &Engine) -> Result<Vec<PooledCluster>> {
    records::survey(engine, None).await
}

/// A refiller at work on a pool, as its lock record says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refiller {
    /// The pool key.
    pub key: String,
    /// Its process id, in its own pid namespace.
    pub pid: u32,
    /// The host it runs on.
    pub host: String,
}

/// Every refiller at work on `engine`.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// for refiller in footloose::pool::refillers(engine).await? {
///     println!("pool {} is being filled by pid {}", refiller.key, refiller.pid);
/// }
/// # Ok(()) }
/// ```
pub async fn refillers(engine: &Engine) -> Result<Vec<Refiller>> {
    let selector = [
        format!("{}=true", labels::MANAGED),
        format!("{}={}", labels::POOL_RECORD, records::REFILLER),
    ];
    Ok(engine
        .backend()
        .volumes(&selector)
        .await?
        .into_iter()
        .filter_map(|v| {
            let ownership = Ownership::from_labels(&v.labels)?;
            Some(Refiller {
                key: ownership.pool?,
                pid: ownership.owner.pid,
                host: ownership.owner.host,
            })
        })
        .collect())
}

/// Boots clusters of `builder`'s config until its pool has `size` ready
/// ones, and waits for them: what `footloose pool fill` does before a run.
/// The builder is the one the tests use (the same config file, image and
/// key), or their clusters would belong to another pool.
///
/// ```no_run
/// # async fn demo() -> footloose::Result<()> {
/// let builder = footloose::ClusterBuilder::from_file("footloose.yaml")?;
/// let filled = footloose::pool::fill(&builder, 4).await?;
/// println!("{} ready in pool {}", filled.ready, filled.key);
/// # Ok(()) }
/// ```
pub async fn fill(builder: &ClusterBuilder, size: usize) -> Result<Filled> {
    let builder = builder.clone();
    crate::runtime::spawn(async move {
        let request = builder.request()?;
        let engine = builder.connect().await?;
        // The images first, as the cold create would make them: the key
        // names them by id.
        let mut images: Vec<String> = builder.config.machines().map(|m| m.spec.image).collect();
        images.dedup();
        for image in &images {
            crate::image::prepare_with(&engine, image, &request.settings).await?;
        }
        let Some(key) = key::pool_key(&engine, &builder, &request).await? else {
            tracing::warn!("An image of the pool was removed while it was filled");
            return Ok(Filled::default());
        };
        fill::fill(&engine, &builder, &key, size, None, &mut pace::Eager).await
    })
    .await
}

/// The pool key of `builder`'s clusters (as `pool ls` shows it): `None`
/// while an image of its config is not on the engine yet.
///
/// ```no_run
/// # async fn demo() -> footloose::Result<()> {
/// let builder = footloose::ClusterBuilder::from_file("footloose.yaml")?.unique_name();
/// if let Some(key) = footloose::pool::key(&builder).await? {
///     println!("its pool is {key}");
/// }
/// # Ok(()) }
/// ```
pub async fn key(builder: &ClusterBuilder) -> Result<Option<String>> {
    let builder = builder.clone();
    crate::runtime::spawn(async move {
        let request = builder.request()?;
        let engine = builder.connect().await?;
        key::pool_key(&engine, &builder, &request).await
    })
    .await
}

/// Removes the ready pooled clusters, of the pool `key` or of all, and
/// stops the pools' refillers; returns the names of the clusters removed.
/// Each is claimed first, so a test never takes one being removed. A
/// cluster still booting is left to its refiller, which removes it once
/// its boot ends and finds its lock gone: one remover per cluster (Docker
/// 20.10's libnetwork can deadlock when two remove one network and its
/// endpoints at once).
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let removed = footloose::pool::drain(engine, None).await?;
/// println!("drained {} cluster(s)", removed.len());
/// # Ok(()) }
/// ```
pub async fn drain(engine: &Engine, key: Option<&str>) -> Result<Vec<String>> {
    let settings = Settings::from_env();
    // Refillers first: one that finds its lock gone removes what it was
    // booting, and stops.
    let mut locks = vec![
        format!("{}=true", labels::MANAGED),
        format!("{}={}", labels::POOL_RECORD, records::REFILLER),
    ];
    if let Some(key) = key {
        locks.push(format!("{}={key}", labels::POOL));
    }
    for lock in engine.backend().volumes(&locks).await? {
        match engine.backend().remove_volume(&lock.name).await {
            Ok(()) => {}
            Err(err) if err.is_not_found() => {}
            Err(err) => return Err(err),
        }
    }
    let idle: Vec<PooledCluster> = records::survey(engine, key)
        .await?
        .into_iter()
        .filter(|p| p.state == PoolState::Ready)
        .collect();
    let removed = join_all(
        idle.iter()
            .map(|p| crate::cluster::remove_pooled(engine, &p.cluster, &p.key, &settings)),
    )
    .await;
    let mut names = Vec::new();
    for (pooled, result) in idle.iter().zip(removed) {
        if result? {
            names.push(pooled.cluster.clone());
        }
    }
    Ok(names)
}

/// Creates the test cluster of `builder`, taken from its pool when it has
/// one ([`ClusterBuilder::pool`], `FOOTLOOSE_POOL`): what
/// [`ClusterBuilder::start`] does.
pub(crate) async fn create_test_cluster(builder: &ClusterBuilder) -> Result<Cluster> {
    let request = builder.request()?;
    let engine = builder.connect_in(&request.settings).await?;
    match builder.pool_size(&request.settings)? {
        Some(size) => take_or_create(builder, &engine, &request, size).await,
        None => create(&engine, &request).await,
    }
}

/// The test cluster of `request` (made from `builder`) taken from the pool
/// of `size`, or created when the pool has none ready; either way the pool
/// is topped up in the background.
async fn take_or_create(
    builder: &ClusterBuilder,
    engine: &Engine,
    request: &CreateRequest,
    size: usize,
) -> Result<Cluster> {
    let Some(key) = key::pool_key(engine, builder, request).await? else {
        // No image yet: the cold create builds it, and the pool follows.
        let cluster = create(engine, request).await?;
        if let Some(key) = key::pool_key(engine, builder, request).await? {
            refill::request(refill::Order::new(builder, &key, size));
        }
        return Ok(cluster);
    };
    let (taken, refilling) = claim::take(engine, &key, request).await?;
    // A refiller at work surveys the pool again before it ends: it sees
    // this take too.
    if !refilling {
        refill::request(refill::Order::new(builder, &key, size));
    }
    match taken {
        Some(cluster) => {
            tracing::debug!("Took pooled cluster {} (pool {key})", cluster.name());
            Ok(cluster)
        }
        None => create(engine, request).await,
    }
}
