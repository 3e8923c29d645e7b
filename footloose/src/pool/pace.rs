//! Pacing a refiller: its boots are background work, so each starts only
//! when the engine's host has a core to spare.
//!
//! A boot is CPU-bound, and most of its cost is not in the machine:
//! measured on 2 cores, a `footloose/debian12` boot costs about 0.65
//! CPU-seconds, of which its systemd (the container's cgroup) uses 0.19;
//! the rest is the engine's (dockerd, containerd, runc, iptables,
//! `docker-proxy`) and the readiness check's. So neither lowering the
//! machine's CPU weight nor the refiller's `nice` keeps a boot off the
//! tests' cores: a 40-test suite took 13.9 s beside a pool refilled at
//! `CpuShares` 2, and 13.2 s at the default, against 9.3 s with no
//! refill at all. What works is not starting a boot while the cores are
//! busy.
//!
//! So a refiller reads the host's CPU time (`/proc/stat`) and starts a
//! boot only once a whole core stayed idle over a short window
//! ([`IdleCore`]). Tests that wait (a service coming up, a play) leave
//! cores idle, and the pool refills beside them; a suite that keeps the
//! cores busy is not slowed by boots it would pay for twice (a boot
//! taken from the pool later costs what it saved), and the pool refills
//! once the suite ends. The boots a refiller has started each count
//! against the idle cores of the next window, so a quiet host gets about
//! a boot per idle core, and never more than [`super::fill::boot_slots`].
//!
//! This needs the engine on this host's kernel. For an engine reached
//! over the network, whose load cannot be seen from here, and for `pool
//! fill`, which a user waits for, boots start as soon as slots allow
//! ([`Eager`]).

use std::time::Duration;

/// When a fill may start its next boot.
#[async_trait::async_trait]
pub(crate) trait Gate: Send {
    /// Waits at most about `within` for a boot to be allowed: true when it
    /// is, false when the host stayed busy meanwhile (so that the caller
    /// can check it is still wanted, and wait again).
    async fn wait(&mut self, within: Duration) -> bool;
}

/// Every boot may start at once.
pub(crate) struct Eager;

#[async_trait::async_trait]
impl Gate for Eager {
    async fn wait(&mut self, _within: Duration) -> bool {
        true
    }
}

/// A boot may start once a whole core of this host stayed idle over
/// [`IdleCore::WINDOW`].
pub(crate) struct IdleCore;

impl IdleCore {
    /// How long the host is watched before a boot starts: long enough to
    /// see through a test's short pauses (a process starting, an ssh round
    /// trip), short against a boot (about a second).
    pub(crate) const WINDOW: Duration = Duration::from_millis(250);

    /// How many cores must have been idle over the window: about what one
    /// boot takes while it runs.
    pub(crate) const IDLE_CORES: f64 = 1.0;

    /// Whether `idle` cores of a host of `cores` leave room for a boot:
    /// [`IDLE_CORES`](Self::IDLE_CORES), or three quarters of a host
    /// smaller than that would make it (a one-core host is never wholly
    /// idle for a window: its own daemons tick).
    pub(crate) fn room_for_a_boot(idle: f64, cores: usize) -> bool {
        idle >= Self::IDLE_CORES.min(0.75 * cores as f64)
    }
}

#[async_trait::async_trait]
impl Gate for IdleCore {
    async fn wait(&mut self, within: Duration) -> bool {
        let Some(mut before) = CpuTimes::read() else {
            // No `/proc/stat` to read: the load cannot be seen.
            return true;
        };
        let mut waited = Duration::ZERO;
        loop {
            tokio::time::sleep(Self::WINDOW).await;
            waited += Self::WINDOW;
            let Some(after) = CpuTimes::read() else {
                return true;
            };
            if Self::room_for_a_boot(after.idle_cores_since(&before), after.cores) {
                return true;
            }
            if waited >= within {
                return false;
            }
            before = after;
        }
    }
}

/// The host's CPU time so far, from the first line of `/proc/stat`, in
/// clock ticks of all cores together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CpuTimes {
    /// Ticks spent idle or waiting for I/O.
    idle: u64,
    /// All ticks.
    total: u64,
    /// How many cores the host has (its `cpuN` lines).
    cores: usize,
}

impl CpuTimes {
    /// This host's, `None` where `/proc/stat` cannot be read.
    fn read() -> Option<CpuTimes> {
        CpuTimes::parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The times in the text of `/proc/stat`.
    pub(crate) fn parse(stat: &str) -> Option<CpuTimes> {
        let mut lines = stat.lines();
        let first = lines.next()?;
        let mut fields = first.split_whitespace();
        if fields.next()? != "cpu" {
            return None;
        }
        // user nice system idle iowait irq softirq steal (guest time is
        // in user already).
        let ticks: Vec<u64> = fields.take(8).map_while(|f| f.parse().ok()).collect();
        if ticks.len() < 5 {
            return None;
        }
        let cores = lines
            .filter(|line| {
                line.strip_prefix("cpu")
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            })
            .count();
        Some(CpuTimes {
            idle: ticks[3] + ticks[4],
            total: ticks.iter().sum(),
            cores: cores.max(1),
        })
    }

    /// How many cores were idle on average between `before` and these.
    pub(crate) fn idle_cores_since(&self, before: &CpuTimes) -> f64 {
        let total = self.total.saturating_sub(before.total);
        if total == 0 {
            // No tick went by (a window shorter than a tick): nothing seen.
            return 0.0;
        }
        let idle = self.idle.saturating_sub(before.idle);
        idle as f64 / total as f64 * self.cores as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(user: u64, idle: u64, iowait: u64) -> String {
        format!(
            "cpu  {user} 0 0 {idle} {iowait} 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\ncpu1 1 0 0 1 0 0 0 0 0 0\nintr 5\n"
        )
    }

    #[test]
    fn proc_stat_gives_idle_and_total_ticks_of_every_core() {
        let times = CpuTimes::parse(&stat(300, 500, 200)).unwrap();
        assert_eq!(
            times,
            CpuTimes {
                idle: 700,
                total: 1000,
                cores: 2
            }
        );
        assert_eq!(CpuTimes::parse("intr 5\n"), None);
        assert_eq!(CpuTimes::parse(""), None);
    }

    #[test]
    fn idle_cores_are_the_idle_share_of_the_window_times_the_cores() {
        let before = CpuTimes::parse(&stat(0, 0, 0)).unwrap();
        // Two cores, 100 ticks: 50 busy, 50 idle: one core idle.
        let half = CpuTimes::parse(&stat(50, 40, 10)).unwrap();
        assert!((half.idle_cores_since(&before) - 1.0).abs() < 1e-9);
        // Both busy: no core idle.
        let busy = CpuTimes::parse(&stat(100, 0, 0)).unwrap();
        assert_eq!(busy.idle_cores_since(&before), 0.0);
        // No tick between the two readings: nothing to go by.
        assert_eq!(before.idle_cores_since(&before), 0.0);
    }

    #[test]
    fn a_boot_needs_a_whole_idle_core_or_most_of_a_single_core_host() {
        assert!(IdleCore::room_for_a_boot(1.0, 2));
        assert!(!IdleCore::room_for_a_boot(0.9, 2));
        assert!(!IdleCore::room_for_a_boot(0.9, 64));
        // One core, never quite idle: most of it will do.
        assert!(IdleCore::room_for_a_boot(0.97, 1));
        assert!(!IdleCore::room_for_a_boot(0.5, 1));
    }

    #[tokio::test]
    async fn an_eager_gate_is_always_open() {
        assert!(Eager.wait(Duration::ZERO).await);
    }
}
