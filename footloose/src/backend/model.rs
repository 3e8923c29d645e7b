//! What footloose knows of an engine and its objects, in its own types:
//! every backend reads its API's answers into these.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::Serialize;

/// A published port of a machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PublishedPort {
    /// The port inside the machine.
    pub guest: u16,
    /// The port on the host.
    pub host: u16,
    /// The host address it is bound to.
    pub address: String,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// The life state of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContainerStatus {
    /// Made, never started.
    Created,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Being restarted by the engine.
    Restarting,
    /// Being removed.
    Removing,
    /// Stopped.
    Exited,
    /// Failed to stop or be removed.
    Dead,
}

/// A container as the engine reports it.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// if let Some(info) = engine.container("demo-node0").await? {
///     println!("{} runs {} ({:?})", info.name, info.image, info.status);
///     if let Some(ssh) = info.ssh_endpoint(engine.route()) {
///         println!("its sshd is at {ssh}");
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContainerInfo {
    /// Its id.
    pub id: String,
    /// Its name, without a leading `/`.
    pub name: String,
    /// Its image reference.
    pub image: String,
    /// PID 1's command line.
    pub command: String,
    /// Its state; `None` when the engine said nothing footloose knows.
    pub status: Option<ContainerStatus>,
    /// PID 1's exit code, once it has exited (inspected containers only).
    pub exit_code: Option<i64>,
    /// The engine's word on why it stopped, if any (inspected only).
    pub error: Option<String>,
    /// When the engine last started it (inspected only): a machine that
    /// rebooted was started again, so this tells its boots apart.
    pub started_at: Option<String>,
    /// Its labels.
    pub labels: HashMap<String, String>,
    /// Its network mode as it was created with: `bridge`, `host`, `none`,
    /// `container:ID` or a network's name (empty when not reported).
    pub network_mode: String,
    /// The networks it is attached to, by name, with its address on each.
    pub networks: BTreeMap<String, Option<IpAddr>>,
    /// Its published ports.
    pub ports: Vec<PublishedPort>,
}

impl ContainerInfo {
    /// True when it runs.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// let running = engine.container("demo-node0").await?.is_some_and(|c| c.is_running());
    /// # Ok(()) }
    /// ```
    pub fn is_running(&self) -> bool {
        self.status == Some(ContainerStatus::Running)
    }

    /// Its address on its first network (by name).
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// let ip = engine.container("demo-node0").await?.and_then(|c| c.ip());
    /// # Ok(()) }
    /// ```
    pub fn ip(&self) -> Option<IpAddr> {
        self.networks.values().flatten().next().copied()
    }
}

/// A network as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetworkInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was made, as the engine wrote it (RFC 3339).
    pub created: String,
    /// Its labels.
    pub labels: HashMap<String, String>,
}

/// Whether `labels` carry every `key=value` (or bare `key`: any value) of
/// `selector`, as Docker's label filter says.
pub(crate) fn labels_match(labels: &HashMap<String, String>, selector: &[String]) -> bool {
    selector.iter().all(|pair| match pair.split_once('=') {
        Some((key, value)) => labels.get(key).map(String::as_str) == Some(value),
        None => labels.contains_key(pair),
    })
}

/// A volume as the engine reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VolumeInfo {
    /// Its name.
    pub name: String,
    /// Its labels.
    pub labels: HashMap<String, String>,
}

impl VolumeInfo {
    /// A volume named `name` with `labels`.
    pub fn new(name: &str, labels: HashMap<String, String>) -> VolumeInfo {
        VolumeInfo {
            name: name.to_owned(),
            labels,
        }
    }
}

/// What footloose made that is still on the engine, of one cluster or all.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let left = engine.leftovers(None).await?; // of every cluster
/// let (containers, networks, volumes) = left.counts();
/// println!("{containers} container(s), {networks} network(s), {volumes} volume(s) left");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Leftovers {
    /// Container names.
    pub containers: Vec<String>,
    /// Network names.
    pub networks: Vec<String>,
    /// Volume names.
    pub volumes: Vec<String>,
}

impl Leftovers {
    /// True when nothing is left.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// assert!(engine.leftovers(Some("demo")).await?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }

    /// (containers, networks, volumes) counts.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// assert_eq!(engine.leftovers(Some("demo")).await?.counts(), (0, 0, 0));
    /// # Ok(()) }
    /// ```
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.containers.len(),
            self.networks.len(),
            self.volumes.len(),
        )
    }
}
