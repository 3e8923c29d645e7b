//! The seam itself: what footloose asks of an engine ([`Backend`]), what
//! a connected backend is ([`Connection`], [`HostLink`]), in footloose's
//! own types.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::stream::BoxStream;

use super::model::{ContainerInfo, NetworkInfo, VolumeInfo};
use crate::container_spec::ContainerPlan;
use crate::error::Result;
use crate::host::HostFacts;
use crate::image::Recipe;

/// A root file system tarball, streamed.
pub type RootfsStream = BoxStream<'static, std::io::Result<bytes::Bytes>>;

/// A machine image to make: footloose's recipe on a base image. Each
/// backend makes it its own way (Docker's: a Dockerfile build of the
/// recipe; an engine without builds may run the recipe in a container and
/// publish it).
#[derive(Debug, Clone)]
pub struct ImageRecipe<'a> {
    /// The tag to give the image.
    pub tag: &'a str,
    /// The image it is made on.
    pub base: BaseImage<'a>,
    /// What footloose does on the base.
    pub recipe: &'a Recipe,
    /// Labels to put on the image.
    pub labels: HashMap<&'a str, &'a str>,
}

/// The base of an [`ImageRecipe`], by where it came from: an engine may
/// file the images it imported under another name than the one asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseImage<'a> {
    /// Made by [`Backend::import_image`] under this name.
    Imported(&'a str),
    /// Pulled or loaded: known to the engine by this name.
    Named(&'a str),
}

/// A connected backend, with where it was reached.
#[derive(Debug)]
pub(crate) struct Connection {
    /// What the engine does.
    pub backend: Arc<dyn Backend>,
    /// Where it was reached, as the user wrote it.
    pub endpoint: String,
    /// The address of the engine's host as this process reaches it:
    /// loopback for a local engine (and one over ssh, through its link).
    pub address: IpAddr,
    /// What carries this process's connections to ports on the engine's
    /// host, for an engine reached through ssh.
    pub link: Option<Arc<dyn HostLink>>,
}

/// What carries connections to an engine's host that this process cannot
/// make directly (an engine over ssh: the machines' published ports are on
/// that host's loopback).
#[async_trait]
pub(crate) trait HostLink: Send + Sync + std::fmt::Debug {
    /// A local address that reaches `addr` as the engine's host sees it;
    /// one per address.
    async fn forward(&self, addr: SocketAddr) -> std::io::Result<SocketAddr>;
    /// `user@host:port` of the engine's host, for OpenSSH's `ProxyJump`.
    fn jump(&self) -> String;
}

/// Everything footloose asks of an engine. See the module documentation
/// for the contract each method keeps.
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The host's cgroup set-up, the engine's flavour and capabilities.
    fn facts(&self) -> HostFacts;

    /// The container named `name`, `None` when there is none.
    async fn container(&self, name: &str) -> Result<Option<ContainerInfo>>;
    /// Every container carrying all the `key=value` labels of `selector`.
    async fn containers(&self, selector: &[String]) -> Result<Vec<ContainerInfo>>;
    /// Creates the container of `plan`, not started; a taken name is an
    /// error of kind `Conflict`.
    async fn create_container(&self, plan: &ContainerPlan) -> Result<()>;
    /// Starts a container; one already running is fine.
    async fn start_container(&self, name: &str) -> Result<()>;
    /// Stops a container, killing it after `grace_secs`.
    async fn stop_container(&self, name: &str, grace_secs: i32) -> Result<()>;
    /// Force-removes a container and its anonymous volumes; one that is
    /// gone, or being removed by someone else, is fine.
    async fn remove_container(&self, name: &str) -> Result<()>;
    /// Unpacks the tar archive `tar` at `path` in a container.
    async fn upload(&self, name: &str, path: &str, tar: Vec<u8>) -> Result<()>;
    /// The tar archive of `path` in a container (created or running),
    /// `None` when there is no such path. A symbolic link comes as the
    /// link itself, not what it points to.
    async fn download(&self, name: &str, path: &str) -> Result<Option<Vec<u8>>>;
    /// The last `lines` lines a container printed (empty when unreadable).
    async fn logs_tail(&self, name: &str, lines: usize) -> String;

    /// Creates a bridge network named `name` and returns the id of the
    /// one network of that name: a taken name is a `Conflict`; an engine
    /// that lets racing creators make two of one name settles them here
    /// (the oldest wins, and its id is returned).
    async fn create_network(&self, name: &str, labels: &HashMap<String, String>) -> Result<String>;
    /// The network named exactly `name`, `None` when there is none; once
    /// it is the only one of that name (see `create_network`).
    async fn network(&self, name: &str) -> Result<Option<NetworkInfo>>;
    /// Every network carrying all the labels of `selector`.
    async fn networks_labelled(&self, selector: &[String]) -> Result<Vec<NetworkInfo>>;
    /// Attaches a created container to a network, reachable as `alias`
    /// (`None` on the engine's default network, which refuses aliases).
    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        alias: Option<&str>,
    ) -> Result<()>;
    /// Removes a network by id or name: `InUse` while containers use it,
    /// `NotFound` when it is gone.
    async fn remove_network(&self, id: &str) -> Result<()>;

    /// Every volume carrying all the labels of `selector`.
    async fn volumes(&self, selector: &[String]) -> Result<Vec<VolumeInfo>>;
    /// Creates the volume `name` with `labels` unless one of that name is
    /// there, and returns the one that is there after the call: its labels
    /// say whose it is. Docker hands back the volume that was there (its
    /// labels, not these); an engine that refuses a taken name may say
    /// `Conflict` instead. Either way exactly one creator finds its own
    /// labels: what footloose's pools claim machines with.
    async fn create_volume(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<VolumeInfo>;
    /// Removes a volume.
    async fn remove_volume(&self, name: &str) -> Result<()>;

    /// The id and labels of the image `reference`, `None` when absent.
    async fn image(&self, reference: &str) -> Result<Option<ImageInfo>>;
    /// Pulls `reference` from its registry.
    async fn pull_image(&self, reference: &str) -> Result<()>;
    /// Imports a root file system as the base image `reference`
    /// (`repo:tag`).
    async fn import_image(&self, rootfs: RootfsStream, reference: &str) -> Result<()>;
    /// Makes the image of `recipe`, handing every line of output to
    /// `on_line`.
    async fn build_image(
        &self,
        recipe: ImageRecipe<'_>,
        on_line: &mut (dyn for<'l> FnMut(&'l str) + Send + '_),
    ) -> Result<()>;
    /// Removes an image.
    async fn remove_image(&self, id: &str) -> Result<()>;
}

/// An image as the engine reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// Its id.
    pub id: String,
    /// Its labels.
    pub labels: HashMap<String, String>,
}
