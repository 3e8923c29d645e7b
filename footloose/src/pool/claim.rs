//! Taking a pooled cluster: the claim, which exactly one taker wins, and
//! the [`Cluster`] made of what was taken.
//!
//! ## Why a claim is a volume
//! The engine must be the only arbiter: the takers may be threads,
//! processes in other pid namespaces, CI job containers or other hosts, so
//! no lock in memory or in a host file decides. A claim is the creation of
//! the volume `CLUSTER-pool-claim`, labelled with the claimer's ownership
//! and a random claim id. The engine keeps one volume per name: Docker
//! creates it under a lock of the name and hands every later creator the
//! volume that is there, with the first creator's labels; Podman and Incus
//! refuse the name (`Conflict`). Either way exactly one claimer reads its
//! own id back. That same volume is what changes a pooled cluster's owner,
//! since a container's labels cannot change after it is made: the janitor
//! and the watchdog read a claimed cluster's owner from its claim record
//! (see `crate::cluster::inspect::test_clusters`).
//!
//! ## Why the machines need no change when taken
//! A running Docker container cannot change its hostname (no
//! `CAP_SYS_ADMIN`) nor its labels, and a network joined late does not
//! give an existing container the aliases and the resolver of one it was
//! made on. So nothing is changed at all: a pool is of whole clusters, keyed
//! by everything they are made of (every machine's spec and hostname, the
//! networks, the images, the key; see `super::key`), made by the very
//! `create` a test would run under a name of the pool's, with networks of
//! their own. The test takes the cluster under that name: its machines
//! answer with the test's hostnames, on its networks, to its key, and
//! resolve each other by name, because they were made so.

use std::time::Duration;

use futures_util::future::join_all;
use rand_core::{OsRng, RngCore};

use crate::backend::ContainerInfo;
use crate::cluster::records::{self, claim, now_secs, PoolState};
use crate::cluster::{delete_with, CreateRequest};
use crate::engine::{Engine, Route};
use crate::error::Result;
use crate::labels::{self, Lifetime};
use crate::ownership::Ownership;
use crate::record::MachineRecord;
use crate::Cluster;

/// A ready cluster whose lease ends sooner than this is not taken: the
/// janitor may be about to remove it.
const LEASE_MARGIN: Duration = Duration::from_secs(60);

/// The ownership a test claiming `cluster` of the pool `key` takes, as
/// `request` would have made its own cluster: a test cluster, watched by
/// its watchdog, with its lease from now.
pub(crate) fn claimer(
    engine: &Engine,
    cluster: &str,
    key: &str,
    request: &CreateRequest,
) -> Ownership {
    Ownership::new(
        cluster,
        Lifetime::Test,
        request.watchdog.as_ref(),
        request.lease,
    )
    .made_by(&crate::naming::random_id())
    .in_container(engine.vantage().container_id())
    .for_pool(Some(key))
}

/// Takes a ready cluster of the pool `key` for the test of `request`:
/// claims one (trying the candidates in a random order, so that takers
/// that start together do not all race for the same one), and makes its
/// [`Cluster`]. `None` when the pool has none ready. Also says whether a
/// refiller is at work on the pool already.
///
/// The candidate's machines start logging in before the claim is made
/// (see [`prepare`]): the first command of a taken cluster then waits for
/// what is left of an ssh login, not all of it.
pub(crate) async fn take(
    engine: &Engine,
    key: &str,
    request: &CreateRequest,
) -> Result<(Option<Cluster>, bool)> {
    let deadline = now_secs() + LEASE_MARGIN.as_secs();
    let mut survey = records::survey_pool(engine, Some(key)).await?;
    let refilling = survey.refilling;
    let mut candidates: Vec<String> = survey
        .clusters
        .iter()
        .filter(|p| p.state == PoolState::Ready && p.machines > 0)
        .filter(|p| p.lease_expires.is_none_or(|expires| expires > deadline))
        .map(|p| p.cluster.clone())
        .collect();
    shuffle(&mut candidates);
    for cluster in candidates {
        let listed = survey.machines.remove(&cluster).unwrap_or_default();
        let prepared = prepare(engine, &cluster, listed, request).await?;
        let ownership = claimer(engine, &cluster, key, request);
        if !claim(engine, &cluster, &ownership).await? {
            // Another test's now; what was opened ahead ends on its own.
            continue;
        }
        let taken = match prepared {
            Some(taken) => Some(taken),
            None => attach(engine, &cluster, request).await?,
        };
        match taken {
            Some(taken) => return Ok((Some(taken), refilling)),
            None => {
                // Ours now, and broken (a machine stopped or went while it
                // waited): removed, and the next one tried.
                tracing::warn!(
                    "Pooled cluster {cluster} lost a machine while it waited; removing it"
                );
                delete_with(engine, &cluster, &request.settings).await?;
            }
        }
    }
    Ok((None, refilling))
}

