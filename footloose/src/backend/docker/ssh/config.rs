//! What `ssh -G` says of a destination: the configuration as ssh itself
//! evaluates it (`Match`, `Include`, `Host` order, tokens), read for the
//! few values footloose reports or hands on (the login for `ProxyJump`,
//! the known-hosts files a refusal names). footloose never evaluates
//! `~/.ssh/config` itself.

use tokio::process::Command;

use super::error::SshError;
use super::url::{bracketed, SshUrl};

/// The resolved configuration of one destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SshConfig {
    /// The login name.
    pub user: String,
    /// The host connected to (`HostName`).
    pub hostname: String,
    /// Its port.
    pub port: u16,
    /// `UserKnownHostsFile`, as ssh lists them.
    pub known_hosts: Vec<String>,
    /// `GlobalKnownHostsFile`.
    pub global_known_hosts: Vec<String>,
    /// `StrictHostKeyChecking` as configured (`true`, `false`, `ask`,
    /// `accept-new`): footloose passes `yes` whatever it says.
    pub strict: String,
    /// `HostKeyAlias`, when set: the name looked up in known-hosts files.
    pub host_key_alias: Option<String>,
}

impl SshConfig {
    /// Runs `ssh -G` for `url`'s destination.
    pub(crate) async fn read(url: &SshUrl) -> Result<SshConfig, SshError> {
        let out = Command::new("ssh")
            .arg("-G")
            .args(url.ssh_args())
            .output()
            .await
            .map_err(SshError::NoSsh)?;
        if !out.status.success() {
            return Err(SshError::Config {
                destination: url.to_string(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(SshConfig::parse(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Reads `ssh -G`'s output: one `keyword value…` a line, keywords in
    /// lower case.
    pub(crate) fn parse(text: &str) -> SshConfig {
        let mut config = SshConfig {
            port: 22,
            ..SshConfig::default()
        };
        for line in text.lines() {
            let Some((key, value)) = line.split_once(' ') else {
                continue;
            };
            let value = value.trim();
            match key {
                "user" => config.user = value.to_owned(),
                "hostname" => config.hostname = value.to_owned(),
                "port" => config.port = value.parse().unwrap_or(22),
                "userknownhostsfile" => {
                    config
                        .known_hosts
                        .extend(value.split_whitespace().map(str::to_owned));
                }
                "globalknownhostsfile" => {
                    config
                        .global_known_hosts
                        .extend(value.split_whitespace().map(str::to_owned));
                }
                "stricthostkeychecking" => config.strict = value.to_owned(),
                "hostkeyalias" => config.host_key_alias = Some(value.to_owned()),
                _ => {}
            }
        }
        config
    }

    /// `user@host:port` to hand to OpenSSH's `ProxyJump`: the URL's host as
    /// written, so that an alias is read from the same configuration again.
    pub(crate) fn jump(&self, url: &SshUrl) -> String {
        format!("{}@{}:{}", self.user, bracketed(&url.host), self.port)
    }

    /// `user@hostname:port`, for messages.
    pub(crate) fn destination(&self) -> String {
        format!("{}@{}:{}", self.user, bracketed(&self.hostname), self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_values_footloose_reports_are_read_from_ssh_g() {
        let text = "user root\nhostname 10.250.3.2\nport 2222\nstricthostkeychecking false\n\
                    userknownhostsfile /dev/null ~/known/hosts\n\
                    globalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2\n\
                    hostkeyalias engine-key\nforwardagent no\n";
        let config = SshConfig::parse(text);
        assert_eq!(config.user, "root");
        assert_eq!(config.hostname, "10.250.3.2");
        assert_eq!(config.port, 2222);
        assert_eq!(config.strict, "false");
        assert_eq!(config.known_hosts, ["/dev/null", "~/known/hosts"]);
        assert_eq!(
            config.global_known_hosts,
            ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]
        );
        assert_eq!(config.host_key_alias.as_deref(), Some("engine-key"));
        let url = SshUrl::parse("ssh://fl-engine/run/podman/podman.sock").unwrap();
        assert_eq!(config.jump(&url), "root@fl-engine:2222");
        assert_eq!(config.destination(), "root@10.250.3.2:2222");
    }
}
