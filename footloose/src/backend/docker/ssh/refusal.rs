//! Why the ssh connection to an engine's host failed, in words a user can
//! act on: ssh's own log, read for the failures that have a way out (a
//! host key nobody has checked yet, one that changed).

use std::path::Path;

use super::config::SshConfig;
use super::error::SshError;

/// The error of a master connection that ended before it logged in, from
/// what it logged.
pub(crate) fn interpret(log: &str, config: &SshConfig) -> SshError {
    let destination = config.destination();
    let said: Vec<&str> = log
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('@'))
        .collect();
    if log.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        let offending = said
            .iter()
            .find(|l| l.starts_with("Offending"))
            .map(|l| l.to_string())
            .unwrap_or_else(|| "see ssh's known-hosts files".to_owned());
        return SshError::HostKeyChanged {
            destination,
            offending,
        };
    }
    if log.contains("Host key verification failed") {
        return SshError::HostKeyUnknown {
            destination,
            advice: unknown_host_key(config),
        };
    }
    let said = said
        .iter()
        .filter(|l| !l.starts_with("Warning: Permanently added"))
        .copied()
        .collect::<Vec<_>>()
        .join("; ");
    SshError::Login {
        destination,
        said: if said.is_empty() {
            "it ended without saying why".to_owned()
        } else {
            said
        },
    }
}

/// Where an unknown host key was looked for, and how to make it known.
fn unknown_host_key(config: &SshConfig) -> String {
    // `ssh -G` lists them with `~` expanded, as ssh itself does (from the
    // password database, not `HOME`).
    let files = &config.known_hosts;
    let existing: Vec<String> = files
        .iter()
        .chain(&config.global_known_hosts)
        .filter(|f| Path::new(f).exists() && f.as_str() != "/dev/null")
        .cloned()
        .collect();
    let mut message = if existing.is_empty() {
        format!("any known_hosts file (looked for {})", files.join(", "))
    } else {
        existing.join(", ")
    };
    let writable = files
        .iter()
        .find(|f| !matches!(f.as_str(), "/dev/null" | "none"));
    match writable {
        Some(file) if config.host_key_alias.is_none() => {
            let port = if config.port == 22 {
                String::new()
            } else {
                format!("-p {} ", config.port)
            };
            message += &format!(
                ": check the host's key fingerprint (`ssh-keygen -lf` of its host key), then add it to {file}: `ssh-keyscan {port}{} >> {file}` trusts whatever answers now",
                config.hostname
            );
        }
        Some(file) => {
            message += &format!(
                ": check the host's key fingerprint, then add it to {file} under its HostKeyAlias {}",
                config.host_key_alias.as_deref().unwrap_or_default()
            );
        }
        None => {
            message += ": UserKnownHostsFile leaves no file for host keys (only none or /dev/null); name one there, check the host's key and add it";
        }
    }
    let relaxed = match config.strict.as_str() {
        "false" | "no" | "off" => Some("no"),
        "accept-new" => Some("accept-new"),
        _ => None,
    };
    if let Some(relaxed) = relaxed {
        message += &format!(
            " (StrictHostKeyChecking {relaxed} is not followed: footloose never trusts a host key it has not seen)"
        );
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(known: &[&str], strict: &str) -> SshConfig {
        SshConfig {
            user: "root".into(),
            hostname: "10.250.3.2".into(),
            port: 22,
            known_hosts: known.iter().map(|s| s.to_string()).collect(),
            global_known_hosts: vec!["/etc/ssh/ssh_known_hosts".into()],
            strict: strict.into(),
            host_key_alias: None,
        }
    }

    const UNKNOWN: &str = "No ED25519 host key is known for 10.250.3.2 and you have requested strict checking.\r\nHost key verification failed.\r\n";

    #[test]
    fn an_unknown_host_key_names_the_files_and_the_command_that_adds_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts").display().to_string();
        let err = interpret(UNKNOWN, &config(&[&file], "ask"));
        let message = err.to_string();
        assert!(matches!(err, SshError::HostKeyUnknown { .. }), "{message}");
        assert!(
            message.starts_with(
                "the host key of root@10.250.3.2:22 is not in any known_hosts file (looked for "
            ),
            "{message}"
        );
        assert!(
            message.contains(&format!("`ssh-keyscan 10.250.3.2 >> {file}`")),
            "{message}"
        );
        assert!(!message.contains("not followed"), "{message}");
    }

    #[test]
    fn relaxed_checking_is_named_as_not_followed() {
        let message = interpret(UNKNOWN, &config(&["/dev/null"], "false")).to_string();
        assert!(message.contains("looked for /dev/null"), "{message}");
        assert!(
            message.contains("leaves no file for host keys"),
            "{message}"
        );
        assert!(
            message.contains("StrictHostKeyChecking no is not followed"),
            "{message}"
        );
    }

    #[test]
    fn a_changed_key_and_a_refused_login_say_what_ssh_said() {
        let changed = "@@@@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\nOffending ED25519 key in /root/.ssh/known_hosts:3\r\nHost key verification failed.\r\n";
        let message = interpret(changed, &config(&[], "true")).to_string();
        assert!(
            message.contains("(Offending ED25519 key in /root/.ssh/known_hosts:3)"),
            "{message}"
        );
        let refused = "root@10.250.3.2: Permission denied (publickey).\r\n";
        assert_eq!(
            interpret(refused, &config(&[], "true")).to_string(),
            "ssh to root@10.250.3.2:22 failed: root@10.250.3.2: Permission denied (publickey)."
        );
    }
}
