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
//! [`machine`] (one machine to ready), [`ports`] (host ports that stay
//! the machine's across reboots), [`undo`] (what this call made);
//! [`request`] is what `create` is asked, [`context`] what its machines
//! share.

mod context;
mod keys;
mod machine;
mod network;
mod ports;
mod request;
#[cfg(test)]
mod tests;
mod undo;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::join_all;

use super::ready::Deadline;
use super::running::Cluster;
use crate::engine::{Engine, Route};
use crate::error::{Error, Result};
use crate::machine::MachineError;
use crate::ownership::Ownership;
use crate::plan::{self, CreatePlan, Observed};
use context::{observe, refused, Context};
pub(crate) use keys::generate_key;
pub(crate) use request::{CreateRequest, Readiness};
use undo::Made;

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
            settings: request.settings.clone(),
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
    check_route(engine).await?;
    let ours = keys::existing_key(&request.key_path).await?;
    let existing = observe_cluster(engine, &request.config).await?;
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
    let images = prepare_images(engine, &plan, &request.settings).await?;
    let ownership = Ownership::new(
        cluster,
        request.lifetime,
        request.watchdog.as_ref(),
        request.lease,
    )
    .made_by(made.creation())
    .in_container(engine.vantage().container_id())
    .for_pool(request.pool.as_deref());
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
        publish_address: request::publish_address(request, engine)?,
        images,
        deadline: Deadline::after(request.ready_timeout),
        made,
    };
    machine::bring_up_all(&context, &plan).await
}

/// Refuses, before anything is made, a route that cannot reach machines:
/// none from where this process runs, or a network that does not exist.
async fn check_route(engine: &Engine) -> Result<()> {
    match engine.route() {
        Route::Unroutable { reason } => Err(Error::Machine(MachineError::NoRoute {
            reason: reason.clone(),
        })),
        Route::Network { network } if engine.backend().network(network).await?.is_none() => {
            Err(Error::Machine(MachineError::NoRoute {
                reason: format!(
                    "machines are to be reached on network {network}, and the engine has no network of that name ({})",
                    engine.vantage().describe()
                ),
            }))
        }
        _ => Ok(()),
    }
}

/// Makes every image of the plan ready for machines (built, pulled or
/// adapted); says, by the config's image, what machines run and how it
/// takes keys.
async fn prepare_images(
    engine: &Engine,
    plan: &CreatePlan,
    settings: &crate::Settings,
) -> Result<BTreeMap<String, crate::image::Prepared>> {
    let mut images = BTreeMap::new();
    for image in &plan.images {
        let prepared = crate::image::prepare_with(engine, image, settings).await?;
        images.insert(image.clone(), prepared);
    }
    Ok(images)
}

/// What the plan reads: the cluster's containers, and any other container
/// that holds one of the config's container names, by name.
async fn observe_cluster(
    engine: &Engine,
    config: &footloose_config::Config,
) -> Result<BTreeMap<String, Observed>> {
    let cluster = &config.cluster.name;
    let backend = engine.backend();
    let listed = backend
        .containers(&crate::labels::selector(Some(cluster)))
        .await?;
    let mut found: BTreeMap<String, Observed> = listed
        .iter()
        .map(|c| (c.name.clone(), observe(c)))
        .collect();
    let unlisted: Vec<String> = config
        .machines()
        .map(|m| plan::container_name(cluster, &m.hostname))
        .filter(|name| !found.contains_key(name))
        .collect();
    let inspected = join_all(unlisted.iter().map(|name| backend.container(name))).await;
    for (name, container) in unlisted.into_iter().zip(inspected) {
        if let Some(container) = container? {
            found.insert(name, observe(&container));
        }
    }
    Ok(found)
}
