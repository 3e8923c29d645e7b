//! The library's error type.

use std::path::PathBuf;
use std::time::Duration;

pub use footloose_config::ConfigError;

/// A specialised `Result` for footloose operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in footloose.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// No Docker engine answered.
    #[error("cannot reach the Docker engine at {endpoint}: {reason}\n  start it (`sudo systemctl start docker`, or `sudo dockerd &`), or point DOCKER_HOST at a running one")]
    EngineUnreachable {
        /// The socket or URL that was tried.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },

    /// A Docker API call failed.
    #[error("Docker engine error while {action}: {source}")]
    Engine {
        /// What footloose was doing.
        action: String,
        /// The engine's answer.
        #[source]
        source: bollard::errors::Error,
    },

    /// An image is missing and could neither be built nor pulled.
    #[error("image {image} is not available: {reason}")]
    Image {
        /// The image reference.
        image: String,
        /// Why it could not be had.
        reason: String,
    },

    /// A machine did not become ready in time, or stopped while booting.
    #[error("machine {machine} did not become ready within {}s: {reason}\n  last boot messages:\n{logs}", deadline.as_secs())]
    NotReady {
        /// The container name.
        machine: String,
        /// The deadline that passed.
        deadline: Duration,
        /// The last thing that failed.
        reason: String,
        /// The container's last log lines, indented.
        logs: String,
    },

    /// The engine refused to start a container.
    #[error("cannot start machine {machine}: {reason}")]
    Start {
        /// The container name.
        machine: String,
        /// The engine's message, with a hint when one is known.
        reason: String,
    },

    /// An ssh connection, authentication or channel failed.
    #[error("ssh to {machine} failed while {action}: {source}")]
    Ssh {
        /// The container name.
        machine: String,
        /// What was being done.
        action: String,
        /// libssh2's (or the socket's) error.
        #[source]
        source: std::io::Error,
    },

    /// The machine presented a host key other than the one footloose gave it.
    #[error("host key mismatch for {machine}: it presented a key other than the one footloose installed; refusing to connect")]
    HostKeyMismatch {
        /// The container name.
        machine: String,
    },

    /// A command run in a machine exited unsuccessfully (see
    /// [`Output::checked`](crate::Output::checked)).
    #[error("`{command}` on {machine} failed with {status}\n  stderr: {stderr}")]
    Command {
        /// The container name.
        machine: String,
        /// The command line.
        command: String,
        /// The exit status or signal.
        status: String,
        /// What the command wrote to stderr.
        stderr: String,
    },

    /// Reading or writing a local file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, such as "cannot read".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// An ssh key could not be made, read or written.
    #[error("ssh key {}: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// A machine name that the cluster does not have.
    #[error("no machine {name} in cluster {cluster} (it has: {known})")]
    NoSuchMachine {
        /// The cluster.
        cluster: String,
        /// The hostname asked for.
        name: String,
        /// The hostnames it has, comma separated.
        known: String,
    },

    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Wraps a bollard error with what footloose was doing.
    pub(crate) fn engine(action: impl Into<String>, source: bollard::errors::Error) -> Self {
        Error::Engine {
            action: action.into(),
            source,
        }
    }

    /// Wraps an io error with the file it concerns.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// True when `err` is the engine saying "no such object" (HTTP 404).
pub(crate) fn is_not_found(err: &bollard::errors::Error) -> bool {
    matches!(
        err,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// True when `err` is the engine saying "conflict" (HTTP 409).
pub(crate) fn is_conflict(err: &bollard::errors::Error) -> bool {
    matches!(
        err,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
            ..
        }
    )
}
