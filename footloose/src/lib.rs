//! # footloose
//!
//! Containers that look like virtual machines: each machine is a Docker
//! container running systemd as PID 1 and an ssh daemon, ready in about a
//! second. This crate is both the library behind the `footloose` command
//! line and a test framework.
//!
//! ## Quick start
//!
//! A `footloose.yaml` next to your `Cargo.toml` describes the machines
//! (`footloose config create` writes one):
//!
//! ```yaml
//! cluster:
//!   name: docs
//!   privateKey: cluster-key
//! machines:
//! - count: 1
//!   spec:
//!     image: footloose/debian12
//!     name: node%d
//!     portMappings:
//!     - containerPort: 22
//! ```
//!
//! and a test names it:
//!
//! ```no_run
//! use footloose::Cluster;
//!
//! #[footloose::cluster("footloose.yaml")]
//! fn nginx_is_installed(cluster: &Cluster) {
//!     let node = cluster.machine("node0");
//!     node.exec("apt-get install -y nginx").unwrap().checked().unwrap();
//!     let out = node.exec("command -v nginx").unwrap();
//!     assert!(out.success(), "{}", out.stderr());
//! }
//! # fn main() {}
//! ```
//!
//! Without the attribute, in a program or a test, [`ClusterBuilder`] does
//! the same:
//!
//! ```no_run
//! use footloose::{ClusterBuilder, Config};
//!
//! fn main() -> footloose::Result<()> {
//!     let config = Config::with_replicas("demo", "footloose/debian12", 2);
//!     let cluster = ClusterBuilder::new(config).unique_name().start()?;
//!     for machine in cluster.machines() {
//!         let out = machine.exec("cat /etc/debian_version")?.checked()?;
//!         println!("{}: Debian {}", machine.hostname(), out.stdout().trim());
//!     }
//!     cluster.machine("node0").write_file("/etc/motd", b"hello\n")?;
//!     Ok(())
//! } // the guard is dropped: the machines are removed
//! ```
//!
//! The attribute brings the machines up before the test, gives it a
//! [`Cluster`] whose [`Machine`]s run commands and copy files over ssh, and
//! removes everything afterwards, also when the test panics or the process
//! is killed.
//!
//! Everything footloose creates on the engine carries labels
//! (`io.footloose.managed`, `io.footloose.cluster`, …; see [`labels`]).
//!
//! What users call: [`Cluster`], [`ClusterBuilder`], [`Machine`] and its
//! [`Output`], [`UnitStatus`], [`ansible`], [`config`], [`image`] (build
//! or find the images), [`engine`] (which engine, and what footloose left
//! there), and the cluster operations the CLI is made of ([`status`],
//! [`start`], [`stop`], [`delete`], [`prune`]). Modules hidden from the
//! documentation (`testing`'s internals, `interrupt`, `__private`) serve
//! the attribute and the CLI and may change in any release.
//!
//! ## How the crate is laid out
//!
//! Layers, lowest first: a module imports from its own layer and those
//! below, never from above (`footloose/tests/layers.rs` checks it, and
//! that this list is its table):
//!
//! 0. foundations: facts and plain helpers: `error`, `labels`, `naming`,
//!    `paths`, `process`, `runtime`, `archive`, `interrupt`, `keys`,
//!    `host`, `ownership`, `record`, `distro`, `settings`, `stamp`
//! 1. plans: pure decisions: `container_spec`, `guest`, `plan`
//! 2. backend: the seam to the engine: `backend`, `reach`, `engine`,
//!    `image`
//! 3. cluster and machine: `ssh`, `systemd`, `machine`, `cluster`
//! 4. users of clusters: `ansible`, `testing`, `pool`
//!
//! Each backend is a folder of `backend/` that owns its engine whole (how
//! to connect, its quirks, how images are made); the checklist for adding
//! one is in `backend/mod.rs`. Each layer owns its errors (`ConfigError`,
//! the backend's, [`MachineError`], [`ansible::AnsibleError`]) and
//! [`Error`] composes them. Settings are read once, into [`Settings`], where
//! the CLI or the test harness starts.

#![warn(missing_docs)]

pub mod ansible;
mod archive;
mod backend;
mod cluster;
mod container_spec;
mod distro;
pub mod engine;
mod error;
pub mod guest;
pub mod host;
pub mod image;
#[doc(hidden)]
pub mod interrupt;
mod keys;
pub mod labels;
mod machine;
mod naming;
mod ownership;
pub mod paths;
mod plan;
pub mod pool;
mod process;
pub mod reach;
pub mod record;
pub mod runtime;
pub mod settings;
mod ssh;
mod stamp;
mod systemd;
pub mod testing;

