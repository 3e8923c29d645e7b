//! The seam itself: what footloose asks of an engine ([`Backend`]), what
//! a connected backend is ([`Connection`], [`HostLink`]), in footloose's
//! own types.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::stream::BoxStream;

use super::model::{ContainerInfo, NetworkInfo};
use crate::container_spec::ContainerPlan;
use crate::error::Result;
use crate::host::HostFacts;

/// A root file system tarball, streamed.
pub type RootfsStream = BoxStream<'static, std::io::Result<bytes::Bytes>>;

/// An image build: what to build and how to label it.
#[derive(Debug, Clone)]
pub struct ImageBuild<'a> {
    /// The build context, as a tar archive.
    pub context: Vec<u8>,
    /// The Dockerfile's path inside the context.
    pub dockerfile: &'a str,
    /// The tag to give the image.
    pub tag: &'a str,
    /// Build arguments.
    pub build_args: HashMap<&'a str, &'a str>,
    /// Labels to put on the image.
    pub labels: HashMap<&'a str, &'a str>,
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

    /// Creates a bridge network and returns its id; a taken name may be a
    /// `Conflict`, or (see `Capabilities::duplicate_network_names`) a
    /// second network of that name.
    async fn create_network(&self, name: &str, labels: &HashMap<String, String>) -> Result<String>;
    /// The networks named exactly `name`.
    async fn networks_named(&self, name: &str) -> Result<Vec<NetworkInfo>>;
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

    /// The names of every volume carrying all the labels of `selector`.
    async fn volumes(&self, selector: &[String]) -> Result<Vec<String>>;
    /// Removes a volume.
    async fn remove_volume(&self, name: &str) -> Result<()>;

    /// The id and labels of the image `reference`, `None` when absent.
    async fn image(&self, reference: &str) -> Result<Option<ImageInfo>>;
    /// Pulls `reference` from its registry.
    async fn pull_image(&self, reference: &str) -> Result<()>;
    /// Imports a root file system as `reference` (`repo:tag`).
    async fn import_image(
        &self,
        rootfs: RootfsStream,
        reference: &str,
        changes: Vec<String>,
    ) -> Result<()>;
    /// The name by which this engine files a locally imported `reference`,
    /// which a build's `FROM` must use.
    fn local_reference(&self, reference: &str) -> String {
        reference.to_owned()
    }
    /// Builds an image, handing every line of build output to `on_line`.
    async fn build_image(
        &self,
        build: ImageBuild<'_>,
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
