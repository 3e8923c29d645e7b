//! [`DockerBackend`]: footloose's [`Backend`] over bollard, for Docker and
//! Podman's compatible service.

use std::collections::HashMap;

use async_trait::async_trait;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
    ListContainersOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;

use super::connect::{self, ConnectError};
use super::refusal::{engine_name, error, found, label_filter};
use super::settle::{self, NetworksByName};
use super::{images, networks, request, response};
use crate::backend::error::{BackendError, EngineFailure};
use crate::backend::model::{labels_match, ContainerInfo, NetworkInfo, VolumeInfo};
use crate::backend::seam::{Backend, BaseImage, ImageInfo, ImageRecipe, RootfsStream};
use crate::container_spec::ContainerPlan;
use crate::error::{Error, Result};
use crate::host::{Flavour, HostFacts};

/// A connection to a Docker-API engine.
#[derive(Debug, Clone)]
pub(crate) struct DockerBackend {
    docker: Docker,
    facts: HostFacts,
}

impl DockerBackend {
    /// Connects to the engine at `endpoint`, written as `DOCKER_HOST` is;
    /// with `tls` (the client certificates' directory), over TLS as the
    /// `docker` CLI connects from its TLS variables.
    pub(crate) async fn connect(
        endpoint: &str,
        tls: Option<&std::path::Path>,
    ) -> std::result::Result<Self, ConnectError> {
        let (docker, facts) = connect::connect(endpoint, tls).await?;
        Ok(DockerBackend { docker, facts })
    }

    /// The engine error for a refusal of a request made while `action`,
    /// naming this engine (Docker or Podman).
    fn refused(&self, action: impl Into<String>, e: bollard::errors::Error) -> Error {
        error(self.facts.flavour, action, e)
    }
}

#[async_trait]
impl NetworksByName for DockerBackend {
    async fn named(&self, name: &str) -> Result<Vec<NetworkInfo>> {
        networks::named(&self.docker, self.facts.flavour, name).await
    }

    async fn remove(&self, id: &str) -> Result<()> {
        networks::remove(&self.docker, self.facts.flavour, id).await
    }
}

#[async_trait]
impl Backend for DockerBackend {
    fn facts(&self) -> HostFacts {
        self.facts
    }

