//! An engine in memory, for tests: containers, networks, volumes and
//! images as plain data, with hooks that run at named points of each call
//! so that a test injects what another process would do at that moment
//! (create the same container first, race for a network name, press
//! Ctrl-C) instead of sleeping and hoping.
//!
//! Every call yields to the scheduler before its hooks run and again
//! before it takes effect, as a real engine's round trip would, so that a
//! cancelled `create` stops at the next call. Creating calls run to their
//! end also when the caller is dropped (an interrupt), as an engine
//! carries out a request whose client went away.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::docker::settle::{single_network, NetworksByName};
use super::model::{
    labels_match as matches, ContainerInfo, ContainerStatus, NetworkInfo, VolumeInfo,
};
use super::seam::{Backend, ImageInfo, ImageRecipe, RootfsStream};
use crate::backend::error::{BackendError, EngineFailure};
use crate::container_spec::ContainerPlan;
use crate::error::{Error, Result};
use crate::host::{Capabilities, CgroupDriver, CgroupVersion, Flavour, HostFacts};

/// A point in a call at which hooks run, before the call takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// `container(name)`.
    Inspect(String),
    /// `create_container` of this name.
    CreateContainer(String),
    /// `start_container(name)`.
    StartContainer(String),
    /// `create_network` of this name.
    CreateNetwork(String),
}

/// A container held in memory.
#[derive(Debug, Clone)]
pub(crate) struct Container {
    /// What the engine reports.
    pub(crate) info: ContainerInfo,
    /// The plan it was created from (`None`: put there by a test).
    pub(crate) plan: Option<ContainerPlan>,
    /// The paths archives were unpacked at.
    pub(crate) uploads: Vec<String>,
}

/// Everything the in-memory engine holds.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Containers by name.
    pub(crate) containers: BTreeMap<String, Container>,
    /// Networks, oldest first (names need not be unique).
    pub(crate) networks: Vec<NetworkInfo>,
    /// Volume names with their labels.
    pub(crate) volumes: BTreeMap<String, HashMap<String, String>>,
    /// Images by reference.
    pub(crate) images: HashMap<String, ImageInfo>,
    /// Every call made, in order, as `verb name`.
    pub(crate) calls: Vec<String>,
    /// Errors to answer a call with instead of carrying it out, by event.
    pub(crate) failures: Vec<(Event, Error)>,
    serial: u64,
}

impl State {
    /// A fresh id, and a creation time later than every earlier one.
    fn next(&mut self) -> (String, String) {
        self.serial += 1;
        (
            format!("{:012x}", self.serial),
            format!("2026-12-01T10:00:00.{:09}Z", self.serial),
        )
    }

    /// Adds a network as another process would, returning its id.
    pub(crate) fn add_network(&mut self, name: &str, labels: HashMap<String, String>) -> String {
        let (id, created) = self.next();
        self.networks.push(NetworkInfo {
            id: id.clone(),
            name: name.to_owned(),
            created,
            labels,
        });
        id
    }

    /// Adds a container as another process would.
    pub(crate) fn add_container(
        &mut self,
        name: &str,
        status: ContainerStatus,
        labels: HashMap<String, String>,
    ) {
        self.containers.insert(
            name.to_owned(),
            Container {
                info: ContainerInfo {
                    id: format!("{:0>64}", self.containers.len() + 1),
                    name: name.to_owned(),
                    image: "footloose/debian12".to_owned(),
                    command: "/sbin/init".to_owned(),
                    status: Some(status),
                    exit_code: None,
                    error: None,
                    started_at: None,
                    labels,
                    network_mode: String::new(),
                    networks: BTreeMap::new(),
                    ports: Vec::new(),
                },
                plan: None,
                uploads: Vec::new(),
            },
        );
    }

    fn fail(&mut self, event: &Event) -> Result<()> {
        match self.failures.iter().position(|(e, _)| e == event) {
            Some(i) => Err(self.failures.remove(i).1),
            None => Ok(()),
        }
    }
}

type Hook = Box<dyn FnMut(&Event, &mut State) + Send>;

