//! Creating a cluster: the key, images, networks, then every machine in
//! parallel; on failure or interrupt, removing what this call made.
//!
//! Several processes may create one cluster at once (two `footloose create`
//! in one directory, CI jobs sharing an engine). Creation is adopt-on-
//! conflict: whoever loses the race for a container name or a network name
//! uses the winner's, so every creator ends with the same machines.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use footloose_config::{Config, MachineInstance};
use futures_util::future::join_all;

use super::builder::ClusterBuilder;
use super::ready::{wait_ready, Deadline};
use super::Cluster;
use crate::archive::{self, Entry};
use crate::container_spec;
use crate::engine::{ContainerStatus, Engine};
use crate::error::{Error, Result};
use crate::keys::{ClientKey, HostKey};
use crate::labels;
use crate::ownership::Ownership;
use crate::process::{Identity, Presence};

/// How often a machine that another process is still preparing is looked at.
const ADOPT_POLL: Duration = Duration::from_millis(100);

/// What one `create` call made, to be removed if it fails. Shared with the
/// machine futures so that what they made is known even when they are
/// dropped half-way (an interrupt).
#[derive(Default)]
struct Made {
    containers: Vec<String>,
    /// Network ids.
    networks: Vec<String>,
}

type Shared<T> = Arc<Mutex<T>>;

pub(crate) async fn create(builder: &ClusterBuilder) -> Result<Cluster> {
    let config = builder.scoped_config();
    let cluster = config.cluster.name.clone();
    let labels = Ownership::new(
        &cluster,
        builder.lifetime,
        builder.watchdog.as_ref(),
        builder.effective_lease()?,
    )
    .to_labels();
    let engine = Engine::connect().await?;
    let key_path = builder.key_path();
    let made: Shared<Made> = Arc::default();
    let work = async {
        let key = Arc::new(client_key(&engine, &cluster, &key_path).await?);
        let images: BTreeSet<&str> = config
            .machines
            .iter()
            .map(|m| m.spec.image.as_str())
            .collect();
        let mut keys_by_env = BTreeSet::new();
        for image in images {
            crate::image::ensure(&engine, image).await?;
            if takes_keys_by_env(&engine, image).await? {
                keys_by_env.insert(image.to_owned());
            }
        }
        bring_up(
            &engine,
            builder,
            &config,
            &key,
            &labels,
            &keys_by_env,
            &made,
        )
        .await
    };
    let result = match &builder.cancel {
        Some(token) => tokio::select! {
            result = work => result,
            () = token.cancelled() => Err(Error::Interrupted),
        },
        None => work.await,
    };
    match result {
        Ok(machines) => Ok(Cluster {
            name: cluster,
            machines,
            engine,
            key_path,
        }),
        Err(err) => {
            if builder.keep_on_failure {
                tracing::warn!(
                    "Keeping what was made for debugging; remove it with `footloose delete`"
                );
            } else {
                let made = std::mem::take(&mut *made.lock().unwrap_or_else(|e| e.into_inner()));
                undo(&engine, &made).await;
            }
            Err(err)
        }
    }
}

/// The cluster's client key: loaded, or generated when missing. Fails at
/// once, before anything is made, when the cluster already exists and its
/// machines trust another key.
async fn client_key(
    engine: &Engine,
    cluster: &str,
    key_path: &std::path::Path,
) -> Result<ClientKey> {
    let existing = super::manage::status(engine, Some(cluster)).await?;
    let path = key_path.to_owned();
    let ours = tokio::task::spawn_blocking(move || ClientKey::load_existing(&path))
        .await
        .map_err(|e| Error::Invalid(format!("key task failed: {e}")))??;
    let ours_fingerprint = ours.as_ref().map(ClientKey::fingerprint);
    if let Some(other) = existing
        .iter()
        .find(|m| m.key_fingerprint.is_some() && m.key_fingerprint != ours_fingerprint)
    {
        return Err(Error::ClusterKeyMismatch {
            cluster: cluster.to_owned(),
            made_from: other
                .config
                .clone()
                .unwrap_or_else(|| "an unknown config".to_owned()),
            theirs: other.key_fingerprint.clone().unwrap_or_default(),
            key: key_path.to_owned(),
            ours: ours_fingerprint,
        });
    }
    match ours {
        Some(key) => Ok(key),
        None => {
            let path = key_path.to_owned();
            tokio::task::spawn_blocking(move || ClientKey::load_or_generate(&path))
                .await
                .map_err(|e| Error::Invalid(format!("key task failed: {e}")))?
        }
    }
}

