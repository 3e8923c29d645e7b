//! What footloose reads from the environment, read in one place.
//!
//! [`Settings::from_env`] is the only code of the library that reads
//! environment variables. The edges make one [`Settings`] and pass it
//! down: the command line when it starts, the test harness of
//! `#[footloose::cluster]` for each test, and the public entry points a
//! program calls directly ([`ClusterBuilder`](crate::ClusterBuilder),
//! [`Playbook`](crate::ansible::Playbook), the free functions,
//! [`Engine::connect`](crate::engine::Engine::connect)), which take one
//! from a `settings` method or argument (the engine its
//! [`engine`](Settings::engine) part) and otherwise make their own.
//!
//! ```
//! use std::ffi::OsString;
//!
//! use footloose::testing::KeepPolicy;
//! use footloose::Settings;
//!
//! // From a map instead of the process's environment.
//! let settings = Settings::from_vars(|name| match name {
//!     "FOOTLOOSE_KEEP" => Some(OsString::from("on-failure")),
//!     "FOOTLOOSE_LEASE" => Some(OsString::from("90m")),
//!     _ => None,
//! });
//! assert_eq!(settings.keep, KeepPolicy::OnFailure);
//! assert_eq!(settings.lease, Ok(Some(std::time::Duration::from_secs(90 * 60))));
//! assert!(settings.watchdog);
//! ```
//!
//! A value that does not parse is kept as a [`SettingError`] naming the
//! variable and its text, and reported where the setting is used, so that
//! a bad `FOOTLOOSE_LEASE` fails the creation of a test cluster, not
//! `footloose show`.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `HOME`.
pub const HOME: &str = "HOME";
/// `XDG_RUNTIME_DIR`.
pub const XDG_RUNTIME_DIR: &str = "XDG_RUNTIME_DIR";
/// `XDG_STATE_HOME`.
pub const XDG_STATE_HOME: &str = "XDG_STATE_HOME";
/// `TMPDIR`.
pub const TMPDIR: &str = "TMPDIR";
/// `FOOTLOOSE_LEASE`: the lease of test clusters, such as `90m` or `2h`.
pub const FOOTLOOSE_LEASE: &str = "FOOTLOOSE_LEASE";
/// `FOOTLOOSE_POOL`: how many booted machines every cluster test keeps
/// ready for the next one (see [`crate::pool`]).
pub const FOOTLOOSE_POOL: &str = "FOOTLOOSE_POOL";
/// `FOOTLOOSE_POOL_LEASE`: how long a pooled cluster waits for a test
/// before anyone may remove it, such as `30m`.
pub const FOOTLOOSE_POOL_LEASE: &str = "FOOTLOOSE_POOL_LEASE";
/// `FOOTLOOSE_POOL_PACE`: when a pool's refiller starts its boots:
/// `idle` (the default: each once a core of the host is idle) or `eager`.
pub const FOOTLOOSE_POOL_PACE: &str = "FOOTLOOSE_POOL_PACE";
/// `FOOTLOOSE_PUBLISH_ADDRESS`: where ports without an address are published.
pub const FOOTLOOSE_PUBLISH_ADDRESS: &str = "FOOTLOOSE_PUBLISH_ADDRESS";
/// `FOOTLOOSE_DEBIAN_MIRROR`: the Debian mirror mmdebstrap uses.
pub const FOOTLOOSE_DEBIAN_MIRROR: &str = "FOOTLOOSE_DEBIAN_MIRROR";
/// `FOOTLOOSE_KEEP`: which test clusters are kept.
pub const FOOTLOOSE_KEEP: &str = "FOOTLOOSE_KEEP";
/// `FOOTLOOSE_WATCHDOG`: `off` starts no cleanup watchdog.
pub const FOOTLOOSE_WATCHDOG: &str = "FOOTLOOSE_WATCHDOG";
/// `FOOTLOOSE_WATCHDOG_FOR`: set by footloose on the watchdog it starts.
pub const FOOTLOOSE_WATCHDOG_FOR: &str = "FOOTLOOSE_WATCHDOG_FOR";
/// `FOOTLOOSE_ANSIBLE_PLAYBOOK`: the program run instead of `ansible-playbook`.
pub const FOOTLOOSE_ANSIBLE_PLAYBOOK: &str = "FOOTLOOSE_ANSIBLE_PLAYBOOK";
/// `FOOTLOOSE_ANSIBLE_GALAXY`: the program run instead of `ansible-galaxy`.
pub const FOOTLOOSE_ANSIBLE_GALAXY: &str = "FOOTLOOSE_ANSIBLE_GALAXY";
/// `FOOTLOOSE_ANSIBLE_QUIET`: plays keep their output to themselves.
pub const FOOTLOOSE_ANSIBLE_QUIET: &str = "FOOTLOOSE_ANSIBLE_QUIET";
/// `ANSIBLE_ROLES_PATH`: Ansible's roles search path.
pub const ANSIBLE_ROLES_PATH: &str = "ANSIBLE_ROLES_PATH";
/// `ANSIBLE_COLLECTIONS_PATH`: Ansible's collections search path.
pub const ANSIBLE_COLLECTIONS_PATH: &str = "ANSIBLE_COLLECTIONS_PATH";
/// `DOCKER_HOST`.
pub const DOCKER_HOST: &str = "DOCKER_HOST";
/// `DOCKER_CONTEXT`.
pub const DOCKER_CONTEXT: &str = "DOCKER_CONTEXT";
/// `DOCKER_CONFIG`.
pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";
/// `DOCKER_TLS_VERIFY`.
pub const DOCKER_TLS_VERIFY: &str = "DOCKER_TLS_VERIFY";
/// `DOCKER_CERT_PATH`.
pub const DOCKER_CERT_PATH: &str = "DOCKER_CERT_PATH";
/// `FOOTLOOSE_BACKEND`: the backend every machine runs on, whatever the
/// config says (`docker`, `incus`).
pub const FOOTLOOSE_BACKEND: &str = "FOOTLOOSE_BACKEND";
/// `INCUS_SOCKET`: the local Incus daemon's unix socket.
pub const INCUS_SOCKET: &str = "INCUS_SOCKET";
/// `INCUS_DIR`: the local Incus daemon's directory (its socket is in it).
pub const INCUS_DIR: &str = "INCUS_DIR";
/// `INCUS_CONF`: the `incus` client's configuration directory
/// (`~/.config/incus` when not set).
pub const INCUS_CONF: &str = "INCUS_CONF";
/// `INCUS_REMOTE`: the remote of the client's configuration to use.
pub const INCUS_REMOTE: &str = "INCUS_REMOTE";
/// `INCUS_PROJECT`: the Incus project machines are made in.
pub const INCUS_PROJECT: &str = "INCUS_PROJECT";
/// `FOOTLOOSE_REACH`: how machines are reached.
pub const FOOTLOOSE_REACH: &str = "FOOTLOOSE_REACH";

