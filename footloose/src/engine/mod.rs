//! Where the engine is and how footloose reaches it: `DOCKER_HOST` (read
//! here and nowhere else), Docker contexts, tcp and ssh endpoints. An
//! [`Engine`] is a connected backend (the crate-private `Backend` trait:
//! Docker's API today) with the address its machines'
//! ports are reached at; an engine over ssh is reached through an ssh
//! tunnel that also carries the machines' ssh ports.

mod context;
mod error;
mod ssh_config;
mod ssh_url;
mod tunnel;
mod vantage;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

pub use crate::backend::{ContainerInfo, ContainerStatus, Leftovers, NetworkInfo, PublishedPort};
pub use crate::error::{ConnectError, ConnectErrorKind};
pub use crate::host::{Capabilities, CgroupDriver, CgroupVersion, Flavour, HostFacts};
pub use crate::reach::{address_on, ssh_endpoint, Reach, Route};
pub use vantage::{JobContainer, Vantage};

use crate::backend::docker::DockerBackend;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::labels;
use error::{AddressError, Cause};
use footloose_config::ReachError;

/// The engine's socket when nothing else names one.
const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";
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
    /// The ssh connection an `ssh://` engine is reached through.
    tunnel: Option<tunnel::Tunnel>,
    /// Where this process runs, as the engine sees it.
    vantage: Vantage,
    /// How machines' sshd is reached from here.
    route: Route,
}

impl Engine {
    /// Connects as the `docker` CLI would (`DOCKER_HOST`, else the current
    /// Docker context, else the local socket), agrees on an API version
    /// and reads the host's facts.
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// let engine = footloose::engine::Engine::connect().await?;
    /// println!("{} at {}", engine.endpoint(), engine.address());
    /// # Ok(()) }
    /// ```
    pub async fn connect() -> Result<Engine> {
        if let Ok(endpoint) = std::env::var("DOCKER_HOST") {
            if !endpoint.is_empty() {
                let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some();
                return Engine::connect_at(&endpoint, tls).await;
            }
        }
        match context::current_endpoint() {
            Ok(Some((_, endpoint))) => Engine::connect_at(&endpoint, false).await,
            Ok(None) => Engine::connect_at(DEFAULT_ENDPOINT, false).await,
            Err(cause) => {
                let endpoint = "the current Docker context";
                Err(Error::EngineUnreachable {
                    endpoint: endpoint.to_owned(),
                    source: Cause::from(cause).at(endpoint),
                })
            }
        }
    }

