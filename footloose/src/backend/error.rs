//! What goes wrong between footloose and the engine that runs its
//! machines: reaching the engine, a request it refuses, a backend this
//! footloose does not have, an image it cannot have. [`BackendError`] says
//! which; the crate's [`Error`](crate::Error) carries it as
//! [`Error::Backend`](crate::Error::Backend), printed as it is.
//!
//! Here too: why an engine could not be reached ([`ConnectError`], with
//! its [`ConnectErrorKind`] and the way out), and the kinds of refusal
//! footloose acts on ([`EngineFailure`]).

use std::fmt;

use crate::error::{chain, write_report};

/// What goes wrong between footloose and its engine: the engine does not
/// answer, refuses a request, is of a backend this footloose does not
/// have, or an image cannot be had.
///
/// It reaches callers as [`Error::Backend`](crate::Error::Backend), which
/// prints it as it is. An unreachable engine carries the reason as its
/// [`source`](std::error::Error::source): print the chain (`anyhow`'s
/// `{:#}`) to see it. To act on a kind of refusal,
/// [`Error::engine_failure`](crate::Error::engine_failure) is enough;
/// matching gives its fields:
///
/// ```no_run
/// use footloose::engine::Engine;
/// use footloose::{BackendError, EngineFailure, Error};
///
/// # async fn demo() -> footloose::Result<()> {
/// let engine = match Engine::connect().await {
///     Ok(engine) => engine,
///     Err(Error::Backend(BackendError::EngineUnreachable { endpoint, source })) => {
///         eprintln!("nothing answers at {endpoint} ({:?}): {source}", source.kind());
///         return Ok(());
///     }
///     Err(err) => return Err(err),
/// };
/// match footloose::delete(&engine, "demo").await {
///     Ok(removed) => println!("removed {}", removed.containers.len()),
///     Err(Error::Backend(BackendError::Engine { engine: name, kind: EngineFailure::InUse, message, .. })) => {
///         eprintln!("{name} keeps something in use: {message}")
///     }
///     Err(err) => return Err(err),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// No engine answered. Its source, a [`ConnectError`], says why and
    /// what to do about it. (Which engine it is, footloose learns only
    /// once it answers.)
    #[error("cannot reach the engine at {endpoint}")]
    EngineUnreachable {
        /// The socket or URL that was tried.
        endpoint: String,
        /// What went wrong, and the way out.
        #[source]
        source: ConnectError,
    },

    /// The engine refused or failed a request.
    #[error("{engine} engine error while {action}: {message}")]
    Engine {
        /// Which engine it is, as the backend that asked names it, such as
        /// `Docker` or `Podman`.
        engine: String,
        /// What footloose was doing.
        action: String,
        /// What kind of refusal it was.
        kind: EngineFailure,
        /// The engine's own words.
        message: String,
    },

    /// The config names a backend this footloose has no implementation of.
    #[error("backend `{backend}` is not available: {reason}")]
    Unsupported {
        /// The backend's name, as the config writes it.
        backend: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// An image is missing and could neither be built nor pulled.
    #[error("image {image} is not available: {reason}")]
    Image {
        /// The image reference.
        image: String,
        /// Why it could not be had.
        reason: String,
    },
}