/// What `FOOTLOOSE_KEEP` asks for.
///
/// ```
/// use footloose::testing::{keep_policy, KeepPolicy};
///
/// if keep_policy() == KeepPolicy::OnFailure {
///     eprintln!("the clusters of failing tests are kept");
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepPolicy {
    /// Remove the cluster after every test (the default).
    Never,
    /// Keep the clusters of failed tests (`FOOTLOOSE_KEEP=on-failure`).
    OnFailure,
    /// Keep every cluster (`FOOTLOOSE_KEEP=always`).
    Always,
}

/// When a pool's refiller starts the boots that top its pool up
/// (`FOOTLOOSE_POOL_PACE`; see [`crate::pool`]).
///
/// ```
/// use footloose::settings::PoolPace;
///
/// let settings = footloose::Settings::from_vars(|_| None);
/// assert_eq!(settings.pool_pace, Ok(PoolPace::Idle));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PoolPace {
    /// Each boot once a core of the engine's host stayed idle for a
    /// moment, so that refills never take the tests' cores (the default;
    /// as `Eager` for an engine whose host's load cannot be seen from
    /// here).
    #[default]
    Idle,
    /// Boots start as soon as the pool is short, one per core at most
    /// (`FOOTLOOSE_POOL_PACE=eager`): for hosts whose cores the tests
    /// leave idle anyway, and for tests of the refiller.
    Eager,
}

