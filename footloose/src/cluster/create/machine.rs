//! Bringing one machine of the plan to ready: create it (recording it
//! first, for undo), hand it its keys by the guest contract, start it,
//! wait until it is ready. When the engine changes under the plan (another
//! process created the same container first, or is still preparing it),
//! the machine is looked at again and `plan::action_for` decides anew.

use std::time::{Duration, Instant};

use futures_util::future::join_all;

use super::context::{observe, refused, Context};
use super::network;
use super::request::Readiness;
use crate::cluster::ready::{wait_ready, Deadline};
use crate::cluster::start::start_container;

use super::ports;
use crate::container_spec::{self, ContainerPlan, MountPlan};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::guest::{self, KeyDelivery};
use crate::keys::HostKey;
use crate::machine::MachineError;
use crate::plan::{action_for, Action, CreatePlan, MachineStep};
use crate::record::{MachineRecord, RECORD_VERSION};

/// How often a machine that another process is still preparing, or
/// removing, is looked at.
const ADOPT_POLL: Duration = Duration::from_millis(100);

/// Brings every machine of `plan` to ready, in parallel.
pub(super) async fn bring_up_all(
    context: &Context<'_>,
    plan: &CreatePlan,
) -> Result<Vec<crate::Machine>> {
    let results = join_all(plan.machines.iter().map(|step| bring_up(context, step))).await;
    results.into_iter().collect()
}

/// Brings one machine to ready, starting from the plan's action.
async fn bring_up(context: &Context<'_>, step: &MachineStep) -> Result<crate::Machine> {
    let engine = context.engine;
    let name = &step.container;
    let started = Instant::now();
    let (mut action, mut pinned) = (step.action, step.host_key.clone());
    let host_key = loop {
        match action {
            Action::Create => {
                if let Some(host_key) = create_machine(context, step).await? {
                    break host_key;
                }
                // Another process created it first: look at theirs.
            }
            Action::Replace => {
                tracing::info!("Replacing machine {name}: its creator died before starting it");
                engine.backend().remove_container(name).await?;
            }
            Action::AwaitCreator => {
                if Instant::now() >= context.deadline.at {
                    return Err(not_started(context.deadline, name));
                }
                tokio::time::sleep(ADOPT_POLL).await;
            }
            Action::Start | Action::Keep => {
                if action == Action::Start {
                    tracing::info!("Starting machine: {name} ...");
                    start_container(engine, name, step.instance.spec.privileged).await?;
                }
                break pinned.unwrap_or_default();
            }
        }
        (action, pinned) = look_again(context, name).await?;
    };
    let ready = match context.request.readiness {
        Readiness::Ssh => {
            wait_ready(
                engine,
                name,
                &step.instance.hostname,
                &host_key,
                &context.key.private_path,
                context.deadline,
            )
            .await?
        }
        #[cfg(test)]
        Readiness::Assumed => assumed_ready(context, step, &host_key).await?,
    };
    tracing::debug!("{name}: ready after {:?}", started.elapsed());
    Ok(ready)
}

/// What to do with `name` now, as the engine has it, and the host key it
/// was made with.
async fn look_again(context: &Context<'_>, name: &str) -> Result<(Action, Option<String>)> {
    let found = context.engine.backend().container(name).await?;
    let observed = found.as_ref().map(observe);
    let ours = context.key.fingerprint();
    let action = action_for(context.cluster(), Some(&ours), name, observed.as_ref())
        .map_err(|refusal| refused(context.request, Some(ours), refusal))?;
    Ok((action, observed.and_then(|o| o.host_key())))
}

fn not_started(deadline: Deadline, name: &str) -> Error {
    Error::Machine(MachineError::NotReady {
        machine: name.to_owned(),
        deadline: deadline.allowed,
        reason: "another footloose process created it and has not started it".to_owned(),
        logs: "    (it never started)".to_owned(),
    })
}

