//! A connected engine and the route from this process to its machines.
//! An [`Engine`] is a backend (the crate-private `Backend` trait) that the
//! backend factory connected, as the settings say, with the address its
//! machines' ports are reached at and, for an engine over ssh, the link
//! that carries those connections. How to connect is each backend's own
//! (`backend/<name>/`); this module never names one.

mod connect;
mod vantage;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

pub use crate::backend::{
    ConnectError, ConnectErrorKind, ContainerInfo, ContainerStatus, Leftovers, NetworkInfo,
    PublishedPort, VolumeInfo,
};
pub use crate::host::{Capabilities, CgroupDriver, CgroupVersion, Flavour, HostFacts};
pub use crate::reach::{address_on, ssh_endpoint, Reach, Route};
pub use vantage::{JobContainer, Vantage};

use crate::backend::{Backend, BackendError, HostLink};
use crate::error::{Error, Result};
use crate::labels;

/// Overrides how machines are reached (see [`Reach`]); beats the config's
/// `cluster.reach`.
pub const REACH_ENV: &str = "FOOTLOOSE_REACH";

/// A connected engine with the facts read from it.
///
/// ```no_run
/// # async fn demo() -> footloose::Result<()> {
/// use footloose::engine::Engine;
///
/// let engine = Engine::connect().await?; // DOCKER_HOST, the Docker context, or the local socket
/// let facts = engine.facts();
/// println!("{:?} at {}, cgroup {:?}", facts.flavour, engine.endpoint(), facts.cgroup);
/// for machine in footloose::status(&engine, None).await? {
///     println!("{} ({}): {}", machine.hostname, machine.cluster(), machine.state);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    backend: Arc<dyn Backend>,
    endpoint: String,
    address: IpAddr,
    /// What carries connections to the engine's host (an `ssh://` engine).
    link: Option<Arc<dyn HostLink>>,
    /// Where this process runs, as the engine sees it.
    vantage: Vantage,
    /// How machines' sshd is reached from here.
    route: Route,
    /// `FOOTLOOSE_REACH` chose the route, which the config cannot change.
    reach_forced: bool,
}

impl Engine {
    /// How machines' sshd is reached from this process.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// use footloose::engine::Route;
    ///
    /// if let Route::Unroutable { reason } = engine.route() {
    ///     eprintln!("machines cannot be reached from here: {reason}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// Where this process runs, as the engine sees it.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// if let Some(id) = engine.vantage().container_id() {
    ///     println!("this process runs in container {id} of the engine");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn vantage(&self) -> &Vantage {
        &self.vantage
    }

    /// An engine that is `backend`, reached on this host (the tests'
    /// in-memory engine).
    #[cfg(test)]
    pub(crate) fn of(backend: Arc<dyn Backend>) -> Engine {
        let address = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        Engine {
            backend,
            endpoint: "memory://".to_owned(),
            address,
            link: None,
            vantage: Vantage::Outside,
            route: Route::Published { host: address },
            reach_forced: false,
        }
    }

    /// The engine with machines reached by `route` (the tests' job
    /// containers).
    #[cfg(test)]
    pub(crate) fn routed(mut self, route: Route) -> Engine {
        self.route = route;
        self
    }

    /// What the engine does: containers, networks, volumes, images.
    pub(crate) fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// The address of the engine's host as footloose reaches it: loopback
    /// for a local engine, the `DOCKER_HOST` address for a remote one.
    /// Machines' ports are published there unless the config says otherwise.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// // 127.0.0.1 for a local engine.
    /// println!("published ports are reached at {}", engine.address());
    /// # Ok(()) }
    /// ```
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// True when the engine runs on another host.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// if engine.is_remote() {
    ///     println!("bind mounts name paths on the engine's host");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn is_remote(&self) -> bool {
        self.link.is_some() || !self.address.is_loopback()
    }

    /// Where to connect to reach `addr` as the engine's host sees it: `addr`
    /// itself, or for an engine over ssh a local port forwarded through the
    /// ssh connection.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// // A port the engine published on its host's loopback.
    /// let local = engine.reach("127.0.0.1:32768".parse().unwrap()).await?;
    /// let _ = std::net::TcpStream::connect(local);
    /// # Ok(()) }
    /// ```
    pub async fn reach(&self, addr: SocketAddr) -> Result<SocketAddr> {
        match &self.link {
            None => Ok(addr),
            Some(link) => link.forward(addr).await.map_err(|source| {
                Error::from(BackendError::EngineUnreachable {
                    endpoint: self.endpoint.clone(),
                    source: ConnectError::new(&self.endpoint, ConnectErrorKind::Forward, source),
                })
            }),
        }
    }

    /// For an engine over ssh, `user@host:port` of its host (OpenSSH's
    /// `ProxyJump` reaches the machines through it).
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// if let Some(jump) = engine.ssh_jump() {
    ///     println!("ssh -J {jump} root@…");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn ssh_jump(&self) -> Option<String> {
        self.link.as_ref().map(|link| link.jump())
    }

    /// The host's cgroup set-up, the engine's flavour and capabilities.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// use footloose::engine::{CgroupVersion, Flavour};
    ///
    /// let facts = engine.facts();
    /// if facts.flavour == Flavour::Podman && facts.cgroup == CgroupVersion::V1 {
    ///     eprintln!("rootless systemd machines need cgroup v2");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn facts(&self) -> HostFacts {
        self.backend.facts()
    }

    /// Where the engine was reached.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// println!("connected to {}", engine.endpoint());
    /// # Ok(()) }
    /// ```
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The container named `name`, `None` when there is none.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// if let Some(node) = engine.container("demo-node0").await? {
    ///     println!("{} is running: {}", node.name, node.is_running());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        self.backend.container(name).await
    }

    /// The networks footloose made that are named exactly `name`: one,
    /// except for a moment while an engine that allows duplicate names
    /// settles racing creators.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// for network in engine.networks_named("demo-net").await? {
    ///     println!("{} ({})", network.name, network.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn networks_named(&self, name: &str) -> Result<Vec<NetworkInfo>> {
        let mut networks = self
            .backend
            .networks_labelled(&[format!("{}=true", labels::MANAGED)])
            .await?;
        networks.retain(|n| n.name == name);
        Ok(networks)
    }

    /// What footloose made and is still there: of `cluster`, or of every
    /// cluster.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// let left = engine.leftovers(Some("demo")).await?;
    /// assert!(left.is_empty(), "still there: {left:?}");
    /// # Ok(()) }
    /// ```
    pub async fn leftovers(&self, cluster: Option<&str>) -> Result<Leftovers> {
        let selector = labels::selector(cluster);
        let backend = self.backend();
        Ok(Leftovers {
            containers: backend
                .containers(&selector)
                .await?
                .into_iter()
                .map(|c| c.name)
                .collect(),
            networks: backend
                .networks_labelled(&selector)
                .await?
                .into_iter()
                .map(|n| n.name)
                .collect(),
            volumes: backend
                .volumes(&selector)
                .await?
                .into_iter()
                .map(|v| v.name)
                .collect(),
        })
    }
}
