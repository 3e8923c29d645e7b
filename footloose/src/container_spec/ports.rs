//! The ports a machine publishes on the engine's host.

use std::net::IpAddr;

use footloose_config::MachineInstance;

/// A port to publish on the engine's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortPublish {
    /// The port inside the machine.
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// The host address to bind.
    pub host_ip: String,
    /// The host port, `None` for any free one.
    pub host_port: Option<u16>,
}

/// The ports `machine` publishes: each of its port mappings, on
/// `publish_address` when the mapping names no address.
pub(super) fn ports(machine: &MachineInstance, publish_address: IpAddr) -> Vec<PortPublish> {
    let spec = &machine.spec;
    spec.port_mappings
        .iter()
        .map(|mapping| PortPublish {
            container_port: mapping.container_port,
            protocol: mapping.protocol.as_str().to_owned(),
            host_ip: mapping
                .address
                .clone()
                .unwrap_or_else(|| publish_address.to_string()),
            host_port: machine.host_port(mapping),
        })
        .collect()
}
