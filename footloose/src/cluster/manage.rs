//! Operations on existing clusters, found by their labels: whatever the
//! config file says now, the engine's labels say what belongs to whom.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

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
use crate::error::{is_not_found, Error, Result};
use crate::labels;
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

/// Removes every container (with its anonymous volumes), network and named
/// volume labelled with `cluster`.
///
/// ```no_run
/// # async fn demo() -> footloose::Result<()> {
/// let engine = footloose::engine::Engine::connect().await?;
/// let removed = footloose::delete(&engine, "cluster").await?;
/// println!("removed {} machine(s)", removed.containers.len());
/// # Ok(()) }
/// ```
pub async fn delete(engine: &Engine, cluster: &str) -> Result<Removed> {
    remove_labelled(engine, Some(cluster)).await
}

/// Removes everything footloose made on the engine, of `cluster` only when
/// given.
pub async fn prune(engine: &Engine, cluster: Option<&str>) -> Result<Removed> {
    remove_labelled(engine, cluster).await
}

async fn remove_labelled(engine: &Engine, cluster: Option<&str>) -> Result<Removed> {
    let filters = labels::filter(cluster);
    let containers = status(engine, cluster).await?;
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
    let networks = engine
        .docker()
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(|e| Error::engine("listing networks", e))?;
    for network in networks {
        let Some(name) = network.name else { continue };
        match engine.docker().remove_network(&name).await {
            Ok(()) => removed.networks.push(name),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(Error::engine(format!("removing network {name}"), e)),
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
