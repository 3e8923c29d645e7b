//! Opening a Docker-API engine where its endpoint says: a local socket,
//! tcp, or a socket on another host through ssh (see [`super::ssh`]).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use super::backend::DockerBackend;
use super::endpoint::{host_address, Endpoint};
use super::ssh::{SshLink, SshUrl};
use super::unreachable::Cause;
use crate::backend::error::BackendError;
use crate::backend::seam::{Connection, HostLink};
use crate::error::{Error, Result};
use crate::settings::EngineSettings;

/// Connects to the engine `settings` choose (see [`Endpoint::chosen`]).
pub(crate) async fn connect(settings: &EngineSettings) -> Result<Connection> {
    let endpoint = Endpoint::chosen(settings).map_err(|cause| {
        let endpoint = "the current Docker context";
        unreachable(endpoint, cause.into())
    })?;
    connect_at(&endpoint).await
}

/// Connects to the engine at `endpoint`.
pub(crate) async fn connect_at(endpoint: &Endpoint) -> Result<Connection> {
    let url = endpoint.url.as_str();
    if url.starts_with("ssh://") {
        return over_ssh(url).await.map_err(|cause| unreachable(url, cause));
    }
    let address = host_address(url).map_err(|e| unreachable(url, e.into()))?;
    let backend = DockerBackend::connect(url, endpoint.tls.as_deref())
        .await
        .map_err(|e| unreachable(url, e.into()))?;
    Ok(Connection {
        backend: Arc::new(backend),
        endpoint: url.to_owned(),
        address,
        link: None,
    })
}

/// An engine on another host: its API and the machines' published ports
/// (on that host's loopback) reached through one ssh master connection.
async fn over_ssh(endpoint: &str) -> std::result::Result<Connection, Cause> {
    let url = SshUrl::parse(endpoint)?;
    let link = SshLink::open(&url).await?;
    let api = format!("unix://{}", link.api_socket().display());
    let backend =
        DockerBackend::connect(&api, None)
            .await
            .map_err(|source| Cause::ApiThroughSsh {
                socket: url.socket.clone(),
                through: link.jump(),
                said: link.log_tail(),
                source,
            })?;
    Ok(Connection {
        backend: Arc::new(backend),
        endpoint: endpoint.to_owned(),
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        link: Some(Arc::new(link)),
    })
}

fn unreachable(endpoint: &str, cause: Cause) -> Error {
    Error::from(BackendError::EngineUnreachable {
        endpoint: endpoint.to_owned(),
        source: cause.at(endpoint),
    })
}
