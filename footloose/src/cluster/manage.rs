//! Operations on existing clusters, found by their labels: whatever the
//! config file says now, the engine's labels say what belongs to whom.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::join_all;
use serde::Serialize;

use super::inspect::{status, test_clusters, MachineState, MachineStatus};
use super::ready::{wait_ready, Deadline};
use super::start::start_container;
use crate::engine::Engine;
use crate::error::{EngineFailure, Error, Result};
use crate::labels::{self, Lifetime};
use crate::machine::MachineError;
use crate::ownership::Verdict;
use crate::process::Identity;
use crate::{Machine, Settings};

/// What a delete or prune removed.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let removed = footloose::delete(engine, "demo").await?;
/// println!(
///     "removed {} machine(s), {} network(s), {} volume(s)",
///     removed.containers.len(),
///     removed.networks.len(),
///     removed.volumes.len()
/// );
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Removed {
    /// Container names.
    pub containers: Vec<String>,
    /// Network names.
    pub networks: Vec<String>,
    /// Named volumes (anonymous ones go with their containers).
    pub volumes: Vec<String>,
}

/// Removes every container (with its anonymous volumes) and named volume
/// labelled with `cluster`, and the networks it made or used that
/// footloose made, unless machines of another cluster still use them,
/// and the cluster's state directory on this host (its `known_hosts` and
/// inventory), found with the environment's settings ([`delete_with`]
/// takes others).
///
/// ```no_run
/// # async fn demo() -> footloose::Result<()> {
/// let engine = footloose::engine::Engine::connect().await?;
/// let removed = footloose::delete(&engine, "cluster").await?;
/// println!("removed {} machine(s)", removed.containers.len());
/// # Ok(()) }
/// ```
pub async fn delete(engine: &Engine, cluster: &str) -> Result<Removed> {
    delete_with(engine, cluster, &Settings::from_env()).await
}

/// [`delete`], with the state directory where `settings` put it.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let settings = footloose::Settings::from_env();
/// let removed = footloose::delete_with(engine, "cluster", &settings).await?;
/// # Ok(()) }
/// ```
pub async fn delete_with(engine: &Engine, cluster: &str, settings: &Settings) -> Result<Removed> {
    let removed = remove_labelled(engine, Some(cluster)).await?;
    // Its known_hosts and inventory, if this host wrote any.
    let _ = std::fs::remove_dir_all(settings.state_dir(cluster));
    Ok(removed)
}

/// Removes everything footloose made on the engine, of `cluster` only when
/// given. A network still used by a machine of another cluster stays.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let removed = footloose::prune(engine, None).await?; // every cluster
/// println!("removed {} machine(s)", removed.containers.len());
/// # Ok(()) }
/// ```
pub async fn prune(engine: &Engine, cluster: Option<&str>) -> Result<Removed> {
    remove_labelled(engine, cluster).await
}

/// Removes the test clusters that no process can be shown to hold: owner
/// provably gone, or unseen with its lease run out (see
/// [`Verdict`](crate::Verdict)). Returns each removed cluster with the reason.
/// The environment's settings say where their state directories are
/// ([`prune_abandoned_with`] takes others).
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// for (cluster, verdict) in footloose::prune_abandoned(engine).await? {
///     println!("removed {cluster}: {verdict:?}");
/// }
/// # Ok(()) }
/// ```
pub async fn prune_abandoned(engine: &Engine) -> Result<Vec<(String, Verdict)>> {
    prune_abandoned_with(engine, &Settings::from_env()).await
}

/// [`prune_abandoned`], removing state directories where `settings` put them.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let removed = footloose::prune_abandoned_with(engine, &footloose::Settings::from_env()).await?;
/// # Ok(()) }
/// ```
pub async fn prune_abandoned_with(
    engine: &Engine,
    settings: &Settings,
) -> Result<Vec<(String, Verdict)>> {
    let now = SystemTime::now();
    let mut removed = Vec::new();
    for ownership in test_clusters(engine).await? {
        let mut verdict = ownership.verdict(now);
        if let (Verdict::Keep, Some(container)) = (verdict, &ownership.owner_container) {
            let runs = engine
                .container(container)
                .await?
                .is_some_and(|c| c.is_running());
            verdict = ownership.verdict_seeing(now, Some(runs));
        }
        if verdict == Verdict::Keep {
            continue;
        }
        if let (Lifetime::Pool, Some(key)) = (ownership.lifetime, &ownership.pool) {
            // A pooled cluster is claimed before it goes: a test may be
            // taking it right now.
            if remove_pooled(engine, &ownership.cluster, key, settings).await? {
                removed.push((ownership.cluster, verdict));
            }
            continue;
        }
        delete_with(engine, &ownership.cluster, settings).await?;
        removed.push((ownership.cluster, verdict));
    }
    Ok(removed)
}

/// Removes the pooled cluster `cluster` of the pool `key`, claiming it
/// first (see `crate::pool`); false when a test claimed it meanwhile.
pub(crate) async fn remove_pooled(
    engine: &Engine,
    cluster: &str,
    key: &str,
    settings: &Settings,
) -> Result<bool> {
    let remover = crate::ownership::Ownership::new(cluster, Lifetime::Test, None, None)
        .made_by(&crate::naming::random_id())
        .for_pool(Some(key));
    if !super::records::claim(engine, cluster, &remover).await? {
        return Ok(false);
    }
    delete_with(engine, cluster, settings).await?;
    Ok(true)
}

