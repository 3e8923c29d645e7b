//! `cluster.reach` (and `FOOTLOOSE_REACH`): how footloose reaches the
//! machines' sshd from where it runs, when the rule it picks by itself does
//! not fit a setup.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// How the process that runs footloose reaches its machines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Reach {
    /// footloose decides: the published ports when it runs on the engine's
    /// host (or in a container sharing its network), the machines'
    /// addresses on the job container's network when it runs in a
    /// container of the same engine.
    #[default]
    Auto,
    /// The ports the engine published, at this address (default: the
    /// engine's address, loopback for a local engine): for instance the
    /// job network's gateway, where ports without an address are then
    /// published.
    Published(Option<IpAddr>),
    /// Port 22 of each machine's address on this network (default: the
    /// network of the container footloose runs in); machines not on it
    /// are attached to it.
    Network(Option<String>),
}

impl FromStr for Reach {
    type Err = String;

    /// `auto`, `published`, `published:ADDRESS`, `network` or
    /// `network:NAME`.
    fn from_str(text: &str) -> Result<Reach, String> {
        let (kind, value) = match text.split_once(':') {
            Some((kind, value)) => (kind, Some(value)),
            None => (text, None),
        };
        match (kind, value) {
            ("auto", None) => Ok(Reach::Auto),
            ("published", None) => Ok(Reach::Published(None)),
            ("published", Some(address)) => address
                .parse()
                .map(|a| Reach::Published(Some(a)))
                .map_err(|_| format!("`{address}` in `{text}` is not an IP address")),
            ("network", None) => Ok(Reach::Network(None)),
            ("network", Some(name)) if !name.is_empty() => {
                Ok(Reach::Network(Some(name.to_owned())))
            }
            ("network", Some(_)) => Err(format!("`{text}` names no network")),
            _ => Err(format!(
                "`{text}` is not a way to reach machines: use `auto`, `published`, `published:ADDRESS`, `network` or `network:NAME`"
            )),
        }
    }
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reach::Auto => write!(f, "auto"),
            Reach::Published(None) => write!(f, "published"),
            Reach::Published(Some(address)) => write!(f, "published:{address}"),
            Reach::Network(None) => write!(f, "network"),
            Reach::Network(Some(name)) => write!(f, "network:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reach;

    #[test]
    fn every_form_parses_and_prints_back() {
        for text in [
            "auto",
            "published",
            "published:172.17.0.1",
            "network",
            "network:github_network_1",
        ] {
            let reach: Reach = text.parse().unwrap();
            assert_eq!(reach.to_string(), text);
        }
        assert_eq!(
            "network:ci".parse::<Reach>().unwrap(),
            Reach::Network(Some("ci".into()))
        );
    }

    #[test]
    fn bad_forms_say_what_is_wrong() {
        assert!("published:gateway"
            .parse::<Reach>()
            .unwrap_err()
            .contains("not an IP address"));
        assert!("network:"
            .parse::<Reach>()
            .unwrap_err()
            .contains("names no network"));
        assert!("tunnel"
            .parse::<Reach>()
            .unwrap_err()
            .contains("use `auto`"));
    }
}
