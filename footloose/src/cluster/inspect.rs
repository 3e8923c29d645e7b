//! Reading a machine's state back from the engine.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use bollard::models::{ContainerInspectResponse, ContainerSummary, EndpointSettings, PortBinding};
use serde::Serialize;

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
    /// The cluster it belongs to.
    #[serde(skip)]
    pub cluster: String,
}

impl MachineStatus {
    /// Reads a status from a container listing.
    pub(crate) fn from_summary(summary: &ContainerSummary) -> MachineStatus {
        let labels = summary.labels.clone().unwrap_or_default();
        let container = summary
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_default();
        let state = match summary.state.as_ref().map(|s| s.to_string()).as_deref() {
            Some("running") => MachineState::Running,
            Some("exited") | Some("created") => MachineState::Stopped,
            _ => MachineState::Other,
        };
        let ip = summary
            .network_settings
            .as_ref()
            .and_then(|n| first_ip(n.networks.as_ref()));
        let mut ports: Vec<PublishedPort> = summary
            .ports
            .iter()
            .flatten()
            .filter_map(|p| {
                Some(PublishedPort {
                    guest: p.private_port,
                    host: p.public_port?,
                    address: p.ip.clone().unwrap_or_default(),
                    protocol: p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into()),
                })
            })
            .collect();
        ports.sort_by_key(|p| (p.guest, p.host));
        ports.dedup();
        MachineStatus {
            container,
            hostname: labels.get(labels::HOSTNAME).cloned().unwrap_or_default(),
            state,
            image: summary.image.clone().unwrap_or_default(),
            cmd: summary.command.clone().unwrap_or_default(),
            ip: ip
                .filter(|_| state == MachineState::Running)
                .map(|ip| ip.to_string()),
            ports,
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
            networks: summary
                .network_settings
                .as_ref()
                .and_then(|n| n.networks.as_ref())
                .map(|n| {
                    let mut names: Vec<String> = n.keys().cloned().collect();
                    names.sort();
                    names
                })
                .unwrap_or_default(),
            order: labels
                .get(labels::ORDER)
                .and_then(|o| o.parse().ok())
                .unwrap_or(u32::MAX),
            cluster: labels.get(labels::CLUSTER).cloned().unwrap_or_default(),
        }
    }
}

/// Where to reach a running container: its published ports, its IP, and
/// the address of its sshd.
pub(crate) struct Addresses {
    pub(crate) ip: Option<IpAddr>,
    pub(crate) ports: Vec<PublishedPort>,
    pub(crate) ssh: Option<SocketAddr>,
}

pub(crate) fn addresses(info: &ContainerInspectResponse) -> Addresses {
    let settings = info.network_settings.as_ref();
    let ip = settings.and_then(|s| first_ip(s.networks.as_ref()));
    let empty = HashMap::new();
    let bindings: &HashMap<String, Option<Vec<PortBinding>>> =
        settings.and_then(|s| s.ports.as_ref()).unwrap_or(&empty);
    let mut ports = Vec::new();
    for (key, list) in bindings {
        let (guest, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
        let Ok(guest) = guest.parse::<u16>() else {
            continue;
        };
        for binding in list.iter().flatten() {
            let Some(host) = binding.host_port.as_deref().and_then(|p| p.parse().ok()) else {
                continue;
            };
            ports.push(PublishedPort {
                guest,
                host,
                address: binding.host_ip.clone().unwrap_or_default(),
                protocol: protocol.to_owned(),
            });
        }
    }
    ports.sort_by(|a, b| (a.guest, &a.address).cmp(&(b.guest, &b.address)));
    let ssh = ssh_endpoint(&ports, ip);
    Addresses { ip, ports, ssh }
}

/// The machine's IP on its first network (by name), if it has one.
fn first_ip(networks: Option<&HashMap<String, EndpointSettings>>) -> Option<IpAddr> {
    let networks = networks?;
    let mut names: Vec<_> = networks.keys().collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| networks[name].ip_address.as_deref())
        .find_map(|ip| ip.parse().ok())
}

/// Where a machine's sshd is reached: an IPv4 binding of port 22 (a
/// wildcard bind on loopback), else port 22 of the machine's IP.
pub fn ssh_endpoint(ports: &[PublishedPort], ip: Option<IpAddr>) -> Option<SocketAddr> {
    ports
        .iter()
        .filter(|p| p.guest == 22 && p.protocol == "tcp")
        .find_map(|p| {
            let address: IpAddr = match p.address.as_str() {
                "" | "0.0.0.0" | "::" => IpAddr::from([127, 0, 0, 1]),
                other => other.parse().ok()?,
            };
            address
                .is_ipv4()
                .then_some(SocketAddr::new(address, p.host))
        })
        .or_else(|| ip.map(|ip| SocketAddr::new(ip, 22)))
}

impl MachineStatus {
    /// Where this machine's sshd is reached, when it runs.
    pub fn ssh_endpoint(&self) -> Option<SocketAddr> {
        let ip = self.ip.as_deref().and_then(|ip| ip.parse().ok());
        ssh_endpoint(&self.ports, ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(guest: u16, host: u16, address: &str) -> PublishedPort {
        PublishedPort {
            guest,
            host,
            address: address.into(),
            protocol: "tcp".into(),
        }
    }

    #[test]
    fn ssh_is_reached_on_its_published_port_or_the_ip() {
        let ip = Some(IpAddr::from([172, 17, 0, 2]));
        assert_eq!(
            ssh_endpoint(
                &[port(80, 8080, "127.0.0.1"), port(22, 2222, "0.0.0.0")],
                ip
            ),
            Some("127.0.0.1:2222".parse().unwrap())
        );
        assert_eq!(
            ssh_endpoint(&[port(22, 2222, "::1"), port(22, 2223, "192.168.1.5")], ip),
            Some("192.168.1.5:2223".parse().unwrap()),
            "IPv4 bindings are preferred"
        );
        assert_eq!(
            ssh_endpoint(&[], ip),
            Some("172.17.0.2:22".parse().unwrap())
        );
        assert_eq!(ssh_endpoint(&[], None), None);
    }
}
