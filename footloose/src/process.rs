//! Who a process is, precisely enough to tell later whether it still runs,
//! and to know when that cannot be told at all.
//!
//! A pid means something only inside one pid namespace of one kernel. A
//! process in a CI job's container (its own pid namespace) that mounts the
//! host's Docker socket sees clusters made by processes it cannot see, and
//! a remote engine serves several hosts. So an identity records the kernel
//! (boot id), the pid namespace (the inode of `/proc/self/ns/pid`) and the
//! host name besides the pid and its start time; [`Identity::presence`]
//! answers [`Presence::Unknown`] whenever any of them differs from the
//! asking process's, and only a provable [`Presence::Gone`] lets anyone
//! remove what the process owned.

use std::fs;
use std::os::unix::fs::MetadataExt;

/// A process, identified so that pid reuse and other namespaces or hosts
/// are detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The process id, in its own pid namespace.
    pub pid: u32,
    /// Its start time in clock ticks since boot (field 22 of /proc/PID/stat).
    pub start_time: u64,
    /// The kernel's boot id.
    pub boot_id: String,
    /// The inode of the process's pid namespace; 0 when it could not be read.
    pub pid_namespace: u64,
    /// The host (or container) name the process ran on.
    pub host: String,
}

/// Whether a process can be shown to run, shown to be gone, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// It runs: its pid holds a process with its start time.
    Alive,
    /// Provably gone: same kernel, pid namespace and host as the asker, and
    /// its pid is free or holds another process.
    Gone,
    /// The asker cannot see it: another boot, pid namespace or host, or an
    /// identity recorded incompletely.
    Unknown,
}

impl Identity {
    /// This process.
    pub fn current() -> Identity {
        Identity::of(std::process::id()).unwrap_or_else(|| Identity {
            pid: std::process::id(),
            start_time: 0,
            ..Identity::here(0)
        })
    }

    /// Another process of this pid namespace, by pid; `None` when it is gone.
    pub fn of(pid: u32) -> Option<Identity> {
        Some(Identity {
            start_time: start_time(pid)?,
            ..Identity::here(pid)
        })
    }

    /// `pid` with this process's boot, pid namespace and host.
    fn here(pid: u32) -> Identity {
        Identity {
            pid,
            start_time: 0,
            boot_id: boot_id(),
            pid_namespace: pid_namespace(),
            host: host_name(),
        }
    }

    /// Whether the process runs, as far as this process can tell.
    pub fn presence(&self) -> Presence {
        let me = Identity::here(0);
        let comparable = self.start_time != 0
            && self.pid_namespace != 0
            && !self.boot_id.is_empty()
            && self.boot_id == me.boot_id
            && self.pid_namespace == me.pid_namespace
            && self.host == me.host;
        if !comparable {
            Presence::Unknown
        } else if start_time(self.pid) == Some(self.start_time) {
            Presence::Alive
        } else {
            Presence::Gone
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on {}", self.pid, self.host)
    }
}

fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn pid_namespace() -> u64 {
    fs::metadata("/proc/self/ns/pid")
        .map(|m| m.ino())
        .unwrap_or(0)
}

fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The start time of `pid`, `None` when it does not exist.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count from its closing ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{Identity, Presence};

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_gone() {
        let me = Identity::current();
        assert!(me.start_time > 0 && me.pid_namespace > 0);
        assert_eq!(me.presence(), Presence::Alive);
        let impostor = Identity {
            start_time: me.start_time + 1,
            ..me
        };
        assert_eq!(impostor.presence(), Presence::Gone);
    }

    #[test]
    fn another_namespace_boot_or_host_is_unknown_never_gone() {
        let me = Identity::current();
        let dead = Identity {
            start_time: me.start_time + 1,
            ..me.clone()
        };
        for other in [
            Identity {
                pid_namespace: dead.pid_namespace + 1,
                ..dead.clone()
            },
            Identity {
                boot_id: "another-boot".into(),
                ..dead.clone()
            },
            Identity {
                host: "another-host".into(),
                ..dead.clone()
            },
            Identity {
                pid_namespace: 0,
                ..dead.clone()
            },
        ] {
            assert_eq!(other.presence(), Presence::Unknown, "{other:?}");
        }
    }
}
