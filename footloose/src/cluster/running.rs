//! A running cluster: its machines, the engine they run on, the key that
//! logs into them.

use std::path::PathBuf;

use super::known_hosts::known_hosts_with;
use super::manage::{delete_with, Removed};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::{Machine, Settings};

/// A running cluster of machines.
///
/// Made by [`ClusterBuilder`](crate::ClusterBuilder) (or the
/// `#[footloose::cluster]` attribute).
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
    pub(crate) settings: Settings,
}

impl Cluster {
    /// The cluster's name: the prefix of its container names.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// // `unique_name()` clusters, as every test's, end in a random part.
    /// println!("machines are named {}-<hostname>", cluster.name());
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every machine, in configuration order.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// for machine in cluster.machines() {
    ///     machine.exec("apt-get install -y curl")?.checked()?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn machines(&self) -> &[Machine] {
        &self.machines
    }

    /// The machine named `hostname`.
    ///
    /// # Panics
    /// When there is none, with the hostnames the cluster has: this is the
    /// accessor for tests. See [`get`](Self::get) for an `Option`.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// let out = cluster.machine("node0").exec("hostname")?;
    /// assert_eq!(out.stdout().trim(), "node0");
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// let key = cluster.private_key().display();
    /// println!("ssh -i {key} root@…");
    /// # Ok(()) }
    /// ```
    pub fn private_key(&self) -> &std::path::Path {
        &self.key_path
    }

    /// The settings the cluster was made with (its builder's): where its
    /// state directory is, among others.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// println!("state in {}", cluster.settings().state_dir(cluster.name()).display());
    /// # Ok(()) }
    /// ```
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Writes the cluster's OpenSSH `known_hosts` (its machines' pinned host
    /// keys, filed under their container names for `HostKeyAlias`) and
    /// returns its path; see [`known_hosts`](crate::known_hosts).
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// let known_hosts = cluster.write_known_hosts()?;
    /// let options = footloose::openssh_options(&known_hosts);
    /// println!("ssh {} -i {} root@…", options.join(" "), cluster.private_key().display());
    /// # Ok(()) }
    /// ```
    pub fn write_known_hosts(&self) -> Result<PathBuf> {
        let (engine, name, settings) = self.parts();
        crate::runtime::block_on(async move { known_hosts_with(&engine, &name, &settings).await })
    }

    /// Removes every container, network and volume of the cluster.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// let removed = cluster.delete()?;
    /// assert_eq!(removed.containers.len(), cluster.machines().len());
    /// # Ok(()) }
    /// ```
    pub fn delete(&self) -> Result<Removed> {
        let (engine, name, settings) = self.parts();
        crate::runtime::block_on(async move { delete_with(&engine, &name, &settings).await })
    }

    /// Async twin of [`delete`](Self::delete).
    ///
    /// ```no_run
    /// # async fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// cluster.delete_async().await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_async(&self) -> Result<Removed> {
        let (engine, name, settings) = self.parts();
        crate::runtime::spawn(async move { delete_with(&engine, &name, &settings).await }).await
    }

    /// What a task on the shared runtime needs of the cluster, owned.
    fn parts(&self) -> (Engine, String, Settings) {
        (
            self.engine.clone(),
            self.name.clone(),
            self.settings.clone(),
        )
    }

    fn no_such_machine(&self, hostname: &str) -> Error {
        let known = self.machines.iter().map(|m| m.hostname.as_str());
        Error::no_such_machine(&self.name, hostname, known)
    }
}
