//! Waiting until a machine is ready: systemd has finished booting and an
//! authenticated ssh session works.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::{ContainerInfo, ContainerStatus, Engine};
use crate::error::{Error, Result};
use crate::ssh::{Connection, Pool, Target};
use crate::Machine;

const RETRY_EVERY: Duration = Duration::from_millis(50);
/// How often the engine is asked whether a booting machine still runs.
const INSPECT_EVERY: Duration = Duration::from_secs(1);

/// When waiting for readiness ends, and how long it was allowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub(crate) at: Instant,
    pub(crate) allowed: Duration,
}

impl Deadline {
    /// A deadline `allowed` from now.
    pub(crate) fn after(allowed: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + allowed,
            allowed,
        }
    }
}

/// Polls the machine over ssh until `systemctl is-system-running --wait`
/// reports a finished boot, or fails at `deadline` with its boot log. A
/// container that stops while booting fails at once, and one that is
/// being removed (another footloose deleting the cluster) too.
pub(crate) async fn wait_ready(
    engine: &Engine,
    name: &str,
    hostname: &str,
    host_key: &str,
    key_path: &Path,
    deadline: Deadline,
) -> Result<Machine> {
    let mut last_failure;
    let mut attempts = 0u32;
    let mut info = running(engine, name).await?;
    let mut inspected = Instant::now();
    loop {
        attempts += 1;
        // The engine is asked again only now and then: a machine that
        // stopped or is being removed shows there, and ssh attempts are
        // cheaper for the engine than inspections.
        if attempts > 1 && inspected.elapsed() >= INSPECT_EVERY {
            info = running(engine, name).await?;
            inspected = Instant::now();
        }
        let Some(addr) = info.ssh_endpoint(engine.address()) else {
            return Err(not_ready(
                engine,
                name,
                deadline,
                "it has no address to reach ssh on".into(),
            )
            .await);
        };
        let target = Target {
            machine: name.to_owned(),
            addr: engine.reach(addr)?,
            user: "root".to_owned(),
            key_path: key_path.to_owned(),
            host_key: host_key.to_owned(),
        };
        let left = deadline.at.saturating_duration_since(Instant::now());
        let attempt = {
            let target = target.clone();
            tokio::task::spawn_blocking(move || -> Result<(Connection, String)> {
                let connection = Connection::open(&target)?;
                let out = connection.exec("systemctl is-system-running --wait", &[], Some(left))?;
                Ok((connection, out.stdout().trim().to_owned()))
            })
            .await
            .map_err(|e| Error::Invalid(format!("readiness task failed: {e}")))?
        };
        match attempt {
            Ok((connection, state)) if state == "running" || state == "degraded" => {
                tracing::debug!("{name}: systemd reports {state} after {attempts} ssh attempt(s)");
                if state == "degraded" {
                    tracing::warn!("{name} booted degraded: `systemctl --failed` in it lists why");
                }
                let pool = Pool::new(target);
                pool.put(connection);
                return Ok(Machine {
                    hostname: hostname.to_owned(),
                    container_name: name.to_owned(),
                    ip: info.ip(),
                    ports: info.ports.clone(),
                    pool: Arc::new(pool),
                });
            }
            Ok((_, state)) => last_failure = format!("systemd reports `{state}`"),
            // A wrong host key or a refused client key will not change by waiting.
            Err(err @ (Error::HostKeyMismatch { .. } | Error::KeyRejected { .. })) => {
                return Err(err)
            }
            Err(err) => last_failure = err.to_string(),
        }
        if Instant::now() >= deadline.at {
            return Err(not_ready(engine, name, deadline, last_failure).await);
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

/// The machine as the engine reports it, if it runs; an error saying why
/// not otherwise (gone, being removed, stopped with its boot log).
async fn running(engine: &Engine, name: &str) -> Result<ContainerInfo> {
    let Some(info) = engine.container(name).await? else {
        return Err(Error::Vanished {
            machine: name.to_owned(),
        });
    };
    if info.status == Some(ContainerStatus::Removing) {
        return Err(Error::Vanished {
            machine: name.to_owned(),
        });
    }
    if !info.is_running() {
        return Err(Error::Stopped {
            machine: name.to_owned(),
            exit_code: info.exit_code.unwrap_or_default(),
            reason: info.error.clone().unwrap_or_default(),
            logs: boot_log(engine, name, 20).await,
        });
    }
    Ok(info)
}

async fn not_ready(engine: &Engine, name: &str, deadline: Deadline, reason: String) -> Error {
    Error::NotReady {
        machine: name.to_owned(),
        deadline: deadline.allowed,
        reason,
        logs: boot_log(engine, name, 20).await,
    }
}

/// The last `lines` lines the container printed, without terminal colours,
/// indented for an error message.
pub(crate) async fn boot_log(engine: &Engine, name: &str, lines: usize) -> String {
    let text = engine.backend().logs_tail(name, lines).await;
    let cleaned: Vec<String> = strip_ansi(&text)
        .lines()
        .map(|l| format!("    {}", l.trim_end_matches('\r')))
        .filter(|l| !l.trim().is_empty())
        .collect();
    if cleaned.is_empty() {
        "    (the container printed nothing)".to_owned()
    } else {
        cleaned.join("\n")
    }
}

/// Removes terminal escape sequences (systemd colours its boot messages).
pub(crate) fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::strip_ansi;

    #[test]
    fn strips_colours() {
        assert_eq!(
            strip_ansi("[\u{1b}[0;32m  OK  \u{1b}[0m] Reached target"),
            "[  OK  ] Reached target"
        );
    }
}
