//! Connecting to the Incus daemon the settings choose, and reading what
//! footloose needs of it: its version, the default profile's network and
//! storage pool, and the host's cgroup set-up.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::backend::IncusBackend;
use super::client::{ApiError, Client};
use super::endpoint::{self, Address, Endpoint};
use crate::backend::error::{BackendError, ConnectError, ConnectErrorKind};
use crate::backend::seam::Connection;
use crate::error::{Error, Result};
use crate::host::{Capabilities, CgroupDriver, CgroupVersion, Flavour, HostFacts};
use crate::settings::EngineSettings;

/// What to do when no Incus daemon answers.
const HINT: &str = "start it (`sudo systemctl start incus`, or `sudo incusd &`) and initialise it (`incus admin init`), or point INCUS_SOCKET (or INCUS_REMOTE) at a running one";

#[derive(Debug, Deserialize)]
struct Server {
    #[serde(default)]
    environment: ServerEnvironment,
}

#[derive(Debug, Default, Deserialize)]
struct ServerEnvironment {
    #[serde(default)]
    server_version: String,
    #[serde(default)]
    server_clustered: bool,
}

#[derive(Debug, Deserialize)]
struct Profile {
    #[serde(default, deserialize_with = "super::instances::nullable")]
    devices: HashMap<String, HashMap<String, String>>,
}

/// Why the daemon cannot run footloose's machines as it is set up.
#[derive(Debug, thiserror::Error)]
enum SetupError {
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("the default profile of project {project} has no {what}: initialise Incus (`incus admin init`) or give the profile one")]
    Profile { project: String, what: &'static str },
}

/// Connects to the daemon `settings` choose.
pub(crate) async fn connect(settings: &EngineSettings) -> Result<Connection> {
    let endpoint = endpoint::chosen(settings).map_err(|cause| {
        unreachable(
            "the incus client's configuration",
            ConnectError::with_hint(ConnectErrorKind::Context, cause, HINT),
        )
    })?;
    connect_at(&endpoint).await
}

/// Connects to the daemon at `endpoint`.
pub(crate) async fn connect_at(endpoint: &Endpoint) -> Result<Connection> {
    let url = endpoint.url();
    let (client, address) = match &endpoint.address {
        Address::Unix(socket) => (
            Client::unix(socket, endpoint.project.clone()),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
        ),
        Address::Https {
            authority,
            credentials,
        } => {
            let tls = super::tls::client_config(credentials).map_err(|cause| {
                unreachable(
                    &url,
                    ConnectError::with_hint(ConnectErrorKind::Context, cause, HINT),
                )
            })?;
            // Published ports without an address are on the remote's host.
            let address = tokio::net::lookup_host(authority.as_str())
                .await
                .ok()
                .and_then(|mut found| found.next())
                .map(|found| found.ip())
                .ok_or_else(|| {
                    unreachable(
                        &url,
                        ConnectError::with_hint(
                            ConnectErrorKind::Address,
                            std::io::Error::other(format!("{authority} does not resolve")),
                            HINT,
                        ),
                    )
                })?;
            (
                Client::https(authority, tls, endpoint.project.clone()),
                address,
            )
        }
    };
    let server: Server = client.get("/1.0").await.map_err(|cause| {
        unreachable(
            &url,
            ConnectError::with_hint(ConnectErrorKind::Api, cause, HINT),
        )
    })?;
    tracing::debug!("Incus {} at {url}", server.environment.server_version);
    let (default_network, pool) = defaults(&client).await.map_err(|e| {
        Error::from(BackendError::Engine {
            engine: super::refusal::ENGINE.to_owned(),
            action: "reading the default profile".to_owned(),
            kind: crate::backend::error::EngineFailure::Other,
            message: e.to_string(),
        })
    })?;
    let facts = HostFacts {
        cgroup: if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
            CgroupVersion::V2
        } else {
            CgroupVersion::V1
        },
        driver: CgroupDriver::Cgroupfs,
        flavour: Flavour::Incus,
        apparmor: false,
        capabilities: Capabilities {
            // Incus runs the image's init as a system container's: the
            // cgroup tree, /run and /tmp as systemd wants them.
            systemd_mode: true,
            duplicate_network_names: false,
            // Read once per connection; the capabilities are `Copy`.
            default_network: Box::leak(default_network.clone().into_boxed_str()),
            user_namespaces_by_default: true,
        },
    };
    let backend = IncusBackend {
        client,
        facts,
        default_network,
        pool,
        clustered: server.environment.server_clustered,
    };
    Ok(Connection {
        backend: Arc::new(backend),
        endpoint: url,
        address,
        link: None,
    })
}

/// The default profile's network and storage pool.
async fn defaults(client: &Client) -> std::result::Result<(String, String), SetupError> {
    let profile: Profile = client.get("/1.0/profiles/default").await?;
    let project = client.project().unwrap_or("default").to_owned();
    let device = |kind: &str, key: &str| {
        profile
            .devices
            .values()
            .filter(|d| d.get("type").map(String::as_str) == Some(kind))
            .find_map(|d| d.get(key).cloned())
    };
    // A managed network, or a bridge of the host's (`parent`).
    let network = device("nic", "network")
        .or_else(|| device("nic", "parent"))
        .ok_or_else(|| SetupError::Profile {
            project: project.clone(),
            what: "network interface",
        })?;
    let pool = device("disk", "pool").ok_or(SetupError::Profile {
        project,
        what: "root disk",
    })?;
    Ok((network, pool))
}

fn unreachable(endpoint: &str, source: ConnectError) -> Error {
    Error::from(BackendError::EngineUnreachable {
        endpoint: endpoint.to_owned(),
        source,
    })
}
