//! Waiting until a machine is ready: systemd has finished booting and an
//! authenticated ssh session works.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::{ContainerInfo, ContainerStatus, Engine, Route, Vantage, REACH_ENV};
use crate::error::{Error, Result, Unreachable};
use crate::ssh::{Connection, Pool, Target};
use crate::Machine;

const RETRY_EVERY: Duration = Duration::from_millis(50);
/// How often the engine is asked whether a booting machine still runs.
const INSPECT_EVERY: Duration = Duration::from_secs(1);
/// How long a readiness attempt waits for the tcp connection: a booting
/// machine refuses at once, an unrouted address drops the packets.
const ATTEMPT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connections go unanswered before the boot log is read to
/// tell an unreachable machine from one still booting.
const UNANSWERED_GRACE: Duration = Duration::from_secs(2);
/// How many of the last boot-log lines show whether sshd started.
const STARTED_LOG_LINES: usize = 400;

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
    let mut unanswered = Unanswered::default();
    loop {
        attempts += 1;
        // The engine is asked again only now and then: a machine that
        // stopped or is being removed shows there, and ssh attempts are
        // cheaper for the engine than inspections.
        if attempts > 1 && inspected.elapsed() >= INSPECT_EVERY {
            info = running(engine, name).await?;
            inspected = Instant::now();
        }
        let Some(addr) = info.ssh_endpoint(engine.route()) else {
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
                let connection = Connection::open_within(&target, ATTEMPT_CONNECT_TIMEOUT)?;
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
                    ip: info.address_on(engine.route()),
                    ports: info.ports.clone(),
                    pool: Arc::new(pool),
                });
            }
            Ok((_, state)) => last_failure = format!("systemd reports `{state}`"),
            // A wrong host key or a refused client key will not change by
            // waiting, unless the address is no longer the machine's: one
            // that stopped frees its address, and the engine may give it
            // to the next container at once. The refusal is final only
            // while the machine still runs at the address that refused.
            Err(err @ (Error::HostKeyMismatch { .. } | Error::KeyRejected { .. })) => {
                info = running(engine, name).await?;
                inspected = Instant::now();
                if info.ssh_endpoint(engine.route()) == Some(addr) {
                    return Err(err);
                }
                last_failure = err.to_string();
            }
            // Nothing answers at the address: still booting, or no route
            // from here. Once sshd started, it is the route.
            Err(err) if is_unanswered(&err) => {
                if unanswered.look_at_log() && sshd_started(engine, name).await {
                    return Err(unreachable(engine, name, addr, &err));
                }
                last_failure = err.to_string();
            }
            Err(err) => {
                unanswered = Unanswered::default();
                last_failure = err.to_string();
            }
        }
        if Instant::now() >= deadline.at {
            return Err(not_ready(engine, name, deadline, last_failure).await);
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

/// Connections that nobody answered, in a row: when the first was, and
/// when the boot log was last read because of them.
#[derive(Debug, Default)]
struct Unanswered {
    since: Option<Instant>,
    log_read: Option<Instant>,
}

impl Unanswered {
    /// Counts one more unanswered attempt; true when it is time to read
    /// the boot log (after [`UNANSWERED_GRACE`], then every
    /// [`INSPECT_EVERY`]).
    fn look_at_log(&mut self) -> bool {
        let since = *self.since.get_or_insert_with(Instant::now);
        let due = since.elapsed() >= UNANSWERED_GRACE
            && self
                .log_read
                .is_none_or(|read| read.elapsed() >= INSPECT_EVERY);
        if due {
            self.log_read = Some(Instant::now());
        }
        due
    }
}

/// True for a connection nothing answered: refused, timed out, no route,
/// or closed by a port publisher before sshd spoke.
fn is_unanswered(err: &Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(err, Error::Ssh { error, .. } if matches!(
        error.kind(),
        ConnectionRefused | TimedOut | WouldBlock | HostUnreachable | NetworkUnreachable
            | ConnectionAborted | ConnectionReset | NotConnected | AddrNotAvailable
    ))
}

/// True when the machine's boot log says its sshd started (or the boot
/// reached `multi-user.target`, which sshd is part of).
async fn sshd_started(engine: &Engine, name: &str) -> bool {
    let log = engine.backend().logs_tail(name, STARTED_LOG_LINES).await;
    log_says_sshd_started(&strip_ansi(&log))
}

fn log_says_sshd_started(log: &str) -> bool {
    log.lines().any(|line| {
        let started_ssh = line.contains("Started")
            && (line.contains("ssh.service")
                || line.contains("sshd.service")
                || line.contains("Secure Shell"));
        let multi_user = line.contains("Reached target")
            && (line.contains("multi-user.target") || line.contains("Multi-User System"));
        started_ssh || multi_user
    })
}

/// The error for a booted machine footloose cannot reach: what was tried,
/// from where, and the way out.
fn unreachable(engine: &Engine, name: &str, addr: SocketAddr, err: &Error) -> Error {
    let reason = match err {
        Error::Ssh { error, .. } => error.to_string(),
        other => other.to_string(),
    };
    let vantage = engine.vantage();
    let inside = matches!(vantage, Vantage::Inside(_));
    let way_out = match engine.route() {
        Route::Published { host } if host.is_loopback() && inside => format!(
            "the port is bound to {host} of the engine's host, which this container's network cannot reach: leave {REACH_ENV} and cluster.reach unset (footloose then reaches machines over the job container's network), or publish where this container reaches (cluster.publishAddress: 0.0.0.0) and set {REACH_ENV}=published:GATEWAY"
        ),
        Route::Published { host } => format!(
            "is {host} reachable from here (a firewall, another network namespace)? If footloose runs in a container or namespace of its own, set {REACH_ENV} (`network:NAME`, `published:ADDRESS`) to a route that works"
        ),
        Route::Network { network } if inside => format!(
            "this container and the machine share network {network}: does the network block traffic between containers (`com.docker.network.bridge.enable_icc=false`, a firewall)?"
        ),
        Route::Network { network } => format!(
            "this process is not on network {network}: run it in a container on that network, or leave {REACH_ENV} and cluster.reach unset"
        ),
        Route::Unroutable { reason } => reason.clone(),
    };
    Error::Unreachable(Box::new(Unreachable {
        machine: name.to_owned(),
        addr,
        route: engine.route().to_string(),
        reason,
        vantage: vantage.describe(),
        way_out,
    }))
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
    use super::{log_says_sshd_started, strip_ansi};

    #[test]
    fn a_boot_log_tells_when_sshd_started() {
        assert!(log_says_sshd_started(
            "[  OK  ] Started ssh.service - OpenBSD Secure Shell server."
        ));
        assert!(log_says_sshd_started(
            "[  OK  ] Reached target multi-user.target - Multi-User System."
        ));
        assert!(!log_says_sshd_started(
            "         Starting ssh.service - OpenBSD Secure Shell server...\n[  OK  ] Reached target basic.target - Basic System."
        ));
    }

    #[test]
    fn strips_colours() {
        assert_eq!(
            strip_ansi("[\u{1b}[0;32m  OK  \u{1b}[0m] Reached target"),
            "[  OK  ] Reached target"
        );
    }
}