pub use cluster::{
    delete, delete_with, host_key_alias, known_hosts, known_hosts_with, list_clusters,
    openssh_options, prune, prune_abandoned, prune_abandoned_with, start, status, stop, Cluster,
    ClusterBuilder, MachineState, MachineStatus, Removed, DEFAULT_READY_TIMEOUT,
};
pub use error::{BackendError, ConfigError, EngineFailure, Error, Result};
pub use footloose_config::{self as config, Config};
/// Turns a function taking `&Cluster` into a test on a fresh cluster made
/// from a config file (the path is relative to the crate's `Cargo.toml`,
/// and the file is checked when the test compiles). The forms it takes,
/// as this crate's doctests compile them:
///
/// ```no_run
/// use std::time::Duration;
///
/// use footloose::Cluster;
///
/// #[footloose::cluster("footloose.yaml")]
/// fn boots(cluster: &Cluster) {
///     assert!(cluster.machine("node0").exec("true").unwrap().success());
/// }
///
/// // One test per image, each replacing every machine's image.
/// #[footloose::cluster("footloose.yaml", images = ["debian12", "debian13"])]
/// fn ssh_runs(cluster: &Cluster) -> footloose::Result<()> {
///     cluster.machine("node0").wait_for_unit("ssh", Duration::from_secs(10))
/// }
///
/// // A cluster taken from a pool of 4 booted clusters kept warm in the
/// // background (see `footloose::pool`); `pool = 0` turns the pool off.
/// #[footloose::cluster("footloose.yaml", pool = 4)]
/// fn quick(cluster: &Cluster) {
///     assert!(cluster.get("node0").is_some());
/// }
///
/// // async bodies, and one cluster shared by the process's tests.
/// #[footloose::cluster("footloose.yaml", shared)]
/// async fn answers(cluster: &Cluster) -> footloose::Result<()> {
///     cluster.machine("node0").exec_async("true").await?.checked()?;
///     Ok(())
/// }
/// # fn main() {}
/// ```
pub use footloose_macros::cluster;
pub use keys::{public_path_of, ClientKey};
pub use machine::{
    Machine, MachineError, PublishedPort, Unreachable, DEFAULT_EXEC_TIMEOUT, DEFAULT_REBOOT_TIMEOUT,
};
pub use naming::unique_cluster_name;
pub use ownership::Verdict;
pub use record::{MachineRecord, MachineVars, RecordError};
pub use settings::{EngineSettings, SettingError, Settings};
pub use ssh::{ExitStatus, Output};
pub use systemd::UnitStatus;
pub use testing::ClusterGuard;

/// Installs footloose's test hooks in this binary, for programs and test
/// binaries that use [`ClusterBuilder::start`] without
/// `#[footloose::cluster]` (which installs them itself):
///
/// - before `main`, a process started as a cleanup watchdog becomes one
///   instead of running `main`; without this hook no watchdog is started,
///   and the clusters of a process killed outright (SIGKILL) stay until a
///   janitor or their lease removes them;
/// - at exit, background removals of test clusters are awaited (and the
///   clusters of `shared` tests removed).
///
/// Write it once at the top level of the binary's crate (more copies do no
/// harm). It needs no dependency but footloose.
///
/// ```no_run
/// footloose::test_hooks!();
///
/// fn main() -> footloose::Result<()> {
///     let config = footloose::Config::with_replicas("demo", "footloose/debian12", 1);
///     let guard = footloose::Cluster::builder(config).unique_name().start()?;
///     println!("{}", guard.machine("node0").exec("hostname")?.stdout());
///     Ok(())
/// }
/// ```
#[macro_export]
macro_rules! test_hooks {
    () => {
        const _: () = {
            #[$crate::__private::ctor::ctor(crate_path = $crate::__private::ctor)]
            unsafe fn footloose_on_start() {
                $crate::__private::on_start();
            }
            #[$crate::__private::dtor::dtor(crate_path = $crate::__private::dtor)]
            unsafe fn footloose_on_exit() {
                $crate::__private::on_exit();
            }
        };
    };
}

/// What `#[footloose::cluster]` and [`test_hooks!`] expand to reach: the
/// hook bodies and the crates whose attributes install them, so that the
/// user's crate needs no dependency on ctor or dtor. Not an API: it may
/// change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::testing::hooks::{installed as hooks_installed, on_exit, on_start};
    pub use ::ctor;
    pub use ::dtor;
}