/// Removes every test cluster whose owner is `owner`.
pub(crate) async fn remove_owned_by(
    engine: &Engine,
    owner: &Identity,
    settings: &Settings,
) -> Result<Vec<String>> {
    let owned: Vec<String> = test_clusters(engine)
        .await?
        .into_iter()
        .filter(|ownership| &ownership.owner == owner)
        .map(|ownership| ownership.cluster)
        .collect();
    for cluster in &owned {
        delete_with(engine, cluster, settings).await?;
    }
    Ok(owned)
}

async fn remove_labelled(engine: &Engine, cluster: Option<&str>) -> Result<Removed> {
    let backend = engine.backend();
    let selector = labels::selector(cluster);
    // By label alone: a machine whose record this footloose cannot read
    // is removed all the same.
    let containers = backend.containers(&selector).await?;
    let used: BTreeSet<&str> = containers
        .iter()
        .flat_map(|c| c.networks.keys().map(String::as_str))
        .collect();
    let results = join_all(containers.iter().map(|c| backend.remove_container(&c.name))).await;
    let mut removed = Removed::default();
    for (container, result) in containers.iter().zip(results) {
        result?;
        removed.containers.push(container.name.clone());
    }
    // Every network footloose made is a candidate when it is this
    // cluster's, or one its machines used (made by another cluster that
    // shares its name); the engine refuses to remove one still in use.
    for network in backend.networks_labelled(&labels::selector(None)).await? {
        let owner = network.labels.get(labels::CLUSTER).map(String::as_str);
        let candidate = match cluster {
            None => true,
            Some(cluster) => owner == Some(cluster) || used.contains(network.name.as_str()),
        };
        if !candidate {
            continue;
        }
        match backend.remove_network(&network.id).await {
            Ok(()) => removed.networks.push(network.name),
            Err(err) if err.is_not_found() => {}
            Err(err) if err.engine_failure() == Some(EngineFailure::InUse) => {
                tracing::info!(
                    "Keeping network {}: machines of another cluster use it ({err})",
                    network.name
                );
            }
            Err(err) => return Err(err),
        }
    }
    for volume in backend.volumes(&selector).await? {
        match backend.remove_volume(&volume.name).await {
            Ok(()) => removed.volumes.push(volume.name),
            Err(err) if err.is_not_found() => {}
            Err(err) => return Err(err),
        }
    }
    Ok(removed)
}

/// The machines of `cluster` named in `hostnames` (all when empty); an
/// unknown name is an error listing the known ones.
async fn select(
    engine: &Engine,
    cluster: &str,
    hostnames: &[String],
) -> Result<Vec<MachineStatus>> {
    let machines = status(engine, Some(cluster)).await?;
    if machines.is_empty() {
        return Err(Error::NoMachines {
            cluster: cluster.to_owned(),
        });
    }
    for name in hostnames {
        if !machines.iter().any(|m| &m.hostname == name) {
            let known = machines.iter().map(|m| m.hostname.as_str());
            return Err(Error::no_such_machine(cluster, name, known));
        }
    }
    Ok(machines
        .into_iter()
        .filter(|m| hostnames.is_empty() || hostnames.contains(&m.hostname))
        .collect())
}

/// Stops the named machines of `cluster` (all when `hostnames` is empty).
/// systemd shuts down cleanly on the stop signal; after 10 s it is killed.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let stopped = footloose::stop(engine, "demo", &["node1".to_owned()]).await?;
/// assert_eq!(stopped, ["demo-node1"]);
/// # Ok(()) }
/// ```
pub async fn stop(engine: &Engine, cluster: &str, hostnames: &[String]) -> Result<Vec<String>> {
    let machines = select(engine, cluster, hostnames).await?;
    let running: Vec<_> = machines
        .iter()
        .filter(|m| m.state == MachineState::Running)
        .collect();
    let results = join_all(running.iter().map(|m| async move {
        tracing::info!("Stopping machine: {} ...", m.container);
        engine.backend().stop_container(&m.container, 10).await
    }))
    .await;
    results.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(running.iter().map(|m| m.container.clone()).collect())
}

/// Starts the named stopped machines of `cluster` (all when `hostnames` is
/// empty) and waits until they are ready.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// use std::time::Duration;
///
/// let machines = footloose::start(engine, "demo", &[], "cluster-key".as_ref(), Duration::from_secs(60)).await?;
/// println!("{} machine(s) ready", machines.len());
/// # Ok(()) }
/// ```
pub async fn start(
    engine: &Engine,
    cluster: &str,
    hostnames: &[String],
    key_path: &Path,
    timeout: Duration,
) -> Result<Vec<Machine>> {
    let machines = select(engine, cluster, hostnames).await?;
    let deadline = Deadline::after(timeout);
    let key_path = Arc::new(key_path.to_owned());
    let results = join_all(machines.iter().map(|m| {
        let key_path = key_path.clone();
        async move {
            if m.state != MachineState::Running {
                tracing::info!("Starting machine: {} ...", m.container);
                let privileged = m.spec.as_ref().is_some_and(|s| s.privileged);
                start_container(engine, &m.container, privileged).await?;
            }
            let host_key = m.record.host_key.clone().ok_or_else(|| {
                Error::Machine(MachineError::NoHostKey {
                    machine: m.container.clone(),
                })
            })?;
            wait_ready(
                engine,
                &m.container,
                &m.hostname,
                &host_key,
                &key_path,
                deadline,
            )
            .await
        }
    }))
    .await;
    results.into_iter().collect()
}
