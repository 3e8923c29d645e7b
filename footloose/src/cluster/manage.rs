//! Operations on existing clusters, found by their labels: whatever the
//! config file says now, the engine's labels say what belongs to whom.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::future::join_all;
use serde::Serialize;

use super::create::start_container;
use super::inspect::{MachineState, MachineStatus};
use super::ready::{wait_ready, Deadline};
use crate::engine::Engine;
use crate::error::{is_not_found, EngineFailure, Error, Result};
use crate::labels::{self, Lifetime};
use crate::ownership::{Ownership, Verdict};
use crate::Machine;

/// What a delete or prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// Container names.
    pub containers: Vec<String>,
    /// Network names.
    pub networks: Vec<String>,
    /// Named volumes (anonymous ones go with their containers).
    pub volumes: Vec<String>,
}

/// Every machine of `cluster` (or of every cluster), running or not, in
/// configuration order.
///
/// ```no_run
/// # async fn demo() -> footloose::Result<()> {
/// let engine = footloose::engine::Engine::connect().await?;
/// for machine in footloose::status(&engine, Some("cluster")).await? {
///     println!("{} {}", machine.hostname, machine.state);
/// }
/// # Ok(()) }
/// ```
pub async fn status(engine: &Engine, cluster: Option<&str>) -> Result<Vec<MachineStatus>> {
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&labels::filter(cluster))
        .build();
    let containers = engine
        .docker()
        .list_containers(Some(options))
        .await
        .map_err(|e| Error::engine("listing machines", e))?;
    let mut machines: Vec<MachineStatus> =
        containers.iter().map(MachineStatus::from_summary).collect();
    machines.sort_by(|a, b| {
        (&a.cluster, a.order, &a.hostname).cmp(&(&b.cluster, b.order, &b.hostname))
    });
    Ok(machines)
}

/// The names of every cluster on the engine.
pub async fn list_clusters(engine: &Engine) -> Result<BTreeSet<String>> {
    Ok(status(engine, None)
        .await?
        .into_iter()
        .map(|m| m.cluster)
        .collect())
}

/// Removes every container (with its anonymous volumes) and named volume
/// labelled with `cluster`, and the networks it made or used that
/// footloose made, unless machines of another cluster still use them.
///
/// ```no_run
/// # async fn demo() -> footloose::Result<()> {
/// let engine = footloose::engine::Engine::connect().await?;
/// let removed = footloose::delete(&engine, "cluster").await?;
/// println!("removed {} machine(s)", removed.containers.len());
/// # Ok(()) }
/// ```
pub async fn delete(engine: &Engine, cluster: &str) -> Result<Removed> {
    let removed = remove_labelled(engine, Some(cluster)).await?;
    // Its known_hosts and inventory, if this host wrote any.
    let _ = std::fs::remove_dir_all(crate::paths::state_dir(cluster));
    Ok(removed)
}

/// Removes everything footloose made on the engine, of `cluster` only when
/// given. A network still used by a machine of another cluster stays.
pub async fn prune(engine: &Engine, cluster: Option<&str>) -> Result<Removed> {
    remove_labelled(engine, cluster).await
}

/// The ownership of every test cluster on the engine, one entry per
/// cluster, read from its machines and networks.
pub async fn test_clusters(engine: &Engine) -> Result<Vec<Ownership>> {
    let mut filters = labels::filter(None);
    filters
        .get_mut("label")
        .expect("filter has labels")
        .push(format!("{}={}", labels::LIFETIME, Lifetime::Test.as_str()));
    let containers = engine
        .docker()
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(|e| Error::engine("listing test machines", e))?;
    let networks = engine
        .docker()
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(|e| Error::engine("listing test networks", e))?;
    let mut clusters: BTreeMap<String, Ownership> = BTreeMap::new();
    let label_sets = containers
        .into_iter()
        .filter_map(|c| c.labels)
        .chain(networks.into_iter().filter_map(|n| n.labels));
    for label_set in label_sets {
        if let Some(ownership) = Ownership::from_labels(&label_set) {
            clusters
                .entry(ownership.cluster.clone())
                .or_insert(ownership);
        }
    }
    Ok(clusters.into_values().collect())
}

/// Removes the test clusters that no process can be shown to hold: owner
/// provably gone, or unseen with its lease run out (see
/// [`Ownership::verdict`]). Returns each removed cluster with the reason.
pub async fn prune_abandoned(engine: &Engine) -> Result<Vec<(String, Verdict)>> {
    let now = SystemTime::now();
    let mut removed = Vec::new();
    for ownership in test_clusters(engine).await? {
        let verdict = ownership.verdict(now);
        if verdict != Verdict::Keep {
            delete(engine, &ownership.cluster).await?;
            removed.push((ownership.cluster, verdict));
        }
    }
    Ok(removed)
}