/// The in-memory engine. Clones share one state.
#[derive(Clone)]
pub(crate) struct MemoryBackend {
    state: Arc<Mutex<State>>,
    hooks: Arc<Mutex<Vec<Hook>>>,
    /// Creating requests the engine is still carrying out.
    working: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    facts: HostFacts,
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend").finish_non_exhaustive()
    }
}

/// An engine error of `kind`, as a backend reports it.
pub(crate) fn refusal(kind: EngineFailure, action: &str) -> Error {
    Error::from(BackendError::Engine {
        engine: "in-memory".to_owned(),
        action: action.to_owned(),
        kind,
        message: format!("{kind:?}"),
    })
}

impl MemoryBackend {
    /// An empty engine that behaves as Docker does (network names need
    /// not be unique).
    pub(crate) fn docker_like() -> MemoryBackend {
        MemoryBackend {
            state: Arc::default(),
            hooks: Arc::default(),
            working: Arc::default(),
            facts: HostFacts {
                cgroup: CgroupVersion::V2,
                driver: CgroupDriver::Systemd,
                flavour: Flavour::Docker,
                apparmor: false,
                capabilities: Capabilities {
                    systemd_mode: false,
                    duplicate_network_names: true,
                    default_network: "bridge",
                    user_namespaces_by_default: false,
                },
            },
        }
    }

    /// Runs `hook` at every event from now on.
    pub(crate) fn on(&self, hook: impl FnMut(&Event, &mut State) + Send + 'static) {
        self.hooks.lock().unwrap().push(Box::new(hook));
    }

    /// Waits until the engine has carried out every request it accepted,
    /// also those whose caller stopped waiting.
    pub(crate) async fn idle(&self) {
        loop {
            let working = std::mem::take(&mut *self.working.lock().unwrap());
            if working.is_empty() {
                return;
            }
            for task in working {
                let _ = task.await;
            }
        }
    }

    /// Carries out a creating request to its end, as an engine does when
    /// the client has gone away meanwhile.
    async fn to_the_end<T: Send + 'static>(
        &self,
        request: impl std::future::Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let _ = answer.send(request.await);
        });
        self.working.lock().unwrap().push(task);
        answered.await.expect("the engine answers")
    }

    /// Looks at (or changes) the state.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Records the call, runs the hooks of `event`, then `f` on the state.
    async fn call<T>(
        &self,
        verb: &str,
        event: Option<Event>,
        f: impl FnOnce(&mut State) -> Result<T>,
    ) -> Result<T> {
        tokio::task::yield_now().await;
        {
            let mut state = self.state.lock().unwrap();
            state.calls.push(verb.to_owned());
            if let Some(event) = event {
                for hook in self.hooks.lock().unwrap().iter_mut() {
                    hook(&event, &mut state);
                }
                state.fail(&event)?;
            }
        }
        // Creating takes the engine longer than looking: long enough for
        // anything else the caller does meanwhile to see it not yet made.
        let work = if verb.starts_with("create") { 50 } else { 1 };
        for _ in 0..work {
            tokio::task::yield_now().await;
        }
        f(&mut self.state.lock().unwrap())
    }
}

#[async_trait]
impl NetworksByName for MemoryBackend {
    async fn named(&self, name: &str) -> Result<Vec<NetworkInfo>> {
        self.call("list networks", None, |s| {
            Ok(s.networks
                .iter()
                .filter(|n| n.name == name)
                .cloned()
                .collect())
        })
        .await
    }

    async fn remove(&self, id: &str) -> Result<()> {
        self.remove_network(id).await
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    fn facts(&self) -> HostFacts {
        self.facts
    }

    async fn container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        let event = Event::Inspect(name.to_owned());
        self.call(&format!("inspect {name}"), Some(event), |s| {
            // By name, or by id (or a prefix of it), as Docker looks up.
            let found = s.containers.get(name).or_else(|| {
                s.containers
                    .values()
                    .find(|c| !name.is_empty() && c.info.id.starts_with(name))
            });
            Ok(found.map(|c| c.info.clone()))
        })
        .await
    }

    async fn containers(&self, selector: &[String]) -> Result<Vec<ContainerInfo>> {
        self.call("list containers", None, |s| {
            Ok(s.containers
                .values()
                .filter(|c| matches(&c.info.labels, selector))
                .map(|c| c.info.clone())
                .collect())
        })
        .await
    }

