//! Creating a cluster: resolve the [`CreatePlan`](crate::plan::CreatePlan)
//! from the config and what the engine has, then carry it out: the key,
//! images, networks, and every machine in parallel; on failure or
//! interrupt, undo what this call made.
//!
//! Several processes may create one cluster at once (two `footloose create`
//! in one directory, CI jobs sharing an engine). Creation is adopt-on-
//! conflict: whoever loses the race for a container name or a network name
//! uses the winner's, so every creator ends with the same machines.
//!
//! The parts: [`keys`] (the client key, reconciled with the machines'),
//! [`network`] (one network per name, also when creators race),
//! [`machine`] (one machine to ready), [`undo`] (what this call made).

mod keys;
mod machine;
mod network;
#[cfg(test)]
mod tests;
mod undo;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use footloose_config::Config;
use tokio_util::sync::CancellationToken;

use super::ready::Deadline;
use super::Cluster;
use crate::engine::{ContainerInfo, ContainerStatus, Engine};
use crate::error::{Error, Result};
use crate::guest::KeyDelivery;
use crate::labels::Lifetime;
use crate::ownership::Ownership;
use crate::plan::{self, CreatePlan, Existing, Observed, Refusal};
use crate::process::{Identity, Presence};
use crate::record::MachineRecord;
use undo::Made;

/// The variable that says where to publish ports (see
/// [`ClusterBuilder::publish_address`](crate::ClusterBuilder::publish_address)).
pub const PUBLISH_ADDRESS_ENV: &str = "FOOTLOOSE_PUBLISH_ADDRESS";

/// Everything `create` is asked to do, resolved from a
/// [`ClusterBuilder`](crate::ClusterBuilder).
#[derive(Debug, Clone)]
pub(crate) struct CreateRequest {
    /// The config as it is created (network names scoped already).
    pub(crate) config: Config,
    /// Where the config came from: recorded on every machine.
    pub(crate) made_from: String,
    /// Relative bind sources resolve against this directory.
    pub(crate) config_dir: PathBuf,
    /// The client key's private file.
    pub(crate) key_path: PathBuf,
    /// How long the cluster lives.
    pub(crate) lifetime: Lifetime,
    /// The watchdog that removes it if this process dies.
    pub(crate) watchdog: Option<Identity>,
    /// The lease of a test cluster.
    pub(crate) lease: Option<Duration>,
    /// How long machines have to become ready.
    pub(crate) ready_timeout: Duration,
    /// Keep what was made when creation fails.
    pub(crate) keep_on_failure: bool,
    /// Stops creation when cancelled.
    pub(crate) cancel: Option<CancellationToken>,
    /// Where to publish ports whose mapping names no address.
    pub(crate) publish_address: Option<IpAddr>,
    /// How readiness is established (ssh, or assumed by in-memory tests).
    pub(crate) readiness: Readiness,
}

/// How `create` learns that a started machine is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// systemd reports a finished boot over an authenticated ssh session.
    Ssh,
    /// Taken as ready once running: machines of the in-memory backend
    /// have no sshd.
    #[cfg(test)]
    Assumed,
}

/// What every machine of one `create` shares.
pub(super) struct Context<'a> {
    engine: &'a Engine,
    request: &'a CreateRequest,
    key: Arc<crate::keys::ClientKey>,
    /// The labels of the cluster's objects: who owns them.
    ownership: Ownership,
    network_ids: BTreeMap<String, String>,
    publish_address: IpAddr,
    /// How each image takes its keys.
    deliveries: BTreeMap<String, KeyDelivery>,
    deadline: Deadline,
    made: &'a Made,
}

impl Context<'_> {
    fn cluster(&self) -> &str {
        &self.request.config.cluster.name
    }
}

/// Creates the cluster of `request` on `engine` (idempotently) and waits
/// until every machine is ready.
pub(crate) async fn create(engine: &Engine, request: &CreateRequest) -> Result<Cluster> {
    let made = Made::default();
    let work = carry_out(engine, request, &made);
    let result = match &request.cancel {
        // An interrupt wins over work that is ready at the same moment.
        Some(token) => tokio::select! {
            biased;
            () = token.cancelled() => Err(Error::Interrupted),
            result = work => result,
        },
        None => work.await,
    };
    match result {
        Ok(machines) => Ok(Cluster {
            name: request.config.cluster.name.clone(),
            machines,
            engine: engine.clone(),
            key_path: request.key_path.clone(),
        }),
        Err(err) => {
            if request.keep_on_failure {
                tracing::warn!(
                    "Keeping what was made for debugging; remove it with `footloose delete`"
                );
            } else {
                undo::undo(engine, &made).await;
            }
            Err(err)
        }
    }
}

