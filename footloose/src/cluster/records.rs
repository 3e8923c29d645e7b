//! What the engine holds of warm pools (see `crate::pool`): each pooled
//! cluster's records (two volumes beside its machines), the claim that
//! exactly one claimer wins, and the survey that reads them back. Here,
//! below the pools, because removing a cluster and judging its owner
//! (`manage`, `inspect`) read and make claims too.
//!
//! A pooled cluster is a cluster like any test's, made for a pool key (its
//! containers and networks carry `io.footloose.pool`), with up to two
//! records, volumes named after it and labelled as its objects (so that
//! removing the cluster removes them too):
//! - `CLUSTER-pool-ready`, written once every machine answered over ssh:
//!   the cluster waits for a test, with the pool's lease;
//! - `CLUSTER-pool-claim`, written by whoever took it: the claimer's
//!   ownership, the only label set that can change hands after the
//!   containers were made (Docker cannot relabel a container).

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::engine::Engine;
use crate::error::Result;
use crate::labels::{self, Lifetime};
use crate::ownership::Ownership;

/// The `io.footloose.pool-record` value of a ready record.
pub(crate) const READY: &str = "ready";
/// The `io.footloose.pool-record` value of a claim record.
pub(crate) const CLAIM: &str = "claim";
/// The `io.footloose.pool-record` value of a refiller's lock.
pub(crate) const REFILLER: &str = "refiller";

/// The name of `cluster`'s record of `kind`.
pub(crate) fn record_name(cluster: &str, kind: &str) -> String {
    format!("{cluster}-pool-{kind}")
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The labels of `cluster`'s ready record: a cluster of the pool `key`
/// that anyone may remove once `lease_expires` has passed.
pub(crate) fn ready_labels(
    cluster: &str,
    key: &str,
    lease_expires: u64,
) -> HashMap<String, String> {
    HashMap::from([
        (labels::MANAGED.to_owned(), "true".to_owned()),
        (labels::CLUSTER.to_owned(), cluster.to_owned()),
        (labels::POOL.to_owned(), key.to_owned()),
        (labels::POOL_RECORD.to_owned(), READY.to_owned()),
        (
            labels::LIFETIME.to_owned(),
            Lifetime::Pool.as_str().to_owned(),
        ),
        (labels::LEASE_EXPIRES.to_owned(), lease_expires.to_string()),
    ])
}

/// The labels of a claim record (or a refiller's lock, `kind`): the
/// claimer's ownership, which names the cluster, the pool and the claim's
/// own id (`io.footloose.creation`).
pub(crate) fn claim_labels(ownership: &Ownership, kind: &str) -> HashMap<String, String> {
    let mut map = ownership.to_labels();
    map.insert(labels::POOL_RECORD.to_owned(), kind.to_owned());
    map
}

/// Where a pooled cluster is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PoolState {
    /// Being made: its machines are not all ready yet.
    Booting,
    /// Ready, waiting for a test.
    Ready,
    /// Taken by a test (or by `pool drain`, to remove it).
    Claimed,
}

impl std::fmt::Display for PoolState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PoolState::Booting => "booting",
            PoolState::Ready => "ready",
            PoolState::Claimed => "claimed",
        })
    }
}

/// One pooled cluster as the engine shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PooledCluster {
    /// The cluster's name.
    pub cluster: String,
    /// The pool key it was made for.
    pub key: String,
    /// Where it is in its life.
    pub state: PoolState,
    /// How many containers it has.
    pub machines: usize,
    /// When anyone may remove it (seconds since the Unix epoch): the ready
    /// record's lease, else its machines'.
    pub lease_expires: Option<u64>,
}

/// Every pooled cluster on the engine, of the pool `key` or of all: one
/// listing of volumes and one of containers.
pub(crate) async fn survey(engine: &Engine, key: Option<&str>) -> Result<Vec<PooledCluster>> {
    Ok(survey_pool(engine, key).await?.clusters)
}

