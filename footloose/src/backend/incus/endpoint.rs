//! Which Incus daemon, and which project, as the `incus` client would
//! choose them: `INCUS_REMOTE` (else the client's `default-remote`) names
//! a remote of the client's `config.yml`; the local one is reached on its
//! unix socket (`INCUS_SOCKET`, else `INCUS_DIR/unix.socket`, else the
//! packages' paths); `INCUS_PROJECT` (else the remote's `project`) is the
//! project.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::tls::Credentials;
use crate::settings::EngineSettings;

/// The sockets Incus's packages listen on, in the order the client tries
/// them.
const SOCKETS: [&str; 2] = ["/var/lib/incus/unix.socket", "/run/incus/unix.socket"];

/// Where the chosen daemon is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// How it is reached.
    pub(crate) address: Address,
    /// The project, `None` for the daemon's default.
    pub(crate) project: Option<String>,
}

/// How a daemon is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Address {
    /// Its unix socket.
    Unix(PathBuf),
    /// Its https address (`host:port`), with the client's certificates.
    Https {
        /// `host:port`.
        authority: String,
        /// The certificates.
        credentials: Credentials,
    },
}

impl Endpoint {
    /// The endpoint as written in messages: `unix:///var/lib/incus/unix.socket`,
    /// `https://10.0.0.5:8443`.
    pub(crate) fn url(&self) -> String {
        match &self.address {
            Address::Unix(socket) => format!("unix://{}", socket.display()),
            Address::Https { authority, .. } => format!("https://{authority}"),
        }
    }
}

/// Why no endpoint could be chosen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EndpointError {
    /// The client's configuration could not be read.
    #[error("cannot read the incus client's configuration {path}: {reason}")]
    Config {
        /// Its path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The chosen remote is not in the client's configuration.
    #[error("remote {remote:?} ({why}) is not in {path}")]
    UnknownRemote {
        /// The remote.
        remote: String,
        /// Where its name came from.
        why: &'static str,
        /// The configuration file.
        path: PathBuf,
    },
    /// The chosen remote's address is neither a unix socket nor https.
    #[error(
        "remote {remote:?} is at {addr}: footloose reaches Incus at unix:// or https:// addresses"
    )]
    UnknownAddress {
        /// The remote.
        remote: String,
        /// Its address.
        addr: String,
    },
}

/// The client's `config.yml`, as far as footloose reads it.
#[derive(Debug, Default, Deserialize)]
struct ClientConfig {
    #[serde(rename = "default-remote", default)]
    default_remote: Option<String>,
    #[serde(default)]
    remotes: HashMap<String, Remote>,
}

#[derive(Debug, Default, Deserialize)]
struct Remote {
    #[serde(default)]
    addr: String,
    #[serde(default)]
    project: Option<String>,
}

/// The endpoint `settings` choose.
pub(crate) fn chosen(settings: &EngineSettings) -> Result<Endpoint, EndpointError> {
    let config_dir = settings.incus_conf.clone().or_else(|| {
        settings
            .home
            .as_ref()
            .map(|home| home.join(".config/incus"))
    });
    let config_path = config_dir.as_ref().map(|dir| dir.join("config.yml"));
    let config = match &config_path {
        Some(path) if path.exists() => read_config(path)?,
        _ => ClientConfig::default(),
    };
    let (remote, why) = match (&settings.incus_remote, &config.default_remote) {
        (Some(remote), _) => (remote.clone(), "INCUS_REMOTE"),
        (None, Some(remote)) => (remote.clone(), "the client's default-remote"),
        (None, None) => ("local".to_owned(), "the default"),
    };
    let local = || Address::Unix(local_socket(settings, |path| path.exists()));
    let Some(found) = config.remotes.get(&remote) else {
        if remote == "local" {
            return Ok(Endpoint {
                address: local(),
                project: settings.incus_project.clone(),
            });
        }
        let path = config_path.unwrap_or_default();
        return Err(EndpointError::UnknownRemote { remote, why, path });
    };
    let project = settings.incus_project.clone().or(found.project.clone());
    let address = if let Some(authority) = found.addr.strip_prefix("https://") {
        let dir = config_dir.unwrap_or_default();
        let server_cert = dir.join("servercerts").join(format!("{remote}.crt"));
        Address::Https {
            authority: with_port(authority.trim_end_matches('/')),
            credentials: Credentials {
                client_cert: dir.join("client.crt"),
                client_key: dir.join("client.key"),
                server_cert: server_cert.exists().then_some(server_cert),
            },
        }
    } else if let Some(socket) = found.addr.strip_prefix("unix://") {
        match socket {
            "" => local(),
            socket => Address::Unix(PathBuf::from(socket)),
        }
    } else {
        return Err(EndpointError::UnknownAddress {
            remote,
            addr: found.addr.clone(),
        });
    };
    Ok(Endpoint { address, project })
}

