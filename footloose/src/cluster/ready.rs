//! Waiting until a machine is ready: systemd has finished booting and an
//! authenticated ssh session works.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::{ContainerInfo, ContainerStatus, Engine, Route, Vantage, REACH_ENV};
use crate::error::{EngineFailure, Error, Result, Unreachable};
use crate::ssh::{Back, Connection, Lifeline, Pool, Target};
use crate::Machine;

const RETRY_EVERY: Duration = Duration::from_millis(50);
/// How often the engine is asked whether a booting machine still runs.
const INSPECT_EVERY: Duration = Duration::from_secs(1);
/// How long a readiness attempt waits for the tcp connection: a booting
/// machine refuses at once, an unrouted address drops the packets.
const ATTEMPT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connections go unanswered before the boot log is read to
/// tell an unreachable machine from one still booting, and how often it
/// is read again while they stay unanswered.
const UNANSWERED_GRACE: Duration = Duration::from_secs(2);
/// How long connections may stay unanswered after this boot's log says
/// sshd started, before the machine is called unreachable.
const AFTER_SSHD_STARTED: Duration = Duration::from_secs(10);
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
    let mut info = join_route(engine, name, running(engine, name).await?).await?;
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
            addr: engine.reach(addr).await?,
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
                // The boot that answered may be a later one than the engine
                // showed at the last inspection (a reboot under way when
                // the wait began), with another address: read it again.
                if attempts > 1 {
                    info = running(engine, name).await?;
                }
                let ip = info.address_on(engine.route());
                let pool = Pool::new(target, ip).with_lifeline(Box::new(EngineLifeline {
                    engine: engine.clone(),
                    name: name.to_owned(),
                    hostname: hostname.to_owned(),
                    host_key: host_key.to_owned(),
                    key_path: key_path.to_owned(),
                }));
                pool.put(connection);
                return Ok(Machine {
                    hostname: hostname.to_owned(),
                    container_name: name.to_owned(),
                    ports: info.ports.clone(),
                    pool: Arc::new(pool),
                });
            }
            Ok((_, state)) => {
                unanswered = Unanswered::default();
                last_failure = format!("systemd reports `{state}`");
            }
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
                last_failure = crate::error::chain(&err);
            }
            // Nothing answers at the address: still booting, or no route
            // from here. Once sshd started, it is the route.
            Err(err) if is_unanswered(&err, engine.route()) => {
                if unanswered.log_due() && sshd_started(engine, name).await {
                    unanswered.sshd_started();
                }
                if unanswered.given_up() {
                    return Err(unreachable(engine, name, addr, &err));
                }
                last_failure = crate::error::chain(&err);
            }
            Err(err) => {
                unanswered = Unanswered::default();
                last_failure = crate::error::chain(&err);
            }
        }
        if Instant::now() >= deadline.at {
            return Err(not_ready(engine, name, deadline, last_failure).await);
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

/// Makes sure the running machine `info` can be reached by the engine's
/// route: none refuses at once; a machine made before (on the host, by an
/// earlier job) is attached to the route's network, without an alias on a
/// network that is not footloose's. Returns the machine as it is then.
pub(crate) async fn join_route(
    engine: &Engine,
    name: &str,
    info: ContainerInfo,
) -> Result<ContainerInfo> {
    match engine.route() {
        Route::Unroutable { reason } => Err(Error::NoRoute {
            reason: reason.clone(),
        }),
        Route::Network { network } if !info.networks.contains_key(network) => {
            tracing::debug!("{name}: attaching it to network {network}, where it is reached");
            engine
                .backend()
                .connect_network(network, name, None)
                .await?;
            running(engine, name).await
        }
        _ => Ok(info),
    }
}

/// Connections that nobody answered, in a row: when the first was, when
/// the boot log was last read because of them, and when it first said
/// sshd started. Any answer from sshd starts it over.
#[derive(Debug, Default)]
struct Unanswered {
    since: Option<Instant>,
    log_read: Option<Instant>,
    sshd_started: Option<Instant>,
}

impl Unanswered {
    /// Counts one more unanswered attempt; true when it is time to read
    /// the boot log: after [`UNANSWERED_GRACE`] of them, then every
    /// [`UNANSWERED_GRACE`], until it says sshd started.
    fn log_due(&mut self) -> bool {
        let since = *self.since.get_or_insert_with(Instant::now);
        let due = self.sshd_started.is_none()
            && since.elapsed() >= UNANSWERED_GRACE
            && self
                .log_read
                .is_none_or(|read| read.elapsed() >= UNANSWERED_GRACE);
        if due {
            self.log_read = Some(Instant::now());
        }
        due
    }

    /// The boot log said sshd started.
    fn sshd_started(&mut self) {
        self.sshd_started.get_or_insert_with(Instant::now);
    }

    /// True once connections stayed unanswered [`AFTER_SSHD_STARTED`]
    /// after sshd started.
    fn given_up(&self) -> bool {
        self.sshd_started
            .is_some_and(|started| started.elapsed() >= AFTER_SSHD_STARTED)
    }
}

/// True for a connection nothing answered: not accepted (refused, timed
/// out, no route), or closed by a port publisher before sshd spoke. Over a
/// network, a refusal comes from the machine itself, so the route works:
/// only silence counts there.
fn is_unanswered(err: &Error, route: &Route) -> bool {
    use std::io::ErrorKind::*;
    let Error::Ssh { error, action, .. } = err else {
        return false;
    };
    let connecting = action.starts_with("connecting");
    match error.kind() {
        TimedOut | WouldBlock | HostUnreachable | NetworkUnreachable | AddrNotAvailable => {
            connecting
        }
        ConnectionRefused => connecting && route.network().is_none(),
        // A port publisher that accepted, then closed: its machine's sshd
        // does not answer it.
        ConnectionAborted | ConnectionReset => {
            action.starts_with("waiting for sshd") && route.network().is_none()
        }
        _ => false,
    }
}

/// True when the machine's boot log says its sshd started (or the boot
/// reached `multi-user.target`, which sshd is part of).
async fn sshd_started(engine: &Engine, name: &str) -> bool {
    let log = engine.backend().logs_tail(name, STARTED_LOG_LINES).await;
    log_says_sshd_started(&strip_ansi(&log))
}

/// True when the log of this boot says sshd started: the lines after the
/// last `systemd … running in system mode`, since a restarted container's
/// log holds its earlier boots too.
fn log_says_sshd_started(log: &str) -> bool {
    let lines: Vec<&str> = log.lines().collect();
    let this_boot = lines
        .iter()
        .rposition(|line| line.contains("running in system mode"))
        .map_or(&lines[..], |start| &lines[start..]);
    this_boot.iter().any(|line| {
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
            "the port is bound to {host} of the engine's host, which this container's network cannot reach: leave {REACH_ENV} and cluster.reach unset (footloose then reaches machines over the job container's network), or set {REACH_ENV}=published:GATEWAY (the job network's gateway, an address of the engine's host: ports are then published there)"
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

/// How long a machine that exited with the reboot code is given for the
/// engine to start it again.
const RESTART_GRACE: Duration = Duration::from_secs(5);

/// A machine's [`Lifeline`]: the engine's view of its boots. It holds a
/// clone of the engine, so that whatever reaches the machine (an `ssh://`
/// engine's tunnel) lives as long as the [`Machine`].
struct EngineLifeline {
    engine: Engine,
    name: String,
    hostname: String,
    host_key: String,
    key_path: std::path::PathBuf,
}

impl Lifeline for EngineLifeline {
    fn boot(&self) -> Result<Option<String>> {
        crate::runtime::block_on(async {
            let info = self.engine.container(&self.name).await?;
            Ok(info.and_then(|i| i.started_at))
        })
    }

    fn wait_ready(&self, after: Option<&str>, within: Duration) -> Result<Back> {
        let deadline = Deadline::after(within);
        crate::runtime::block_on(wait_back(
            &self.engine,
            &self.name,
            &self.hostname,
            &self.host_key,
            &self.key_path,
            after,
            deadline,
        ))
        .map(|machine| machine.pool.take())
    }
}

/// Waits for a machine that went down (a reboot: PID 1 exits with
/// [`REBOOT_EXIT_CODE`](crate::guest::REBOOT_EXIT_CODE) and the engine starts
/// it again) until it runs a boot other than `after` (its container's start
/// time; any boot when `None`) and is ready. A machine that stays stopped
/// is [`Error::NotRunning`] at once; one that was removed is
/// [`Error::Vanished`].
pub(crate) async fn wait_back(
    engine: &Engine,
    name: &str,
    hostname: &str,
    host_key: &str,
    key_path: &Path,
    after: Option<&str>,
    deadline: Deadline,
) -> Result<Machine> {
    let mut exited_since: Option<Instant> = None;
    loop {
        let info = match engine.container(name).await {
            Ok(Some(info)) => Some(info),
            Ok(None) => {
                return Err(Error::Vanished {
                    machine: name.to_owned(),
                })
            }
            Err(err) if err.engine_failure() == Some(EngineFailure::Transient) => None,
            Err(err) => return Err(err),
        };
        let Some(info) = info else {
            if Instant::now() >= deadline.at {
                return Err(not_ready(
                    engine,
                    name,
                    deadline,
                    "the engine cannot say what state it is in".into(),
                )
                .await);
            }
            tokio::time::sleep(RETRY_EVERY * 2).await;
            continue;
        };
        let same_boot = after.is_some() && info.started_at.as_deref() == after;
        match info.status {
            // Still the boot before the reboot, shutting down.
            Some(ContainerStatus::Running) if same_boot => exited_since = None,
            Some(ContainerStatus::Running) => {
                exited_since = None;
                match wait_ready(engine, name, hostname, host_key, key_path, deadline).await {
                    // It went down again while being waited for: the
                    // reboot was still under way.
                    Err(Error::Stopped { exit_code, .. })
                        if exit_code == crate::guest::REBOOT_EXIT_CODE => {}
                    Err(err) if err.engine_failure() == Some(EngineFailure::Transient) => {}
                    // It went down for good: powered off or stopped.
                    Err(Error::Stopped { exit_code, .. }) => {
                        return Err(Error::NotRunning {
                            machine: name.to_owned(),
                            state: format!("exited, exit code {exit_code}"),
                        })
                    }
                    result => return result,
                }
            }
            Some(ContainerStatus::Restarting | ContainerStatus::Created) => exited_since = None,
            Some(ContainerStatus::Exited)
                if info.exit_code == Some(crate::guest::REBOOT_EXIT_CODE)
                    && exited_since.get_or_insert_with(Instant::now).elapsed() < RESTART_GRACE => {}
            Some(ContainerStatus::Removing) => {
                return Err(Error::Vanished {
                    machine: name.to_owned(),
                })
            }
            status => {
                let state = match (status, info.exit_code) {
                    (Some(ContainerStatus::Exited), Some(code)) => {
                        format!("exited, exit code {code}")
                    }
                    (Some(status), _) => format!("{status:?}").to_lowercase(),
                    (None, _) => "in a state footloose does not know".to_owned(),
                };
                return Err(Error::NotRunning {
                    machine: name.to_owned(),
                    state,
                });
            }
        }
        if Instant::now() >= deadline.at {
            return Err(not_ready(
                engine,
                name,
                deadline,
                "it went down and was not running again in time".into(),
            )
            .await);
        }
        tokio::time::sleep(RETRY_EVERY * 2).await;
    }
}

/// The machine as the engine reports it, if it runs; an error saying why
/// not otherwise (gone, being removed, stopped with its boot log). A
/// machine in the middle of a reboot (being restarted after exiting with
/// [`REBOOT_EXIT_CODE`](crate::guest::REBOOT_EXIT_CODE), or in a state the
/// engine cannot report for a moment) is waited for, a few seconds at most.
pub(crate) async fn running(engine: &Engine, name: &str) -> Result<ContainerInfo> {
    let started = Instant::now();
    loop {
        match engine.container(name).await {
            Ok(Some(info)) if info.status == Some(ContainerStatus::Removing) => {
                return Err(Error::Vanished {
                    machine: name.to_owned(),
                })
            }
            Ok(Some(info)) if info.is_running() => return Ok(info),
            Ok(Some(info)) => {
                let rebooting = info.exit_code == Some(crate::guest::REBOOT_EXIT_CODE)
                    && matches!(
                        info.status,
                        Some(ContainerStatus::Restarting | ContainerStatus::Exited)
                    );
                if !rebooting || started.elapsed() >= RESTART_GRACE {
                    return Err(Error::Stopped {
                        machine: name.to_owned(),
                        exit_code: info.exit_code.unwrap_or_default(),
                        reason: info.error.clone().unwrap_or_default(),
                        logs: boot_log(engine, name, 20).await,
                    });
                }
            }
            Ok(None) => {
                return Err(Error::Vanished {
                    machine: name.to_owned(),
                })
            }
            Err(err) if err.engine_failure() == Some(EngineFailure::Transient) => {
                if started.elapsed() >= RESTART_GRACE {
                    return Err(err);
                }
            }
            Err(err) => return Err(err),
        }
        tokio::time::sleep(RETRY_EVERY * 2).await;
    }
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
        // A restarted machine's log holds its earlier boot.
        assert!(!log_says_sshd_started(
            "systemd 252.38 running in system mode (+PAM ...)\n[  OK  ] Started ssh.service - OpenBSD Secure Shell server.\nsystemd 252.38 running in system mode (+PAM ...)\n[  OK  ] Reached target basic.target - Basic System."
        ));
    }

    #[test]
    fn only_silence_counts_as_unanswered_over_a_network() {
        use super::{is_unanswered, Error, Route};
        let ssh = |action: &str, kind: std::io::ErrorKind| Error::Ssh {
            machine: "m".into(),
            action: action.into(),
            error: kind.into(),
        };
        let published = Route::Published {
            host: [127, 0, 0, 1].into(),
        };
        let network = Route::Network {
            network: "ci".into(),
        };
        let refused = ssh(
            "connecting to 10.0.0.2:22",
            std::io::ErrorKind::ConnectionRefused,
        );
        assert!(is_unanswered(&refused, &published));
        assert!(
            !is_unanswered(&refused, &network),
            "the machine itself refused"
        );
        let silent = ssh("connecting to 10.0.0.2:22", std::io::ErrorKind::TimedOut);
        assert!(is_unanswered(&silent, &network));
        let slow_banner = ssh(
            "waiting for sshd at 10.0.0.2:22",
            std::io::ErrorKind::WouldBlock,
        );
        assert!(!is_unanswered(&slow_banner, &published), "it was accepted");
        let closed = ssh(
            "waiting for sshd at 127.0.0.1:1",
            std::io::ErrorKind::ConnectionAborted,
        );
        assert!(is_unanswered(&closed, &published));
    }

    #[test]
    fn strips_colours() {
        assert_eq!(
            strip_ansi("[\u{1b}[0;32m  OK  \u{1b}[0m] Reached target"),
            "[  OK  ] Reached target"
        );
    }
}
