//! # footloose
//!
//! Containers that look like virtual machines: each machine is a Docker
//! container running systemd as PID 1 and an ssh daemon, ready in about a
//! second. This crate is both the library behind the `footloose` command
//! line and a test framework:
//!
//! ```ignore
//! // The attribute reads footloose.yaml next to your Cargo.toml when the
//! // test compiles; the workspace's tests/ crate has compiled examples.
//! use footloose::Cluster;
//!
//! #[footloose::cluster("footloose.yaml")]
//! fn nginx_is_installed(cluster: &Cluster) {
//!     let out = cluster.machine("node0").exec("command -v nginx").unwrap();
//!     assert!(out.success(), "{}", out.stderr());
//! }
//! ```
//!
//! The attribute brings the machines up before the test, gives it a
//! [`Cluster`] whose [`Machine`]s run commands and copy files over ssh, and
//! removes everything afterwards, also when the test panics or the process
//! is killed. Without the attribute, [`ClusterBuilder`] does the same.
//!
//! Everything footloose creates on the engine carries labels
//! (`io.footloose.managed`, `io.footloose.cluster`, …; see [`labels`]).
//!
//! What users call: [`Cluster`], [`ClusterBuilder`], [`Machine`] and its
//! [`Output`], [`UnitStatus`], [`ansible`], [`config`], [`image`] (build
//! or find the images), [`engine`] (which engine, and what footloose left
//! there), and the cluster operations the CLI is made of ([`status`],
//! [`start`], [`stop`], [`delete`], [`prune`]). Modules hidden from the
//! documentation (`testing`'s internals, `interrupt`) serve the attribute
//! and the CLI and may change in any release.

#![warn(missing_docs)]

pub mod ansible;
mod archive;
mod backend;
mod cluster;
mod container_spec;
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
mod process;
pub mod reach;
pub mod record;
pub mod runtime;
mod ssh;
mod systemd;
pub mod testing;

pub use cluster::{
    delete, host_key_alias, known_hosts, list_clusters, openssh_options, prune, prune_abandoned,
    start, status, stop, Cluster, ClusterBuilder, MachineState, MachineStatus, Removed,
    DEFAULT_READY_TIMEOUT,
};
pub use error::{ConfigError, EngineFailure, Error, Result, Unreachable};
pub use footloose_config::{self as config, Config};
pub use footloose_macros::cluster;
pub use keys::{public_path_of, ClientKey};
pub use machine::{Machine, PublishedPort, DEFAULT_EXEC_TIMEOUT};
pub use naming::unique_cluster_name;
pub use ownership::Verdict;
pub use record::{MachineRecord, RecordError};
pub use ssh::{ExitStatus, Output};
pub use systemd::UnitStatus;
pub use testing::ClusterGuard;
