//! The engine footloose runs machines on, behind one seam: the rest of the
//! crate calls [`Engine`]'s methods, which speak footloose's own types
//! ([`ContainerInfo`], [`NetworkInfo`], …) and errors (matched by
//! [`EngineFailure`] kind, never by status code or
//! message); the API library lives in one module per backend (today
//! `docker`, the Docker Engine API, the only module that names bollard).
//! An engine over ssh is reached through an ssh tunnel that also carries
//! the machines' ssh ports.

mod context;
mod docker;
mod model;
mod ssh_url;
mod tunnel;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

pub use model::{
    ssh_endpoint, CgroupDriver, CgroupVersion, ContainerInfo, ContainerStatus, Flavour, HostFacts,
    Leftovers, NetworkInfo,
};

use crate::container_spec::ContainerPlan;
use crate::error::{EngineFailure, Error, Result};
use crate::labels;

/// A connected engine with the facts read from it.
#[derive(Debug, Clone)]
pub struct Engine {
    client: docker::Client,
    facts: HostFacts,
    endpoint: String,
    address: IpAddr,
    /// The ssh connection an `ssh://` engine is reached through.
    tunnel: Option<tunnel::Tunnel>,
}

impl Engine {
    /// Connects as the `docker` CLI would (`DOCKER_HOST`, else the current
    /// Docker context, else the local socket), agrees on an API version
    /// and reads the host's facts.
    pub async fn connect() -> Result<Engine> {
        if let Ok(endpoint) = std::env::var("DOCKER_HOST") {
            if !endpoint.is_empty() {
                return Engine::connect_at(&endpoint, None).await;
            }
        }
        match context::current_endpoint() {
            Ok(Some((_, endpoint))) => Engine::connect_at(&endpoint, Some(&endpoint)).await,
            Ok(None) => Engine::connect_at("unix:///var/run/docker.sock", None).await,
            Err(reason) => Err(Error::EngineUnreachable {
                endpoint: "the current Docker context".to_owned(),
                reason,
            }),
        }
    }

    /// Connects to the engine at `endpoint`, written as `DOCKER_HOST` is:
    /// `unix:///run/podman/podman.sock`, `tcp://10.0.0.5:2375`,
    /// `ssh://ops@engine.example/run/podman/podman.sock`.
    pub async fn connect_to(endpoint: &str) -> Result<Engine> {
        Engine::connect_at(endpoint, Some(endpoint)).await
    }

    async fn connect_at(endpoint: &str, explicit: Option<&str>) -> Result<Engine> {
        let unreachable = |reason: String| Error::EngineUnreachable {
            endpoint: endpoint.to_owned(),
            reason,
        };
        if endpoint.starts_with("ssh://") {
            return Engine::connect_over_ssh(endpoint)
                .await
                .map_err(unreachable);
        }
        let address = host_address(endpoint).map_err(unreachable)?;
        let (client, facts) = docker::Client::connect(explicit)
            .await
            .map_err(unreachable)?;
        Ok(Engine {
            client,
            facts,
            endpoint: endpoint.to_owned(),
            address,
            tunnel: None,
        })
    }

    /// An engine on another host, its API and the machines' published
    /// ports (on that host's loopback) reached through one ssh connection.
    async fn connect_over_ssh(endpoint: &str) -> std::result::Result<Engine, String> {
        let url = ssh_url::SshUrl::parse(endpoint)?;
        let tunnel = tokio::task::spawn_blocking(move || tunnel::Tunnel::open(&url))
            .await
            .map_err(|e| e.to_string())??;
        let api = format!("unix://{}", tunnel.api_socket().display());
        let (client, facts) = docker::Client::connect(Some(&api))
            .await
            .map_err(|e| format!("{e} (through the ssh connection to {})", tunnel.url()))?;
        Ok(Engine {
            client,
            facts,
            endpoint: endpoint.to_owned(),
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            tunnel: Some(tunnel),
        })
    }

    /// The address of the engine's host as footloose reaches it: loopback
    /// for a local engine, the `DOCKER_HOST` address for a remote one.
    /// Machines' ports are published there unless the config says otherwise.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// True when the engine runs on another host.
    pub fn is_remote(&self) -> bool {
        self.tunnel.is_some() || !self.address.is_loopback()
    }

    /// Where to connect to reach `addr` as the engine's host sees it: `addr`
    /// itself, or for an engine over ssh a local port forwarded through the
    /// ssh connection.
    pub fn reach(&self, addr: SocketAddr) -> Result<SocketAddr> {
        match &self.tunnel {
            None => Ok(addr),
            Some(tunnel) => tunnel.forward(addr).map_err(|e| Error::EngineUnreachable {
                endpoint: self.endpoint.clone(),
                reason: format!("cannot forward {addr} through ssh: {e}"),
            }),
        }
    }

    /// For an engine over ssh, `user@host:port` of its host (OpenSSH's
    /// `ProxyJump` reaches the machines through it).
    pub fn ssh_jump(&self) -> Option<String> {
        self.tunnel.as_ref().map(|t| t.url().to_string())
    }

    /// The host's cgroup set-up.
    pub fn facts(&self) -> HostFacts {
        self.facts
    }