    /// Connects to the engine that runs machines of `backend` (the
    /// config's `backend:`), found as [`connect`](Self::connect) finds it.
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// use footloose::engine::Engine;
    ///
    /// let config = footloose::Config::load("footloose.yaml".as_ref())?;
    /// let backend = config.machines[0].spec.backend.unwrap_or(footloose::config::Backend::Docker);
    /// let engine = Engine::connect_for(backend).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_for(backend: crate::config::Backend) -> Result<Engine> {
        match backend {
            crate::config::Backend::Docker => Engine::connect().await,
            crate::config::Backend::Ignite => Err(Error::Backend {
                backend: "ignite".to_owned(),
                reason: "footloose runs machines as containers of a Docker-API engine; use `docker` or leave it out".to_owned(),
            }),
            other => Err(Error::Backend {
                backend: format!("{other:?}").to_lowercase(),
                reason: "this footloose has no implementation of it".to_owned(),
            }),
        }
    }

    /// Connects to the engine at `endpoint`, written as `DOCKER_HOST` is:
    /// `unix:///run/podman/podman.sock`, `tcp://10.0.0.5:2375`,
    /// `ssh://ops@engine.example/run/podman/podman.sock`.
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// use footloose::engine::Engine;
    ///
    /// let podman = Engine::connect_to("unix:///run/podman/podman.sock").await?;
    /// let remote = Engine::connect_to("ssh://ops@engine.example").await?;
    /// assert!(remote.is_remote());
    /// # Ok(()) }
    /// ```
    pub async fn connect_to(endpoint: &str) -> Result<Engine> {
        Engine::connect_at(endpoint, false).await
    }

    async fn connect_at(endpoint: &str, tls: bool) -> Result<Engine> {
        let unreachable = |cause: Cause| Error::EngineUnreachable {
            endpoint: endpoint.to_owned(),
            source: cause.at(endpoint),
        };
        if endpoint.starts_with("ssh://") {
            return Engine::connect_over_ssh(endpoint)
                .await
                .map_err(unreachable);
        }
        let address = host_address(endpoint).map_err(|e| unreachable(e.into()))?;
        let backend = DockerBackend::connect(endpoint, tls)
            .await
            .map_err(|e| unreachable(e.into()))?;
        let vantage = vantage::detect(&backend).await;
        Ok(Engine::placed(
            Arc::new(backend),
            endpoint,
            address,
            None,
            vantage,
        ))
    }

    /// The engine with the route from `vantage` that `FOOTLOOSE_REACH`
    /// asks for, or footloose's own choice. A route that cannot work is
    /// kept as [`Route::Unroutable`]: commands that reach no machine
    /// (`delete`, `show`, cleanup) still work, the others say why not.
    fn placed(
        backend: Arc<dyn Backend>,
        endpoint: &str,
        address: IpAddr,
        tunnel: Option<tunnel::Tunnel>,
        vantage: Vantage,
    ) -> Engine {
        let route = match reach_from_env() {
            Ok(reach) => {
                let reach = reach.unwrap_or_default();
                vantage::route(&reach, &vantage, address, tunnel.is_some()).unwrap_or_else(
                    |reason| Route::Unroutable {
                        reason: format!("{REACH_ENV}={reach}: {}", crate::error::chain(&reason)),
                    },
                )
            }
            Err(reason) => Route::Unroutable {
                reason: format!("{REACH_ENV}: {}", crate::error::chain(&reason)),
            },
        };
        if route != (Route::Published { host: address }) {
            tracing::debug!("{}: machines are reached by {route}", vantage.describe());
        }
        Engine {
            backend,
            endpoint: endpoint.to_owned(),
            address,
            tunnel,
            vantage,
            route,
        }
    }

    /// The engine with machines reached as `reach` says (the config's
    /// `cluster.reach`), unless `FOOTLOOSE_REACH` is set, which wins. A
    /// route that cannot work is kept as [`Route::Unroutable`].
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// use footloose::engine::{Engine, Reach, Route};
    ///
    /// let engine = Engine::connect().await?.with_reach(&Reach::Network(Some("ci".into())));
    /// // Unless FOOTLOOSE_REACH says otherwise:
    /// assert_eq!(engine.route().network(), Some("ci"));
    /// # Ok(()) }
    /// ```
    pub fn with_reach(mut self, reach: &Reach) -> Engine {
        if std::env::var_os(REACH_ENV).is_some_and(|v| !v.is_empty()) {
            return self;
        }
        self.route = vantage::route(reach, &self.vantage, self.address, self.tunnel.is_some())
            .unwrap_or_else(|reason| Route::Unroutable {
                reason: format!("cluster.reach `{reach}`: {}", crate::error::chain(&reason)),
            });
        self
    }

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

    /// An engine on another host, its API and the machines' published
    /// ports (on that host's loopback) reached through one ssh connection.
    async fn connect_over_ssh(endpoint: &str) -> std::result::Result<Engine, Cause> {
        let url = ssh_url::SshUrl::parse(endpoint)?;
        let tunnel = tokio::task::spawn_blocking(move || tunnel::Tunnel::open(&url)).await??;
        let api = format!("unix://{}", tunnel.api_socket().display());
        let backend = DockerBackend::connect(&api, false)
            .await
            .map_err(|source| Cause::ApiThroughTunnel {
                through: tunnel.url().to_string(),
                source,
            })?;
        Ok(Engine::placed(
            Arc::new(backend),
            endpoint,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(tunnel),
            Vantage::Outside,
        ))
    }

    /// An engine that is `backend`, reached on this host (the tests'
    /// in-memory engine).
    #[cfg(test)]
    pub(crate) fn of(backend: Arc<dyn Backend>) -> Engine {
        let address = IpAddr::V4(Ipv4Addr::LOCALHOST);
        Engine {
            backend,
            endpoint: "memory://".to_owned(),
            address,
            tunnel: None,
            vantage: Vantage::Outside,
            route: Route::Published { host: address },
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
        self.tunnel.is_some() || !self.address.is_loopback()
    }

    /// Where to connect to reach `addr` as the engine's host sees it: `addr`
    /// itself, or for an engine over ssh a local port forwarded through the
    /// ssh connection.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// // A port the engine published on its host's loopback.
    /// let local = engine.reach("127.0.0.1:32768".parse().unwrap())?;
    /// let _ = std::net::TcpStream::connect(local);
    /// # Ok(()) }
    /// ```
    pub fn reach(&self, addr: SocketAddr) -> Result<SocketAddr> {
        match &self.tunnel {
            None => Ok(addr),
            Some(tunnel) => tunnel
                .forward(addr)
                .map_err(|source| Error::EngineUnreachable {
                    endpoint: self.endpoint.clone(),
                    source: Cause::Forward { addr, source }.at(&self.endpoint),
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
        self.tunnel.as_ref().map(|t| t.url().to_string())
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

    /// The networks named exactly `name` (Docker allows several).
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// for network in engine.networks_named("demo-net").await? {
    ///     println!("{} ({})", network.name, network.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn networks_named(&self, name: &str) -> Result<Vec<NetworkInfo>> {
        self.backend.networks_named(name).await
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
            volumes: backend.volumes(&selector).await?,
        })
    }
}

/// `FOOTLOOSE_REACH`, if set; a value that does not parse says why.
fn reach_from_env() -> std::result::Result<Option<Reach>, ReachError> {
    match std::env::var(REACH_ENV) {
        Ok(text) if !text.is_empty() => text.parse().map(Some),
        _ => Ok(None),
    }
}

/// The address of the host behind a `DOCKER_HOST` value.
fn host_address(endpoint: &str) -> std::result::Result<IpAddr, AddressError> {
    let remote = ["tcp://", "http://", "https://"]
        .iter()
        .find_map(|scheme| endpoint.strip_prefix(scheme));
    let Some(rest) = remote else {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:2375")
    };
    let addresses: Vec<IpAddr> = with_port
        .to_socket_addrs()
        .map_err(|source| AddressError::Resolve {
            authority: authority.to_owned(),
            source,
        })?
        .map(|a| a.ip())
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| AddressError::NoAddress {
            authority: authority.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::host_address;

    #[test]
    fn the_engine_host_is_read_from_docker_host() {
        assert_eq!(
            host_address("unix:///var/run/docker.sock").unwrap(),
            std::net::IpAddr::from([127, 0, 0, 1])
        );
        assert_eq!(
            host_address("tcp://10.250.0.2:2375").unwrap(),
            std::net::IpAddr::from([10, 250, 0, 2])
        );
        assert_eq!(
            host_address("tcp://10.250.0.2").unwrap(),
            std::net::IpAddr::from([10, 250, 0, 2])
        );
    }
}
