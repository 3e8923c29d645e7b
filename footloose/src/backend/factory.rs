//! The factory: which backend runs the machines, from the config's
//! `backend:` and the settings. The one place besides a backend's own
//! folder that names it.

use super::error::BackendError;
use super::seam::Connection;
use super::{docker, incus};
use crate::config::Backend as BackendKind;
use crate::error::{Error, Result};
use crate::settings::EngineSettings;

/// Connects to the engine of the backend `kind` (the config's
/// `backend:`) as `settings` say.
pub(crate) async fn connect(kind: BackendKind, settings: &EngineSettings) -> Result<Connection> {
    match kind {
        BackendKind::Docker => docker::connect(settings).await,
        BackendKind::Incus => incus::connect(settings).await,
        other => Err(not_implemented(other)),
    }
}

/// Connects to the engine of the backend `kind` at `endpoint`, written as
/// that backend's endpoints are (`DOCKER_HOST` for Docker's, the unix
/// socket's path or `unix://` URL for Incus's).
pub(crate) async fn connect_at(kind: BackendKind, endpoint: &str) -> Result<Connection> {
    match kind {
        BackendKind::Docker => {
            docker::connect_at(&docker::Endpoint {
                url: endpoint.to_owned(),
                tls: None,
            })
            .await
        }
        BackendKind::Incus => {
            incus::connect_at(&incus::Endpoint {
                address: incus::Address::Unix(endpoint.trim_start_matches("unix://").into()),
                project: None,
            })
            .await
        }
        other => Err(not_implemented(other)),
    }
}

fn not_implemented(kind: BackendKind) -> Error {
    match kind {
        BackendKind::Ignite => Error::Backend(BackendError::Unsupported {
            backend: "ignite".to_owned(),
            reason: "footloose runs machines as containers of a Docker-API engine; use `docker` or leave it out".to_owned(),
        }),
        other => Error::Backend(BackendError::Unsupported {
            backend: format!("{other:?}").to_lowercase(),
            reason: "this footloose has no implementation of it".to_owned(),
        }),
    }
}