    async fn create_container(&self, plan: &ContainerPlan) -> Result<()> {
        let (me, plan) = (self.clone(), plan.clone());
        let event = Event::CreateContainer(plan.name.clone());
        let request = async move {
            me.call(&format!("create {}", plan.name), Some(event), |s| {
                if s.containers.contains_key(&plan.name) {
                    return Err(refusal(EngineFailure::Conflict, "creating a container"));
                }
                let mut networks = BTreeMap::new();
                for network in plan.network.iter().chain(&plan.extra_networks) {
                    let Some(found) = s
                        .networks
                        .iter()
                        .find(|n| &n.id == network || &n.name == network)
                    else {
                        return Err(refusal(EngineFailure::NotFound, "creating a container"));
                    };
                    networks.insert(found.name.clone(), None);
                }
                s.add_container(&plan.name, ContainerStatus::Created, plan.labels.clone());
                let container = s.containers.get_mut(&plan.name).expect("just added");
                container.info.image = plan.image.clone();
                container.info.networks = networks;
                container.plan = Some(plan.clone());
                Ok(())
            })
            .await
        };
        self.to_the_end(request).await
    }

    async fn start_container(&self, name: &str) -> Result<()> {
        let event = Event::StartContainer(name.to_owned());
        self.call(&format!("start {name}"), Some(event), |s| {
            let container = s
                .containers
                .get_mut(name)
                .ok_or_else(|| refusal(EngineFailure::NotFound, "starting a container"))?;
            container.info.status = Some(ContainerStatus::Running);
            Ok(())
        })
        .await
    }

    async fn stop_container(&self, name: &str, _grace_secs: i32) -> Result<()> {
        self.call(&format!("stop {name}"), None, |s| {
            let container = s
                .containers
                .get_mut(name)
                .ok_or_else(|| refusal(EngineFailure::NotFound, "stopping a container"))?;
            container.info.status = Some(ContainerStatus::Exited);
            Ok(())
        })
        .await
    }

    async fn remove_container(&self, name: &str) -> Result<()> {
        self.call(&format!("remove {name}"), None, |s| {
            s.containers.remove(name);
            Ok(())
        })
        .await
    }

    async fn upload(&self, name: &str, path: &str, _tar: Vec<u8>) -> Result<()> {
        self.call(&format!("upload {name}"), None, |s| {
            let container = s
                .containers
                .get_mut(name)
                .ok_or_else(|| refusal(EngineFailure::NotFound, "copying into a container"))?;
            container.uploads.push(path.to_owned());
            Ok(())
        })
        .await
    }

    async fn download(&self, name: &str, path: &str) -> Result<Option<Vec<u8>>> {
        self.call(&format!("download {name} {path}"), None, |s| {
            if !s.containers.contains_key(name) {
                return Err(refusal(EngineFailure::NotFound, "reading from a container"));
            }
            Ok(None)
        })
        .await
    }

    async fn logs_tail(&self, _name: &str, _lines: usize) -> String {
        String::new()
    }

    async fn create_network(&self, name: &str, labels: &HashMap<String, String>) -> Result<String> {
        let (me, name, labels) = (self.clone(), name.to_owned(), labels.clone());
        let unique = !self.facts.capabilities.duplicate_network_names;
        let request = async move {
            let event = Event::CreateNetwork(name.clone());
            let id = me
                .call(&format!("create network {name}"), Some(event), |s| {
                    if unique && s.networks.iter().any(|n| n.name == name) {
                        return Err(refusal(EngineFailure::Conflict, "creating a network"));
                    }
                    Ok(s.add_network(&name, labels))
                })
                .await?;
            if unique {
                return Ok(id);
            }
            // Like Docker: settle racing creators' duplicates.
            match single_network(&me, &name, Some(&id)).await? {
                Some(winner) => Ok(winner.id),
                None => Err(Error::NetworkRemoved { network: name }),
            }
        };
        self.to_the_end(request).await
    }

    async fn network(&self, name: &str) -> Result<Option<NetworkInfo>> {
        single_network(self, name, None).await
    }