/// What [`survey_pool`] found.
pub(crate) struct Survey {
    /// The pooled clusters.
    pub(crate) clusters: Vec<PooledCluster>,
    /// Whether a refiller that lives (or may: one nobody can see) holds a
    /// pool's lock.
    pub(crate) refilling: bool,
    /// The containers of each pooled cluster, as listed.
    pub(crate) machines: BTreeMap<String, Vec<crate::backend::ContainerInfo>>,
}

/// [`survey`], and whether a refiller is at work on the pool.
pub(crate) async fn survey_pool(engine: &Engine, key: Option<&str>) -> Result<Survey> {
    let mut selector = vec![format!("{}=true", labels::MANAGED)];
    selector.push(match key {
        Some(key) => format!("{}={key}", labels::POOL),
        None => labels::POOL.to_owned(),
    });
    let backend = engine.backend();
    let (volumes, containers) =
        tokio::try_join!(backend.volumes(&selector), backend.containers(&selector))?;
    let mut clusters: BTreeMap<String, PooledCluster> = BTreeMap::new();
    let mut machines: BTreeMap<String, Vec<crate::backend::ContainerInfo>> = BTreeMap::new();
    let now = SystemTime::now();
    let refilling = volumes.iter().any(|v| {
        v.labels.get(labels::POOL_RECORD).map(String::as_str) == Some(REFILLER)
            && Ownership::from_labels(&v.labels)
                .is_some_and(|holder| holder.verdict(now) == crate::ownership::Verdict::Keep)
    });
    for container in containers {
        let Some(cluster) = container.labels.get(labels::CLUSTER).cloned() else {
            continue;
        };
        let Some(key) = container.labels.get(labels::POOL) else {
            continue;
        };
        let cluster = &cluster;
        let pooled = clusters
            .entry(cluster.clone())
            .or_insert_with(|| pooled(cluster, key));
        pooled.machines += 1;
        if pooled.lease_expires.is_none() {
            pooled.lease_expires = Ownership::from_labels(&container.labels)
                .and_then(|ownership| ownership.lease_expires);
        }
        machines.entry(cluster.clone()).or_default().push(container);
    }
    for volume in &volumes {
        let labels = &volume.labels;
        let (Some(cluster), Some(key)) = (labels.get(labels::CLUSTER), labels.get(labels::POOL))
        else {
            continue;
        };
        let state = match labels.get(labels::POOL_RECORD).map(String::as_str) {
            Some(READY) => PoolState::Ready,
            Some(CLAIM) => PoolState::Claimed,
            _ => continue,
        };
        let pooled = clusters
            .entry(cluster.clone())
            .or_insert_with(|| pooled(cluster, key));
        if state == PoolState::Ready {
            pooled.lease_expires = Ownership::from_labels(labels).and_then(|o| o.lease_expires);
        }
        pooled.state = pooled.state.max(state);
    }
    Ok(Survey {
        clusters: clusters.into_values().collect(),
        refilling,
        machines,
    })
}

fn pooled(cluster: &str, key: &str) -> PooledCluster {
    PooledCluster {
        cluster: cluster.to_owned(),
        key: key.to_owned(),
        state: PoolState::Booting,
        machines: 0,
        lease_expires: None,
    }
}

/// Claims `cluster` for `ownership`'s owner; true when this call won it.
/// `ownership` must carry a claim id (`made_by`).
pub(crate) async fn claim(engine: &Engine, cluster: &str, ownership: &Ownership) -> Result<bool> {
    let name = record_name(cluster, CLAIM);
    let labels = claim_labels(ownership, CLAIM);
    won(engine, &name, &labels).await
}

/// Creates the record `name` with `labels` unless it exists; true when the
/// record that exists afterwards is this call's (same claim id).
pub(crate) async fn won(
    engine: &Engine,
    name: &str,
    labels: &HashMap<String, String>,
) -> Result<bool> {
    match engine.backend().create_volume(name, labels).await {
        Ok(volume) => Ok(volume.labels.get(labels::CREATION) == labels.get(labels::CREATION)),
        Err(err) if err.is_conflict() => Ok(false),
        Err(err) => Err(err),
    }
}