async fn bring_up(
    engine: &Engine,
    builder: &ClusterBuilder,
    config: &Config,
    key: &Arc<ClientKey>,
    labels: &HashMap<String, String>,
    keys_by_env: &BTreeSet<String>,
    made: &Shared<Made>,
) -> Result<Vec<crate::Machine>> {
    let networks: BTreeSet<&str> = config
        .machines
        .iter()
        .flat_map(|m| m.spec.networks.iter().map(String::as_str))
        .collect();
    let mut network_ids = HashMap::new();
    for network in networks {
        let id = ensure_network(engine, network, labels, made).await?;
        network_ids.insert(network.to_owned(), id);
    }
    let deadline = Deadline::after(builder.ready_timeout);
    let machines: Vec<MachineInstance> = config.machines().collect();
    let context = MachineContext {
        engine,
        builder,
        cluster: &config.cluster.name,
        key,
        labels,
        network_ids: &network_ids,
        publish_address: builder.effective_publish_address(engine)?,
        keys_by_env,
        deadline,
        made,
    };
    let results = join_all(
        machines
            .iter()
            .enumerate()
            .map(|(order, machine)| bring_up_machine(&context, machine, order)),
    )
    .await;
    results.into_iter().collect()
}

/// Makes sure one network named `name` exists and returns its id. Docker
/// 20.10 creates two networks of one name when two creators race, so each
/// creator looks again after creating: the oldest network of that name
/// wins, and a creator whose own network lost removes it.
async fn ensure_network(
    engine: &Engine,
    name: &str,
    labels: &HashMap<String, String>,
    made: &Shared<Made>,
) -> Result<String> {
    if !networks_named(engine, name).await?.is_empty() {
        return await_single_network(engine, name, None).await;
    }
    tracing::info!("Creating network: {name} ...");
    let mine = match engine.create_network(name, labels).await {
        Ok(id) => Some(id),
        Err(err) if err.is_conflict() => None,
        Err(err) => return Err(err),
    };
    let winner = await_single_network(engine, name, mine.as_deref()).await?;
    if let Some(mine) = mine.filter(|mine| *mine == winner) {
        made.lock()
            .unwrap_or_else(|e| e.into_inner())
            .networks
            .push(mine);
    }
    Ok(winner)
}

