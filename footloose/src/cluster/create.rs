//! Creating a cluster: images, key, networks, then every machine in
//! parallel; on failure, removing what this call made.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use bollard::models::{NetworkConnectRequest, NetworkCreateRequest};
use bollard::query_parameters::{CreateContainerOptionsBuilder, UploadToContainerOptionsBuilder};
use footloose_config::MachineInstance;
use futures_util::future::join_all;

use super::builder::ClusterBuilder;
use super::ready::{wait_ready, Deadline};
use super::Cluster;
use crate::archive::{self, Entry};
use crate::container_spec::{self, endpoint_settings};
use crate::engine::Engine;
use crate::error::{is_conflict, is_not_found, Error, Result};
use crate::keys::{ClientKey, HostKey};
use crate::labels;

/// What one `create` call made, to be removed if it fails.
#[derive(Default)]
struct Made {
    containers: Vec<String>,
    networks: Vec<String>,
}

pub(crate) async fn create(builder: &ClusterBuilder) -> Result<Cluster> {
    let engine = Engine::connect().await?;
    let config = &builder.config;
    let images: BTreeSet<&str> = config
        .machines
        .iter()
        .map(|m| m.spec.image.as_str())
        .collect();
    for image in images {
        crate::image::ensure(&engine, image).await?;
    }
    let key_path = builder.key_path();
    let key = {
        let key_path = key_path.clone();
        tokio::task::spawn_blocking(move || ClientKey::load_or_generate(&key_path))
            .await
            .map_err(|e| Error::Invalid(format!("key task failed: {e}")))??
    };
    let key = Arc::new(key);
    let labels = labels::ownership(&config.cluster.name, builder.lifetime);
    let mut made = Made::default();
    let result = bring_up(&engine, builder, &key, &labels, &mut made).await;
    match result {
        Ok(machines) => Ok(Cluster {
            name: config.cluster.name.clone(),
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
                undo(&engine, &made).await;
            }
            Err(err)
        }
    }
}

