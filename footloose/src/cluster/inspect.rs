//! Reading machines back from the engine: every container's
//! [`MachineRecord`], and what `footloose show` reports of it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use footloose_config::MachineSpec;
use serde::Serialize;

use crate::engine::{ssh_endpoint, ContainerInfo, ContainerStatus, Engine, Route};
use crate::error::{Error, Result};
use crate::labels::{self, Lifetime};
use crate::machine::PublishedPort;
use crate::ownership::Ownership;
use crate::record::MachineRecord;

/// Whether a machine runs.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// use footloose::MachineState;
///
/// let stopped: Vec<_> = footloose::status(engine, Some("demo"))
///     .await?
///     .into_iter()
///     .filter(|m| m.state == MachineState::Stopped)
///     .map(|m| m.hostname)
///     .collect();
/// footloose::start(engine, "demo", &stopped, "cluster-key".as_ref(), footloose::DEFAULT_READY_TIMEOUT).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MachineState {
    /// The container runs.
    Running,
    /// The container exists but is stopped.
    Stopped,
    /// Neither: created, paused, restarting, dead.
    Other,
}

impl std::fmt::Display for MachineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MachineState::Running => "Running",
            MachineState::Stopped => "Stopped",
            MachineState::Other => "Other",
        })
    }
}

/// A machine as `footloose show` reports it: its record, and what the
/// engine says of its container now.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// for machine in footloose::status(engine, Some("demo")).await? {
///     let ssh = machine.ssh_endpoint().map(|a| a.to_string()).unwrap_or_default();
///     println!("{} {} {} {ssh}", machine.container, machine.image, machine.state);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MachineStatus {
    /// The container name.
    pub container: String,
    /// The hostname.
    pub hostname: String,
    /// Running or not.
    pub state: MachineState,
    /// The image, as the config named it.
    pub image: String,
    /// PID 1's command.
    pub cmd: String,
    /// The IP address where this process reaches it (on the route's
    /// network, else the first), when running.
    pub ip: Option<String>,
    /// Published ports.
    pub ports: Vec<PublishedPort>,
    /// The machine's spec as written in the config.
    pub spec: Option<MachineSpec>,
    /// The networks the machine is attached to, by name.
    pub networks: Vec<String>,
    /// The extra Ansible groups of its `machines:` entry.
    pub groups: Vec<String>,
    /// Everything footloose recorded about the machine.
    #[serde(skip)]
    pub record: MachineRecord,
    /// Its address on each network.
    #[serde(skip)]
    pub(crate) addresses: BTreeMap<String, Option<IpAddr>>,
    /// How this process reaches machines' sshd.
    #[serde(skip)]
    pub(crate) route: Route,
}

impl MachineStatus {
    /// A machine's status from its container and record.
    pub(crate) fn of(
        container: &ContainerInfo,
        record: MachineRecord,
        route: &Route,
    ) -> MachineStatus {
        let state = match container.status {
            Some(ContainerStatus::Running) => MachineState::Running,
            Some(ContainerStatus::Exited | ContainerStatus::Created) => MachineState::Stopped,
            _ => MachineState::Other,
        };
        MachineStatus {
            container: container.name.clone(),
            hostname: record.hostname.clone(),
            state,
            // What the config asked for, not the engine's spelling of it
            // (Podman's `localhost/footloose/debian12:latest`).
            image: record
                .image()
                .map(str::to_owned)
                .unwrap_or_else(|| container.image.clone()),
            cmd: container.command.clone(),
            ip: container
                .address_on(route)
                .filter(|_| state == MachineState::Running)
                .map(|ip| ip.to_string()),
            ports: container.ports.clone(),
            spec: record.spec.clone(),
            networks: container.networks.keys().cloned().collect(),
            groups: record.groups.clone(),
            record,
            addresses: container.networks.clone(),
            route: route.clone(),
        }
    }

    /// The cluster it belongs to.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// let all = footloose::status(engine, None).await?;
    /// let demo = all.iter().filter(|m| m.cluster() == "demo").count();
    /// # Ok(()) }
    /// ```
    pub fn cluster(&self) -> &str {
        self.record.cluster()
    }

    /// Where this machine's sshd is reached, when it runs.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// for machine in footloose::status(engine, Some("demo")).await? {
    ///     if let Some(ssh) = machine.ssh_endpoint() {
    ///         println!("ssh -p {} root@{}", ssh.port(), ssh.ip());
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn ssh_endpoint(&self) -> Option<SocketAddr> {
        if self.state != MachineState::Running {
            return None;
        }
        ssh_endpoint(&self.ports, &self.addresses, &self.route)
    }
}

