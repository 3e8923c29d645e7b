//! What goes wrong with a machine: reaching it over ssh, running a
//! command or a copy on it, its boot, a reboot, a unit it waits for.
//! [`MachineError`] says which; the crate's [`Error`](crate::Error)
//! carries it as [`Error::Machine`](crate::Error::Machine), printed as it
//! is.

use std::path::PathBuf;
use std::time::Duration;

/// What goes wrong with a machine: the ssh connection to it, a command or
/// a copy run on it, its boot, a reboot, a unit it waits for, or the way
/// from here to it.
///
/// It reaches callers as [`Error::Machine`](crate::Error::Machine), which
/// prints it as it is. The ssh failures carry libssh2's (or the socket's)
/// error as their [`source`](std::error::Error::source): print the chain
/// (`anyhow`'s `{:#}`) to see it.
///
/// ```no_run
/// use footloose::{Error, MachineError};
///
/// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
/// let node = cluster.machine("node0");
/// match node.exec("systemctl restart sshd") {
///     Ok(out) => println!("{}", out.stdout()),
///     // Sent, then the connection dropped: it may or may not have run.
///     Err(Error::Machine(MachineError::ConnectionLost { .. })) => {}
///     Err(Error::Machine(MachineError::NotRunning { machine, .. })) => {
///         eprintln!("{machine} was powered off")
///     }
///     Err(err) => return Err(err),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MachineError {
    /// An ssh connection, authentication or channel failed.
    #[error("ssh to {machine} failed while {action}")]
    Ssh {
        /// The container name.
        machine: String,
        /// What was being done.
        action: String,
        /// libssh2's (or the socket's) error.
        #[source]
        error: std::io::Error,
    },

    /// The ssh connection dropped after a command or file data was sent:
    /// what was sent may or may not have taken effect, and footloose did
    /// not send it again.
    #[error("the ssh connection to {machine} dropped while {action}, after it was sent: it may or may not have taken effect, and was not tried again")]
    ConnectionLost {
        /// The container name.
        machine: String,
        /// What was being done.
        action: String,
        /// libssh2's (or the socket's) error.
        #[source]
        error: std::io::Error,
    },

    /// The machine presented a host key other than the one footloose gave it.
    #[error("host key mismatch for {machine}: it presented a key other than the one footloose installed; refusing to connect")]
    HostKeyMismatch {
        /// The container name.
        machine: String,
    },

    /// The machine refused the cluster's client key: it trusts another one.
    /// Final, not retried: the machine was made with another key.
    #[error("{machine} refused the key {}: the machine was made with another key; delete the cluster where it was made, or use another cluster name", key.display())]
    KeyRejected {
        /// The container name.
        machine: String,
        /// The private key that was offered.
        key: PathBuf,
    },

    /// A machine has no pinned host key to check its sshd against: it
    /// was made by another footloose.
    #[error("{machine} has no host key label; it was not made by this footloose")]
    NoHostKey {
        /// The container name.
        machine: String,
    },

    /// A command run in a machine exited unsuccessfully (see
    /// [`Output::checked`](crate::Output::checked)).
    #[error("`{command}` on {machine} failed with {status}\n  stderr: {stderr}")]
    Command {
        /// The container name.
        machine: String,
        /// The command line.
        command: String,
        /// The exit status or signal.
        status: String,
        /// What the command wrote to stderr.
        stderr: String,
    },

    /// A file or directory to copy from a machine is not there.
    #[error("cannot copy {path} from {machine}: no such file or directory")]
    NoSuchFile {
        /// The container name.
        machine: String,
        /// The path in the machine.
        path: String,
    },

    /// A machine booted (its sshd started), but footloose cannot reach it
    /// from where it runs.
    #[error("{0}")]
    Unreachable(Box<Unreachable>),

    /// footloose has no way to reach machines from where it runs; said
    /// before anything is made.
    #[error("footloose cannot reach machines from here: {reason}")]
    NoRoute {
        /// Why, and the way out.
        reason: String,
    },

    /// A machine did not become ready in time, or stopped while booting.
    #[error("machine {machine} did not become ready within {}s: {reason}\n  last boot messages:\n{logs}", deadline.as_secs())]
    NotReady {
        /// The container name.
        machine: String,
        /// The deadline that passed.
        deadline: Duration,
        /// The last thing that failed.
        reason: String,
        /// The container's last log lines, indented.
        logs: String,
    },

    /// A machine's container stopped while it booted: PID 1 exited.
    #[error("machine {machine} stopped while booting (exit code {exit_code}{})\n  last boot messages:\n{logs}{}", if reason.is_empty() { String::new() } else { format!(": {reason}") }, boot_failure_hint(logs))]
    Stopped {
        /// The container name.
        machine: String,
        /// PID 1's exit code.
        exit_code: i64,
        /// The engine's word on why, if any.
        reason: String,
        /// The container's last log lines, indented.
        logs: String,
    },

    /// A machine went away while footloose was bringing it up.
    #[error(
        "machine {machine} was removed while it booted (did another footloose delete the cluster?)"
    )]
    Vanished {
        /// The container name.
        machine: String,
    },

    /// A machine went down under a [`Machine`](crate::Machine) and did not
    /// come back: it was powered off or stopped (a reboot brings it back).
    #[error("machine {machine} is not running ({state}): it was powered off or stopped, and only a reboot brings a machine back on its own; start it again (`footloose start`, `footloose::start`)")]
    NotRunning {
        /// The container name.
        machine: String,
        /// Its state as the engine reports it, such as `exited, exit code 0`.
        state: String,
    },

    /// A machine asked to reboot was not back within the time allowed.
    #[error("machine {machine} did not reboot within {}s: it was still up with its old boot, or not ready again", waited.as_secs())]
    RebootTimeout {
        /// The container name.
        machine: String,
        /// How long it was given.
        waited: Duration,
    },

    /// A systemd unit did not become active.
    #[error("unit {status} on {machine}: did not become active within {}s\n{journal}", waited.as_secs())]
    UnitNotActive {
        /// The container name.
        machine: String,
        /// The unit's state, as [`UnitStatus`](crate::UnitStatus) prints it.
        status: String,
        /// How long it was waited for.
        waited: Duration,
        /// The unit's journal of this boot, summarised (repeats folded),
        /// after its heading, indented.
        journal: String,
    },
}

