//! Reading a machine's state back from the engine.

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::engine::{ssh_endpoint, ContainerInfo, ContainerStatus};
use crate::labels;
use crate::machine::PublishedPort;

/// Whether a machine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
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

/// A machine as `footloose show` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct MachineStatus {
    /// The container name.
    pub container: String,
    /// The hostname.
    pub hostname: String,
    /// Running or not.
    pub state: MachineState,
    /// The image.
    pub image: String,
    /// PID 1's command.
    pub cmd: String,
    /// The IP address on the first network, when running.
    pub ip: Option<String>,
    /// Published ports.
    pub ports: Vec<PublishedPort>,
    /// The machine's spec as written in the config.
    pub spec: serde_json::Value,
    /// The pinned ssh host public key.
    #[serde(skip)]
    pub host_key: Option<String>,
    /// The fingerprint of the client key the machine trusts.
    #[serde(skip)]
    pub key_fingerprint: Option<String>,
    /// The config file the machine was made from, when it had one.
    #[serde(skip)]
    pub config: Option<String>,
    /// The networks the machine is attached to, by name.
    pub networks: Vec<String>,
    /// The extra Ansible groups of its `machines:` entry.
    pub groups: Vec<String>,
    #[serde(skip)]
    pub(crate) order: u32,
    /// Where its engine's host is reached (loopback for a local engine).
    #[serde(skip)]
    pub(crate) engine_address: IpAddr,
    /// The cluster it belongs to.
    #[serde(skip)]
    pub cluster: String,
}

impl MachineStatus {
    /// Reads a machine's status from its container.
    pub(crate) fn from_container(
        container: &ContainerInfo,
        engine_address: IpAddr,
    ) -> MachineStatus {
        let labels = &container.labels;
        let state = match container.status {
            Some(ContainerStatus::Running) => MachineState::Running,
            Some(ContainerStatus::Exited | ContainerStatus::Created) => MachineState::Stopped,
            _ => MachineState::Other,
        };
        MachineStatus {
            container: container.name.clone(),
            hostname: labels.get(labels::HOSTNAME).cloned().unwrap_or_default(),
            state,
            // What the config asked for, not the engine's spelling of it
            // (Podman's `localhost/footloose/debian12:latest`).
            image: labels
                .get(labels::SPEC)
                .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                .and_then(|spec| spec.get("image")?.as_str().map(str::to_owned))
                .unwrap_or_else(|| container.image.clone()),
            cmd: container.command.clone(),
            ip: container
                .ip()
                .filter(|_| state == MachineState::Running)
                .map(|ip| ip.to_string()),
            ports: container.ports.clone(),
            spec: labels
                .get(labels::SPEC)
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or(serde_json::Value::Null),
            host_key: labels.get(labels::HOST_KEY).cloned(),
            key_fingerprint: labels.get(labels::KEY_FINGERPRINT).cloned(),
            config: labels.get(labels::CONFIG).cloned(),
            groups: labels
                .get(labels::GROUPS)
                .map(|g| g.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            networks: container.networks.keys().cloned().collect(),
            order: labels
                .get(labels::ORDER)
                .and_then(|o| o.parse().ok())
                .unwrap_or(u32::MAX),
            cluster: labels.get(labels::CLUSTER).cloned().unwrap_or_default(),
            engine_address,
        }
    }

    /// Where this machine's sshd is reached, when it runs.
    pub fn ssh_endpoint(&self) -> Option<SocketAddr> {
        let ip = self.ip.as_deref().and_then(|ip| ip.parse().ok());
        ssh_endpoint(&self.ports, ip, self.engine_address)
    }
}