/// Everything footloose reads from the environment, typed.
///
/// Text variables that are not valid Unicode count as unset, as they did
/// when each was read on its own. Fields are public: change one after
/// [`from_env`](Self::from_env) to override the environment in code.
///
/// ```
/// let mut settings = footloose::Settings::from_env();
/// settings.ansible_quiet = true; // as FOOTLOOSE_ANSIBLE_QUIET=1 would
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// `HOME`: what `~` expands to, and the parent of
    /// `~/.local/state` when `XDG_STATE_HOME` is not set.
    pub home: Option<PathBuf>,
    /// `XDG_RUNTIME_DIR`: where lock files and the control sockets of
    /// `footloose ssh` go (`footloose/` in it); the temporary directory
    /// when not set.
    pub runtime_dir: Option<PathBuf>,
    /// `XDG_STATE_HOME`: where per-cluster state (`known_hosts`, the
    /// Ansible inventory) goes (`footloose/<cluster>` in it); else
    /// `~/.local/state`.
    pub state_home: Option<PathBuf>,
    /// `TMPDIR`: the temporary directory, where what goes in the runtime
    /// or state directory goes when neither is known (`/tmp` when not
    /// set, as [`std::env::temp_dir`] says).
    pub tmpdir: Option<PathBuf>,
    /// `FOOTLOOSE_LEASE`: the lease of test clusters built without
    /// [`ClusterBuilder::lease`](crate::ClusterBuilder::lease)
    /// (`45s`, `90m`, `3h`, `1d` or seconds); `Ok(None)` when not set
    /// (3 hours then). An error when the text is not a duration, reported
    /// when such a cluster is created.
    pub lease: Result<Option<Duration>, SettingError>,
    /// `FOOTLOOSE_POOL`: the pool size of every cluster test whose
    /// attribute names none (`pool = N`); `Ok(None)` when not set, `0`
    /// turns pools off. An error when the text is not a number, reported
    /// when a test cluster is made.
    pub pool: Result<Option<usize>, SettingError>,
    /// `FOOTLOOSE_POOL_LEASE`: how long a pooled cluster may wait for a
    /// test before anyone may remove it (30 minutes when not set).
    pub pool_lease: Result<Option<Duration>, SettingError>,
    /// `FOOTLOOSE_POOL_PACE`: when a pool's refiller starts its boots
    /// ([`PoolPace::Idle`] when not set). An error when the text is
    /// neither `idle` nor `eager`, reported when a test cluster is taken
    /// from a pool.
    pub pool_pace: Result<PoolPace, SettingError>,
    /// `FOOTLOOSE_PUBLISH_ADDRESS`: where ports whose mapping names no
    /// address are published when the builder sets no
    /// [`publish_address`](crate::ClusterBuilder::publish_address). An
    /// error when the text is not an IP address, reported when a cluster
    /// is created without one.
    pub publish_address: Result<Option<IpAddr>, SettingError>,
    /// `FOOTLOOSE_DEBIAN_MIRROR`: the Debian mirror mmdebstrap makes base
    /// images from (`http://deb.debian.org/debian` when not set).
    pub debian_mirror: Option<String>,
    /// `FOOTLOOSE_KEEP`: which test clusters stay after their test:
    /// `on-failure` (or `failure`), `always` (or `1`, `true`); anything
    /// else keeps none.
    pub keep: KeepPolicy,
    /// `FOOTLOOSE_WATCHDOG`: `false` when it is `off`, and test processes
    /// start no cleanup watchdog.
    pub watchdog: bool,
    /// `FOOTLOOSE_WATCHDOG_FOR`: `pid:start_time` of the process this one
    /// is the watchdog of; footloose sets it on the watchdogs it starts.
    pub(crate) watchdog_for: Option<String>,
    /// `FOOTLOOSE_ANSIBLE_PLAYBOOK`: the program a
    /// [`Playbook`](crate::ansible::Playbook) runs when it names none
    /// (`ansible-playbook` from `PATH` when not set).
    pub ansible_playbook: Option<OsString>,
    /// `FOOTLOOSE_ANSIBLE_GALAXY`: the program that installs a playbook's
    /// requirements when it names none (`ansible-galaxy` when not set).
    pub ansible_galaxy: Option<OsString>,
    /// `FOOTLOOSE_ANSIBLE_QUIET`: set to anything but `0` or nothing,
    /// plays do not stream their output unless told to.
    pub ansible_quiet: bool,
    /// `ANSIBLE_ROLES_PATH`: the roles search path a playbook run keeps
    /// after the paths footloose puts first (Ansible's default when not
    /// set, nor given to the playbook).
    pub ansible_roles_path: Option<OsString>,
    /// `ANSIBLE_COLLECTIONS_PATH`: as `ansible_roles_path`, for collections.
    pub ansible_collections_path: Option<OsString>,
    /// What says which engine to talk to.
    pub engine: EngineSettings,
}

