//! Describing a cluster to create: the builder and its settings (the
//! config, the name, the image, the key, the lease, the timeouts). What it
//! makes of them, the create request, the engine connection and the
//! created cluster, is `create.rs`'s.

mod create;

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::running::Cluster;
use crate::error::Result;
use crate::labels::Lifetime;
use crate::process::Identity;
use crate::{Config, Settings};

/// The default time a machine has to boot and answer ssh.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds a [`Cluster`] from a [`Config`] or a config file.
///
/// ```no_run
/// use footloose::ClusterBuilder;
///
/// let guard = ClusterBuilder::from_file("footloose.yaml")?
///     .unique_name()
///     .image("footloose/debian13")
///     .start()?;
/// let out = guard.machine("node0").exec("cat /etc/debian_version")?;
/// assert!(out.stdout().starts_with("13"));
/// # Ok::<(), footloose::Error>(())
/// ```
///
/// # Outside `#[footloose::cluster]`
///
/// A binary that calls [`start`](Self::start) without the attribute (a
/// helper program, a test binary of plain `#[test]`s) should install
/// footloose's test hooks once, at the top level of its crate:
///
/// ```no_run
/// footloose::test_hooks!();
/// # fn main() {}
/// ```
///
/// The cleanup watchdog that removes the clusters of a process killed
/// outright is the binary itself run again, which the start-up hook turns
/// into the watchdog before `main`. Without the hooks, `start` starts no
/// watchdog (rerun, the binary would run its `main` again) and says so on
/// stderr; the clusters are still removed by their guards, on SIGINT and
/// SIGTERM, and by the janitor or their lease. The library itself installs
/// no hooks, so programs that only use clusters (the CLI) run nothing
/// before `main`.
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    pub(crate) config: Config,
    pub(crate) config_path: Option<PathBuf>,
    pub(crate) config_dir: PathBuf,
    pub(crate) lifetime: Lifetime,
    pub(crate) ready_timeout: Duration,
    pub(crate) keep_on_failure: bool,
    pub(crate) key_path: Option<PathBuf>,
    pub(crate) lease: Option<Duration>,
    pub(crate) watchdog: Option<Identity>,
    pub(crate) private_networks: bool,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) publish_address: Option<IpAddr>,
    /// Given by [`pool`](Self::pool); else `FOOTLOOSE_POOL`.
    pub(crate) pool: Option<usize>,
    /// Whether [`unique_name`](Self::unique_name) named the cluster: only
    /// such a cluster may be taken from a pool under another name.
    pub(crate) unique: bool,
    /// Given by [`settings`](Self::settings); else read from the
    /// environment when needed.
    pub(crate) settings: Option<Settings>,
}

impl Cluster {
    /// A builder for a cluster described by `config`.
    ///
    /// ```no_run
    /// use footloose::{Cluster, Config};
    ///
    /// let guard = Cluster::builder(Config::with_replicas("demo", "footloose/debian12", 1)).start()?;
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn builder(config: crate::Config) -> ClusterBuilder {
        ClusterBuilder::new(config)
    }
}

impl ClusterBuilder {
    /// A builder for `config`; relative paths in it resolve against the
    /// current directory. Unless [`settings`](Self::settings) gives them,
    /// the environment's settings ([`Settings::from_env`]) are read when
    /// they are needed: once per [`create`](Self::create) or
    /// [`start`](Self::start).
    ///
    /// ```no_run
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let cluster = footloose::ClusterBuilder::new(config).create()?;
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn new(config: Config) -> ClusterBuilder {
        ClusterBuilder {
            config,
            config_path: None,
            config_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            lifetime: Lifetime::Test,
            ready_timeout: DEFAULT_READY_TIMEOUT,
            keep_on_failure: false,
            key_path: None,
            lease: None,
            watchdog: None,
            private_networks: false,
            cancel: None,
            publish_address: None,
            pool: None,
            unique: false,
            settings: None,
        }
    }

