//! Networks and volumes over the Docker API.

use std::collections::HashMap;

use bollard::models::{NetworkConnectRequest, NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveVolumeOptions,
};
use bollard::Docker;

use super::refusal::error;
use super::request;
use crate::backend::error::{BackendError, EngineFailure};
use crate::backend::model::{NetworkInfo, VolumeInfo};
use crate::error::{Error, Result};
use crate::host::Flavour;

type Filters = HashMap<String, Vec<String>>;

pub(super) async fn create(
    docker: &Docker,
    flavour: Flavour,
    name: &str,
    labels: &HashMap<String, String>,
) -> Result<String> {
    let request = NetworkCreateRequest {
        name: name.to_owned(),
        driver: Some("bridge".to_owned()),
        labels: Some(labels.clone()),
        ..Default::default()
    };
    docker
        .create_network(request)
        .await
        .map(|created| created.id)
        .map_err(|e| error(flavour, format!("creating network {name}"), e))
}

pub(super) async fn list(
    docker: &Docker,
    flavour: Flavour,
    filters: Filters,
) -> Result<Vec<NetworkInfo>> {
    let options = ListNetworksOptionsBuilder::default()
        .filters(&filters)
        .build();
    let list = docker
        .list_networks(Some(options))
        .await
        .map_err(|e| error(flavour, "listing networks", e))?;
    Ok(list
        .into_iter()
        .filter_map(|n| {
            Some(NetworkInfo {
                id: n.id?,
                name: n.name?,
                created: n.created.map(|c| c.to_string()).unwrap_or_default(),
                labels: n.labels.unwrap_or_default(),
            })
        })
        .collect())
}

/// The networks named exactly `name` (the engine's filter matches parts).
pub(super) async fn named(
    docker: &Docker,
    flavour: Flavour,
    name: &str,
) -> Result<Vec<NetworkInfo>> {
    let filters = HashMap::from([("name".to_owned(), vec![name.to_owned()])]);
    let mut found = list(docker, flavour, filters).await?;
    found.retain(|n| n.name == name);
    Ok(found)
}

pub(super) async fn connect(
    docker: &Docker,
    flavour: Flavour,
    network: &str,
    container: &str,
    alias: Option<&str>,
) -> Result<()> {
    let request = NetworkConnectRequest {
        container: container.to_owned(),
        endpoint_config: alias.map(request::endpoint),
    };
    docker
        .connect_network(network, request)
        .await
        .map_err(|e| error(flavour, format!("connecting {container} to {network}"), e))
}

/// Removes a network; one that containers use is refused as `InUse`.
pub(super) async fn remove(docker: &Docker, flavour: Flavour, id: &str) -> Result<()> {
    let err = match docker.remove_network(id).await {
        Ok(()) => return Ok(()),
        Err(e) => error(flavour, format!("removing network {id}"), e),
    };
    // Docker says 403 for a network in use, Podman 500: ask which.
    if err.is_not_found() || containers_on(docker, flavour, id).await? == 0 {
        return Err(err);
    }
    match err {
        Error::Backend(BackendError::Engine {
            engine,
            action,
            message,
            ..
        }) => Err(Error::from(BackendError::Engine {
            engine,
            action,
            kind: EngineFailure::InUse,
            message,
        })),
        other => Err(other),
    }
}

/// How many containers, running or not, are attached to a network.
async fn containers_on(docker: &Docker, flavour: Flavour, id: &str) -> Result<usize> {
    let filters = HashMap::from([("network".to_owned(), vec![id.to_owned()])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    docker
        .list_containers(Some(options))
        .await
        .map(|list| list.len())
        .map_err(|e| {
            error(
                flavour,
                format!("listing the containers on network {id}"),
                e,
            )
        })
}

pub(super) async fn volumes(
    docker: &Docker,
    flavour: Flavour,
    filters: Filters,
) -> Result<Vec<VolumeInfo>> {
    let options = ListVolumesOptionsBuilder::default()
        .filters(&filters)
        .build();
    let list = docker
        .list_volumes(Some(options))
        .await
        .map_err(|e| error(flavour, "listing volumes", e))?;
    Ok(list
        .volumes
        .into_iter()
        .flatten()
        .map(|v| VolumeInfo::new(&v.name, v.labels))
        .collect())
}

/// Creates a volume unless one of that name exists; Docker answers with
/// the one that exists (under a lock of the name). Podman's compatible API
/// answers so too, but refuses a creator that raced another past its
/// check: then the volume that holds the name is read and handed back, as
/// Docker would have.
pub(super) async fn create_volume(
    docker: &Docker,
    flavour: Flavour,
    name: &str,
    labels: &HashMap<String, String>,
) -> Result<VolumeInfo> {
    let request = VolumeCreateRequest {
        name: Some(name.to_owned()),
        labels: Some(labels.clone()),
        ..Default::default()
    };
    match docker.create_volume(request).await {
        Ok(volume) => Ok(VolumeInfo::new(&volume.name, volume.labels)),
        Err(refused) => match docker.inspect_volume(name).await {
            Ok(volume) => Ok(VolumeInfo::new(&volume.name, volume.labels)),
            Err(_) => Err(error(flavour, format!("creating volume {name}"), refused)),
        },
    }
}

pub(super) async fn remove_volume(docker: &Docker, flavour: Flavour, name: &str) -> Result<()> {
    docker
        .remove_volume(name, None::<RemoveVolumeOptions>)
        .await
        .map_err(|e| error(flavour, format!("removing volume {name}"), e))
}
