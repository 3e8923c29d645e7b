//! The library's error type, and how footloose's errors carry their
//! causes.
//!
//! Each layer owns its errors: the configuration's are
//! [`ConfigError`] (footloose-config), a machine's (ssh, commands, boots)
//! [`MachineError`] (`machine/error.rs`), Ansible's [`AnsibleError`]
//! (`ansible/error.rs`). [`Error`] composes them, each printed as it is,
//! beside the failures of the cluster's own operations and of the engine;
//! this module holds that composition and the helpers every layer's errors
//! share ([`chain`], [`write_report`]).
//!
//! An error whose cause ends its message carries that cause as its
//! [`source`](std::error::Error::source) and leaves it out of its own
//! message, so that a chain printer (`anyhow`'s `{:#}`, or [`chain`])
//! prints every cause once; a cause the message goes on after (a hint, a
//! question) is printed in place and is not a source. Modules whose work
//! fails in many ways have an error type of their own (the engine's
//! [`ConnectError`](crate::engine::ConnectError), the ssh configuration's,
//! the tunnel's, ...) and hand it on typed; text is made of them only
//! where it is printed.

use std::fmt;
use std::path::PathBuf;

use crate::ansible::AnsibleError;
use crate::machine::MachineError;
pub use footloose_config::ConfigError;

/// A specialised `Result` for footloose operations.
///
/// ```no_run
/// fn hostname(cluster: &footloose::Cluster) -> footloose::Result<String> {
///     Ok(cluster.machine("node0").exec("hostname")?.checked()?.stdout())
/// }
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `error` and its sources, joined by `: `, as `anyhow`'s `{:#}` prints
/// them: the whole story of an error that hands its causes on as sources.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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
/// [`Error::EngineUnreachable`](crate::Error::EngineUnreachable).
///
/// It prints its cause, then the way out on a line of its own:
///
/// ```text
/// cannot reach the Docker engine at unix:///var/run/docker.sock: Socket not found: /var/run/docker.sock
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
///
/// # async fn demo() {
/// match Engine::connect_to("ssh://ops@build-box").await {
///     Ok(engine) => println!("connected to {}", engine.endpoint()),
///     Err(footloose::Error::EngineUnreachable { source, .. })
///         if source.kind() == ConnectErrorKind::Ssh =>
///     {
///         eprintln!("the ssh connection failed: {source}")
///     }
///     Err(err) => eprintln!("{:#}", anyhow::Error::from(err)),
/// }
/// # }
/// ```
pub struct ConnectError {
    kind: ConnectErrorKind,
    /// The engine's typed error, printed with its sources.
    cause: Box<dyn std::error::Error + Send + Sync>,
    hint: &'static str,
}

/// Which step of reaching an engine failed (see [`ConnectError::kind`]).
///
/// ```no_run
/// # async fn demo() {
/// use footloose::engine::{ConnectErrorKind, Engine};
///
/// match Engine::connect_to("tcp://engine.invalid:2375").await {
///     Err(footloose::Error::EngineUnreachable { source, .. }) => {
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

    /// Which step failed.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use footloose::engine::{ConnectErrorKind, Engine};
    ///
    /// if let Err(footloose::Error::EngineUnreachable { source, .. }) = Engine::connect().await {
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
        write!(
            f,
            "{}\n  {}",
            crate::error::chain(self.cause.as_ref()),
            self.hint
        )
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