    /// Uses `settings` instead of the environment's: where `~` and the
    /// state directory are (`HOME`, `XDG_*`), the lease
    /// (`FOOTLOOSE_LEASE`), the publish address
    /// (`FOOTLOOSE_PUBLISH_ADDRESS`), the Debian mirror of image builds.
    /// The cluster keeps them ([`Cluster::settings`]).
    ///
    /// ```
    /// use std::ffi::OsString;
    ///
    /// let settings = footloose::Settings::from_vars(|name| match name {
    ///     "HOME" => Some(OsString::from("/home/ci")),
    ///     _ => None,
    /// });
    /// let mut config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// config.cluster.private_key = "~/.ssh/footloose".to_owned();
    /// let builder = footloose::ClusterBuilder::new(config).settings(settings);
    /// assert_eq!(builder.key_path(), std::path::Path::new("/home/ci/.ssh/footloose"));
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// The settings given, else the environment's.
    pub(crate) fn settings_or_env(&self) -> Cow<'_, Settings> {
        match &self.settings {
            Some(settings) => Cow::Borrowed(settings),
            None => Cow::Owned(Settings::from_env()),
        }
    }

    /// A builder for the config file at `path`; relative paths in it resolve
    /// against the file's directory.
    ///
    /// ```no_run
    /// let builder = footloose::ClusterBuilder::from_file("footloose.yaml")?;
    /// println!("{} machine(s)", builder.config().machines().count());
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<ClusterBuilder> {
        let path = std::path::absolute(path.as_ref()).unwrap_or_else(|_| path.as_ref().to_owned());
        let config = Config::load(&path)?;
        Ok(ClusterBuilder::new(config).config_path(&path))
    }

    /// Records where the config came from (labels, relative paths).
    ///
    /// ```
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let builder = footloose::ClusterBuilder::new(config)
    ///     // Relative paths (the key, bind mounts) resolve against ci/.
    ///     .config_path(std::path::Path::new("ci/footloose.yaml"));
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn config_path(mut self, path: &Path) -> Self {
        if let Some(dir) = path.parent() {
            self.config_dir = dir.to_owned();
        }
        self.config_path = Some(path.to_owned());
        self
    }

    /// Gives the cluster a name unique to this process and call, so that
    /// tests running at once never share containers, and makes its
    /// networks its own (see [`private_networks`](Self::private_networks)).
    ///
    /// ```
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let builder = footloose::ClusterBuilder::new(config).unique_name();
    /// assert!(builder.config().cluster.name.starts_with("demo-"));
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn unique_name(mut self) -> Self {
        self.config.cluster.name = crate::naming::unique_cluster_name(&self.config.cluster.name);
        self.private_networks = true;
        self.unique = true;
        self
    }

    /// Whether every network named in the config becomes the cluster's own,
    /// `<cluster>-<network>`, so that hostnames resolve only within the
    /// cluster and the network goes with it. On for [`unique_name`]
    /// clusters (every test cluster); off by default, where networks keep
    /// the names written in the config and may be shared by clusters.
    ///
    /// [`unique_name`]: Self::unique_name
    ///
    /// ```
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let builder = footloose::ClusterBuilder::new(config).private_networks(true);
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn private_networks(mut self, private: bool) -> Self {
        self.private_networks = private;
        self
    }

    /// Stops `create` when `token` is cancelled (an interrupt): what it had
    /// made is removed, as on any failure, and it returns
    /// [`Error::Interrupted`](crate::Error::Interrupted).
    ///
    /// ```no_run
    /// use tokio_util::sync::CancellationToken;
    ///
    /// let token = CancellationToken::new();
    /// let stop = token.clone();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_secs(30));
    ///     stop.cancel(); // what was made is removed; create() says Error::Interrupted
    /// });
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let cluster = footloose::ClusterBuilder::new(config).cancel_on(token).create();
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Publishes ports whose mapping names no address on `address`
    /// (default: `FOOTLOOSE_PUBLISH_ADDRESS`, else the config's
    /// `cluster.publishAddress`, else loopback for a local engine and the
    /// engine's address for a remote one).
    ///
    /// ```
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// // Published ports reachable from the CI job's network through its gateway.
    /// let builder = footloose::ClusterBuilder::new(config).publish_address([172, 17, 0, 1].into());
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn publish_address(mut self, address: IpAddr) -> Self {
        self.publish_address = Some(address);
        self
    }

    /// Sets the cluster name.
    ///
    /// ```
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let builder = footloose::ClusterBuilder::new(config).name("web");
    /// assert_eq!(builder.config().cluster.name, "web");
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn name(mut self, name: &str) -> Self {
        self.config.cluster.name = name.to_owned();
        self
    }

    /// Runs every machine on `image` instead of the config's images.
    ///
    /// ```
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let builder = footloose::ClusterBuilder::new(config).image("footloose/debian13");
    /// assert!(builder.config().machines().all(|m| m.spec.image == "footloose/debian13"));
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn image(mut self, image: &str) -> Self {
        self.config.set_image(image);
        self
    }

    /// Uses this private key instead of the config's `privateKey`.
    ///
    /// ```
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let builder = footloose::ClusterBuilder::new(config).private_key("/tmp/ci-key");
    /// assert_eq!(builder.key_path(), std::path::Path::new("/tmp/ci-key"));
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn private_key(mut self, path: impl Into<PathBuf>) -> Self {
        self.key_path = Some(path.into());
        self
    }

    /// How long machines have to become ready (default
    /// [`DEFAULT_READY_TIMEOUT`], 60 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let builder = footloose::ClusterBuilder::new(config).ready_timeout(Duration::from_secs(180));
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Keeps what was made when creation fails, for debugging.
    ///
    /// ```no_run
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let cluster = footloose::ClusterBuilder::new(config)
    ///     .keep_on_failure(true) // a machine that does not boot stays, to be looked at
    ///     .create()?;
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn keep_on_failure(mut self, keep: bool) -> Self {
        self.keep_on_failure = keep;
        self
    }

    /// Marks the cluster as the command line's: it lives until deleted,
    /// rather than until this process ends.
    ///
    /// ```no_run
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let cluster = footloose::ClusterBuilder::new(config).persistent().create()?;
    /// // Still there after this process ends: `footloose delete --cluster demo` removes it.
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn persistent(mut self) -> Self {
        self.lifetime = Lifetime::Cli;
        self
    }

    /// How long after creation anyone may remove this test cluster when
    /// its owner cannot be seen (default `FOOTLOOSE_LEASE`, else 3 hours;
    /// see [`crate::Verdict`]). Command-line clusters have no lease.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let guard = footloose::ClusterBuilder::new(config)
    ///     .lease(Duration::from_secs(30 * 60))
    ///     .start()?;
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease);
        self
    }

    /// Takes the cluster from a pool of `size` booted, never-used clusters
    /// of this config, and has the pool topped up in the background for
    /// the next test: see [`crate::pool`]. `0` turns pooling off, also
    /// when `FOOTLOOSE_POOL` is set; without this call, `FOOTLOOSE_POOL`
    /// says. Only test clusters ([`start`](Self::start) of a
    /// [`unique_name`](Self::unique_name) builder) are pooled.
    ///
    /// ```no_run
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 1);
    /// let guard = footloose::ClusterBuilder::new(config).unique_name().pool(4).start()?;
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn pool(mut self, size: usize) -> Self {
        self.pool = Some(size);
        self
    }

    /// Records the watchdog that will remove this cluster if this process
    /// dies, so that no janitor removes it while the watchdog still can.
    /// The test glue passes it in; the core never starts one.
    pub(crate) fn watched_by(mut self, watchdog: Option<Identity>) -> Self {
        self.watchdog = watchdog;
        self
    }

    /// The configuration as it will be created.
    ///
    /// ```
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let builder = footloose::ClusterBuilder::new(config);
    /// assert_eq!(builder.config().machines().count(), 2);
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The private key file machines will trust (`~` is the settings'
    /// home).
    ///
    /// ```
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let builder = footloose::ClusterBuilder::new(config);
    /// // `privateKey: cluster-key`, relative to the current directory.
    /// assert!(builder.key_path().ends_with("cluster-key"));
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn key_path(&self) -> PathBuf {
        self.key_path_in(&self.settings_or_env())
    }

    /// [`key_path`](Self::key_path), `~` expanded as `settings` say.
    pub(crate) fn key_path_in(&self, settings: &Settings) -> PathBuf {
        self.key_path.clone().unwrap_or_else(|| {
            settings.resolve_path(&self.config.cluster.private_key, &self.config_dir)
        })
    }
}