/// What a machine's last boot messages say to do, when footloose knows.
fn boot_failure_hint(logs: &str) -> &'static str {
    // Checked first: systemd then also fails to "allocate manager object".
    if logs.contains("Too many open files") {
        "\n  systemd ran out of inotify instances: the engine's host allows each user too few for this many machines (a systemd machine holds 3 to 5 while it runs; with Linux's default fs.inotify.max_user_instances, 128, about 30 machines boot). Raise it on the engine's host: sysctl -w fs.inotify.max_user_instances=8192 (and a file in /etc/sysctl.d/ to keep it)"
    } else if logs.contains("control group: Permission denied")
        || logs.contains("Failed to allocate manager object")
    {
        "\n  systemd could not make its cgroups: a rootless engine on a cgroup v1 host cannot delegate them (Podman and Docker need cgroup v2 for rootless systemd machines); use a rootful engine, or a host booted with cgroup v2 (systemd.unified_cgroup_hierarchy=1)"
    } else {
        ""
    }
}

/// What footloose tried to reach a booted machine, from where, and the
/// way out (see [`MachineError::Unreachable`]).
///
/// ```
/// use footloose::{Error, MachineError};
///
/// # fn demo(err: &Error) {
/// if let Error::Machine(MachineError::Unreachable(unreachable)) = err {
///     eprintln!("{} is up but not reachable at {}", unreachable.machine, unreachable.addr);
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[error("{machine} booted, but footloose cannot reach its sshd at {addr} ({reason})\n  tried: {route}\n  {vantage}\n  {way_out}")]
pub struct Unreachable {
    /// The container name.
    pub machine: String,
    /// The address tried.
    pub addr: std::net::SocketAddr,
    /// The route it was tried by.
    pub route: String,
    /// The last connection failure.
    pub reason: String,
    /// Where this process runs, as the engine sees it.
    pub vantage: String,
    /// What to do about it.
    pub way_out: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_machine_whose_systemd_cannot_start_says_why() {
        let stopped = |logs: &str| MachineError::Stopped {
            machine: "c-node0".into(),
            exit_code: 255,
            reason: String::new(),
            logs: logs.into(),
        };
        let rootless_v1 = stopped(
            "    Failed to create /init.scope control group: Permission denied\n    Exiting PID 1...",
        )
        .to_string();
        assert!(
            rootless_v1.contains("rootless engine on a cgroup v1 host"),
            "{rootless_v1}"
        );
        let inotify = stopped(
            "    Failed to create control group inotify object: Too many open files\n    Failed to allocate manager object: Too many open files\n    Exiting PID 1...",
        )
        .to_string();
        assert!(
            inotify.contains("fs.inotify.max_user_instances") && !inotify.contains("rootless"),
            "{inotify}"
        );
        let other = stopped("    Freezing execution.").to_string();
        assert!(!other.contains("cgroup v1"), "{other}");
    }

    #[test]
    fn an_ssh_failure_hands_on_its_cause() {
        let lost = MachineError::ConnectionLost {
            machine: "c-node0".into(),
            action: "running `true`".into(),
            error: std::io::Error::other("reset by peer"),
        };
        let text = lost.to_string();
        assert!(text.ends_with("and was not tried again"), "{text}");
        assert!(!text.contains("reset by peer"), "{text}");
        assert_eq!(crate::error::chain(&lost), format!("{text}: reset by peer"));
    }

    #[test]
    fn the_crate_error_prints_a_machine_error_as_it_is() {
        let err = crate::Error::from(MachineError::NoSuchFile {
            machine: "c-node0".into(),
            path: "/nonexistent".into(),
        });
        assert_eq!(
            err.to_string(),
            "cannot copy /nonexistent from c-node0: no such file or directory"
        );
    }
}
