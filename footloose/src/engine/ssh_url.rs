//! `DOCKER_HOST=ssh://[USER@]HOST[:PORT][/PATH/TO/ENGINE.sock]`: where an
//! engine over ssh is, as whom to log in, and which socket the engine
//! listens on there (Podman writes it in the path; Docker's default is
//! `/var/run/docker.sock`).

use std::fmt;

/// The engine socket when the URL names none.
pub(crate) const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// A parsed `ssh://` engine endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshUrl {
    /// The login user.
    pub user: String,
    /// The engine's host name or address.
    pub host: String,
    /// Its sshd's port.
    pub port: u16,
    /// The engine's unix socket on that host.
    pub socket: String,
}

impl SshUrl {
    /// Parses `endpoint`; the user defaults to the local login name.
    pub fn parse(endpoint: &str) -> Result<SshUrl, String> {
        let rest = endpoint
            .strip_prefix("ssh://")
            .ok_or_else(|| format!("{endpoint} is not an ssh:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((user, hostport)) => (user.to_owned(), hostport),
            None => (local_user(), authority),
        };
        let (host, port) = split_port(hostport)
            .ok_or_else(|| format!("the port in {endpoint} is not a number from 1 to 65535"))?;
        if host.is_empty() {
            return Err(format!("{endpoint} names no host"));
        }
        if user.is_empty() {
            return Err(format!("{endpoint} names an empty user"));
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

impl fmt::Display for SshUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.host, self.port)
    }
}

/// `host[:port]`, with `[v6]:port` allowed; the port defaults to 22.
fn split_port(hostport: &str) -> Option<(&str, u16)> {
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, port.parse().ok().filter(|p| *p != 0)?)),
            None if after.is_empty() => Some((host, 22)),
            None => None,
        };
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => Some((host, port.parse().ok().filter(|p| *p != 0)?)),
        None => Some((hostport, 22)),
    }
}

/// The local login name, as ssh would use it.
fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_owned())
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
                user: "ops".into(),
                host: "engine.example".into(),
                port: 2222,
                socket: "/run/podman/podman.sock".into(),
            }
        );
        assert_eq!(url.to_string(), "ops@engine.example:2222");
    }

    #[test]
    fn defaults_are_port_22_and_dockers_socket() {
        let url = SshUrl::parse("ssh://root@10.0.0.5").unwrap();
        assert_eq!((url.port, url.socket.as_str()), (22, DEFAULT_SOCKET));
        let url = SshUrl::parse("ssh://root@[fd00::5]/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("fd00::5", 22));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert!(SshUrl::parse("ssh://root@host:99999")
            .unwrap_err()
            .contains("port"));
        assert!(SshUrl::parse("ssh://root@")
            .unwrap_err()
            .contains("no host"));
        assert!(SshUrl::parse("tcp://host").is_err());
    }
}
