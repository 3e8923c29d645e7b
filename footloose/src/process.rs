//! Who a process is, robustly enough to tell later whether it still runs.

use std::fs;

/// A process, identified so that pid reuse is detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The process id.
    pub pid: u32,
    /// Its start time in clock ticks since boot (field 22 of /proc/PID/stat).
    pub start_time: u64,
    /// The kernel's boot id.
    pub boot_id: String,
}

impl Identity {
    /// This process.
    pub fn current() -> Identity {
        let pid = std::process::id();
        Identity {
            pid,
            start_time: start_time(pid).unwrap_or(0),
            boot_id: boot_id(),
        }
    }

    /// Another process of this host, by pid; `None` when it is gone.
    pub fn of(pid: u32) -> Option<Identity> {
        Some(Identity {
            pid,
            start_time: start_time(pid)?,
            boot_id: boot_id(),
        })
    }

    /// Whether the process is still running on this host. Objects made on
    /// another boot, or whose pid now belongs to another process, are not.
    pub fn is_alive(&self) -> bool {
        self.boot_id == boot_id() && start_time(self.pid) == Some(self.start_time)
    }
}

fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
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
    use super::Identity;

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = Identity::current();
        assert!(me.start_time > 0);
        assert!(me.is_alive());
        let impostor = Identity {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(!impostor.is_alive());
    }
}