/// The [`Cluster`] a test would get from the pooled `cluster`, made from
/// `containers` as the survey listed them, before it is claimed, its
/// machines already connecting ([`Pool::connect_ahead`]). `None` when that
/// takes a change to a machine (joining the route's network, which only
/// its taker may make) or the cluster is not whole: [`attach`] decides
/// once the claim is won.
///
/// A connection opened ahead only logs in: if another test wins the
/// claim, its machine has seen one more login (as it saw the readiness
/// check's), and nothing ran in it.
///
/// [`Pool::connect_ahead`]: crate::ssh::Pool::connect_ahead
async fn prepare(
    engine: &Engine,
    cluster: &str,
    containers: Vec<ContainerInfo>,
    request: &CreateRequest,
) -> Result<Option<Cluster>> {
    let joined = match engine.route() {
        Route::Published { .. } => true,
        Route::Network { network } => containers.iter().all(|c| c.networks.contains_key(network)),
        Route::Unroutable { .. } => false,
    };
    if !joined {
        return Ok(None);
    }
    let prepared = cluster_of(engine, cluster, containers, request).await?;
    for machine in prepared.iter().flat_map(|c| &c.machines) {
        machine.pool.connect_ahead();
    }
    Ok(prepared)
}

/// The [`Cluster`] of the pooled `cluster` as it is now, `None` unless
/// every machine runs and has its record (host key included).
async fn attach(
    engine: &Engine,
    cluster: &str,
    request: &CreateRequest,
) -> Result<Option<Cluster>> {
    let containers = engine
        .backend()
        .containers(&labels::selector(Some(cluster)))
        .await?;
    cluster_of(engine, cluster, containers, request).await
}

/// The [`Cluster`] of the pooled `cluster` made of `containers`, `None`
/// unless they are all of its machines, every one runs and has its record
/// (host key included).
async fn cluster_of(
    engine: &Engine,
    cluster: &str,
    containers: Vec<ContainerInfo>,
    request: &CreateRequest,
) -> Result<Option<Cluster>> {
    let expected = request.config.machines().count();
    if containers.len() != expected || !containers.iter().all(|c| c.is_running()) {
        return Ok(None);
    }
    let mut records = Vec::new();
    for container in containers {
        let Ok(record) = MachineRecord::from_labels(&container.labels) else {
            return Ok(None);
        };
        let Some(host_key) = record.host_key.clone() else {
            return Ok(None);
        };
        records.push((record, host_key, container));
    }
    records.sort_by(|a, b| (a.0.order, &a.0.hostname).cmp(&(b.0.order, &b.0.hostname)));
    let made = join_all(
        records
            .into_iter()
            .map(|(record, host_key, container)| async move {
                crate::cluster::known_ready(
                    engine,
                    container,
                    &record.hostname,
                    &host_key,
                    &request.key_path,
                )
                .await
            }),
    )
    .await;
    let mut machines = Vec::new();
    for machine in made {
        match machine? {
            Some(machine) => machines.push(machine),
            None => return Ok(None),
        }
    }
    Ok(Some(Cluster {
        name: cluster.to_owned(),
        machines,
        engine: engine.clone(),
        key_path: request.key_path.clone(),
        settings: request.settings.clone(),
    }))
}

/// Fisher–Yates, on the system's randomness.
fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = (OsRng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
