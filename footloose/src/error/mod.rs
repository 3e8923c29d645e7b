//! The library's error type, and how footloose's errors carry their
//! causes.
//!
//! Each layer owns its errors: the configuration's are
//! [`ConfigError`] (footloose-config), the engine's (reaching it, its
//! refusals, images) [`BackendError`] (`backend/error.rs`), a machine's
//! (ssh, commands, boots) [`MachineError`] (`machine/error.rs`),
//! Ansible's [`AnsibleError`] (`ansible/error.rs`). [`Error`] composes
//! them, each printed as it is, beside the failures of the cluster's own
//! operations; this module holds that composition and the helpers every
//! layer's errors share ([`chain`], [`write_report`], in `report.rs`,
//! which imports nothing of the crate so that a layer's `error.rs` may
//! use them).
//!
//! An error whose cause ends its message carries that cause as its
//! [`source`](std::error::Error::source) and leaves it out of its own
//! message, so that a chain printer (`anyhow`'s `{:#}`, or [`chain`])
//! prints every cause once; a cause the message goes on after (a hint, a
//! question) is printed in place and is not a source. Modules whose work
//! fails in many ways have an error type of their own (reaching the
//! engine's [`ConnectError`](crate::engine::ConnectError), the ssh configuration's,
//! the tunnel's, ...) and hand it on typed; text is made of them only
//! where it is printed.

mod report;

use std::fmt;
use std::path::PathBuf;

use crate::ansible::AnsibleError;
pub use crate::backend::error::{BackendError, EngineFailure};
use crate::machine::MachineError;
pub use footloose_config::ConfigError;
pub(crate) use report::{chain, write_report};

/// A specialised `Result` for footloose operations.
///
/// ```no_run
/// fn hostname(cluster: &footloose::Cluster) -> footloose::Result<String> {
///     Ok(cluster.machine("node0").exec("hostname")?.checked()?.stdout())
/// }
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in footloose.
///
/// Match on the variants that a caller acts on, and print the rest: the
/// enum grows with footloose, so a `match` needs a `_` arm. Some variants
/// carry their cause as their [`source`](std::error::Error::source) rather
/// than in their own message (see [`BackendError::EngineUnreachable`]);
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
/// as it is ([`Config`](Error::Config), [`Backend`](Error::Backend),
/// [`Machine`](Error::Machine), [`Ansible`](Error::Ansible)): match
/// through it.
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

    /// Reaching or using the engine failed: it does not answer, refuses
    /// a request, is of a backend this footloose does not have, or an
    /// image cannot be had (see [`BackendError`]).
    #[error(transparent)]
    Backend(#[from] BackendError),

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
            Error::Backend(error) => error.engine_failure(),
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
            error: Box::new(Error::from(BackendError::Engine {
                engine: "Docker".into(),
                action: "creating container c-node0".into(),
                kind: EngineFailure::Conflict,
                message: "name in use".into(),
            })),
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
}