/// Every machine of `cluster` (or of every cluster), running or not, in
/// configuration order. A machine of `cluster` whose record this footloose
/// cannot read (made by a newer one) is an error that says so; listing
/// every cluster, such a machine is left out with a warning.
///
/// ```no_run
/// # async fn demo() -> footloose::Result<()> {
/// let engine = footloose::engine::Engine::connect().await?;
/// for machine in footloose::status(&engine, Some("cluster")).await? {
///     println!("{} {}", machine.hostname, machine.state);
/// }
/// # Ok(()) }
/// ```
pub async fn status(engine: &Engine, cluster: Option<&str>) -> Result<Vec<MachineStatus>> {
    let containers = engine
        .backend()
        .containers(&labels::selector(cluster))
        .await?;
    let mut machines = Vec::new();
    for container in &containers {
        match MachineRecord::from_labels(&container.labels) {
            Ok(record) => machines.push(MachineStatus::of(container, record, engine.route())),
            Err(source) if cluster.is_none() => {
                tracing::warn!("Leaving out {}: {source}", container.name);
            }
            Err(source) => {
                return Err(Error::Record {
                    container: container.name.clone(),
                    source,
                })
            }
        }
    }
    machines.sort_by(|a, b| {
        (a.cluster(), a.record.order, &a.hostname).cmp(&(b.cluster(), b.record.order, &b.hostname))
    });
    Ok(machines)
}

/// The names of every cluster on the engine.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// for cluster in footloose::list_clusters(engine).await? {
///     println!("{cluster}");
/// }
/// # Ok(()) }
/// ```
pub async fn list_clusters(engine: &Engine) -> Result<BTreeSet<String>> {
    Ok(status(engine, None)
        .await?
        .into_iter()
        .map(|m| m.cluster().to_owned())
        .collect())
}

/// The ownership of every test cluster on the engine, one entry per
/// cluster: what [`prune_abandoned`](crate::prune_abandoned) judges and
/// the watchdog acts on.
///
/// It is read from the cluster's machines and networks, unless the
/// cluster is a pooled one with a record that says more (see
/// `crate::pool`): a ready record (a booted cluster waiting for a test:
/// the pool's lease, no owner) goes over the machines' labels (its
/// refiller's, while it booted), and a claim record (the test that took
/// it) goes over both, since the machines' labels cannot change hands.
pub(crate) async fn test_clusters(engine: &Engine) -> Result<Vec<Ownership>> {
    // Test clusters, and pooled ones (`lifetime=pool` on their machines,
    // which an older footloose reads as a command line cluster and leaves
    // alone): both have a lifetime label, told apart below.
    let mut selector = labels::selector(None);
    selector.push(labels::LIFETIME.to_owned());
    let mut records = labels::selector(None);
    records.push(labels::POOL_RECORD.to_owned());
    let backend = engine.backend();
    let (containers, networks, records) = tokio::try_join!(
        backend.containers(&selector),
        backend.networks_labelled(&selector),
        backend.volumes(&records),
    )?;
    let mut clusters: BTreeMap<String, (u8, Ownership)> = BTreeMap::new();
    let label_sets = containers
        .into_iter()
        .map(|c| (0, c.labels))
        .chain(networks.into_iter().map(|n| (0, n.labels)))
        .chain(records.into_iter().map(|v| {
            let rank = match v.labels.get(labels::POOL_RECORD).map(String::as_str) {
                Some("ready") => 1,
                _ => 2,
            };
            (rank, v.labels)
        }));
    for (rank, label_set) in label_sets {
        let Some(mut ownership) = Ownership::from_labels(&label_set) else {
            continue;
        };
        match (rank, ownership.lifetime) {
            (_, Lifetime::Cli) => continue,
            // A pooled cluster still booting belongs to its refiller, as a
            // test's cluster belongs to its test.
            (0, Lifetime::Pool) => ownership.lifetime = Lifetime::Test,
            _ => {}
        }
        match clusters.get(&ownership.cluster) {
            Some((held, _)) if *held >= rank => {}
            _ => {
                clusters.insert(ownership.cluster.clone(), (rank, ownership));
            }
        }
    }
    Ok(clusters
        .into_values()
        .map(|(_, ownership)| ownership)
        .collect())
}