/// Waits until one network is named `name` and returns its id. While two
/// exist, the engine refuses to start any machine on either ("ambiguous"),
/// so a creator whose network is younger removes its own at once, and
/// after [`DUPLICATE_GRACE`] anyone removes a younger duplicate that no
/// machine uses (its creator may have died).
async fn await_single_network(engine: &Engine, name: &str, mine: Option<&str>) -> Result<String> {
    let started = Instant::now();
    loop {
        let all = networks_named(engine, name).await?;
        let Some((_, winner)) = all.first().cloned() else {
            return Err(Error::Invalid(format!(
                "network {name} was removed while this cluster was being created"
            )));
        };
        if all.len() == 1 || started.elapsed() > DUPLICATE_LIMIT {
            return Ok(winner);
        }
        for (_, younger) in &all[1..] {
            if Some(younger.as_str()) == mine || started.elapsed() > DUPLICATE_GRACE {
                tracing::debug!("Network {name}: removing the younger duplicate {younger}");
                let _ = engine.remove_network(younger).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long a creator leaves another's younger duplicate network alone.
const DUPLICATE_GRACE: Duration = Duration::from_secs(2);
/// How long a creator waits for duplicates to go before going on anyway.
const DUPLICATE_LIMIT: Duration = Duration::from_secs(10);

/// The networks named exactly `name`, oldest first: (created, id).
async fn networks_named(engine: &Engine, name: &str) -> Result<Vec<(CreatedAt, String)>> {
    let mut found: Vec<(CreatedAt, String)> = engine
        .networks_named(name)
        .await?
        .into_iter()
        .map(|n| (CreatedAt::parse(&n.created), n.id))
        .collect();
    found.sort();
    Ok(found)
}

/// An engine timestamp (`2026-11-29T18:40:01.12345Z`), ordered correctly
/// although the engine trims trailing zeros of the fraction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CreatedAt {
    seconds: String,
    nanos: u32,
}

impl CreatedAt {
    fn parse(text: &str) -> CreatedAt {
        let (seconds, rest) = text.split_once('.').unwrap_or((text, ""));
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let nanos = format!("{digits:0<9}")[..9].parse().unwrap_or(0);
        CreatedAt {
            seconds: seconds.trim_end_matches(['Z', 'z']).to_owned(),
            nanos,
        }
    }
}

/// What every machine of one `create` shares.
struct MachineContext<'a> {
    engine: &'a Engine,
    builder: &'a ClusterBuilder,
    cluster: &'a str,
    key: &'a Arc<ClientKey>,
    labels: &'a HashMap<String, String>,
    network_ids: &'a HashMap<String, String>,
    publish_address: std::net::IpAddr,
    /// Images that take the keys in the environment (`io.footloose.keys=env`).
    keys_by_env: &'a BTreeSet<String>,
    deadline: Deadline,
    made: &'a Shared<Made>,
}

/// Brings one machine to ready: creates it if missing, adopts it if
/// another process made it meanwhile, starts it if stopped.
async fn bring_up_machine(
    context: &MachineContext<'_>,
    machine: &MachineInstance,
    order: usize,
) -> Result<crate::Machine> {
    let engine = context.engine;
    let name = container_spec::container_name(context.cluster, &machine.hostname);
    let started = Instant::now();
    let host_key = loop {
        match engine.container(&name).await? {
            None => {
                if let Some(host_key) = create_machine(context, machine, order, &name).await? {
                    break host_key;
                }
                // Another process created it first: adopt theirs.
            }
            Some(existing) => {
                let labels = existing.labels;
                check_adoptable(context, &name, &labels)?;
                match existing.status {
                    Some(ContainerStatus::Running) => {}
                    Some(ContainerStatus::Created) => {
                        // Made but never started: its creator is still
                        // installing keys, or died doing so.
                        let owner = Ownership::from_labels(&labels).map(|o| o.owner);
                        if owner.as_ref().map(Identity::presence) == Some(Presence::Gone) {
                            tracing::info!(
                                "Replacing machine {name}: its creator died before starting it"
                            );
                            engine.remove_container(&name).await?;
                            continue;
                        }
                        if Instant::now() >= context.deadline.at {
                            let by = owner.map(|o| o.to_string()).unwrap_or_default();
                            return Err(Error::NotReady {
                                machine: name.clone(),
                                deadline: context.deadline.allowed,
                                reason: format!("another footloose process ({by}) created it and has not started it"),
                                logs: "    (it never started)".to_owned(),
                            });
                        }
                        tokio::time::sleep(ADOPT_POLL).await;
                        continue;
                    }
                    _ => {
                        tracing::info!("Starting machine: {name} ...");
                        start_container(engine, &name, machine.spec.privileged).await?;
                    }
                }
                break labels.get(labels::HOST_KEY).cloned().unwrap_or_default();
            }
        }
    };
    let ready = wait_ready(
        engine,
        &name,
        &machine.hostname,
        &host_key,
        &context.key.private_path,
        context.deadline,
    )
    .await?;
    tracing::debug!("{name}: ready after {:?}", started.elapsed());
    Ok(ready)
}

/// Refuses to adopt a container of another cluster, or one that trusts
/// another key.
fn check_adoptable(
    context: &MachineContext<'_>,
    name: &str,
    labels: &HashMap<String, String>,
) -> Result<()> {
    if labels.get(labels::CLUSTER).map(String::as_str) != Some(context.cluster) {
        return Err(Error::Invalid(format!(
            "a container named {name} already exists and is not part of cluster {}; remove or rename it",
            context.cluster
        )));
    }
    let ours = context.key.fingerprint();
    match labels.get(labels::KEY_FINGERPRINT) {
        Some(theirs) if *theirs != ours => Err(Error::ClusterKeyMismatch {
            cluster: context.cluster.to_owned(),
            made_from: labels
                .get(labels::CONFIG)
                .cloned()
                .unwrap_or_else(|| "an unknown config".to_owned()),
            theirs: theirs.clone(),
            key: context.key.private_path.clone(),
            ours: Some(ours),
        }),
        _ => Ok(()),
    }
}

/// Creates, prepares and starts a machine. Returns its pinned host key, or
/// `None` when another process took the name first.
async fn create_machine(
    context: &MachineContext<'_>,
    machine: &MachineInstance,
    order: usize,
    name: &str,
) -> Result<Option<String>> {
    let engine = context.engine;
    tracing::info!("Creating machine: {name} ...");
    let host_key = HostKey::generate()?;
    let mut machine_labels = context.labels.clone();
    machine_labels.insert(labels::HOSTNAME.into(), machine.hostname.clone());
    machine_labels.insert(labels::HOST_KEY.into(), host_key.public.clone());
    machine_labels.insert(labels::KEY_FINGERPRINT.into(), context.key.fingerprint());
    machine_labels.insert(labels::ORDER.into(), order.to_string());
    if !machine.groups.is_empty() {
        machine_labels.insert(labels::GROUPS.into(), machine.groups.join(","));
    }
    machine_labels.insert(
        labels::SPEC.into(),
        serde_json::to_string(&machine.spec).unwrap_or_default(),
    );
    let made_from = match &context.builder.config_path {
        Some(path) => path.display().to_string(),
        None => format!(
            "the built-in default config in {}",
            context.builder.config_dir.display()
        ),
    };
    machine_labels.insert(labels::CONFIG.into(), made_from);
    let mut plan = container_spec::plan(
        context.cluster,
        machine,
        engine.facts(),
        &machine_labels,
        &context.builder.config_dir,
        context.publish_address,
    )
    .with_network_ids(context.network_ids);
    let keys_by_env = context.keys_by_env.contains(&machine.spec.image);
    if keys_by_env {
        plan.env
            .push(format!("{HOST_KEY_ENV}={}", host_key.private.trim_end()));
        plan.env.push(format!(
            "{AUTHORIZED_KEY_ENV}={}",
            context.key.public.trim_end()
        ));
    }
    // Recorded before asking: an interrupt may drop this call mid-request.
    context
        .made
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .containers
        .push(name.to_owned());
    match engine.create_container(&plan).await {
        Ok(()) => {}
        Err(err) if err.is_conflict() => {
            context
                .made
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .containers
                .retain(|n| n != name);
            return Ok(None);
        }
        Err(err) => return Err(on_remote_binds(engine, &plan, err)),
    }
    if !keys_by_env {
        install_keys(engine, name, &host_key, &context.key.public).await?;
    }
    for network in &plan.extra_networks {
        engine
            .connect_network(network, name, &machine.hostname)
            .await?;
    }
    if let Err(err) = start_container(engine, name, machine.spec.privileged).await {
        // While racing creators briefly hold two networks of one name, the
        // engine refuses to start a machine on either. By the time that
        // answer arrives the duplicate may be gone already: wait until each
        // network is single, then try once more.
        if machine.spec.networks.is_empty() || matches!(err, Error::Vanished { .. }) {
            return Err(err);
        }
        for network in &machine.spec.networks {
            await_single_network(engine, network, None).await?;
        }
        start_container(engine, name, machine.spec.privileged).await?;
    }
    Ok(Some(host_key.public))
}

/// A refused create of a machine that mounts host paths, on an engine of
/// another host, says whose paths those are.
fn on_remote_binds(engine: &Engine, plan: &container_spec::ContainerPlan, err: Error) -> Error {
    let sources: Vec<&str> = plan
        .mounts
        .iter()
        .filter_map(|m| match m {
            container_spec::MountPlan::Bind { source, .. } => Some(source.as_str()),
            container_spec::MountPlan::Volume { .. } => None,
        })
        .collect();
    if !engine.is_remote() || sources.is_empty() {
        return err;
    }
    Error::Invalid(format!(
        "{err}\n  {} mounts {}: the engine at {} runs on another host, where bind sources must exist",
        plan.name,
        sources.join(", "),
        engine.endpoint()
    ))
}

/// Starts a container, explaining the usual reason a privileged one fails.
/// A container that another process started meanwhile is fine.
pub(crate) async fn start_container(engine: &Engine, name: &str, privileged: bool) -> Result<()> {
    let err = match engine.start_container(name).await {
        Ok(()) => return Ok(()),
        Err(err) => err,
    };
    if err.is_not_found() || being_removed(engine, name).await {
        return Err(Error::Vanished {
            machine: name.to_owned(),
        });
    }
    let Error::Engine {
        message: mut reason,
        ..
    } = err
    else {
        return Err(err);
    };
    if reason.contains("port is already allocated") || reason.contains("address already in use") {
        reason.push_str(
            "\n  a host port this machine publishes is taken by another process or machine: change its hostPort, or leave hostPort out to get a free one",
        );
    }
    if privileged {
        reason.push_str(
            "\n  this machine is privileged: the engine's host must grant every capability (CAP_SYS_RESOURCE among them); where it cannot, use capAdd with only what the machine needs",
        );
    }
    Err(Error::Start {
        machine: name.to_owned(),
        reason,
    })
}

/// Whether the container is gone or on its way out (another footloose
/// deleting the cluster).
async fn being_removed(engine: &Engine, name: &str) -> bool {
    match engine.container(name).await {
        Ok(Some(info)) => info.status == Some(ContainerStatus::Removing),
        Ok(None) => true,
        Err(_) => false,
    }
}

/// The label by which an image says it takes the keys in the environment:
/// its `footloose-boot` unit writes them before sshd starts, so nothing is
/// copied into the container (on Docker 20.10 each copy re-executes dockerd).
const KEYS_LABEL: (&str, &str) = ("io.footloose.keys", "env");
/// The machine's private host key, for images that take keys by environment.
const HOST_KEY_ENV: &str = "FOOTLOOSE_HOST_KEY";
/// The cluster's public key, for images that take keys by environment.
const AUTHORIZED_KEY_ENV: &str = "FOOTLOOSE_AUTHORIZED_KEY";

/// True when `image` carries [`KEYS_LABEL`].
async fn takes_keys_by_env(engine: &Engine, image: &str) -> Result<bool> {
    Ok(engine
        .image_labels(image)
        .await?
        .unwrap_or_default()
        .get(KEYS_LABEL.0)
        .is_some_and(|v| v == KEYS_LABEL.1))
}

/// Writes the host key and the cluster's public key into the created (not
/// yet started) container, so that nothing is exec'd before systemd boots.
async fn install_keys(
    engine: &Engine,
    name: &str,
    host_key: &HostKey,
    authorized: &str,
) -> Result<()> {
    let public = format!("{}\n", host_key.public);
    let authorized = format!("{authorized}\n");
    let bytes = archive::pack(&[
        Entry::file(
            "etc/ssh/ssh_host_ed25519_key",
            0o600,
            host_key.private.as_bytes(),
        ),
        Entry::file("etc/ssh/ssh_host_ed25519_key.pub", 0o644, public.as_bytes()),
        Entry::dir("root/.ssh", 0o700),
        Entry::file("root/.ssh/authorized_keys", 0o600, authorized.as_bytes()),
    ])
    .map_err(|e| Error::Invalid(format!("cannot pack the keys for {name}: {e}")))?;
    engine.upload(name, "/", bytes).await
}

/// Removes what a failed or interrupted `create` made: the containers this
/// process created (checked by their owner label, as an interrupted
/// request may have lost a race it never heard of), and its networks
/// unless another process's machines use them by now.
async fn undo(engine: &Engine, made: &Made) {
    let me = Identity::current();
    join_all(made.containers.iter().map(|name| async {
        let owner = engine
            .container(name)
            .await
            .ok()
            .flatten()
            .and_then(|c| Ownership::from_labels(&c.labels))
            .map(|o| o.owner);
        if owner.as_ref() == Some(&me) {
            let _ = engine.remove_container(name).await;
        }
    }))
    .await;
    for network in &made.networks {
        let _ = engine.remove_network(network).await;
    }
}

#[cfg(test)]
mod tests {
    use super::CreatedAt;

    #[test]
    fn engine_timestamps_order_by_their_value() {
        let a = CreatedAt::parse("2026-11-29T18:40:01.12345Z");
        let b = CreatedAt::parse("2026-11-29T18:40:01.123456789Z");
        let c = CreatedAt::parse("2026-11-29T18:40:02Z");
        assert!(a < b && b < c, "{a:?} {b:?} {c:?}");
    }
}
