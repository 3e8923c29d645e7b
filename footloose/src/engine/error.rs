//! The typed causes of a [`ConnectError`]: what this module's parts
//! report when an engine cannot be reached.

use std::net::SocketAddr;

use super::context::ContextError;
use super::ssh_url::SshUrlError;
use super::tunnel::TunnelError;
use crate::backend::docker;
use crate::error::{ConnectError, ConnectErrorKind};

/// What failed, typed; [`ConnectError`] prints it with its sources.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Cause {
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error(transparent)]
    Address(#[from] AddressError),
    #[error(transparent)]
    Url(#[from] SshUrlError),
    #[error(transparent)]
    Tunnel(#[from] TunnelError),
    #[error("the ssh connection's task failed")]
    Task(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Api(#[from] docker::ConnectError),
    #[error("through the ssh connection to {through}")]
    ApiThroughTunnel {
        /// `user@host:port` of the engine's host.
        through: String,
        #[source]
        source: docker::ConnectError,
    },
    #[error("cannot forward {addr} through ssh")]
    Forward {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Why the host of a `tcp://` (or `http(s)://`) endpoint has no address.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AddressError {
    #[error("cannot resolve {authority}")]
    Resolve {
        authority: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{authority} has no address")]
    NoAddress { authority: String },
}

impl Cause {
    /// Which step failed.
    fn kind(&self) -> ConnectErrorKind {
        match self {
            Cause::Context(_) => ConnectErrorKind::Context,
            Cause::Address(_) => ConnectErrorKind::Address,
            Cause::Url(_) | Cause::Tunnel(_) | Cause::Task(_) => ConnectErrorKind::Ssh,
            Cause::Api(_) | Cause::ApiThroughTunnel { .. } => ConnectErrorKind::Api,
            Cause::Forward { .. } => ConnectErrorKind::Forward,
        }
    }

    /// The failure of reaching the engine at `endpoint`.
    pub(crate) fn at(self, endpoint: &str) -> ConnectError {
        ConnectError::new(endpoint, self.kind(), self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_has_its_kind() {
        let cause = Cause::from(AddressError::NoAddress {
            authority: "engine".into(),
        });
        let err = cause.at("tcp://engine");
        assert_eq!(err.kind(), ConnectErrorKind::Address);
        assert!(
            err.to_string()
                .starts_with("engine has no address\n  check that the engine listens"),
            "{err}"
        );
    }
}
