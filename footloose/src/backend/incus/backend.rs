//! [`IncusBackend`]: footloose's [`Backend`] over Incus's REST API.

use std::collections::HashMap;

use async_trait::async_trait;
use hyper::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::client::{ApiError, Client};
use super::instances::{self, Instance};
use super::refusal::{already, refused, BUSY_TRIES, BUSY_WAIT, ENGINE};
use super::{files, images, keys, networks};
use crate::backend::error::{BackendError, EngineFailure};
use crate::backend::model::{ContainerInfo, NetworkInfo, VolumeInfo};
use crate::backend::seam::{Backend, ImageInfo, ImageRecipe, RootfsStream};
use crate::container_spec::{ContainerPlan, MountPlan};
use crate::error::{Error, Result};
use crate::host::HostFacts;

/// A connection to an Incus daemon, in one project.
#[derive(Debug, Clone)]
pub(crate) struct IncusBackend {
    pub(super) client: Client,
    pub(super) facts: HostFacts,
    /// The network the default profile puts instances on.
    pub(super) default_network: String,
    /// The storage pool the default profile puts instances in.
    pub(super) pool: String,
    /// The daemon is a member of a cluster: machines land on any member.
    pub(super) clustered: bool,
}

impl IncusBackend {
    async fn instance(&self, name: &str) -> std::result::Result<Option<Instance>, ApiError> {
        let found: Option<Instance> = self.client.find(&format!("/1.0/instances/{name}")).await?;
        match found {
            // The state is asked for apart, and only of a running instance:
            // Incus cannot say it while the instance stops ("Invalid PID"):
            // then it has no addresses to report.
            Some(mut instance) if instance.status == "Running" => {
                let path = format!("/1.0/instances/{name}/state");
                instance.state = self.client.find(&path).await.ok().flatten();
                Ok(Some(instance))
            }
            other => Ok(other),
        }
    }

    async fn change_state(&self, name: &str, body: Value) -> std::result::Result<(), ApiError> {
        self.client
            .call(Method::PUT, &format!("/1.0/instances/{name}/state"), &body)
            .await
            .map(drop)
    }

