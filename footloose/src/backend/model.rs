//! What footloose knows of an engine and its objects, in its own types:
//! every backend reads its API's answers into these.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

/// A published port of a machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedPort {
    /// The port inside the machine.
    pub guest: u16,
    /// The port on the host.
    pub host: u16,
    /// The host address it is bound to.
    pub address: String,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// The life state of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerStatus {
    /// Made, never started.
    Created,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Being restarted by the engine.
    Restarting,
    /// Being removed.
    Removing,
    /// Stopped.
    Exited,
    /// Failed to stop or be removed.
    Dead,
}

/// A container as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    /// Its name, without a leading `/`.
    pub name: String,
    /// Its image reference.
    pub image: String,
    /// PID 1's command line.
    pub command: String,
    /// Its state; `None` when the engine said nothing footloose knows.
    pub status: Option<ContainerStatus>,
    /// PID 1's exit code, once it has exited (inspected containers only).
    pub exit_code: Option<i64>,
    /// The engine's word on why it stopped, if any (inspected only).
    pub error: Option<String>,
    /// Its labels.
    pub labels: HashMap<String, String>,
    /// The networks it is attached to, by name, with its address on each.
    pub networks: BTreeMap<String, Option<IpAddr>>,
    /// Its published ports.
    pub ports: Vec<PublishedPort>,
}

impl ContainerInfo {
    /// True when it runs.
    pub fn is_running(&self) -> bool {
        self.status == Some(ContainerStatus::Running)
    }

    /// Its address on its first network (by name).
    pub fn ip(&self) -> Option<IpAddr> {
        self.networks.values().flatten().next().copied()
    }

    /// Where its sshd is reached from here, its engine's host being at
    /// `engine_address`: see [`ssh_endpoint`].
    pub fn ssh_endpoint(&self, engine_address: IpAddr) -> Option<SocketAddr> {
        ssh_endpoint(&self.ports, self.ip(), engine_address)
    }
}

/// Where a machine's sshd is reached: an IPv4 binding of port 22 (a
/// wildcard or loopback bind meaning the engine's host, at
/// `engine_address`), else port 22 of the machine's IP.
pub fn ssh_endpoint(
    ports: &[PublishedPort],
    ip: Option<IpAddr>,
    engine_address: IpAddr,
) -> Option<SocketAddr> {
    ports
        .iter()
        .filter(|p| p.guest == 22 && p.protocol == "tcp")
        .find_map(|p| {
            let address: IpAddr = match p.address.as_str() {
                "" | "0.0.0.0" | "::" => engine_address,
                other => other.parse().ok()?,
            };
            address
                .is_ipv4()
                .then_some(SocketAddr::new(address, p.host))
        })
        .or_else(|| ip.map(|ip| SocketAddr::new(ip, 22)))
}

/// A network as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was made, as the engine wrote it (RFC 3339).
    pub created: String,
    /// Its labels.
    pub labels: HashMap<String, String>,
}

/// What footloose made that is still on the engine, of one cluster or all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Container names.
    pub containers: Vec<String>,
    /// Network names.
    pub networks: Vec<String>,
    /// Volume names.
    pub volumes: Vec<String>,
}

impl Leftovers {
    /// True when nothing is left.
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }

    /// (containers, networks, volumes) counts.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.containers.len(),
            self.networks.len(),
            self.volumes.len(),
        )
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
        let local = IpAddr::from([127, 0, 0, 1]);
        assert_eq!(
            ssh_endpoint(
                &[port(80, 8080, "127.0.0.1"), port(22, 2222, "0.0.0.0")],
                ip,
                local
            ),
            Some("127.0.0.1:2222".parse().unwrap())
        );
        assert_eq!(
            ssh_endpoint(
                &[port(22, 2222, "::1"), port(22, 2223, "192.168.1.5")],
                ip,
                local
            ),
            Some("192.168.1.5:2223".parse().unwrap())
        );
        assert_eq!(
            ssh_endpoint(&[], ip, local),
            Some("172.17.0.2:22".parse().unwrap())
        );
        assert_eq!(ssh_endpoint(&[], None, local), None);
    }

    #[test]
    fn a_wildcard_bind_of_a_remote_engine_is_reached_at_the_engine() {
        let remote = IpAddr::from([10, 250, 0, 2]);
        assert_eq!(
            ssh_endpoint(&[port(22, 2222, "0.0.0.0")], None, remote),
            Some("10.250.0.2:2222".parse().unwrap())
        );
    }
}