/// What the environment says about the engine: read here, used by the
/// engine's discovery. The default is an environment that says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineSettings {
    /// `DOCKER_HOST`: the engine's endpoint; `None` when not set or empty.
    pub docker_host: Option<String>,
    /// `DOCKER_CONTEXT`: the Docker context to use; `None` when not set
    /// or empty.
    pub docker_context: Option<String>,
    /// `DOCKER_CONFIG`: the Docker CLI's configuration directory
    /// (`~/.docker` when not set).
    pub docker_config: Option<PathBuf>,
    /// `DOCKER_TLS_VERIFY`: set (to anything), a `tcp://` engine is
    /// reached over TLS.
    pub tls_verify: bool,
    /// `DOCKER_CERT_PATH`: the directory of the TLS client certificate.
    pub cert_path: Option<PathBuf>,
    /// `FOOTLOOSE_REACH`, as written: how machines are reached; `None`
    /// when not set or empty.
    pub reach: Option<String>,
    /// `HOME`: where the Docker CLI's configuration is when
    /// `DOCKER_CONFIG` is not set (`~/.docker`), and the `incus` client's
    /// (`~/.config/incus`). (OpenSSH, which reaches `ssh://` engines,
    /// reads the password database instead.)
    pub home: Option<PathBuf>,
    /// `FOOTLOOSE_BACKEND`, as written: the backend every machine runs on,
    /// over the config's `backend:` (read by [`backend_for`](Self::backend_for));
    /// `None` when not set or empty.
    pub backend: Option<String>,
    /// `INCUS_SOCKET`; `None` when not set or empty.
    pub incus_socket: Option<PathBuf>,
    /// `INCUS_DIR`; `None` when not set or empty.
    pub incus_dir: Option<PathBuf>,
    /// `INCUS_CONF`; `None` when not set or empty.
    pub incus_conf: Option<PathBuf>,
    /// `INCUS_REMOTE`; `None` when not set or empty.
    pub incus_remote: Option<String>,
    /// `INCUS_PROJECT`; `None` when not set or empty.
    pub incus_project: Option<String>,
}

/// A variable whose value footloose cannot use: which one, and its text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingError {
    /// `FOOTLOOSE_LEASE` is not a duration.
    #[error("{value:?} is not a duration: write it as 45s, 90m or 3h")]
    Lease {
        /// The text, as written.
        value: String,
    },
    /// `FOOTLOOSE_BACKEND` names no backend.
    #[error("FOOTLOOSE_BACKEND={value:?} names no backend: write docker or incus")]
    Backend {
        /// The text, as written.
        value: String,
    },
    /// `FOOTLOOSE_POOL` is not a number.
    #[error("FOOTLOOSE_POOL={value:?} is not a number of machines: write 0 (no pool) or more")]
    Pool {
        /// The text, as written.
        value: String,
    },
    /// `FOOTLOOSE_POOL_LEASE` is not a duration.
    #[error("FOOTLOOSE_POOL_LEASE={value:?} is not a duration: write it as 45s, 90m or 3h")]
    PoolLease {
        /// The text, as written.
        value: String,
    },
    /// `FOOTLOOSE_POOL_PACE` is neither `idle` nor `eager`.
    #[error("FOOTLOOSE_POOL_PACE={value:?} is not a pace: write idle (the default) or eager")]
    PoolPace {
        /// The text, as written.
        value: String,
    },
    /// `FOOTLOOSE_PUBLISH_ADDRESS` is not an IP address.
    #[error("FOOTLOOSE_PUBLISH_ADDRESS={value:?} is not an IP address")]
    PublishAddress {
        /// The text, as written.
        value: String,
    },
}

impl SettingError {
    /// The variable.
    ///
    /// ```
    /// let settings = footloose::Settings::from_vars(|name| {
    ///     (name == "FOOTLOOSE_LEASE").then(|| "soon".into())
    /// });
    /// let error = settings.lease.unwrap_err();
    /// assert_eq!((error.variable(), error.value()), ("FOOTLOOSE_LEASE", "soon"));
    /// ```
    pub fn variable(&self) -> &'static str {
        match self {
            SettingError::Lease { .. } => FOOTLOOSE_LEASE,
            SettingError::PublishAddress { .. } => FOOTLOOSE_PUBLISH_ADDRESS,
            SettingError::Backend { .. } => FOOTLOOSE_BACKEND,
            SettingError::Pool { .. } => FOOTLOOSE_POOL,
            SettingError::PoolLease { .. } => FOOTLOOSE_POOL_LEASE,
            SettingError::PoolPace { .. } => FOOTLOOSE_POOL_PACE,
        }
    }

    /// The text that does not parse, as written.
    pub fn value(&self) -> &str {
        match self {
            SettingError::Lease { value }
            | SettingError::PublishAddress { value }
            | SettingError::Backend { value }
            | SettingError::Pool { value }
            | SettingError::PoolLease { value }
            | SettingError::PoolPace { value } => value,
        }
    }
}