/// Everything that can go wrong in footloose.
///
/// Match on the variants that a caller acts on, and print the rest: the
/// enum grows with footloose, so a `match` needs a `_` arm. Some variants
/// carry their cause as their [`source`](std::error::Error::source) rather
/// than in their own message (see [`EngineUnreachable`](Error::EngineUnreachable));
/// print the whole chain, as `anyhow`'s `{:#}` does, to see it:
///
/// ```no_run
/// use footloose::{ClusterBuilder, Config, Error};
///
/// let builder = ClusterBuilder::new(Config::with_replicas("demo", "footloose/debian12", 1));
/// match builder.create() {
///     Ok(cluster) => println!("{} is up", cluster.name()),
///     Err(Error::Interrupted) => eprintln!("interrupted; nothing is left behind"),
///     Err(err) if err.is_conflict() => eprintln!("a name is taken: {err}"),
///     Err(err) => eprintln!("error: {:#}", anyhow::Error::from(err)),
/// }
/// ```
///
/// The errors of a layer come as that layer's type, which `Error` carries
/// as it is ([`Config`](Error::Config), [`Machine`](Error::Machine),
/// [`Ansible`](Error::Ansible)): match through it.
///
/// ```no_run
/// use footloose::ansible::{AnsibleError, Playbook};
/// use footloose::{Cluster, Error, MachineError};
///
/// fn converge(cluster: &Cluster) -> footloose::Result<()> {
///     cluster.machine("node0").exec("apt-get update")?.checked()?;
///     Playbook::new("site.yml").run(cluster)?;
///     Ok(())
/// }
///
/// # fn demo(cluster: &Cluster) {
/// match converge(cluster) {
///     Ok(()) => {}
///     Err(Error::Machine(MachineError::Command { command, stderr, .. })) => {
///         eprintln!("`{command}` failed: {stderr}")
///     }
///     Err(Error::Ansible(AnsibleError::Playbook(failure))) => {
///         eprintln!("{} task(s) failed", failure.failures.len())
///     }
///     Err(err) => eprintln!("error: {:#}", anyhow::Error::from(err)),
/// }
/// # }
/// ```
///
/// Its `Debug` form, which a `#[test]` returning `Result<(), Error>` and
/// `unwrap` print, is the message and its causes on lines of their own,
/// as `anyhow` prints an error.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// Running Ansible against a cluster failed: a play, a role, a
    /// requirements file, a missing program (see [`AnsibleError`]).
    #[error(transparent)]
    Ansible(#[from] AnsibleError),

    /// Reaching or running on a machine failed: ssh, a command, a boot,
    /// a reboot, a unit (see [`MachineError`]).
    #[error(transparent)]
    Machine(#[from] MachineError),

    /// No Docker engine answered. Its source, a [`ConnectError`], says why
    /// and what to do about it.
    #[error("cannot reach the Docker engine at {endpoint}")]
    EngineUnreachable {
        /// The socket or URL that was tried.
        endpoint: String,
        /// What went wrong, and the way out.
        #[source]
        source: ConnectError,
    },

    /// A Docker API call failed.
    #[error("Docker engine error while {action}: {message}")]
    Engine {
        /// What footloose was doing.
        action: String,
        /// What kind of refusal it was.
        kind: EngineFailure,
        /// The engine's own words.
        message: String,
    },

    /// An image is missing and could neither be built nor pulled.
    #[error("image {image} is not available: {reason}")]
    Image {
        /// The image reference.
        image: String,
        /// Why it could not be had.
        reason: String,
    },

    /// An image footloose did not build cannot be made a machine image:
    /// its [`AdaptError`](crate::image::AdaptError) says what it lacks.
    #[error("image {image} cannot be made a footloose machine: {reason}")]
    Adapt {
        /// The image reference.
        image: String,
        /// What it lacks (part of the message, so not a source).
        reason: crate::distro::AdaptError,
    },

    /// The engine refused to start a container.
    #[error("cannot start machine {machine}: {reason}")]
    Start {
        /// The container name.
        machine: String,
        /// The engine's message, with a hint when one is known.
        reason: String,
    },

    /// Reading or writing a local file failed.
    #[error("{action} {}: {error}", path.display())]
    Io {
        /// What was being done, such as "cannot read".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },

    /// An ssh key could not be made, read or written.
    #[error("ssh key {}: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// `create` found the cluster already made with another client key,
    /// typically the same cluster name used from another directory.
    #[error("cluster {cluster} already exists, made from {made_from} with key {theirs}; this config's key {} {}\n  to make a separate cluster, give it another name (`footloose create --cluster NAME`); to replace it, delete it first (`footloose delete --cluster {cluster}`, or `footloose delete` where it was made)", key.display(), ours.as_deref().map(|f| format!("is {f}")).unwrap_or_else(|| "does not exist yet".to_owned()))]
    ClusterKeyMismatch {
        /// The cluster.
        cluster: String,
        /// The config file that made it, as its machines' labels say.
        made_from: String,
        /// The fingerprint of the key its machines trust.
        theirs: String,
        /// This config's private key file.
        key: PathBuf,
        /// That key's fingerprint, when the file exists.
        ours: Option<String>,
    },

    /// A machine's labels could not be read as a [`MachineRecord`](crate::record::MachineRecord).
    #[error("cannot read machine {container}")]
    Record {
        /// The container name.
        container: String,
        /// Why its record could not be read.
        #[source]
        source: crate::record::RecordError,
    },

    /// The config names a backend footloose has no implementation of.
    #[error("backend `{backend}` is not available: {reason}")]
    Backend {
        /// The backend's name, as the config writes it.
        backend: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// The operation was interrupted (SIGINT or SIGTERM) and stopped.
    #[error("interrupted")]
    Interrupted,

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

    /// A setting footloose reads when it runs (an environment variable
    /// such as `FOOTLOOSE_LEASE`, or a config value set in code, such as
    /// `cluster.reach`) cannot be used; its source says why.
    #[error("cannot use {setting}")]
    Setting {
        /// The variable or config field.
        setting: String,
        /// What is wrong with its value.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A task footloose ran in the background (a blocking file lock, a
    /// key's generation, an ssh readiness check) panicked or was
    /// cancelled.
    #[error("{task} task failed")]
    Task {
        /// What the task did, such as `key` or `readiness`.
        task: &'static str,
        /// Why it did not finish.
        #[source]
        source: tokio::task::JoinError,
    },

    /// An archive footloose hands to the engine (a build context, a
    /// machine's keys) could not be packed.
    #[error("cannot pack {what}")]
    Pack {
        /// What was packed, such as `the build context`.
        what: String,
        /// The archive writer's error.
        #[source]
        source: std::io::Error,
    },

    /// A machine's ssh host key could not be generated.
    #[error("cannot generate a host key")]
    HostKey {
        /// The key library's error.
        #[source]
        source: ssh_key::Error,
    },

    /// An address to publish ports on is not an IP address: that of
    /// `FOOTLOOSE_PUBLISH_ADDRESS`, or a port mapping's `address` set in
    /// code (a config file's is checked when it is read).
    #[error("cannot publish on {setting} `{value}`: not an IP address")]
    PublishAddress {
        /// Where the address comes from, such as `host address` or
        /// `FOOTLOOSE_PUBLISH_ADDRESS`.
        setting: String,
        /// The text that is not an address.
        value: String,
    },

    /// No free port could be had on a host address, to publish a
    /// machine's port on.
    #[error("cannot find a free port on {ip}")]
    FreePort {
        /// The host address.
        ip: std::net::IpAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A cluster that an operation needs has no machines.
    #[error("cluster {cluster} has no machines; create it with `footloose create`")]
    NoMachines {
        /// The cluster.
        cluster: String,
    },

    /// `create` found a container of the name one of its machines needs
    /// that is not part of the cluster.
    #[error("a container named {container} already exists and is not part of cluster {cluster}; remove or rename it")]
    ForeignContainer {
        /// The container name.
        container: String,
        /// The cluster being created.
        cluster: String,
    },

    /// A network of the cluster being created was removed meanwhile
    /// (another footloose deleted the cluster).
    #[error("network {network} was removed while this cluster was being created")]
    NetworkRemoved {
        /// The network's name.
        network: String,
    },

    /// A request to the engine that creates something ended without an
    /// answer: the task that carried it panicked or was cancelled.
    #[error("a request to the engine ended without an answer")]
    Unanswered,

    /// The engine refused to create a machine that mounts host paths, and
    /// it runs on another host: the paths must exist there. The refusal is
    /// printed first, then whose paths those are.
    #[error("{error}\n  {machine} mounts {}: the engine at {endpoint} runs on another host, where bind sources must exist", sources.join(", "))]
    RemoteBinds {
        /// The container name.
        machine: String,
        /// The host paths it mounts.
        sources: Vec<String>,
        /// The engine's endpoint.
        endpoint: String,
        /// The engine's refusal (part of the message, so not a source).
        error: Box<Error>,
    },
}

/// The message, then each cause on a line of its own, as `anyhow` prints
/// an error: what a failing test shows.
///
/// ```
/// let err = footloose::Error::no_such_machine("demo", "db0", ["node0"]);
/// assert_eq!(format!("{err:?}"), "no machine db0 in cluster demo (it has: node0)");
/// ```
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_report(self, f)
    }
}

/// `error`'s message, then `Caused by:` and its sources, numbered when
/// there are several (anyhow's `Debug` layout).
pub(crate) fn write_report(
    error: &(dyn std::error::Error + 'static),
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(f, "{error}")?;
    let causes: Vec<String> = std::iter::successors(error.source(), |e| e.source())
        .map(ToString::to_string)
        .collect();
    if causes.is_empty() {
        return Ok(());
    }
    write!(f, "\n\nCaused by:")?;
    for (i, cause) in causes.iter().enumerate() {
        let cause = cause.replace('\n', "\n       ");
        if causes.len() == 1 {
            write!(f, "\n    {cause}")?;
        } else {
            write!(f, "\n    {i}: {cause}")?;
        }
    }
    Ok(())
}

/// The kinds of engine refusal that footloose (and its users) act on: the
/// `kind` of [`Error::Engine`], read with [`Error::engine_failure`].
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

impl Error {
    /// The kind of engine refusal, when this is an engine error.
    ///
    /// ```
    /// let err = footloose::Error::no_such_machine("demo", "db0", ["node0"]);
    /// assert_eq!(err.engine_failure(), None);
    /// assert!(!err.is_not_found() && !err.is_conflict());
    /// ```
    pub fn engine_failure(&self) -> Option<EngineFailure> {
        match self {
            Error::Engine { kind, .. } => Some(*kind),
            Error::RemoteBinds { error, .. } => error.engine_failure(),
            _ => None,
        }
    }

    /// True when the engine said "no such object".
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// match footloose::delete(engine, "demo").await {
    ///     Err(err) if err.is_not_found() => println!("someone else removed it first"),
    ///     other => println!("{:?}", other.map(|removed| removed.containers)),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn is_not_found(&self) -> bool {
        self.engine_failure() == Some(EngineFailure::NotFound)
    }

    /// True when the engine said a name is taken or an object busy.
    ///
    /// ```no_run
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 1);
    /// match footloose::ClusterBuilder::new(config).create() {
    ///     Err(err) if err.is_conflict() => eprintln!("a name is taken: {err}"),
    ///     other => drop(other?),
    /// }
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn is_conflict(&self) -> bool {
        self.engine_failure() == Some(EngineFailure::Conflict)
    }

    /// The one wording of "no machine `name` in `cluster`", listing the
    /// hostnames it has.
    ///
    /// ```
    /// let err = footloose::Error::no_such_machine("demo", "db0", ["node0", "node1"]);
    /// assert_eq!(err.to_string(), "no machine db0 in cluster demo (it has: node0, node1)");
    /// ```
    pub fn no_such_machine<'a>(
        cluster: &str,
        name: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Error {
        Error::NoSuchMachine {
            cluster: cluster.to_owned(),
            name: name.to_owned(),
            known: known.into_iter().collect::<Vec<_>>().join(", "),
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
            error: source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(err: Error) -> String {
        format!(
            "{:#}",
            anyhow::Error::from(err).context("cannot create cluster c")
        )
    }

    #[test]
    fn an_unreadable_record_names_the_machine_and_its_cause_once() {
        let err = Error::Record {
            container: "c-node7".into(),
            source: crate::record::RecordError::Newer {
                found: 9,
                supported: 1,
            },
        };
        let text = chain(err);
        assert_eq!(text.matches("newer footloose").count(), 1, "{text}");
        assert!(
            text.starts_with("cannot create cluster c: cannot read machine c-node7: it was made by a newer footloose (record version 9"),
            "{text}"
        );
    }

    #[test]
    fn a_chain_prints_every_cause_once_in_order() {
        let err = Error::Setting {
            setting: "FOOTLOOSE_LEASE".into(),
            source: Box::new(Error::io(
                "cannot read",
                "/x",
                std::io::Error::other("gone away"),
            )),
        };
        assert_eq!(
            super::chain(&err),
            "cannot use FOOTLOOSE_LEASE: cannot read /x: gone away"
        );
        assert_eq!(
            chain(err),
            "cannot create cluster c: cannot use FOOTLOOSE_LEASE: cannot read /x: gone away"
        );
    }

    #[test]
    fn debug_prints_the_message_then_each_cause_on_a_line_of_its_own() {
        let err = Error::Setting {
            setting: "FOOTLOOSE_LEASE".into(),
            source: Box::new(Error::io(
                "cannot read",
                "/x",
                std::io::Error::other("gone away"),
            )),
        };
        assert_eq!(
            format!("{err:?}"),
            "cannot use FOOTLOOSE_LEASE\n\nCaused by:\n    cannot read /x: gone away"
        );
        let text = format!("{:?}", unreachable("tcp://engine:2375"));
        assert!(
            text.starts_with("cannot reach the Docker engine at tcp://engine:2375\n\nCaused by:\n    cannot resolve engine: connection refused\n         check that"),
            "{text}"
        );
        assert!(!text.contains("\\n"), "{text}");
    }

    #[test]
    fn an_engine_refusal_is_printed_once_and_classified() {
        let err = Error::Engine {
            action: "creating container c-node0".into(),
            kind: EngineFailure::Conflict,
            message: "Conflict. The container name \"/c-node0\" is already in use".into(),
        };
        assert!(err.is_conflict() && !err.is_not_found());
        let text = chain(err);
        assert_eq!(text.matches("is already in use").count(), 1, "{text}");
    }

    #[test]
    fn io_and_ssh_causes_are_printed_once() {
        let io = Error::io(
            "cannot read",
            "/x",
            std::io::Error::new(std::io::ErrorKind::NotFound, "gone away"),
        );
        assert_eq!(chain(io).matches("gone away").count(), 1);
        let ssh = Error::from(MachineError::Ssh {
            machine: "c-node0".into(),
            action: "handshaking".into(),
            error: std::io::Error::other("reset by peer"),
        });
        assert_eq!(chain(ssh).matches("reset by peer").count(), 1);
    }

    #[test]
    fn a_refusal_of_remote_binds_is_printed_first_and_keeps_its_kind() {
        let err = Error::RemoteBinds {
            machine: "c-node0".into(),
            sources: vec!["/srv/a".into(), "/srv/b".into()],
            endpoint: "ssh://ops@engine".into(),
            error: Box::new(Error::Engine {
                action: "creating container c-node0".into(),
                kind: EngineFailure::Conflict,
                message: "name in use".into(),
            }),
        };
        assert!(err.is_conflict());
        assert_eq!(
            err.to_string(),
            "Docker engine error while creating container c-node0: name in use\n  c-node0 mounts /srv/a, /srv/b: the engine at ssh://ops@engine runs on another host, where bind sources must exist"
        );
    }

    #[tokio::test]
    async fn a_failed_task_says_which_and_hands_on_why() {
        let join = tokio::spawn(async { panic!("boom") }).await.unwrap_err();
        let err = Error::Task {
            task: "key",
            source: join,
        };
        assert_eq!(err.to_string(), "key task failed");
        assert!(
            super::chain(&err).starts_with("key task failed: task "),
            "{err:?}"
        );
    }

    fn unreachable(endpoint: &str) -> Error {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        Error::EngineUnreachable {
            endpoint: endpoint.into(),
            source: ConnectError::new(
                endpoint,
                ConnectErrorKind::Address,
                Error::io("cannot resolve", "engine", refused),
            ),
        }
    }

    #[test]
    fn unreachable_engines_get_advice_for_their_transport() {
        let text = |endpoint: &str| super::chain(&unreachable(endpoint));
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
            text.starts_with("cannot list clusters: cannot reach the Docker engine at tcp://engine:2375: cannot resolve engine: connection refused\n  check that the engine listens"),
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
        let Error::EngineUnreachable { source, .. } = unreachable("tcp://engine") else {
            unreachable!()
        };
        assert_eq!(source.kind(), ConnectErrorKind::Address);
    }
}
