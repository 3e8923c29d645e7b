//! Clusters: bringing machines up, finding them again, taking them down.

mod builder;
mod create;
mod inspect;
mod known_hosts;
mod manage;
mod ready;
mod start;

pub use builder::ClusterBuilder;
pub use inspect::{list_clusters, status, test_clusters, MachineState, MachineStatus};
pub(crate) use known_hosts::write_known_hosts;
pub use known_hosts::{host_key_alias, known_hosts, openssh_options};
pub use manage::{delete, prune, prune_abandoned, start, stop, Removed};

use std::path::PathBuf;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::Machine;

/// A running cluster of machines.
///
/// Made by [`ClusterBuilder`] (or the `#[footloose::cluster]` attribute).
///
/// ```no_run
/// use footloose::{Cluster, Config};
///
/// let config = Config::with_replicas("demo", "footloose/debian12", 2);
/// let cluster = Cluster::builder(config).unique_name().start()?;
/// for machine in cluster.machines() {
///     println!("{} at {:?}", machine.hostname(), machine.ip());
/// }
/// // the cluster is removed when `cluster` (a guard) is dropped
/// # Ok::<(), footloose::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Cluster {
    pub(crate) name: String,
    pub(crate) machines: Vec<Machine>,
    pub(crate) engine: Engine,
    pub(crate) key_path: PathBuf,
}

impl Cluster {
    /// A builder for a cluster described by `config`.
    pub fn builder(config: crate::Config) -> ClusterBuilder {
        ClusterBuilder::new(config)
    }

    /// The cluster's name: the prefix of its container names.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every machine, in configuration order.
    pub fn machines(&self) -> &[Machine] {
        &self.machines
    }

    /// The machine named `hostname`.
    ///
    /// # Panics
    /// When there is none, with the hostnames the cluster has: this is the
    /// accessor for tests. See [`get`](Self::get) for an `Option`.
    pub fn machine(&self, hostname: &str) -> &Machine {
        match self.get(hostname) {
            Some(machine) => machine,
            None => panic!("{}", self.no_such_machine(hostname)),
        }
    }

    /// The machine named `hostname`, if the cluster has it.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// if let Some(db) = cluster.get("db0") {
    ///     db.exec("systemctl is-active postgresql")?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get(&self, hostname: &str) -> Option<&Machine> {
        self.machines.iter().find(|m| m.hostname == hostname)
    }

    /// The private key that logs into the machines.
    pub fn private_key(&self) -> &std::path::Path {
        &self.key_path
    }

    /// The cluster's Ansible inventory (YAML): every machine by hostname,
    /// reached on its published ssh port with the cluster's key, its host
    /// key checked strictly against a `known_hosts` that footloose writes;
    /// groups for the cluster, each `machines:` entry and its `groups`.
    /// See [`crate::ansible`].
    pub fn ansible_inventory(&self) -> Result<String> {
        let (engine, name, key) = (
            self.engine.clone(),
            self.name.clone(),
            self.key_path.clone(),
        );
        crate::runtime::block_on(
            async move { crate::ansible::inventory(&engine, &name, &key).await },
        )
    }

    /// Writes [`ansible_inventory`](Self::ansible_inventory) to `path` and
    /// returns the path.
    pub fn write_ansible_inventory(&self, path: impl Into<PathBuf>) -> Result<PathBuf> {
        let path = path.into();
        let text = self.ansible_inventory()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
        }
        std::fs::write(&path, text).map_err(|e| Error::io("cannot write", &path, e))?;
        Ok(path)
    }

    /// Writes the cluster's OpenSSH `known_hosts` (its machines' pinned host
    /// keys, filed under their container names for `HostKeyAlias`) and
    /// returns its path; see [`known_hosts`].
    pub fn write_known_hosts(&self) -> Result<PathBuf> {
        let (engine, name) = (self.engine.clone(), self.name.clone());
        crate::runtime::block_on(async move { known_hosts(&engine, &name).await })
    }

    /// Removes every container, network and volume of the cluster.
    pub fn delete(&self) -> Result<Removed> {
        let (engine, name) = (self.engine.clone(), self.name.clone());
        crate::runtime::block_on(async move { delete(&engine, &name).await })
    }

    /// Async twin of [`delete`](Self::delete).
    pub async fn delete_async(&self) -> Result<Removed> {
        let (engine, name) = (self.engine.clone(), self.name.clone());
        crate::runtime::spawn(async move { delete(&engine, &name).await }).await
    }

    fn no_such_machine(&self, hostname: &str) -> Error {
        let known = self.machines.iter().map(|m| m.hostname.as_str());
        Error::no_such_machine(&self.name, hostname, known)
    }
}