/// `host:port`, Incus's port 8443 when `authority` names none.
fn with_port(authority: &str) -> String {
    let has_port = authority.rsplit_once(':').is_some_and(|(host, port)| {
        !host.ends_with(':') && port.chars().all(|c| c.is_ascii_digit())
    });
    if has_port && !authority.ends_with(']') {
        authority.to_owned()
    } else {
        format!("{authority}:8443")
    }
}

/// The local daemon's socket: `INCUS_SOCKET`, `INCUS_DIR/unix.socket`,
/// else the first of the packages' paths that `exists`.
fn local_socket(settings: &EngineSettings, exists: impl Fn(&Path) -> bool) -> PathBuf {
    if let Some(socket) = &settings.incus_socket {
        return socket.clone();
    }
    if let Some(dir) = &settings.incus_dir {
        return dir.join("unix.socket");
    }
    SOCKETS
        .iter()
        .map(PathBuf::from)
        .find(|path| exists(path))
        .unwrap_or_else(|| PathBuf::from(SOCKETS[0]))
}

fn read_config(path: &Path) -> Result<ClientConfig, EndpointError> {
    let text = std::fs::read_to_string(path).map_err(|e| EndpointError::Config {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    serde_yaml::from_str(&text).map_err(|e| EndpointError::Config {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)], home: &Path) -> EngineSettings {
        let mut vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        vars.push(("HOME".to_owned(), home.display().to_string()));
        EngineSettings::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone().into())
        })
    }

    #[test]
    fn the_socket_and_project_come_from_the_variables_first() {
        let home = tempfile::tempdir().unwrap();
        let chosen = chosen(&settings(
            &[("INCUS_SOCKET", "/tmp/x.sock"), ("INCUS_PROJECT", "ci")],
            home.path(),
        ))
        .unwrap();
        assert_eq!(chosen.address, Address::Unix(PathBuf::from("/tmp/x.sock")));
        assert_eq!(chosen.project.as_deref(), Some("ci"));
        let by_dir = chosen_socket(&[("INCUS_DIR", "/srv/incus")], home.path());
        assert_eq!(by_dir, PathBuf::from("/srv/incus/unix.socket"));
    }

    fn chosen_socket(vars: &[(&str, &str)], home: &Path) -> PathBuf {
        local_socket(&settings(vars, home), |_| false)
    }

    #[test]
    fn a_remote_of_the_client_config_gives_its_project_or_says_why_not() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".config/incus");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.yml"),
            "default-remote: team\nremotes:\n  team:\n    addr: unix:///run/team.sock\n    project: suites\n  fleet:\n    addr: https://10.0.0.5:8443\n",
        )
        .unwrap();
        let team = chosen(&settings(&[], home.path())).unwrap();
        assert_eq!(team.address, Address::Unix(PathBuf::from("/run/team.sock")));
        assert_eq!(team.project.as_deref(), Some("suites"));
        let fleet = chosen(&settings(&[("INCUS_REMOTE", "fleet")], home.path())).unwrap();
        assert_eq!(fleet.url(), "https://10.0.0.5:8443");
        let Address::Https { credentials, .. } = &fleet.address else {
            panic!("{fleet:?}")
        };
        assert_eq!(credentials.client_cert, dir.join("client.crt"));
        assert_eq!(credentials.server_cert, None, "none stored");
        let err = chosen(&settings(&[("INCUS_REMOTE", "nope")], home.path())).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("remote \"nope\" (INCUS_REMOTE) is not in"),
            "{err}"
        );
    }
}