async fn remove_labelled(engine: &Engine, cluster: Option<&str>) -> Result<Removed> {
    let filters = labels::filter(cluster);
    let containers = status(engine, cluster).await?;
    let used: BTreeSet<&str> = containers
        .iter()
        .flat_map(|m| m.networks.iter().map(String::as_str))
        .collect();
    let results = join_all(
        containers
            .iter()
            .map(|m| remove_container(engine, &m.container)),
    )
    .await;
    let mut removed = Removed::default();
    for (machine, result) in containers.iter().zip(results) {
        result?;
        removed.containers.push(machine.container.clone());
    }
    // Every network footloose made is a candidate when it is this
    // cluster's, or one its machines used (made by another cluster that
    // shares its name); the engine refuses to remove one still in use.
    let networks = engine
        .docker()
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&labels::filter(None))
                .build(),
        ))
        .await
        .map_err(|e| Error::engine("listing networks", e))?;
    for network in networks {
        let (Some(name), Some(id)) = (network.name, network.id) else {
            continue;
        };
        let owner = network.labels.as_ref().and_then(|l| l.get(labels::CLUSTER));
        let candidate = match cluster {
            None => true,
            Some(cluster) => {
                owner.map(String::as_str) == Some(cluster) || used.contains(name.as_str())
            }
        };
        if !candidate {
            continue;
        }
        match engine.docker().remove_network(&id).await {
            Ok(()) => removed.networks.push(name),
            Err(e) => match Error::engine(format!("removing network {name}"), e) {
                err if err.engine_failure() == Some(EngineFailure::NotFound) => {}
                err if matches!(
                    err.engine_failure(),
                    Some(EngineFailure::Forbidden | EngineFailure::Conflict)
                ) =>
                {
                    tracing::info!("Keeping network {name}: machines of another cluster use it");
                }
                err => return Err(err),
            },
        }
    }
    let volumes = engine
        .docker()
        .list_volumes(Some(
            ListVolumesOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(|e| Error::engine("listing volumes", e))?;
    for volume in volumes.volumes.into_iter().flatten() {
        match engine
            .docker()
            .remove_volume(
                &volume.name,
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
        {
            Ok(()) => removed.volumes.push(volume.name),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(Error::engine(format!("removing volume {}", volume.name), e)),
        }
    }
    Ok(removed)
}

/// Force-removes a container and its anonymous volumes; a missing one is
/// not an error.
pub(crate) async fn remove_container(engine: &Engine, name: &str) -> Result<()> {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    match engine.docker().remove_container(name, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        // Removal already under way (another delete): wait for it to finish.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => Ok(()),
        Err(e) => Err(Error::engine(format!("removing container {name}"), e)),
    }
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
        return Err(Error::Invalid(format!(
            "cluster {cluster} has no machines; create it with `footloose create`"
        )));
    }
    for name in hostnames {
        if !machines.iter().any(|m| &m.hostname == name) {
            return Err(Error::NoSuchMachine {
                cluster: cluster.to_owned(),
                name: name.clone(),
                known: machines
                    .iter()
                    .map(|m| m.hostname.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(machines
        .into_iter()
        .filter(|m| hostnames.is_empty() || hostnames.contains(&m.hostname))
        .collect())
}

/// Stops the named machines of `cluster` (all when `hostnames` is empty).
/// systemd shuts down cleanly on the stop signal; after 10 s it is killed.
pub async fn stop(engine: &Engine, cluster: &str, hostnames: &[String]) -> Result<Vec<String>> {
    let machines = select(engine, cluster, hostnames).await?;
    let running: Vec<_> = machines
        .iter()
        .filter(|m| m.state == MachineState::Running)
        .collect();
    let results = join_all(running.iter().map(|m| async move {
        tracing::info!("Stopping machine: {} ...", m.container);
        let options = StopContainerOptionsBuilder::default().t(10).build();
        engine
            .docker()
            .stop_container(&m.container, Some(options))
            .await
            .map_err(|e| Error::engine(format!("stopping {}", m.container), e))
    }))
    .await;
    results.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(running.iter().map(|m| m.container.clone()).collect())
}

/// Starts the named stopped machines of `cluster` (all when `hostnames` is
/// empty) and waits until they are ready.
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
                let privileged = m.spec.get("privileged").and_then(|p| p.as_bool()) == Some(true);
                start_container(engine, &m.container, privileged).await?;
            }
            let host_key = host_key_of(engine, &m.container).await?;
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

/// The pinned host key of a container, from its label.
pub(crate) async fn host_key_of(engine: &Engine, container: &str) -> Result<String> {
    let info = engine
        .docker()
        .inspect_container(container, None)
        .await
        .map_err(|e| Error::engine(format!("inspecting {container}"), e))?;
    info.config
        .and_then(|c| c.labels)
        .and_then(|l| l.get(labels::HOST_KEY).cloned())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{container} has no host key label; it was not made by this footloose"
            ))
        })
}