impl From<SettingError> for crate::Error {
    /// The error footloose reports for the setting: [`Error::Setting`]
    /// for a lease or a backend (`cannot use FOOTLOOSE_LEASE: …`),
    /// [`Error::PublishAddress`] for a publish address.
    ///
    /// [`Error::Setting`]: crate::Error::Setting
    /// [`Error::PublishAddress`]: crate::Error::PublishAddress
    fn from(error: SettingError) -> crate::Error {
        match error {
            SettingError::Lease { .. }
            | SettingError::Backend { .. }
            | SettingError::Pool { .. }
            | SettingError::PoolLease { .. }
            | SettingError::PoolPace { .. } => crate::Error::Setting {
                setting: error.variable().to_owned(),
                source: Box::new(error),
            },
            SettingError::PublishAddress { value } => crate::Error::PublishAddress {
                setting: FOOTLOOSE_PUBLISH_ADDRESS.to_owned(),
                value,
            },
        }
    }
}

impl Settings {
    /// Reads the process's environment. The one place in the library that
    /// does.
    ///
    /// ```
    /// let settings = footloose::Settings::from_env();
    /// println!("test clusters kept: {:?}", settings.keep);
    /// ```
    pub fn from_env() -> Settings {
        Settings::from_vars(|name| std::env::var_os(name))
    }

    /// Reads the variables through `var`, which gives a variable's value
    /// by name (`None`: not set): for tests, and for programs that keep
    /// their settings elsewhere. Never fails: a value that does not parse
    /// is kept as a [`SettingError`] in its field.
    ///
    /// ```
    /// let settings = footloose::Settings::from_vars(|_| None); // nothing set
    /// assert_eq!(settings.lease, Ok(None));
    /// assert!(settings.home.is_none());
    /// assert!(settings.engine.docker_host.is_none());
    /// ```
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Settings {
        let vars = Vars(&var);
        Settings {
            home: vars.path(HOME),
            runtime_dir: vars.path(XDG_RUNTIME_DIR),
            state_home: vars.path(XDG_STATE_HOME),
            tmpdir: vars.path(TMPDIR),
            lease: vars.text(FOOTLOOSE_LEASE).map(parse_lease).transpose(),
            pool: vars.text(FOOTLOOSE_POOL).map(parse_pool).transpose(),
            pool_lease: vars
                .text(FOOTLOOSE_POOL_LEASE)
                .map(|text| {
                    crate::ownership::parse_duration(&text)
                        .ok_or(SettingError::PoolLease { value: text })
                })
                .transpose(),
            pool_pace: vars
                .text(FOOTLOOSE_POOL_PACE)
                .map_or(Ok(PoolPace::default()), parse_pool_pace),
            publish_address: vars
                .text(FOOTLOOSE_PUBLISH_ADDRESS)
                .map(parse_publish_address)
                .transpose(),
            debian_mirror: vars.text(FOOTLOOSE_DEBIAN_MIRROR),
            keep: parse_keep(vars.text(FOOTLOOSE_KEEP).as_deref()),
            watchdog: vars.text(FOOTLOOSE_WATCHDOG).as_deref() != Some("off"),
            watchdog_for: vars.text(FOOTLOOSE_WATCHDOG_FOR),
            ansible_playbook: var(FOOTLOOSE_ANSIBLE_PLAYBOOK),
            ansible_galaxy: var(FOOTLOOSE_ANSIBLE_GALAXY),
            ansible_quiet: vars
                .text(FOOTLOOSE_ANSIBLE_QUIET)
                .is_some_and(|v| !v.is_empty() && v != "0"),
            ansible_roles_path: var(ANSIBLE_ROLES_PATH),
            ansible_collections_path: var(ANSIBLE_COLLECTIONS_PATH),
            engine: EngineSettings::read(&vars),
        }
    }