async fn bring_up(
    engine: &Engine,
    builder: &ClusterBuilder,
    key: &Arc<ClientKey>,
    labels: &HashMap<String, String>,
    made: &mut Made,
) -> Result<Vec<crate::Machine>> {
    let config = &builder.config;
    let networks: BTreeSet<&str> = config
        .machines
        .iter()
        .flat_map(|m| m.spec.networks.iter().map(String::as_str))
        .collect();
    for network in networks {
        ensure_network(engine, network, labels, made).await?;
    }
    let deadline = Deadline::after(builder.ready_timeout);
    let machines: Vec<MachineInstance> = config.machines().collect();
    let results = join_all(machines.iter().enumerate().map(|(order, machine)| {
        bring_up_machine(engine, builder, machine, order, key, labels, deadline)
    }))
    .await;
    let mut ready = Vec::new();
    let mut first_error = None;
    for (created, result) in results {
        made.containers.extend(created);
        match result {
            Ok(machine) => ready.push(machine),
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
        Some(err) => Err(err),
        None => Ok(ready),
    }
}

/// Creates a missing network, labelled as the cluster's.
async fn ensure_network(
    engine: &Engine,
    network: &str,
    labels: &HashMap<String, String>,
    made: &mut Made,
) -> Result<()> {
    match engine.docker().inspect_network(network, None).await {
        Ok(_) => return Ok(()),
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(Error::engine(format!("inspecting network {network}"), e)),
    }
    tracing::info!("Creating network: {network} ...");
    let request = NetworkCreateRequest {
        name: network.to_owned(),
        driver: Some("bridge".to_owned()),
        labels: Some(labels.clone()),
        ..Default::default()
    };
    match engine.docker().create_network(request).await {
        Ok(_) => {
            made.networks.push(network.to_owned());
            Ok(())
        }
        Err(e) if is_conflict(&e) => Ok(()),
        Err(e) => Err(Error::engine(format!("creating network {network}"), e)),
    }
}

/// Brings one machine to ready: creates it if missing, starts it if
/// stopped. Returns the container's name when this call created it.
async fn bring_up_machine(
    engine: &Engine,
    builder: &ClusterBuilder,
    machine: &MachineInstance,
    order: usize,
    key: &Arc<ClientKey>,
    labels: &HashMap<String, String>,
    deadline: Deadline,
) -> (Option<String>, Result<crate::Machine>) {
    let cluster = &builder.config.cluster.name;
    let name = container_spec::container_name(cluster, &machine.hostname);
    let mut created = None;
    let started = std::time::Instant::now();
    let result = async {
        let host_key = match engine.docker().inspect_container(&name, None).await {
            Ok(existing) => {
                let existing_labels = existing
                    .config
                    .as_ref()
                    .and_then(|c| c.labels.clone())
                    .unwrap_or_default();
                if existing_labels.get(labels::CLUSTER) != Some(cluster) {
                    return Err(Error::Invalid(format!(
                        "a container named {name} already exists and is not part of cluster {cluster}; remove or rename it"
                    )));
                }
                let running = existing.state.as_ref().and_then(|s| s.running) == Some(true);
                if !running {
                    tracing::info!("Starting machine: {name} ...");
                    start_container(engine, &name, machine.spec.privileged).await?;
                }
                existing_labels.get(labels::HOST_KEY).cloned().unwrap_or_default()
            }
            Err(e) if is_not_found(&e) => {
                tracing::info!("Creating machine: {name} ...");
                let host_key = HostKey::generate()?;
                let mut machine_labels = labels.clone();
                machine_labels.insert(labels::HOSTNAME.into(), machine.hostname.clone());
                machine_labels.insert(labels::HOST_KEY.into(), host_key.public.clone());
                machine_labels.insert(labels::ORDER.into(), order.to_string());
                machine_labels.insert(
                    labels::SPEC.into(),
                    serde_json::to_string(&machine.spec).unwrap_or_default(),
                );
                if let Some(path) = &builder.config_path {
                    machine_labels.insert(labels::CONFIG.into(), path.display().to_string());
                }
                let plan = container_spec::plan(
                    cluster,
                    machine,
                    engine.facts(),
                    &machine_labels,
                    &builder.config_dir,
                );
                let options = CreateContainerOptionsBuilder::default().name(&name).build();
                engine
                    .docker()
                    .create_container(Some(options), plan.body)
                    .await
                    .map_err(|e| Error::engine(format!("creating container {name}"), e))?;
                created = Some(name.clone());
                install_keys(engine, &name, &host_key, &key.public).await?;
                for network in &plan.extra_networks {
                    let request = NetworkConnectRequest {
                        container: name.clone(),
                        endpoint_config: Some(endpoint_settings(&machine.hostname)),
                    };
                    engine
                        .docker()
                        .connect_network(network, request)
                        .await
                        .map_err(|e| Error::engine(format!("connecting {name} to {network}"), e))?;
                }
                start_container(engine, &name, machine.spec.privileged).await?;
                tracing::debug!("{name}: created and started in {:?}", started.elapsed());
                host_key.public
            }
            Err(e) => return Err(Error::engine(format!("inspecting container {name}"), e)),
        };
        let machine = wait_ready(engine, &name, &machine.hostname, &host_key, &key.private_path, deadline).await?;
        tracing::debug!("{name}: ready after {:?}", started.elapsed());
        Ok(machine)
    }
    .await;
    (created, result)
}

/// Starts a container, explaining the usual reason a privileged one fails.
pub(crate) async fn start_container(engine: &Engine, name: &str, privileged: bool) -> Result<()> {
    engine
        .docker()
        .start_container(name, None)
        .await
        .map_err(|e| {
            let mut reason = e.to_string();
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
            Error::Start {
                machine: name.to_owned(),
                reason,
            }
        })
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
    let options = UploadToContainerOptionsBuilder::default().path("/").build();
    engine
        .docker()
        .upload_to_container(name, Some(options), bollard::body_full(bytes.into()))
        .await
        .map_err(|e| Error::engine(format!("installing ssh keys into {name}"), e))
}

/// Removes what a failed `create` made.
async fn undo(engine: &Engine, made: &Made) {
    join_all(
        made.containers
            .iter()
            .map(|name| super::manage::remove_container(engine, name)),
    )
    .await;
    for network in &made.networks {
        let _ = engine.docker().remove_network(network).await;
    }
}
