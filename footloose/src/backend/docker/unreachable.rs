//! The typed causes of a [`ConnectError`]: what this backend's parts
//! report when a Docker-API engine cannot be reached.

use super::connect::ConnectError as ApiError;
use super::context::ContextError;
use super::ssh::{SshError, SshUrlError};
use crate::backend::error::{ConnectError, ConnectErrorKind};

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
    Ssh(#[from] SshError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(
        "the engine's socket {socket} did not answer through the ssh connection to {through}{}",
        said_by_ssh(said)
    )]
    ApiThroughSsh {
        /// The engine's socket on its host.
        socket: String,
        /// `user@host:port` of the engine's host.
        through: String,
        /// What the ssh master logged last (a refused forward says why).
        said: String,
        #[source]
        source: ApiError,
    },
}

fn said_by_ssh(said: &str) -> String {
    if said.is_empty() {
        String::new()
    } else {
        format!(" (ssh: {said})")
    }
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
            Cause::Url(_) | Cause::Ssh(_) => ConnectErrorKind::Ssh,
            Cause::Api(_) | Cause::ApiThroughSsh { .. } => ConnectErrorKind::Api,
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