    async fn networks_labelled(&self, selector: &[String]) -> Result<Vec<NetworkInfo>> {
        self.call("list networks", None, |s| {
            Ok(s.networks
                .iter()
                .filter(|n| matches(&n.labels, selector))
                .cloned()
                .collect())
        })
        .await
    }

    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        _alias: Option<&str>,
    ) -> Result<()> {
        self.call(&format!("connect {container}"), None, |s| {
            let name = s
                .networks
                .iter()
                .find(|n| n.id == network || n.name == network)
                .map(|n| n.name.clone())
                .ok_or_else(|| refusal(EngineFailure::NotFound, "connecting a network"))?;
            let container = s
                .containers
                .get_mut(container)
                .ok_or_else(|| refusal(EngineFailure::NotFound, "connecting a network"))?;
            container.info.networks.insert(name, None);
            Ok(())
        })
        .await
    }

    async fn remove_network(&self, id: &str) -> Result<()> {
        self.call(&format!("remove network {id}"), None, |s| {
            let Some(i) = s.networks.iter().position(|n| n.id == id || n.name == id) else {
                return Err(refusal(EngineFailure::NotFound, "removing a network"));
            };
            let name = s.networks[i].name.clone();
            let ids: Vec<String> = s
                .networks
                .iter()
                .filter(|n| n.name == name)
                .map(|n| n.id.clone())
                .collect();
            // A container on a name is on the oldest network of that name.
            let in_use = ids.first() == Some(&s.networks[i].id)
                && s.containers
                    .values()
                    .any(|c| c.info.networks.contains_key(&name));
            if in_use {
                return Err(refusal(EngineFailure::InUse, "removing a network"));
            }
            s.networks.remove(i);
            Ok(())
        })
        .await
    }

    async fn volumes(&self, selector: &[String]) -> Result<Vec<VolumeInfo>> {
        self.call("list volumes", None, |s| {
            Ok(s.volumes
                .iter()
                .filter(|(_, labels)| matches(labels, selector))
                .map(|(name, labels)| VolumeInfo::new(name, labels.clone()))
                .collect())
        })
        .await
    }

    /// As Docker does: a taken name hands back the volume that has it.
    async fn create_volume(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<VolumeInfo> {
        self.call(&format!("create volume {name}"), None, |s| {
            let labels = s
                .volumes
                .entry(name.to_owned())
                .or_insert_with(|| labels.clone());
            Ok(VolumeInfo::new(name, labels.clone()))
        })
        .await
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        self.call(&format!("remove volume {name}"), None, |s| {
            s.volumes
                .remove(name)
                .map(|_| ())
                .ok_or_else(|| refusal(EngineFailure::NotFound, "removing a volume"))
        })
        .await
    }

    async fn image(&self, reference: &str) -> Result<Option<ImageInfo>> {
        self.call("inspect image", None, |s| {
            Ok(s.images.get(reference).cloned())
        })
        .await
    }

    async fn pull_image(&self, reference: &str) -> Result<()> {
        self.call(&format!("pull {reference}"), None, |_| {
            Err(refusal(EngineFailure::Other, "pulling (no registry)"))
        })
        .await
    }

    async fn import_image(&self, _rootfs: RootfsStream, reference: &str) -> Result<()> {
        self.call(&format!("import {reference}"), None, |s| {
            s.images.insert(reference.to_owned(), ImageInfo::default());
            Ok(())
        })
        .await
    }

    async fn build_image(
        &self,
        recipe: ImageRecipe<'_>,
        _on_line: &mut (dyn for<'l> FnMut(&'l str) + Send + '_),
    ) -> Result<()> {
        self.call(&format!("build {}", recipe.tag), None, |s| {
            let labels = recipe
                .labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let (id, _) = s.next();
            s.images
                .insert(recipe.tag.to_owned(), ImageInfo { id, labels });
            Ok(())
        })
        .await
    }

    async fn remove_image(&self, id: &str) -> Result<()> {
        self.call(&format!("remove image {id}"), None, |s| {
            s.images.retain(|_, image| image.id != id);
            Ok(())
        })
        .await
    }
}