    async fn container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        let mut attempts = 0;
        loop {
            match self.docker.inspect_container(name, None).await {
                Err(e) if in_passing_state(&e) && attempts < PASSING_STATE_TRIES => {
                    attempts += 1;
                    tokio::time::sleep(PASSING_STATE_WAIT).await;
                }
                Err(e) if in_passing_state(&e) => {
                    return Err(Error::from(BackendError::Engine {
                        engine: engine_name(self.facts.flavour).to_owned(),
                        action: format!("inspecting container {name}"),
                        kind: EngineFailure::Transient,
                        message: e.to_string(),
                    }))
                }
                result => {
                    return found(
                        result
                            .map(|info| response::from_inspect(&info))
                            .map_err(|e| self.refused(format!("inspecting container {name}"), e)),
                    )
                }
            }
        }
    }

    async fn containers(&self, selector: &[String]) -> Result<Vec<ContainerInfo>> {
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&label_filter(selector))
            .build();
        let mut attempts = 0;
        let list = loop {
            match self.docker.list_containers(Some(options.clone())).await {
                // Listing is what delete and the janitor start with: it waits
                // longer for one container's state to pass.
                Err(e) if in_passing_state(&e) && attempts < 5 * PASSING_STATE_TRIES => {
                    attempts += 1;
                    tokio::time::sleep(PASSING_STATE_WAIT).await;
                }
                Err(e) if in_passing_state(&e) => {
                    return Err(Error::from(BackendError::Engine {
                        engine: engine_name(self.facts.flavour).to_owned(),
                        action: "listing containers".into(),
                        kind: EngineFailure::Transient,
                        message: e.to_string(),
                    }))
                }
                result => break result.map_err(|e| self.refused("listing containers", e))?,
            }
        };
        // Filtered again, as volumes and networks are (Podman's filters).
        Ok(list
            .iter()
            .map(response::from_summary)
            .filter(|c| labels_match(&c.labels, selector))
            .collect())
    }

    async fn create_container(&self, plan: &ContainerPlan) -> Result<()> {
        let options = CreateContainerOptionsBuilder::default()
            .name(&plan.name)
            .build();
        self.docker
            .create_container(Some(options), request::create_body(plan))
            .await
            .map(|_| ())
            .map_err(|e| self.refused(format!("creating container {}", plan.name), e))
    }

    async fn start_container(&self, name: &str) -> Result<()> {
        match self.docker.start_container(name, None).await {
            Ok(()) => Ok(()),
            Err(e) => match self.refused(format!("starting {name}"), e) {
                err if err.engine_failure() == Some(EngineFailure::NotModified) => Ok(()),
                err => Err(err),
            },
        }
    }

    async fn stop_container(&self, name: &str, grace_secs: i32) -> Result<()> {
        let options = StopContainerOptionsBuilder::default().t(grace_secs).build();
        self.docker
            .stop_container(name, Some(options))
            .await
            .map_err(|e| self.refused(format!("stopping {name}"), e))
    }

    async fn remove_container(&self, name: &str) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) => match self.refused(format!("removing container {name}"), e) {
                err if matches!(
                    err.engine_failure(),
                    Some(EngineFailure::NotFound | EngineFailure::Conflict)
                ) =>
                {
                    Ok(())
                }
                err => Err(err),
            },
        }
    }

    async fn upload(&self, name: &str, path: &str, tar: Vec<u8>) -> Result<()> {
        let options = UploadToContainerOptionsBuilder::default()
            .path(path)
            .build();
        self.docker
            .upload_to_container(name, Some(options), bollard::body_full(tar.into()))
            .await
            .map_err(|e| self.refused(format!("copying files into {name}"), e))
    }

    async fn download(&self, name: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let options = DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let mut stream = self.docker.download_from_container(name, Some(options));
        let mut tar = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => tar.extend_from_slice(&bytes),
                Err(e) => return found(Err(self.refused(format!("reading {path} in {name}"), e))),
            }
        }
        Ok(Some(tar))
    }

    async fn logs_tail(&self, name: &str, lines: usize) -> String {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(name, Some(options));
        let mut text = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        text
    }

    async fn create_network(&self, name: &str, labels: &HashMap<String, String>) -> Result<String> {
        let id = networks::create(&self.docker, self.facts.flavour, name, labels).await?;
        if !self.facts.capabilities.duplicate_network_names {
            return Ok(id);
        }
        match settle::single_network(self, name, Some(&id)).await? {
            Some(winner) => Ok(winner.id),
            None => Err(Error::NetworkRemoved {
                network: name.to_owned(),
            }),
        }
    }

    async fn network(&self, name: &str) -> Result<Option<NetworkInfo>> {
        settle::single_network(self, name, None).await
    }

    /// Filtered again here: Podman 4's compatible API takes several label
    /// filters as "any of", not "all of".
    async fn networks_labelled(&self, selector: &[String]) -> Result<Vec<NetworkInfo>> {
        let mut found =
            networks::list(&self.docker, self.facts.flavour, label_filter(selector)).await?;
        found.retain(|n| labels_match(&n.labels, selector));
        Ok(found)
    }

    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        alias: Option<&str>,
    ) -> Result<()> {
        networks::connect(&self.docker, self.facts.flavour, network, container, alias).await
    }

    async fn remove_network(&self, id: &str) -> Result<()> {
        networks::remove(&self.docker, self.facts.flavour, id).await
    }

    /// Filtered again here: Podman 4's compatible API takes several label
    /// filters as "any of", not "all of" (the volumes of every cluster for
    /// one cluster's).
    async fn volumes(&self, selector: &[String]) -> Result<Vec<VolumeInfo>> {
        let mut found =
            networks::volumes(&self.docker, self.facts.flavour, label_filter(selector)).await?;
        found.retain(|v| labels_match(&v.labels, selector));
        Ok(found)
    }

    async fn create_volume(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<VolumeInfo> {
        networks::create_volume(&self.docker, self.facts.flavour, name, labels).await
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        networks::remove_volume(&self.docker, self.facts.flavour, name).await
    }

    async fn image(&self, reference: &str) -> Result<Option<ImageInfo>> {
        images::inspect(&self.docker, self.facts.flavour, reference).await
    }

    async fn pull_image(&self, reference: &str) -> Result<()> {
        images::pull(&self.docker, self.facts.flavour, reference).await
    }

    async fn import_image(&self, rootfs: RootfsStream, reference: &str) -> Result<()> {
        images::import(&self.docker, self.facts.flavour, rootfs, reference).await
    }

    async fn build_image(
        &self,
        recipe: ImageRecipe<'_>,
        on_line: &mut (dyn for<'l> FnMut(&'l str) + Send + '_),
    ) -> Result<()> {
        let base = match recipe.base {
            BaseImage::Named(name) => name.to_owned(),
            // Podman's import ignores a separate tag and files short names
            // under docker.io, and its build resolves a short `FROM` there:
            // its local images are named in full.
            BaseImage::Imported(name) => match self.facts.flavour {
                Flavour::Podman => format!("localhost/{name}"),
                Flavour::Docker | Flavour::Incus => name.to_owned(),
            },
        };
        images::build(&self.docker, self.facts.flavour, &recipe, &base, on_line).await
    }

    async fn remove_image(&self, id: &str) -> Result<()> {
        images::remove(&self.docker, self.facts.flavour, id).await
    }
}

/// How often, and how far apart, an answer naming a state Docker's API does
/// not have is asked again.
const PASSING_STATE_TRIES: u32 = 20;
const PASSING_STATE_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// Podman (4.3 seen) reports a container that just stopped, before its
/// clean-up, as `stopped`, a state Docker's API does not have: the answer
/// cannot be read. The state passes (it becomes `exited`, or `running`
/// again under a restart policy), so it is asked again for a while, then
/// reported as [`EngineFailure::Transient`]; waiting for a reboot (which
/// Podman's clean-up process carries out, seen taking a minute) goes on.
fn in_passing_state(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::JsonDataError { .. }
            | bollard::errors::Error::JsonSerdeError { .. }
    ) && error.to_string().contains("unknown variant `stopped`")
}
