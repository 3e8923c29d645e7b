//! Host ports footloose picks itself, so that they stay the machine's.
//!
//! A port published without a host port gets one from the engine at every
//! start: a machine that reboots (the engine starts its container again)
//! would come back on another port, and whatever reaches it there
//! (Ansible's `reboot` module, a URL a test printed) would lose it. On an
//! engine of this host, seen from the host's network, footloose asks the
//! kernel for a free port, holds it until just before the machine starts,
//! and publishes on it explicitly. On other engines (remote, or seen from
//! a job container) the engine picks, and a reboot may move the port.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

use crate::container_spec::PortPublish;
use crate::engine::{Engine, Vantage};
use crate::error::{Error, Result};

/// Ports held for a machine until it starts and publishes them.
#[derive(Debug, Default)]
pub(super) struct Held {
    tcp: Vec<TcpListener>,
    udp: Vec<UdpSocket>,
}

impl Held {
    /// Lets the ports go, for the engine to bind.
    pub(super) fn release(self) {}
}

/// Whether this process can pick free ports on the engine's host: the
/// engine is local and this process is on the host's network.
pub(super) fn can_pick(engine: &Engine) -> bool {
    !engine.is_remote()
        && matches!(engine.vantage(), Vantage::Outside)
        && engine.route().network().is_none()
}

/// Gives every port without a host port a free one, held until
/// [`Held::release`].
pub(super) fn pick(ports: &mut [PortPublish]) -> Result<Held> {
    let mut held = Held::default();
    for port in ports.iter_mut().filter(|p| p.host_port.is_none()) {
        let ip: IpAddr = match port.host_ip.as_str() {
            "" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ip => ip.parse().map_err(|_| Error::PublishAddress {
                setting: "host address".to_owned(),
                value: ip.to_owned(),
            })?,
        };
        let any = SocketAddr::new(ip, 0);
        let cannot = |source: std::io::Error| Error::FreePort { ip, source };
        let number = if port.protocol == "udp" {
            let socket = UdpSocket::bind(any).map_err(cannot)?;
            let number = socket.local_addr().map_err(cannot)?.port();
            held.udp.push(socket);
            number
        } else {
            let listener = TcpListener::bind(any).map_err(cannot)?;
            let number = listener.local_addr().map_err(cannot)?.port();
            held.tcp.push(listener);
            number
        };
        port.host_port = Some(number);
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::pick;
    use crate::container_spec::PortPublish;

    fn port(protocol: &str, host_port: Option<u16>) -> PortPublish {
        PortPublish {
            container_port: 22,
            protocol: protocol.into(),
            host_ip: "127.0.0.1".into(),
            host_port,
        }
    }

    #[test]
    fn free_ports_are_picked_and_held_until_released() {
        let mut ports = vec![
            port("tcp", None),
            port("udp", None),
            port("tcp", Some(2222)),
        ];
        let held = pick(&mut ports).unwrap();
        let tcp = ports[0].host_port.expect("a tcp port was picked");
        let udp = ports[1].host_port.expect("a udp port was picked");
        assert_eq!(ports[2].host_port, Some(2222), "a fixed port is kept");
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", tcp)).is_err(),
            "the picked tcp port is not held"
        );
        assert!(std::net::UdpSocket::bind(("127.0.0.1", udp)).is_err());
        held.release();
        std::net::TcpListener::bind(("127.0.0.1", tcp)).expect("released for the engine");
    }
}
