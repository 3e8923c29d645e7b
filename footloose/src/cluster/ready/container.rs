//! The machine's container as the engine sees it while footloose waits:
//! running (or coming back), and its boot log for the error when it is not.

use std::time::{Duration, Instant};

use super::deadline::Deadline;
use crate::engine::{ContainerInfo, ContainerStatus, Engine};
use crate::error::{EngineFailure, Error, Result};
use crate::machine::MachineError;

pub(super) const RETRY_EVERY: Duration = Duration::from_millis(50);

/// How long a machine that exited with the reboot code is given for the
/// engine to start it again.
pub(super) const RESTART_GRACE: Duration = Duration::from_secs(5);

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
                return Err(Error::Machine(MachineError::Vanished {
                    machine: name.to_owned(),
                }))
            }
            Ok(Some(info)) if info.is_running() => return Ok(info),
            Ok(Some(info)) => {
                let rebooting = info.exit_code == Some(crate::guest::REBOOT_EXIT_CODE)
                    && matches!(
                        info.status,
                        Some(ContainerStatus::Restarting | ContainerStatus::Exited)
                    );
                if !rebooting || started.elapsed() >= RESTART_GRACE {
                    return Err(Error::Machine(MachineError::Stopped {
                        machine: name.to_owned(),
                        exit_code: info.exit_code.unwrap_or_default(),
                        reason: info.error.clone().unwrap_or_default(),
                        logs: boot_log(engine, name, 20).await,
                    }));
                }
            }
            Ok(None) => {
                return Err(Error::Machine(MachineError::Vanished {
                    machine: name.to_owned(),
                }))
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

pub(super) async fn not_ready(
    engine: &Engine,
    name: &str,
    deadline: Deadline,
    reason: String,
) -> Error {
    Error::Machine(MachineError::NotReady {
        machine: name.to_owned(),
        deadline: deadline.allowed,
        reason,
        logs: boot_log(engine, name, 20).await,
    })
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