    /// Makes the named volumes and anonymous volumes `plan` mounts that
    /// are not there yet, with their labels.
    async fn make_volumes(&self, plan: &ContainerPlan) -> Result<()> {
        for (index, mount) in plan.mounts.iter().enumerate() {
            let MountPlan::Volume { name, labels, .. } = mount else {
                continue;
            };
            let name = name
                .clone()
                .unwrap_or_else(|| instances::anonymous_volume(&plan.name, index));
            // One that is there already (another machine's) is used as it is.
            self.create_volume(&name, labels).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Backend for IncusBackend {
    fn facts(&self) -> HostFacts {
        self.facts
    }

    async fn container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        let found = self
            .instance(name)
            .await
            .map_err(|e| refused(format!("inspecting instance {name}"), e))?;
        Ok(found.map(|instance| instance.info()))
    }

    async fn containers(&self, selector: &[String]) -> Result<Vec<ContainerInfo>> {
        let all: Vec<Instance> = self
            .client
            .get("/1.0/instances?recursion=2")
            .await
            .map_err(|e| refused("listing instances", e))?;
        let mut found = Vec::new();
        for listed in all {
            // An instance being stopped or deleted may be listed with no
            // config at all (status `Error`): its labels are read from it
            // alone, else it would look like someone else's.
            let instance = if listed.config.is_empty() {
                match self.instance(&listed.name).await {
                    Ok(Some(instance)) => instance,
                    Ok(None) => continue,
                    Err(e) => {
                        return Err(refused(format!("inspecting instance {}", listed.name), e))
                    }
                }
            } else {
                listed
            };
            if keys::matches(&instance.config, selector) {
                found.push(instance.info());
            }
        }
        Ok(found)
    }

    async fn create_container(&self, plan: &ContainerPlan) -> Result<()> {
        let alias = images::alias(&plan.image);
        let request =
            instances::create_request(plan, alias, &self.pool, self.clustered).map_err(|e| {
                Error::from(BackendError::Engine {
                    engine: ENGINE.to_owned(),
                    action: format!("creating instance {}", plan.name),
                    kind: EngineFailure::Other,
                    message: e.to_string(),
                })
            })?;
        self.make_volumes(plan).await?;
        let action = format!("creating instance {}", plan.name);
        match self
            .client
            .call(Method::POST, "/1.0/instances", &request)
            .await
        {
            Ok(_) => {}
            Err(e) if already(&e, "exists") => {
                return Err(refused(
                    action,
                    ApiError::Refused {
                        status: 409,
                        message: e.to_string(),
                    },
                ))
            }
            Err(e) => return Err(refused(action, e)),
        }
        // The machine's side of the guest contract on Incus: its hostname,
        // its network, and reboots left to Incus (see `guest.rs`).
        let first = match &plan.network {
            Some(network) => networks::incus_name(network),
            None => self.default_network.clone(),
        };
        let resolver = networks::resolver(&self.client, &first).await?;
        if let Some(network) = &plan.network {
            networks::add_alias(&self.client, network, &plan.hostname, &plan.name).await?;
        }
        let guest = super::guest::files(&plan.hostname, resolver.as_ref()).map_err(|source| {
            Error::Pack {
                what: format!("the network set-up of {}", plan.name),
                source,
            }
        })?;
        files::unpack(&self.client, &plan.name, "/", &guest)
            .await
            .map_err(|e| refused(format!("preparing instance {}", plan.name), e))
    }

    async fn start_container(&self, name: &str) -> Result<()> {
        match self.change_state(name, json!({"action": "start"})).await {
            Ok(()) => Ok(()),
            Err(e) if already(&e, "running") => Ok(()),
            Err(e) => Err(refused(format!("starting instance {name}"), e)),
        }
    }

    async fn stop_container(&self, name: &str, grace_secs: i32) -> Result<()> {
        let graceful = json!({"action": "stop", "timeout": grace_secs.max(1), "force": false});
        match self.change_state(name, graceful).await {
            Ok(()) => Ok(()),
            Err(e) if already(&e, "stopped") => Ok(()),
            Err(_) => match self
                .change_state(name, json!({"action": "stop", "force": true}))
                .await
            {
                Ok(()) => Ok(()),
                Err(e) if already(&e, "stopped") => Ok(()),
                Err(e) => Err(refused(format!("stopping instance {name}"), e)),
            },
        }
    }

    async fn remove_container(&self, name: &str) -> Result<()> {
        let action = format!("removing instance {name}");
        let Some(instance) = self.instance(name).await.map_err(|e| refused(&action, e))? else {
            return Ok(());
        };
        // Stopped (force), then deleted; again while Incus says the
        // instance is busy (restarting after a reboot in it, or being
        // stopped by another remover), until it is gone.
        let mut tries = 0;
        loop {
            let stopped = match self
                .change_state(name, json!({"action": "stop", "force": true}))
                .await
            {
                Ok(()) => Ok(()),
                Err(e) if already(&e, "stopped") || e.status() == Some(404) => Ok(()),
                Err(e) => Err(e),
            };
            let deleted = match stopped {
                Ok(()) => self.client.delete(&format!("/1.0/instances/{name}")).await,
                Err(e) => Err(e),
            };
            match deleted {
                Ok(()) => break,
                Err(e) if e.status() == Some(404) => return Ok(()),
                Err(e) => {
                    // Someone else may have removed it meanwhile.
                    if self
                        .instance(name)
                        .await
                        .map_err(|e| refused(&action, e))?
                        .is_none()
                    {
                        return Ok(());
                    }
                    if tries >= BUSY_TRIES {
                        return Err(refused(&action, e));
                    }
                    tries += 1;
                    tokio::time::sleep(BUSY_WAIT).await;
                }
            }
        }
        // Its names on footloose's networks go with it.
        for config in instance.expanded_devices.values() {
            let network = config
                .get("network")
                .filter(|n| **n != self.default_network);
            if let (Some("nic"), Some(network)) = (config.get("type").map(String::as_str), network)
            {
                let _ = networks::remove_aliases(&self.client, network, name).await;
            }
        }
        // Its anonymous volumes go with it.
        for (device, config) in &instance.expanded_devices {
            let anonymous = config.get("source").is_some_and(|source| {
                device.starts_with("mount") && source.starts_with(&format!("{name}-mount"))
            });
            if anonymous {
                let _ = self.remove_volume(&config["source"]).await;
            }
        }
        Ok(())
    }

    async fn upload(&self, name: &str, path: &str, tar: Vec<u8>) -> Result<()> {
        files::unpack(&self.client, name, path, &tar)
            .await
            .map_err(|e| refused(format!("copying files into instance {name}"), e))
    }

    async fn download(&self, name: &str, path: &str) -> Result<Option<Vec<u8>>> {
        files::pack(&self.client, name, path)
            .await
            .map_err(|e| refused(format!("reading {path} of instance {name}"), e))
    }

    async fn logs_tail(&self, name: &str, lines: usize) -> String {
        let Ok(log) = self
            .client
            .get_raw(&format!("/1.0/instances/{name}/console"))
            .await
        else {
            return String::new();
        };
        let text = String::from_utf8_lossy(&log).replace('\r', "");
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    async fn create_network(&self, name: &str, labels: &HashMap<String, String>) -> Result<String> {
        networks::create(&self.client, name, labels).await
    }

    async fn network(&self, name: &str) -> Result<Option<NetworkInfo>> {
        networks::find(&self.client, name).await
    }

    async fn networks_labelled(&self, selector: &[String]) -> Result<Vec<NetworkInfo>> {
        networks::labelled(&self.client, selector).await
    }

    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        alias: Option<&str>,
    ) -> Result<()> {
        networks::attach(&self.client, network, container).await?;
        match alias {
            Some(alias) => networks::add_alias(&self.client, network, alias, container).await,
            None => Ok(()),
        }
    }

    async fn remove_network(&self, id: &str) -> Result<()> {
        networks::remove(&self.client, id).await
    }

    async fn volumes(&self, selector: &[String]) -> Result<Vec<VolumeInfo>> {
        #[derive(Deserialize)]
        struct Volume {
            name: String,
            #[serde(default, deserialize_with = "super::instances::nullable")]
            config: HashMap<String, String>,
        }
        let path = format!(
            "/1.0/storage-pools/{}/volumes/custom?recursion=1",
            self.pool
        );
        let all: Vec<Volume> = self
            .client
            .get(&path)
            .await
            .map_err(|e| refused("listing volumes", e))?;
        Ok(all
            .into_iter()
            .filter(|v| keys::matches(&v.config, selector))
            .map(|v| VolumeInfo::new(&v.name, keys::labels(&v.config)))
            .collect())
    }

    /// Incus refuses a taken volume name (409): the volume that holds it
    /// is read back, as Docker would have answered.
    async fn create_volume(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<VolumeInfo> {
        #[derive(Deserialize)]
        struct Volume {
            #[serde(default, deserialize_with = "super::instances::nullable")]
            config: HashMap<String, String>,
        }
        let path = format!("/1.0/storage-pools/{}/volumes/custom", self.pool);
        let config: HashMap<String, String> = keys::config(labels).collect();
        match self
            .client
            .call(
                Method::POST,
                &path,
                &json!({"name": name, "config": config}),
            )
            .await
        {
            Ok(_) => Ok(VolumeInfo::new(name, labels.clone())),
            Err(e) if e.status() == Some(409) || already(&e, "exists") => {
                let existing: Volume = self
                    .client
                    .get(&format!("{path}/{name}"))
                    .await
                    .map_err(|e| refused(format!("reading volume {name}"), e))?;
                Ok(VolumeInfo::new(name, keys::labels(&existing.config)))
            }
            Err(e) => Err(refused(format!("creating volume {name}"), e)),
        }
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        let path = format!("/1.0/storage-pools/{}/volumes/custom/{name}", self.pool);
        match self.client.delete(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(refused(format!("removing volume {name}"), e)),
        }
    }

    async fn image(&self, reference: &str) -> Result<Option<ImageInfo>> {
        images::find(&self.client, reference)
            .await
            .map_err(|e| refused(format!("inspecting image {reference}"), e))
    }

    async fn pull_image(&self, reference: &str) -> Result<()> {
        Err(Error::from(BackendError::Image {
            image: reference.to_owned(),
            reason: "footloose does not pull images into Incus: import or build it (`footloose image build`), or copy it from an image server with `incus image copy`".to_owned(),
        }))
    }

    async fn import_image(&self, rootfs: RootfsStream, reference: &str) -> Result<()> {
        images::import(&self.client, rootfs, reference)
            .await
            .map_err(|e| refused(format!("importing image {reference}"), e))
    }

    async fn build_image(
        &self,
        recipe: ImageRecipe<'_>,
        on_line: &mut (dyn for<'l> FnMut(&'l str) + Send + '_),
    ) -> Result<()> {
        let tag = recipe.tag.to_owned();
        images::build(&self.client, recipe, on_line)
            .await
            .map_err(|e| match e {
                images::BuildError::Api(e) => refused(format!("building image {tag}"), e),
                other => Error::from(BackendError::Image {
                    image: tag,
                    reason: other.to_string(),
                }),
            })
    }

    async fn remove_image(&self, id: &str) -> Result<()> {
        match images::remove(&self.client, id).await {
            Ok(()) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(refused(format!("removing image {id}"), e)),
        }
    }
}