/// Resolves the plan and carries it out, recording in `made` what it makes.
async fn carry_out(
    engine: &Engine,
    request: &CreateRequest,
    made: &Made,
) -> Result<Vec<crate::Machine>> {
    let cluster = &request.config.cluster.name;
    let ours = keys::existing_key(&request.key_path).await?;
    let existing = observe_cluster(engine, cluster).await?;
    let fingerprint = ours.as_ref().map(|k| k.fingerprint());
    let plan = plan::resolve(&request.config, fingerprint.as_deref(), &existing)
        .map_err(|refusal| refused(request, fingerprint.clone(), refusal))?;
    tracing::debug!(
        "{cluster}: {} machine(s) to create: {plan:?}",
        plan.to_create().count()
    );
    let key = Arc::new(match ours {
        Some(key) => key,
        None => keys::generate_key(&request.key_path).await?,
    });
    let deliveries = ensure_images(engine, &plan).await?;
    let ownership = Ownership::new(
        cluster,
        request.lifetime,
        request.watchdog.as_ref(),
        request.lease,
    );
    let mut network_ids = BTreeMap::new();
    for name in &plan.networks {
        let id = network::ensure(engine, name, &ownership.to_labels(), made).await?;
        network_ids.insert(name.clone(), id);
    }
    let context = Context {
        engine,
        request,
        key,
        ownership,
        network_ids,
        publish_address: publish_address(request, engine)?,
        deliveries,
        deadline: Deadline::after(request.ready_timeout),
        made,
    };
    machine::bring_up_all(&context, &plan).await
}

/// Makes sure every image of the plan is there; says how each takes keys.
async fn ensure_images(
    engine: &Engine,
    plan: &CreatePlan,
) -> Result<BTreeMap<String, KeyDelivery>> {
    let mut deliveries = BTreeMap::new();
    for image in &plan.images {
        let (_, labels) = crate::image::ensure_labelled(engine, image).await?;
        deliveries.insert(image.clone(), KeyDelivery::of_image(&labels));
    }
    Ok(deliveries)
}

/// The cluster's containers as the plan reads them, by name.
async fn observe_cluster(engine: &Engine, cluster: &str) -> Result<BTreeMap<String, Observed>> {
    let containers = engine
        .backend()
        .containers(&crate::labels::selector(Some(cluster)))
        .await?;
    Ok(containers
        .iter()
        .map(|c| (c.name.clone(), observe(c)))
        .collect())
}

/// One container as the plan reads it.
pub(super) fn observe(container: &ContainerInfo) -> Observed {
    let record = MachineRecord::from_labels(&container.labels);
    let state = match container.status {
        Some(ContainerStatus::Running) => Existing::Running,
        Some(ContainerStatus::Created) => Existing::Unstarted,
        Some(ContainerStatus::Removing) => Existing::Removing,
        _ => Existing::Stopped,
    };
    let creator_gone = state == Existing::Unstarted
        && record
            .as_ref()
            .is_ok_and(|r| r.ownership.owner.presence() == Presence::Gone);
    Observed {
        record,
        state,
        creator_gone,
    }
}

/// The error for a plan that refuses to go on.
pub(super) fn refused(request: &CreateRequest, ours: Option<String>, refusal: Refusal) -> Error {
    let cluster = request.config.cluster.name.clone();
    match refusal {
        Refusal::Foreign { container } => Error::Invalid(format!(
            "a container named {container} already exists and is not part of cluster {cluster}; remove or rename it"
        )),
        Refusal::KeyMismatch {
            made_from, theirs, ..
        } => Error::ClusterKeyMismatch {
            cluster,
            made_from,
            theirs,
            key: request.key_path.clone(),
            ours,
        },
        Refusal::Unreadable { container, reason } => Error::Record {
            container,
            source: reason,
        },
    }
}

/// Where ports without an address are published on `engine`: the
/// request's address, else `FOOTLOOSE_PUBLISH_ADDRESS`, else the config's,
/// else the engine's.
fn publish_address(request: &CreateRequest, engine: &Engine) -> Result<IpAddr> {
    if let Some(address) = request.publish_address {
        return Ok(address);
    }
    if let Ok(text) = std::env::var(PUBLISH_ADDRESS_ENV) {
        return text.trim().parse().map_err(|_| {
            Error::Invalid(format!(
                "{PUBLISH_ADDRESS_ENV}={text:?} is not an IP address"
            ))
        });
    }
    let configured = request.config.cluster.publish_address.as_deref();
    Ok(configured
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| engine.address()))
}