    /// The lease of a pooled cluster waiting for a test:
    /// `FOOTLOOSE_POOL_LEASE`, else 30 minutes.
    ///
    /// ```
    /// let settings = footloose::Settings::from_vars(|_| None);
    /// assert_eq!(settings.pool_lease_or_default(), Ok(std::time::Duration::from_secs(1800)));
    /// ```
    pub fn pool_lease_or_default(&self) -> Result<Duration, SettingError> {
        self.pool_lease
            .clone()
            .map(|lease| lease.unwrap_or(crate::ownership::DEFAULT_POOL_LEASE))
    }

    /// The lease of a test cluster built without one: `FOOTLOOSE_LEASE`,
    /// else 3 hours.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let settings = footloose::Settings::from_vars(|_| None);
    /// assert_eq!(settings.lease_or_default(), Ok(Duration::from_secs(3 * 60 * 60)));
    /// ```
    pub fn lease_or_default(&self) -> Result<Duration, SettingError> {
        self.lease
            .clone()
            .map(|lease| lease.unwrap_or(crate::ownership::DEFAULT_LEASE))
    }
}

impl EngineSettings {
    /// Reads the engine's variables through `var` (as
    /// [`Settings::from_vars`] does).
    ///
    /// ```
    /// use footloose::settings::EngineSettings;
    ///
    /// let engine = EngineSettings::from_vars(|name| (name == "DOCKER_HOST").then(|| "tcp://engine:2375".into()));
    /// assert_eq!(engine.docker_host.as_deref(), Some("tcp://engine:2375"));
    /// ```
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> EngineSettings {
        EngineSettings::read(&Vars(&var))
    }

    /// Reads the engine's variables from this process's environment: the
    /// `engine` field of [`Settings::from_env`].
    pub fn from_env() -> EngineSettings {
        Settings::from_env().engine
    }

    fn read(vars: &Vars<'_>) -> EngineSettings {
        EngineSettings {
            docker_host: vars.non_empty(DOCKER_HOST),
            docker_context: vars.non_empty(DOCKER_CONTEXT),
            docker_config: vars.path(DOCKER_CONFIG),
            tls_verify: (vars.0)(DOCKER_TLS_VERIFY).is_some(),
            cert_path: vars.path(DOCKER_CERT_PATH),
            reach: vars.non_empty(FOOTLOOSE_REACH),
            home: vars.path(HOME),
            backend: vars.non_empty(FOOTLOOSE_BACKEND),
            incus_socket: vars.path(INCUS_SOCKET),
            incus_dir: vars.path(INCUS_DIR),
            incus_conf: vars.path(INCUS_CONF),
            incus_remote: vars.non_empty(INCUS_REMOTE),
            incus_project: vars.non_empty(INCUS_PROJECT),
        }
    }

    /// The backend machines run on: `FOOTLOOSE_BACKEND`, else the config's
    /// (`configured`), else Docker.
    ///
    /// ```
    /// use footloose::config::Backend;
    /// use footloose::settings::EngineSettings;
    ///
    /// let unset = EngineSettings::from_vars(|_| None);
    /// assert_eq!(unset.backend_for(None), Ok(Backend::Docker));
    /// assert_eq!(unset.backend_for(Some(Backend::Incus)), Ok(Backend::Incus));
    /// let incus = EngineSettings::from_vars(|name| (name == "FOOTLOOSE_BACKEND").then(|| "incus".into()));
    /// assert_eq!(incus.backend_for(Some(Backend::Docker)), Ok(Backend::Incus));
    /// let typo = EngineSettings::from_vars(|name| (name == "FOOTLOOSE_BACKEND").then(|| "incsu".into()));
    /// assert!(typo.backend_for(None).is_err());
    /// ```
    pub fn backend_for(
        &self,
        configured: Option<crate::config::Backend>,
    ) -> Result<crate::config::Backend, SettingError> {
        let chosen =
            match &self.backend {
                Some(value) => Some(crate::config::Backend::named(value).ok_or_else(|| {
                    SettingError::Backend {
                        value: value.clone(),
                    }
                })?),
                None => None,
            };
        Ok(chosen
            .or(configured)
            .unwrap_or(crate::config::Backend::Docker))
    }
}

/// Reads variables through the caller's lookup.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<OsString>);