impl BackendError {
    /// The kind of engine refusal, when this is one;
    /// [`Error::engine_failure`](crate::Error::engine_failure) asks it.
    ///
    /// ```
    /// use footloose::{BackendError, EngineFailure, Error};
    ///
    /// let refusal = Error::from(BackendError::Engine {
    ///     engine: "Podman".into(),
    ///     action: "removing network demo".into(),
    ///     kind: EngineFailure::InUse,
    ///     message: "network is being used".into(),
    /// });
    /// assert_eq!(refusal.engine_failure(), Some(EngineFailure::InUse));
    /// assert_eq!(
    ///     refusal.to_string(),
    ///     "Podman engine error while removing network demo: network is being used"
    /// );
    ///
    /// let missing = BackendError::Image { image: "footloose/debian12".into(), reason: "gone".into() };
    /// assert_eq!(missing.engine_failure(), None);
    /// ```
    pub fn engine_failure(&self) -> Option<EngineFailure> {
        match self {
            BackendError::Engine { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

/// The kinds of engine refusal that footloose (and its users) act on: the
/// `kind` of [`BackendError::Engine`], read with
/// [`Error::engine_failure`](crate::Error::engine_failure).
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// use footloose::EngineFailure;
///
/// match footloose::delete(engine, "demo").await {
///     Ok(removed) => println!("removed {}", removed.containers.len()),
///     Err(err) if err.engine_failure() == Some(EngineFailure::InUse) => {
///         eprintln!("a network is still in use: {err}")
///     }
///     Err(err) => return Err(err),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineFailure {
    /// The object does not exist (HTTP 404).
    NotFound,
    /// A name is taken, or the object is busy (HTTP 409).
    Conflict,
    /// The engine refused the operation, such as removing a network that
    /// containers still use (HTTP 403).
    Forbidden,
    /// Nothing to do: the object is already as asked (HTTP 304).
    NotModified,
    /// The object is still in use, such as a network that containers are
    /// attached to (Docker says 403 for it, Podman 500: each backend
    /// finds out and reports this kind).
    InUse,
    /// The object is in passing between two states, in one the engine's
    /// API cannot describe (Podman reports a container that just exited,
    /// before its clean-up or restart, as `stopped`): ask again.
    Transient,
    /// Anything else: a bad request, a server error, a broken connection.
    Other,
}

/// What to do when the engine at `endpoint` does not answer.
fn unreachable_hint(endpoint: &str) -> &'static str {
    if endpoint.starts_with("ssh://") {
        "check that `ssh` logs in to that host with the same key and that the engine runs there and listens on that socket, or point DOCKER_HOST at another engine"
    } else if endpoint.starts_with("unix://") || !endpoint.contains("://") {
        "start it (`sudo systemctl start docker`, or `sudo dockerd &`), or point DOCKER_HOST at a running one"
    } else {
        "check that the engine listens on that address and that this host may reach it, or point DOCKER_HOST at another engine"
    }
}

/// Why footloose could not reach an engine, and what to do about it: the
/// [`source`](std::error::Error::source) of
/// [`BackendError::EngineUnreachable`].
///
/// It prints its cause, then the way out on a line of its own:
///
/// ```text
/// cannot reach the engine at unix:///var/run/docker.sock: Socket not found: /var/run/docker.sock
///   start it (`sudo systemctl start docker`, or `sudo dockerd &`), or point DOCKER_HOST at a running one
/// ```
///
/// So that the way out comes last, its message includes its own causes
/// (the ssh configuration's line, the operating system's error), which it
/// therefore does not hand on as a source. [`kind`](Self::kind) says which
/// step failed.
///
/// ```no_run
/// use footloose::engine::{ConnectErrorKind, Engine};
/// use footloose::{BackendError, Error};
///
/// # async fn demo() {
/// match Engine::connect_to("ssh://ops@build-box").await {
///     Ok(engine) => println!("connected to {}", engine.endpoint()),
///     Err(Error::Backend(BackendError::EngineUnreachable { source, .. }))
///         if source.kind() == ConnectErrorKind::Ssh =>
///     {
///         eprintln!("the ssh connection failed: {source}")
///     }
///     Err(err) => eprintln!("{:#}", anyhow::Error::from(err)),
/// }
/// # }
/// ```
pub struct ConnectError {
    /// Which step failed.
    kind: ConnectErrorKind,
    /// The engine's typed error, printed with its sources.
    cause: Box<dyn std::error::Error + Send + Sync>,
    /// The way out, for the endpoint's transport.
    hint: &'static str,
}

/// Which step of reaching an engine failed (see [`ConnectError::kind`]).
///
/// ```no_run
/// # async fn demo() {
/// use footloose::engine::{ConnectErrorKind, Engine};
/// use footloose::{BackendError, Error};
///
/// match Engine::connect_to("tcp://engine.invalid:2375").await {
///     Err(Error::Backend(BackendError::EngineUnreachable { source, .. })) => {
///         assert_eq!(source.kind(), ConnectErrorKind::Address)
///     }
///     _ => unreachable!("no such host"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectErrorKind {
    /// The current Docker context could not be read or used.
    Context,
    /// The engine's host name (`tcp://HOST`) did not resolve.
    Address,
    /// The ssh connection to an `ssh://` engine's host failed: its URL,
    /// the ssh configuration, the connection, the host key or the login.
    Ssh,
    /// The engine's API did not answer.
    Api,
    /// A machine's port could not be forwarded through the ssh connection.
    Forward,
}

impl ConnectError {
    /// The failure `cause`, of kind `kind`, of reaching the engine at
    /// `endpoint`.
    pub(crate) fn new(
        endpoint: &str,
        kind: ConnectErrorKind,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> ConnectError {
        ConnectError {
            kind,
            cause: Box::new(cause),
            hint: unreachable_hint(endpoint),
        }
    }

    /// The failure `cause`, of kind `kind`, with its own way out (a
    /// backend whose engine is started and chosen otherwise than Docker's).
    pub(crate) fn with_hint(
        kind: ConnectErrorKind,
        cause: impl std::error::Error + Send + Sync + 'static,
        hint: &'static str,
    ) -> ConnectError {
        ConnectError {
            kind,
            cause: Box::new(cause),
            hint,
        }
    }

    /// Which step failed.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use footloose::engine::{ConnectErrorKind, Engine};
    /// use footloose::{BackendError, Error};
    ///
    /// if let Err(Error::Backend(BackendError::EngineUnreachable { source, .. })) =
    ///     Engine::connect().await
    /// {
    ///     if source.kind() == ConnectErrorKind::Api {
    ///         eprintln!("is the engine running? {source}");
    ///     }
    /// }
    /// # }
    /// ```
    pub fn kind(&self) -> ConnectErrorKind {
        self.kind
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n  {}", chain(self.cause.as_ref()), self.hint)
    }
}

/// Its causes are part of its message (see the type's documentation).
impl std::error::Error for ConnectError {}

/// As its `Display`: the cause, then the way out.
impl fmt::Debug for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_report(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn unreachable(endpoint: &str) -> Error {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        Error::from(BackendError::EngineUnreachable {
            endpoint: endpoint.into(),
            source: ConnectError::new(
                endpoint,
                ConnectErrorKind::Address,
                Error::io("cannot resolve", "engine", refused),
            ),
        })
    }

    #[test]
    fn an_unreachable_engine_prints_its_cause_on_a_line_of_its_own() {
        let text = format!("{:?}", unreachable("tcp://engine:2375"));
        assert!(
            text.starts_with("cannot reach the engine at tcp://engine:2375\n\nCaused by:\n    cannot resolve engine: connection refused\n         check that"),
            "{text}"
        );
        assert!(!text.contains("\\n"), "{text}");
    }

    #[test]
    fn an_engine_refusal_is_printed_once_and_classified() {
        let err = Error::from(BackendError::Engine {
            engine: "Podman".into(),
            action: "creating container c-node0".into(),
            kind: EngineFailure::Conflict,
            message: "Conflict. The container name \"/c-node0\" is already in use".into(),
        });
        assert!(err.is_conflict() && !err.is_not_found());
        let text = format!(
            "{:#}",
            anyhow::Error::from(err).context("cannot create cluster c")
        );
        assert_eq!(text.matches("is already in use").count(), 1, "{text}");
        assert!(
            text.starts_with(
                "cannot create cluster c: Podman engine error while creating container c-node0: "
            ),
            "{text}"
        );
    }

    #[test]
    fn unreachable_engines_get_advice_for_their_transport() {
        let text = |endpoint: &str| chain(&unreachable(endpoint));
        assert!(text("unix:///var/run/docker.sock").contains("systemctl start docker"));
        assert!(text("ssh://ops@engine").contains("`ssh` logs in"));
        assert!(text("tcp://10.0.0.5:2375").contains("listens on that address"));
    }

    #[test]
    fn the_cause_is_printed_once_and_the_way_out_last() {
        let err = unreachable("tcp://engine:2375");
        let text = format!(
            "{:#}",
            anyhow::Error::from(err).context("cannot list clusters")
        );
        assert!(
            text.starts_with("cannot list clusters: cannot reach the engine at tcp://engine:2375: cannot resolve engine: connection refused\n  check that the engine listens"),
            "{text}"
        );
        assert_eq!(text.matches("connection refused").count(), 1, "{text}");
        assert!(
            text.ends_with("or point DOCKER_HOST at another engine"),
            "{text}"
        );
    }

    #[test]
    fn the_kind_says_which_step_failed() {
        let Error::Backend(BackendError::EngineUnreachable { source, .. }) =
            unreachable("tcp://engine")
        else {
            unreachable!()
        };
        assert_eq!(source.kind(), ConnectErrorKind::Address);
    }
}
