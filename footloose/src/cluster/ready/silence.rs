//! A machine whose sshd does not answer: when silence means "still
//! booting", when it means "unreachable from here", and the error that
//! says which route failed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::container::strip_ansi;
use crate::engine::{Engine, Route, Vantage, REACH_ENV};
use crate::error::Error;
use crate::machine::{MachineError, Unreachable};

/// How long connections go unanswered before the boot log is read to
/// tell an unreachable machine from one still booting, and how often it
/// is read again while they stay unanswered.
const UNANSWERED_GRACE: Duration = Duration::from_secs(2);

/// How long connections may stay unanswered after this boot's log says
/// sshd started, before the machine is called unreachable.
const AFTER_SSHD_STARTED: Duration = Duration::from_secs(10);

/// How many of the last boot-log lines show whether sshd started.
const STARTED_LOG_LINES: usize = 400;

/// Connections that nobody answered, in a row: when the first was, when
/// the boot log was last read because of them, and when it first said
/// sshd started. Any answer from sshd starts it over.
#[derive(Debug, Default)]
pub(super) struct Unanswered {
    since: Option<Instant>,
    log_read: Option<Instant>,
    sshd_started: Option<Instant>,
}

impl Unanswered {
    /// Counts one more unanswered attempt; true when it is time to read
    /// the boot log: after [`UNANSWERED_GRACE`] of them, then every
    /// [`UNANSWERED_GRACE`], until it says sshd started.
    pub(super) fn log_due(&mut self) -> bool {
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
    pub(super) fn sshd_started(&mut self) {
        self.sshd_started.get_or_insert_with(Instant::now);
    }

    /// True once connections stayed unanswered [`AFTER_SSHD_STARTED`]
    /// after sshd started.
    pub(super) fn given_up(&self) -> bool {
        self.sshd_started
            .is_some_and(|started| started.elapsed() >= AFTER_SSHD_STARTED)
    }
}

/// True for a connection nothing answered: not accepted (refused, timed
/// out, no route), or closed by a port publisher before sshd spoke. Over a
/// network, a refusal comes from the machine itself, so the route works:
/// only silence counts there.
pub(super) fn is_unanswered(err: &Error, route: &Route) -> bool {
    use std::io::ErrorKind::*;
    let Error::Machine(MachineError::Ssh { error, action, .. }) = err else {
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
pub(super) async fn sshd_started(engine: &Engine, name: &str) -> bool {
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
pub(super) fn unreachable(engine: &Engine, name: &str, addr: SocketAddr, err: &Error) -> Error {
    let reason = match err {
        Error::Machine(MachineError::Ssh { error, .. }) => error.to_string(),
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
    Error::Machine(MachineError::Unreachable(Box::new(Unreachable {
        machine: name.to_owned(),
        addr,
        route: engine.route().to_string(),
        reason,
        vantage: vantage.describe(),
        way_out,
    })))
}

#[cfg(test)]
mod tests {
    use super::{log_says_sshd_started, strip_ansi};
    use crate::machine::MachineError;

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
        let ssh = |action: &str, kind: std::io::ErrorKind| {
            Error::Machine(MachineError::Ssh {
                machine: "m".into(),
                action: action.into(),
                error: kind.into(),
            })
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
