//! Which Docker-API engine footloose reaches, as the `docker` CLI finds
//! it: `DOCKER_HOST` (with TLS when `DOCKER_TLS_VERIFY` is set), else the
//! current Docker context, else the local socket; and the address of the
//! engine's host, where its published ports are.

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use super::context;
use super::unreachable::AddressError;
use crate::settings::EngineSettings;

/// The engine's socket when nothing else names one.
pub(crate) const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";

/// Where the engine is, and whether to speak TLS to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// Written as `DOCKER_HOST` is.
    pub url: String,
    /// With TLS, as the `docker` CLI makes it from `DOCKER_TLS_VERIFY`:
    /// the directory of the client's `key.pem`, `cert.pem` and `ca.pem`
    /// (`DOCKER_CERT_PATH`, else `~/.docker`).
    pub tls: Option<PathBuf>,
}

impl Endpoint {
    /// The endpoint `settings` choose.
    pub(crate) fn chosen(settings: &EngineSettings) -> Result<Endpoint, context::ContextError> {
        if let Some(url) = &settings.docker_host {
            let tls = settings.tls_verify.then(|| {
                settings.cert_path.clone().unwrap_or_else(|| {
                    settings
                        .home
                        .as_deref()
                        .unwrap_or(Path::new("/"))
                        .join(".docker")
                })
            });
            return Ok(Endpoint {
                url: url.clone(),
                tls,
            });
        }
        let url = match context::current_endpoint(settings)? {
            Some((_, url)) => url,
            None => DEFAULT_ENDPOINT.to_owned(),
        };
        Ok(Endpoint { url, tls: None })
    }
}

/// The address of the host behind a `DOCKER_HOST` value: loopback for a
/// local socket.
pub(crate) fn host_address(endpoint: &str) -> Result<IpAddr, AddressError> {
    let remote = ["tcp://", "http://", "https://"]
        .iter()
        .find_map(|scheme| endpoint.strip_prefix(scheme));
    let Some(rest) = remote else {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:2375")
    };
    let addresses: Vec<IpAddr> = with_port
        .to_socket_addrs()
        .map_err(|source| AddressError::Resolve {
            authority: authority.to_owned(),
            source,
        })?
        .map(|a| a.ip())
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| AddressError::NoAddress {
            authority: authority.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_host_is_read_from_docker_host() {
        assert_eq!(
            host_address("unix:///var/run/docker.sock").unwrap(),
            IpAddr::from([127, 0, 0, 1])
        );
        assert_eq!(
            host_address("tcp://10.250.0.2:2375").unwrap(),
            IpAddr::from([10, 250, 0, 2])
        );
        assert_eq!(
            host_address("tcp://10.250.0.2").unwrap(),
            IpAddr::from([10, 250, 0, 2])
        );
    }

    #[test]
    fn docker_host_wins_then_the_default_socket() {
        let settings = EngineSettings {
            docker_host: Some("tcp://10.0.0.5:2376".into()),
            tls_verify: true,
            home: Some("/home/ops".into()),
            ..EngineSettings::default()
        };
        assert_eq!(
            Endpoint::chosen(&settings).unwrap(),
            Endpoint {
                url: "tcp://10.0.0.5:2376".into(),
                tls: Some("/home/ops/.docker".into())
            }
        );
        let settings = EngineSettings {
            cert_path: Some("/certs".into()),
            ..settings
        };
        assert_eq!(
            Endpoint::chosen(&settings).unwrap().tls,
            Some(PathBuf::from("/certs"))
        );
        let empty = tempfile::tempdir().unwrap();
        let settings = EngineSettings {
            docker_config: Some(empty.path().to_owned()),
            ..EngineSettings::default()
        };
        assert_eq!(Endpoint::chosen(&settings).unwrap().url, DEFAULT_ENDPOINT);
    }
}
