//! Waiting until a machine is ready: systemd has finished booting and an
//! authenticated ssh session works.

mod container;
mod deadline;
mod silence;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use container::{not_ready, running, RESTART_GRACE, RETRY_EVERY};
pub(crate) use deadline::Deadline;
use silence::{is_unanswered, sshd_started, unreachable, Unanswered};

use crate::engine::{ContainerInfo, ContainerStatus, Engine, Route};
use crate::error::{EngineFailure, Error, Result};
use crate::machine::MachineError;
use crate::ssh::{Back, Connection, Lifeline, Pool, Target};
use crate::Machine;

/// How often the engine is asked whether a booting machine still runs.
const INSPECT_EVERY: Duration = Duration::from_secs(1);

/// How long a running machine may be without an address to reach ssh on
/// before that is final.
const ADDRESS_GRACE: Duration = Duration::from_secs(20);

/// How long a readiness attempt waits for the tcp connection: a booting
/// machine refuses at once, an unrouted address drops the packets.
const ATTEMPT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

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
    let mut waited_for_address: Option<Instant> = None;
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
            // An engine whose machines get their address from a DHCP
            // client inside them (Incus) reports none for the first
            // moments of the boot: look again, for a while.
            let waited = waited_for_address
                .get_or_insert_with(Instant::now)
                .elapsed();
            if waited < ADDRESS_GRACE && Instant::now() < deadline.at {
                tokio::time::sleep(INSPECT_EVERY / 4).await;
                info = running(engine, name).await?;
                inspected = Instant::now();
                continue;
            }
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
            .map_err(|source| Error::Task {
                task: "readiness",
                source,
            })?
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
            Err(
                err @ Error::Machine(
                    MachineError::HostKeyMismatch { .. } | MachineError::KeyRejected { .. },
                ),
            ) => {
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

/// The [`Machine`] of the running container `info`, known to be ready
/// (a pooled one, whose readiness was awaited when it was made), without
/// connecting: its first command opens the connection. `None` when the
/// route gives it no ssh address.
pub(crate) async fn known_ready(
    engine: &Engine,
    info: ContainerInfo,
    hostname: &str,
    host_key: &str,
    key_path: &Path,
) -> Result<Option<Machine>> {
    let name = info.name.clone();
    let info = join_route(engine, &name, info).await?;
    let Some(addr) = info.ssh_endpoint(engine.route()) else {
        return Ok(None);
    };
    let target = Target {
        machine: name.clone(),
        addr: engine.reach(addr).await?,
        user: "root".to_owned(),
        key_path: key_path.to_owned(),
        host_key: host_key.to_owned(),
    };
    let pool = Pool::new(target, info.address_on(engine.route())).with_lifeline(Box::new(
        EngineLifeline {
            engine: engine.clone(),
            name: name.clone(),
            hostname: hostname.to_owned(),
            host_key: host_key.to_owned(),
            key_path: key_path.to_owned(),
        },
    ));
    Ok(Some(Machine {
        hostname: hostname.to_owned(),
        container_name: name,
        ports: info.ports.clone(),
        pool: Arc::new(pool),
    }))
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
        Route::Unroutable { reason } => Err(Error::Machine(MachineError::NoRoute {
            reason: reason.clone(),
        })),
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
/// is [`MachineError::NotRunning`] at once; one that was removed is
/// [`MachineError::Vanished`].
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
                return Err(Error::Machine(MachineError::Vanished {
                    machine: name.to_owned(),
                }))
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
                    Err(Error::Machine(MachineError::Stopped { exit_code, .. }))
                        if exit_code == crate::guest::REBOOT_EXIT_CODE => {}
                    Err(err) if err.engine_failure() == Some(EngineFailure::Transient) => {}
                    // It went down for good: powered off or stopped.
                    Err(Error::Machine(MachineError::Stopped { exit_code, .. })) => {
                        return Err(Error::Machine(MachineError::NotRunning {
                            machine: name.to_owned(),
                            state: format!("exited, exit code {exit_code}"),
                        }))
                    }
                    result => return result,
                }
            }
            Some(ContainerStatus::Restarting | ContainerStatus::Created) => exited_since = None,
            Some(ContainerStatus::Exited)
                if info.exit_code == Some(crate::guest::REBOOT_EXIT_CODE)
                    && exited_since.get_or_insert_with(Instant::now).elapsed() < RESTART_GRACE => {}
            Some(ContainerStatus::Removing) => {
                return Err(Error::Machine(MachineError::Vanished {
                    machine: name.to_owned(),
                }))
            }
            status => {
                let state = match (status, info.exit_code) {
                    (Some(ContainerStatus::Exited), Some(code)) => {
                        format!("exited, exit code {code}")
                    }
                    (Some(status), _) => format!("{status:?}").to_lowercase(),
                    (None, _) => "in a state footloose does not know".to_owned(),
                };
                return Err(Error::Machine(MachineError::NotRunning {
                    machine: name.to_owned(),
                    state,
                }));
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
