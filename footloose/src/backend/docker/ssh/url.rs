//! `DOCKER_HOST=ssh://[USER@]HOST[:PORT][/PATH/TO/ENGINE.sock]`: where an
//! engine over ssh is, as whom to log in, and which socket the engine
//! listens on there (Podman writes it in the path; Docker's default is
//! `/var/run/docker.sock`). `HOST` may be an alias of `~/.ssh/config`; a user
//! or port the URL names wins over the config's, as on OpenSSH's command
//! line: they are handed to `ssh` as `-l` and `-p`.

use std::fmt;

/// The engine socket when the URL names none.
pub(crate) const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// Why an endpoint is not an `ssh://` URL footloose can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SshUrlError {
    #[error("{endpoint} is not an ssh:// URL")]
    NotSsh { endpoint: String },
    #[error("the port in {endpoint} is not a number from 1 to 65535")]
    Port { endpoint: String },
    #[error("{endpoint} names no host")]
    NoHost { endpoint: String },
    #[error("{endpoint} names an empty user")]
    EmptyUser { endpoint: String },
    #[error("the host in {endpoint} starts with `-`, which ssh would read as an option")]
    Dash { endpoint: String },
}

/// A parsed `ssh://` engine endpoint, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshUrl {
    /// The login user, when the URL names one.
    pub user: Option<String>,
    /// The engine's host name or address, or an alias of `~/.ssh/config`.
    pub host: String,
    /// Its sshd's port, when the URL names one.
    pub port: Option<u16>,
    /// The engine's unix socket on that host.
    pub socket: String,
}

impl SshUrl {
    /// Parses `endpoint`; what it leaves out comes from `~/.ssh/config`
    /// or OpenSSH's defaults later.
    pub fn parse(endpoint: &str) -> Result<SshUrl, SshUrlError> {
        let named = || endpoint.to_owned();
        let rest = endpoint
            .strip_prefix("ssh://")
            .ok_or_else(|| SshUrlError::NotSsh { endpoint: named() })?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((user, hostport)) => (Some(user.to_owned()), hostport),
            None => (None, authority),
        };
        let (host, port) =
            split_port(hostport).ok_or_else(|| SshUrlError::Port { endpoint: named() })?;
        if host.is_empty() {
            return Err(SshUrlError::NoHost { endpoint: named() });
        }
        if host.starts_with('-') {
            return Err(SshUrlError::Dash { endpoint: named() });
        }
        if user.as_deref() == Some("") {
            return Err(SshUrlError::EmptyUser { endpoint: named() });
        }
        Ok(SshUrl {
            user,
            host: host.to_owned(),
            port,
            socket: if path.len() > 1 {
                path.to_owned()
            } else {
                DEFAULT_SOCKET.to_owned()
            },
        })
    }
}

impl SshUrl {
    /// `ssh`'s arguments for this destination: `-l USER`, `-p PORT` where
    /// the URL names them, then the host.
    pub fn ssh_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(user) = &self.user {
            args.extend(["-l".to_owned(), user.clone()]);
        }
        if let Some(port) = self.port {
            args.extend(["-p".to_owned(), port.to_string()]);
        }
        args.push(self.host.clone());
        args
    }
}

impl fmt::Display for SshUrl {
    /// `[USER@]HOST[:PORT]`, as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        match self.port {
            Some(port) => write!(f, "{}:{port}", bracketed(&self.host)),
            None => write!(f, "{}", self.host),
        }
    }
}

/// `host`, in brackets when it is an IPv6 address (so that a port can follow).
pub(crate) fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// `host[:port]`, with `[v6]:port` allowed; `None` for the port when there
/// is none, `None` altogether when the port is not a number from 1 to 65535.
pub(crate) fn split_port(hostport: &str) -> Option<(&str, Option<u16>)> {
    let port = |text: &str| text.parse().ok().filter(|p| *p != 0);
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(text) => Some((host, Some(port(text)?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match hostport.rsplit_once(':') {
        Some((host, text)) => Some((host, Some(port(text)?))),
        None => Some((hostport, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_host_port_and_socket_are_read_from_the_url() {
        let url = SshUrl::parse("ssh://ops@engine.example:2222/run/podman/podman.sock").unwrap();
        assert_eq!(
            url,
            SshUrl {
                user: Some("ops".into()),
                host: "engine.example".into(),
                port: Some(2222),
                socket: "/run/podman/podman.sock".into(),
            }
        );
        assert_eq!(url.to_string(), "ops@engine.example:2222");
        assert_eq!(
            url.ssh_args(),
            ["-l", "ops", "-p", "2222", "engine.example"]
        );
    }

    #[test]
    fn what_the_url_leaves_out_is_left_to_the_ssh_config_and_dockers_socket() {
        let url = SshUrl::parse("ssh://root@10.0.0.5").unwrap();
        assert_eq!((url.port, url.socket.as_str()), (None, DEFAULT_SOCKET));
        let url = SshUrl::parse("ssh://[fd00::5]:2200/").unwrap();
        assert_eq!(
            (url.user, url.host.as_str(), url.port),
            (None, "fd00::5", Some(2200))
        );
        assert_eq!(
            SshUrl::parse("ssh://fl-engine").unwrap().to_string(),
            "fl-engine"
        );
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        let message = |url: &str| SshUrl::parse(url).unwrap_err().to_string();
        assert!(message("ssh://root@host:99999").contains("port"));
        assert!(message("ssh://root@").contains("no host"));
        assert!(message("ssh://@host").contains("empty user"));
        assert!(message("ssh://-oProxyCommand=x").contains("option"));
        assert_eq!(
            SshUrl::parse("tcp://host"),
            Err(SshUrlError::NotSsh {
                endpoint: "tcp://host".into()
            })
        );
    }
}
