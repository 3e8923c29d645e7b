//! `cluster.reach` (and `FOOTLOOSE_REACH`): how footloose reaches the
//! machines' sshd from where it runs, when the rule it picks by itself does
//! not fit a setup.

use std::fmt;
use std::net::{AddrParseError, IpAddr};
use std::str::FromStr;

/// How the process that runs footloose reaches its machines.
///
/// It is written as `cluster.reach` in `footloose.yaml` or as
/// `FOOTLOOSE_REACH`, and parsed with [`str::parse`]:
///
/// ```
/// use footloose_config::Reach;
///
/// let reach: Reach = "network:ci".parse().unwrap();
/// assert_eq!(reach, Reach::Network(Some("ci".to_owned())));
/// assert_eq!(reach.to_string(), "network:ci");
/// assert_eq!("auto".parse::<Reach>().unwrap(), Reach::Auto);
///
/// let err = "published:gateway".parse::<Reach>().unwrap_err();
/// assert_eq!(err.to_string(), "`gateway` in `published:gateway` is not an IP address");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
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

/// Why a text is not a [`Reach`].
///
/// ```
/// use footloose_config::{Reach, ReachError};
///
/// let err = "network:".parse::<Reach>().unwrap_err();
/// assert!(matches!(err, ReachError::NoNetwork { .. }));
/// assert_eq!(err.to_string(), "`network:` names no network");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReachError {
    /// `published:ADDRESS` whose address is not an IP address.
    #[error("`{address}` in `{text}` is not an IP address")]
    Address {
        /// The whole text.
        text: String,
        /// The part after `published:`.
        address: String,
        /// Why it does not parse.
        #[source]
        source: AddrParseError,
    },
    /// `network:` with nothing after the colon.
    #[error("`{text}` names no network")]
    NoNetwork {
        /// The whole text.
        text: String,
    },
    /// None of the forms footloose knows.
    #[error("`{text}` is not a way to reach machines: use `auto`, `published`, `published:ADDRESS`, `network` or `network:NAME`")]
    Unknown {
        /// The whole text.
        text: String,
    },
}

impl FromStr for Reach {
    type Err = ReachError;

    /// `auto`, `published`, `published:ADDRESS`, `network` or
    /// `network:NAME`.
    fn from_str(text: &str) -> Result<Reach, ReachError> {
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
                .map_err(|source| ReachError::Address {
                    text: text.to_owned(),
                    address: address.to_owned(),
                    source,
                }),
            ("network", None) => Ok(Reach::Network(None)),
            ("network", Some(name)) if !name.is_empty() => {
                Ok(Reach::Network(Some(name.to_owned())))
            }
            ("network", Some(_)) => Err(ReachError::NoNetwork {
                text: text.to_owned(),
            }),
            _ => Err(ReachError::Unknown {
                text: text.to_owned(),
            }),
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
    use super::{Reach, ReachError};

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
        let message = |text: &str| text.parse::<Reach>().unwrap_err().to_string();
        assert!(message("published:gateway").contains("not an IP address"));
        assert!(message("network:").contains("names no network"));
        assert!(message("tunnel").contains("use `auto`"));
        assert!(matches!(
            "published:gateway".parse::<Reach>(),
            Err(ReachError::Address { address, .. }) if address == "gateway"
        ));
    }
}