    /// Where the engine was reached.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The container named `name`, `None` when there is none.
    pub async fn container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        self.client.container(name).await
    }

    /// The networks named exactly `name` (Docker allows several).
    pub async fn networks_named(&self, name: &str) -> Result<Vec<NetworkInfo>> {
        self.client.networks_named(name).await
    }

    /// What footloose made and is still there: of `cluster`, or of every
    /// cluster.
    pub async fn leftovers(&self, cluster: Option<&str>) -> Result<Leftovers> {
        let selector = labels::selector(cluster);
        Ok(Leftovers {
            containers: self
                .containers(&selector)
                .await?
                .into_iter()
                .map(|c| c.name)
                .collect(),
            networks: self
                .networks_labelled(&selector)
                .await?
                .into_iter()
                .map(|n| n.name)
                .collect(),
            volumes: self.volumes(&selector).await?,
        })
    }

    // What the rest of the crate uses.

    /// Every container carrying all the `key=value` labels of `selector`.
    pub(crate) async fn containers(&self, selector: &[String]) -> Result<Vec<ContainerInfo>> {
        self.client.containers(selector).await
    }

    /// Creates the container of `plan`; a taken name is an error of kind
    /// [`EngineFailure::Conflict`].
    pub(crate) async fn create_container(&self, plan: &ContainerPlan) -> Result<()> {
        self.client.create_container(plan).await
    }

    /// Starts a container; one already running is fine.
    pub(crate) async fn start_container(&self, name: &str) -> Result<()> {
        match self.client.start_container(name).await {
            Err(err) if err.engine_failure() == Some(EngineFailure::NotModified) => Ok(()),
            other => other,
        }
    }

    /// Stops a container, killing it after `grace_secs`.
    pub(crate) async fn stop_container(&self, name: &str, grace_secs: i32) -> Result<()> {
        self.client.stop_container(name, grace_secs).await
    }

    /// Force-removes a container and its anonymous volumes; one that is
    /// gone, or being removed by someone else, is fine.
    pub(crate) async fn remove_container(&self, name: &str) -> Result<()> {
        match self.client.remove_container(name).await {
            Err(err)
                if matches!(
                    err.engine_failure(),
                    Some(EngineFailure::NotFound | EngineFailure::Conflict)
                ) =>
            {
                Ok(())
            }
            other => other,
        }
    }

    /// Unpacks the tar archive `tar` at `path` in a container.
    pub(crate) async fn upload(&self, name: &str, path: &str, tar: Vec<u8>) -> Result<()> {
        self.client.upload(name, path, tar).await
    }

    /// Attaches a (created) container to a network, reachable as `alias`.
    pub(crate) async fn connect_network(
        &self,
        network: &str,
        container: &str,
        alias: &str,
    ) -> Result<()> {
        self.client.connect_network(network, container, alias).await
    }

    /// The last `lines` lines a container printed (empty when it cannot be read).
    pub(crate) async fn logs_tail(&self, name: &str, lines: usize) -> String {
        self.client.logs_tail(name, lines).await
    }

    /// Creates a bridge network and returns its id.
    pub(crate) async fn create_network(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<String> {
        self.client.create_network(name, labels).await
    }

    /// Every network carrying all the labels of `selector`.
    pub(crate) async fn networks_labelled(&self, selector: &[String]) -> Result<Vec<NetworkInfo>> {
        self.client.networks_labelled(selector).await
    }

    /// How many containers, running or not, are attached to a network.
    pub(crate) async fn containers_on_network(&self, id: &str) -> Result<usize> {
        self.client.containers_on_network(id).await
    }

    /// Removes a network by id or name.
    pub(crate) async fn remove_network(&self, id: &str) -> Result<()> {
        self.client.remove_network(id).await
    }

    /// The names of every volume carrying all the labels of `selector`.
    pub(crate) async fn volumes(&self, selector: &[String]) -> Result<Vec<String>> {
        self.client.volumes(selector).await
    }

    /// Removes a volume.
    pub(crate) async fn remove_volume(&self, name: &str) -> Result<()> {
        self.client.remove_volume(name).await
    }

    /// The id of the image `reference`, `None` when it is not present.
    pub(crate) async fn image_id(&self, reference: &str) -> Result<Option<String>> {
        self.client.image_id(reference).await
    }

    /// The labels of the image `reference`, `None` when it is not present.
    pub(crate) async fn image_labels(
        &self,
        reference: &str,
    ) -> Result<Option<HashMap<String, String>>> {
        self.client.image_labels(reference).await
    }

    /// Pulls `reference` from its registry.
    pub(crate) async fn pull_image(&self, reference: &str) -> Result<()> {
        self.client.pull_image(reference).await
    }

    /// Imports a root file system tarball as `repo:tag`.
    pub(crate) async fn import_image(
        &self,
        rootfs: impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static,
        repo: &str,
        tag: &str,
        changes: Vec<String>,
    ) -> Result<()> {
        // Podman's import ignores a separate tag and names short
        // references on docker.io: it gets the full local name instead.
        let reference = match self.facts.flavour {
            Flavour::Podman => format!("localhost/{repo}:{tag}"),
            Flavour::Docker => format!("{repo}:{tag}"),
        };
        self.client.import_image(rootfs, &reference, changes).await
    }

    /// Builds `dockerfile` of the tar `context` as `tag`.
    pub(crate) async fn build_image(
        &self,
        context: Vec<u8>,
        dockerfile: &str,
        tag: &str,
        build_args: &HashMap<&str, &str>,
        labels: &HashMap<&str, &str>,
        on_line: impl FnMut(&str),
    ) -> Result<()> {
        self.client
            .build_image(context, dockerfile, tag, build_args, labels, on_line)
            .await
    }

    /// Removes an image.
    pub(crate) async fn remove_image(&self, id: &str) -> Result<()> {
        self.client.remove_image(id).await
    }
}

/// The address of the host behind a `DOCKER_HOST` value.
fn host_address(endpoint: &str) -> std::result::Result<IpAddr, String> {
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
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .map(|a| a.ip())
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| format!("{authority} has no address"))
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
