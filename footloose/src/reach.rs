//! How this process reaches the machines' sshd: the [`Route`] an
//! [`Engine`](crate::engine::Engine) picks for where footloose runs, by itself or
//! as `FOOTLOOSE_REACH` / the config's `cluster.reach` ([`Reach`]) say.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

pub use footloose_config::Reach;

use crate::backend::{ContainerInfo, PublishedPort};

/// The way from this process to the machines' sshd.
///
/// ```
/// use footloose::engine::Route;
///
/// let route = Route::Network { network: "ci".to_owned() };
/// assert_eq!(route.network(), Some("ci"));
/// assert_eq!(route.to_string(), "port 22 of each machine's address on network ci");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// The ports the engine published for port 22, a wildcard binding
    /// being reached at `host` (the engine's host as this process sees
    /// it); a machine without one, at port 22 of its first address.
    Published {
        /// Where a wildcard binding is reached.
        host: IpAddr,
    },
    /// Port 22 of each machine's address on `network`, which every machine
    /// is attached to: the network of the container footloose runs in.
    Network {
        /// The network's name.
        network: String,
    },
    /// There is no way from here; `reason` says why and what to do.
    Unroutable {
        /// Why, and the way out.
        reason: String,
    },
}

impl Route {
    /// The network machines are attached to for this route, if any.
    ///
    /// ```
    /// use footloose::engine::Route;
    ///
    /// let published = Route::Published { host: [127, 0, 0, 1].into() };
    /// assert_eq!(published.network(), None);
    /// ```
    pub fn network(&self) -> Option<&str> {
        match self {
            Route::Network { network } => Some(network),
            _ => None,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Published { host } => write!(f, "the published ports at {host}"),
            Route::Network { network } => {
                write!(f, "port 22 of each machine's address on network {network}")
            }
            Route::Unroutable { reason } => write!(f, "no route ({reason})"),
        }
    }
}

impl ContainerInfo {
    /// Its address as `route` reaches it: see [`address_on`].
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// let info = engine.container("demo-node0").await?.expect("the machine is there");
    /// println!("{:?}", info.address_on(engine.route()));
    /// # Ok(()) }
    /// ```
    pub fn address_on(&self, route: &Route) -> Option<IpAddr> {
        address_on(&self.networks, route)
    }

    /// Where its sshd is reached by `route`: see [`ssh_endpoint`].
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// let info = engine.container("demo-node0").await?.expect("the machine is there");
    /// let ssh = info.ssh_endpoint(engine.route()).expect("it runs");
    /// # Ok(()) }
    /// ```
    pub fn ssh_endpoint(&self, route: &Route) -> Option<SocketAddr> {
        ssh_endpoint(&self.ports, &self.networks, route)
    }
}

/// A machine's address as `route` reaches it: on the route's network, else
/// on its first network (by name).
pub fn address_on(addresses: &BTreeMap<String, Option<IpAddr>>, route: &Route) -> Option<IpAddr> {
    match route {
        Route::Network { network } => addresses.get(network).copied().flatten(),
        _ => addresses.values().flatten().next().copied(),
    }
}

/// Where a machine's sshd is reached by `route`. Over the published ports:
/// an IPv4 binding of port 22 (a wildcard bind meaning the engine's host,
/// at `host`), else port 22 of the machine's first address. Over a
/// network: port 22 of its address there.
pub fn ssh_endpoint(
    ports: &[PublishedPort],
    addresses: &BTreeMap<String, Option<IpAddr>>,
    route: &Route,
) -> Option<SocketAddr> {
    match route {
        Route::Published { host } => ports
            .iter()
            .filter(|p| p.guest == 22 && p.protocol == "tcp")
            .find_map(|p| {
                let address: IpAddr = match p.address.as_str() {
                    "" | "0.0.0.0" | "::" => *host,
                    other => other.parse().ok()?,
                };
                address
                    .is_ipv4()
                    .then_some(SocketAddr::new(address, p.host))
            })
            .or_else(|| address_on(addresses, route).map(|ip| SocketAddr::new(ip, 22))),
        Route::Network { .. } => address_on(addresses, route).map(|ip| SocketAddr::new(ip, 22)),
        Route::Unroutable { .. } => None,
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

    fn on(pairs: &[(&str, [u8; 4])]) -> BTreeMap<String, Option<IpAddr>> {
        pairs
            .iter()
            .map(|(n, ip)| (n.to_string(), Some(IpAddr::from(*ip))))
            .collect()
    }

    fn published(host: [u8; 4]) -> Route {
        Route::Published {
            host: IpAddr::from(host),
        }
    }

    #[test]
    fn ssh_is_reached_on_its_published_port_or_the_ip() {
        let bridge = on(&[("bridge", [172, 17, 0, 2])]);
        let local = published([127, 0, 0, 1]);
        assert_eq!(
            ssh_endpoint(
                &[port(80, 8080, "127.0.0.1"), port(22, 2222, "0.0.0.0")],
                &bridge,
                &local
            ),
            Some("127.0.0.1:2222".parse().unwrap())
        );
        assert_eq!(
            ssh_endpoint(
                &[port(22, 2222, "::1"), port(22, 2223, "192.168.1.5")],
                &bridge,
                &local
            ),
            Some("192.168.1.5:2223".parse().unwrap())
        );
        assert_eq!(
            ssh_endpoint(&[], &bridge, &local),
            Some("172.17.0.2:22".parse().unwrap())
        );
        assert_eq!(ssh_endpoint(&[], &BTreeMap::new(), &local), None);
    }

    #[test]
    fn a_wildcard_bind_of_a_remote_engine_is_reached_at_the_engine() {
        assert_eq!(
            ssh_endpoint(
                &[port(22, 2222, "0.0.0.0")],
                &BTreeMap::new(),
                &published([10, 250, 0, 2])
            ),
            Some("10.250.0.2:2222".parse().unwrap())
        );
    }

    #[test]
    fn over_a_network_the_published_ports_are_passed_by() {
        let addresses = on(&[("a-net", [10, 1, 0, 2]), ("job", [10, 9, 0, 3])]);
        let route = Route::Network {
            network: "job".into(),
        };
        assert_eq!(
            ssh_endpoint(&[port(22, 2222, "127.0.0.1")], &addresses, &route),
            Some("10.9.0.3:22".parse().unwrap())
        );
        assert_eq!(address_on(&addresses, &route), Some([10, 9, 0, 3].into()));
        let elsewhere = Route::Network {
            network: "other".into(),
        };
        assert_eq!(ssh_endpoint(&[], &addresses, &elsewhere), None);
        let none = Route::Unroutable {
            reason: "no network".into(),
        };
        assert_eq!(
            ssh_endpoint(&[port(22, 2222, "0.0.0.0")], &addresses, &none),
            None
        );
    }
}