impl Vars<'_> {
    /// The value as text: `None` when not set or not Unicode (as
    /// [`std::env::var`] fails then).
    fn text(&self, name: &str) -> Option<String> {
        (self.0)(name).and_then(|value| value.into_string().ok())
    }

    /// The text, `None` when empty too.
    fn non_empty(&self, name: &str) -> Option<String> {
        self.text(name).filter(|value| !value.is_empty())
    }

    /// The value as a path, whatever its bytes.
    fn path(&self, name: &str) -> Option<PathBuf> {
        (self.0)(name).map(PathBuf::from)
    }
}

fn parse_lease(text: String) -> Result<Duration, SettingError> {
    crate::ownership::parse_duration(&text).ok_or(SettingError::Lease { value: text })
}

fn parse_pool(text: String) -> Result<usize, SettingError> {
    text.trim()
        .parse()
        .map_err(|_| SettingError::Pool { value: text })
}

fn parse_pool_pace(text: String) -> Result<PoolPace, SettingError> {
    match text.trim() {
        "idle" | "" => Ok(PoolPace::Idle),
        "eager" => Ok(PoolPace::Eager),
        _ => Err(SettingError::PoolPace { value: text }),
    }
}

fn parse_publish_address(text: String) -> Result<IpAddr, SettingError> {
    text.trim()
        .parse()
        .map_err(|_| SettingError::PublishAddress { value: text })
}