/// Creates, prepares and starts a machine. Returns its pinned host key, or
/// `None` when another process took the name first.
async fn create_machine(context: &Context<'_>, step: &MachineStep) -> Result<Option<String>> {
    let engine = context.engine;
    let name = &step.container;
    tracing::info!("Creating machine: {name} ...");
    let host_key = HostKey::generate()?;
    let record = MachineRecord {
        version: RECORD_VERSION,
        ownership: context.ownership.clone(),
        hostname: step.instance.hostname.clone(),
        order: step.order,
        host_key: Some(host_key.public.clone()),
        key_fingerprint: Some(context.key.fingerprint()),
        made_from: Some(context.request.made_from.clone()),
        spec: Some(step.instance.spec.clone()),
        groups: step.instance.groups.clone(),
        ansible: crate::record::MachineVars::of(&step.instance),
    };
    let ids = context.network_ids.clone().into_iter().collect();
    let default_network = engine.facts().capabilities.default_network;
    let mut plan = container_spec::plan(
        context.cluster(),
        &step.instance,
        engine.facts(),
        &record.to_labels(),
        &context.request.config_dir,
        context.publish_address,
        &context.request.settings,
    )?;
    if let Some(network) = engine.route().network() {
        plan = plan.reachable_on(network, default_network);
    }
    let mut plan = plan.with_network_ids(&ids);
    let delivery = match context.images.get(&step.instance.spec.image) {
        Some(prepared) => {
            plan.image = prepared.reference.clone();
            prepared.delivery
        }
        None => KeyDelivery::Copy,
    };
    if delivery == KeyDelivery::Environment {
        plan.env
            .extend(guest::keys_env(&host_key.private, &context.key.public));
    }
    let held = if ports::can_pick(engine) {
        ports::pick(&mut plan.ports)?
    } else {
        ports::Held::default()
    };
    // Recorded before asking: an interrupt may drop this call mid-request.
    context.made.container(name);
    let request = {
        let (engine, plan) = (engine.clone(), plan.clone());
        async move { engine.backend().create_container(&plan).await }
    };
    match context.made.finish(request).await {
        Ok(()) => {}
        Err(err) if err.is_conflict() => {
            context.made.not_made(name);
            return Ok(None);
        }
        Err(err) => return Err(on_remote_binds(engine, &plan, err)),
    }
    if delivery == KeyDelivery::Copy {
        let files = guest::key_files(&host_key.private, &host_key.public, &context.key.public)
            .map_err(|source| Error::Pack {
                what: format!("the keys for {name}"),
                source,
            })?;
        engine.backend().upload(name, "/", files).await?;
    }
    if plan.nano_cpus.is_some() {
        // systemd keeps its units under the container's CPU quota only
        // with CPU accounting on (see `guest`).
        let files = guest::cpu_accounting_files().map_err(|source| Error::Pack {
            what: format!("the CPU accounting configuration for {name}"),
            source,
        })?;
        engine.backend().upload(name, "/", files).await?;
    }
    let route_network = engine.route().network();
    for network in &plan.extra_networks {
        // No alias on the engine's default network, which refuses them, nor
        // on the route's: it is not footloose's, and other clusters' (or a
        // CI job's services') names live there.
        let unaliased = network == default_network || Some(network.as_str()) == route_network;
        let alias = (!unaliased).then_some(step.instance.hostname.as_str());
        engine
            .backend()
            .connect_network(network, name, alias)
            .await?;
    }
    let privileged = step.instance.spec.privileged;
    held.release();
    if let Err(err) = start_container(engine, name, privileged).await {
        // While racing creators briefly hold two networks of one name, the
        // engine refuses to start a machine on either. By the time that
        // answer arrives the duplicate may be gone already: wait until each
        // network is single, then try once more.
        if step.instance.spec.networks.is_empty()
            || matches!(err, Error::Machine(MachineError::Vanished { .. }))
        {
            return Err(err);
        }
        for network in &step.instance.spec.networks {
            network::existing(engine, network).await?;
        }
        start_container(engine, name, privileged).await?;
    }
    Ok(Some(host_key.public))
}

/// A refused create of a machine that mounts host paths, on an engine of
/// another host, says whose paths those are.
fn on_remote_binds(engine: &Engine, plan: &ContainerPlan, err: Error) -> Error {
    let sources: Vec<&str> = plan
        .mounts
        .iter()
        .filter_map(|m| match m {
            MountPlan::Bind { source, .. } => Some(source.as_str()),
            MountPlan::Volume { .. } => None,
        })
        .collect();
    if !engine.is_remote() || sources.is_empty() {
        return err;
    }
    Error::RemoteBinds {
        machine: plan.name.clone(),
        sources: sources.into_iter().map(str::to_owned).collect(),
        endpoint: engine.endpoint().to_owned(),
        error: Box::new(err),
    }
}

/// A machine of the in-memory backend, taken as ready once it runs.
#[cfg(test)]
async fn assumed_ready(
    context: &Context<'_>,
    step: &MachineStep,
    host_key: &str,
) -> Result<crate::Machine> {
    let info = context
        .engine
        .backend()
        .container(&step.container)
        .await?
        .filter(|c| c.is_running())
        .ok_or_else(|| {
            Error::Machine(MachineError::Vanished {
                machine: step.container.clone(),
            })
        })?;
    let info = crate::cluster::ready::join_route(context.engine, &step.container, info).await?;
    Ok(crate::Machine::unconnected(
        &step.instance.hostname,
        &info,
        host_key,
        &context.key.private_path,
    ))
}