fn parse_keep(text: Option<&str>) -> KeepPolicy {
    match text {
        Some("on-failure") | Some("failure") => KeepPolicy::OnFailure,
        Some("always") | Some("1") | Some("true") => KeepPolicy::Always,
        _ => KeepPolicy::Never,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::os::unix::ffi::OsStringExt;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Settings::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn nothing_set_is_every_default() {
        let s = settings(&[]);
        assert_eq!(s.lease, Ok(None));
        assert_eq!(s.lease_or_default(), Ok(crate::ownership::DEFAULT_LEASE));
        assert_eq!(s.publish_address, Ok(None));
        assert_eq!(s.keep, KeepPolicy::Never);
        assert!(s.watchdog);
        assert!(!s.ansible_quiet);
        assert!(s.home.is_none() && s.debian_mirror.is_none());
        assert_eq!(
            s.engine,
            EngineSettings {
                docker_host: None,
                docker_context: None,
                docker_config: None,
                tls_verify: false,
                cert_path: None,
                reach: None,
                home: None,
                backend: None,
                incus_socket: None,
                incus_dir: None,
                incus_conf: None,
                incus_remote: None,
                incus_project: None,
            }
        );
    }

    #[test]
    fn a_pool_size_is_a_number_and_a_pool_lease_a_duration() {
        let s = settings(&[("FOOTLOOSE_POOL", "4"), ("FOOTLOOSE_POOL_LEASE", "20m")]);
        assert_eq!(s.pool, Ok(Some(4)));
        assert_eq!(s.pool_lease, Ok(Some(Duration::from_secs(20 * 60))));
        let bad = settings(&[
            ("FOOTLOOSE_POOL", "many"),
            ("FOOTLOOSE_POOL_LEASE", "later"),
        ]);
        let pool = bad.pool.unwrap_err();
        assert_eq!((pool.variable(), pool.value()), ("FOOTLOOSE_POOL", "many"));
        assert!(pool.to_string().contains("\"many\""), "{pool}");
        let lease = bad.pool_lease.unwrap_err();
        assert_eq!(lease.variable(), "FOOTLOOSE_POOL_LEASE");
        assert_eq!(settings(&[]).pool, Ok(None));
    }

    #[test]
    fn a_pool_pace_is_idle_unless_eager_and_a_typo_names_itself() {
        assert_eq!(settings(&[]).pool_pace, Ok(PoolPace::Idle));
        let eager = settings(&[("FOOTLOOSE_POOL_PACE", "eager")]);
        assert_eq!(eager.pool_pace, Ok(PoolPace::Eager));
        let typo = settings(&[("FOOTLOOSE_POOL_PACE", "fast")]).pool_pace;
        let err = crate::Error::from(typo.unwrap_err());
        assert_eq!(
            crate::error::chain(&err),
            "cannot use FOOTLOOSE_POOL_PACE: FOOTLOOSE_POOL_PACE=\"fast\" is not a pace: write idle (the default) or eager"
        );
    }

    #[test]
    fn footloose_backend_goes_over_the_config_and_a_typo_names_itself() {
        use crate::config::Backend;
        let incus = settings(&[("FOOTLOOSE_BACKEND", "incus"), ("INCUS_PROJECT", "ci")]);
        assert_eq!(
            incus.engine.backend_for(Some(Backend::Docker)),
            Ok(Backend::Incus)
        );
        assert_eq!(incus.engine.incus_project.as_deref(), Some("ci"));
        let typo = settings(&[("FOOTLOOSE_BACKEND", "incsu")]);
        let err = crate::Error::from(typo.engine.backend_for(None).unwrap_err());
        assert_eq!(
            crate::error::chain(&err),
            "cannot use FOOTLOOSE_BACKEND: FOOTLOOSE_BACKEND=\"incsu\" names no backend: write docker or incus"
        );
    }

    #[test]
    fn a_lease_is_a_duration_or_an_error_naming_the_text() {
        let s = settings(&[("FOOTLOOSE_LEASE", "90m")]);
        assert_eq!(s.lease, Ok(Some(Duration::from_secs(5400))));
        let error = settings(&[("FOOTLOOSE_LEASE", "soon")]).lease.unwrap_err();
        assert_eq!(
            error.to_string(),
            "\"soon\" is not a duration: write it as 45s, 90m or 3h"
        );
        assert_eq!(
            crate::error::chain(&crate::Error::from(error)),
            "cannot use FOOTLOOSE_LEASE: \"soon\" is not a duration: write it as 45s, 90m or 3h"
        );
    }

    #[test]
    fn a_publish_address_is_trimmed_or_an_error_naming_the_text() {
        let s = settings(&[("FOOTLOOSE_PUBLISH_ADDRESS", " 10.0.0.1 ")]);
        assert_eq!(s.publish_address, Ok(Some([10, 0, 0, 1].into())));
        let error = settings(&[("FOOTLOOSE_PUBLISH_ADDRESS", "gateway")])
            .publish_address
            .unwrap_err();
        assert_eq!(error.variable(), "FOOTLOOSE_PUBLISH_ADDRESS");
        assert_eq!(
            crate::Error::from(error).to_string(),
            "cannot publish on FOOTLOOSE_PUBLISH_ADDRESS `gateway`: not an IP address"
        );
    }

    #[test]
    fn keep_watchdog_and_quiet_read_as_before() {
        for (text, keep) in [
            ("on-failure", KeepPolicy::OnFailure),
            ("failure", KeepPolicy::OnFailure),
            ("always", KeepPolicy::Always),
            ("1", KeepPolicy::Always),
            ("true", KeepPolicy::Always),
            ("yes", KeepPolicy::Never),
        ] {
            assert_eq!(settings(&[("FOOTLOOSE_KEEP", text)]).keep, keep, "{text}");
        }
        assert!(!settings(&[("FOOTLOOSE_WATCHDOG", "off")]).watchdog);
        assert!(settings(&[("FOOTLOOSE_WATCHDOG", "0")]).watchdog);
        for (text, quiet) in [("1", true), ("yes", true), ("0", false), ("", false)] {
            let s = settings(&[("FOOTLOOSE_ANSIBLE_QUIET", text)]);
            assert_eq!(s.ansible_quiet, quiet, "{text:?}");
        }
    }

    #[test]
    fn engine_settings_drop_empty_text_and_fall_back_to_logname() {
        let s = settings(&[
            ("DOCKER_HOST", ""),
            ("DOCKER_CONTEXT", "remote"),
            ("DOCKER_TLS_VERIFY", ""),
            ("DOCKER_CERT_PATH", "/certs"),
            ("FOOTLOOSE_REACH", ""),
            ("HOME", "/home/ops"),
        ]);
        assert_eq!(s.engine.docker_host, None);
        assert_eq!(s.engine.docker_context.as_deref(), Some("remote"));
        assert!(s.engine.tls_verify);
        assert_eq!(s.engine.cert_path, Some(PathBuf::from("/certs")));
        assert_eq!(s.engine.reach, None);
        assert_eq!(s.engine.home, Some(PathBuf::from("/home/ops")));
    }

    #[test]
    fn text_that_is_not_unicode_counts_as_unset_and_paths_keep_their_bytes() {
        let bytes = || OsString::from_vec(vec![b'/', 0xff]);
        let s = Settings::from_vars(|name| match name {
            "FOOTLOOSE_LEASE" | "FOOTLOOSE_KEEP" | "HOME" => Some(bytes()),
            _ => None,
        });
        assert_eq!(s.lease, Ok(None));
        assert_eq!(s.keep, KeepPolicy::Never);
        assert_eq!(s.home, Some(PathBuf::from(bytes())));
    }
}
