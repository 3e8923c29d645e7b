//! Where the CPU goes while machines are made: the whole host from
//! `/proc/stat`, the machines from their cgroups' accounting, the engine's
//! daemons from `/proc/PID/stat`, and the client (footloose in this process,
//! or the baseline's `docker`/`incus` and `ssh` children) from `getrusage`.
//! The rest is shims, runc, liblxc, proxies and the kernel's namespace and
//! network set-up.

use std::process::Command;

/// Clock ticks per second of `/proc` figures (USER_HZ).
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as f64
}

/// CPU counters at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    host: f64,
    daemons: f64,
    incusd: f64,
    own: f64,
    children: f64,
}

impl Snapshot {
    pub fn now() -> Snapshot {
        Snapshot {
            host: host_busy_seconds(),
            daemons: daemon_seconds(&["dockerd", "containerd", "podman"]),
            incusd: daemon_seconds(&["incusd"]),
            own: rusage_seconds(libc::RUSAGE_SELF),
            children: rusage_seconds(libc::RUSAGE_CHILDREN),
        }
    }
}

/// The engine whose daemons count.
#[derive(Debug, Clone, Copy)]
pub enum Daemons {
    /// dockerd and containerd (and Podman's service).
    Docker,
    /// incusd, and its `forkproxy` children (the proxy devices).
    Incus,
}

/// CPU-seconds spent between two snapshots, split by where.
#[derive(Debug, Clone, Copy, Default)]
pub struct Split {
    pub total: f64,
    pub machines: f64,
    pub daemons: f64,
    pub client: f64,
}

impl Split {
    /// Between `before` and `after`, with `machines` CPU-seconds measured in
    /// the machines' cgroups; the client is this process for footloose and
    /// its children for the baseline.
    pub fn between(
        before: Snapshot,
        after: Snapshot,
        machines: f64,
        client_is_self: bool,
        daemons: Daemons,
    ) -> Split {
        let client = if client_is_self {
            after.own - before.own
        } else {
            after.children - before.children
        };
        Split {
            total: after.host - before.host,
            machines,
            daemons: match daemons {
                Daemons::Docker => after.daemons - before.daemons,
                Daemons::Incus => after.incusd - before.incusd,
            },
            client,
        }
    }

    /// What no counter above claims.
    pub fn rest(&self) -> f64 {
        (self.total - self.machines - self.daemons - self.client).max(0.0)
    }
}

/// Busy CPU-seconds of every core since boot (`/proc/stat`'s first line,
/// without idle and iowait).
fn host_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: f64 = fields
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .map(|(_, v)| v)
        .sum();
    busy / ticks_per_second()
}

/// utime + stime of the processes whose command is one of `names`.
fn daemon_seconds(names: &[&str]) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut ticks = 0.0;
    for entry in entries.flatten() {
        let path = entry.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if !names.contains(&comm.trim()) {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // The fields after the command's closing parenthesis; utime and
        // stime are the 14th and 15th of the whole line.
        if let Some((_, after)) = stat.rsplit_once(')') {
            let fields: Vec<f64> = after
                .split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect();
            if fields.len() > 12 {
                ticks += fields[11] + fields[12];
            }
        }
    }
    ticks / ticks_per_second()
}

fn rusage_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// CPU-seconds used so far inside the containers `names` (their cgroups,
/// cgroup v1 or v2, cgroupfs or systemd driver).
pub fn machines_seconds(names: &[String]) -> f64 {
    let mut args = vec!["inspect".to_owned(), "-f".into(), "{{.Id}}".into()];
    args.extend(names.iter().cloned());
    let Ok(out) = Command::new("docker").args(&args).output() else {
        return f64::NAN;
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|id| container_seconds(id.trim()).unwrap_or(f64::NAN))
        .sum()
}

fn container_seconds(id: &str) -> Option<f64> {
    let v1 = [
        format!("/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage"),
        format!("/sys/fs/cgroup/cpuacct/system.slice/docker-{id}.scope/cpuacct.usage"),
        format!("/sys/fs/cgroup/cpu,cpuacct/docker/{id}/cpuacct.usage"),
    ];
    for path in v1 {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text.trim().parse::<f64>().ok().map(|ns| ns / 1e9);
        }
    }
    let v2 = [
        format!("/sys/fs/cgroup/docker/{id}/cpu.stat"),
        format!("/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat"),
    ];
    for path in v2 {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text
                .lines()
                .find_map(|l| l.strip_prefix("usage_usec "))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map(|us| us / 1e6);
        }
    }
    None
}

/// CPU-seconds used so far inside the Incus instances `names` (their
/// `lxc.payload.NAME` cgroups, cgroup v1 or v2).
pub fn incus_machines_seconds(names: &[String]) -> f64 {
    names
        .iter()
        .map(|name| {
            let v1 = [
                format!("/sys/fs/cgroup/cpuacct/lxc.payload.{name}/cpuacct.usage"),
                format!("/sys/fs/cgroup/cpu,cpuacct/lxc.payload.{name}/cpuacct.usage"),
            ];
            for path in v1 {
                if let Ok(text) = std::fs::read_to_string(path) {
                    return text.trim().parse::<f64>().map_or(f64::NAN, |ns| ns / 1e9);
                }
            }
            std::fs::read_to_string(format!("/sys/fs/cgroup/lxc.payload.{name}/cpu.stat"))
                .ok()
                .and_then(|text| {
                    text.lines()
                        .find_map(|l| l.strip_prefix("usage_usec "))
                        .and_then(|v| v.trim().parse::<f64>().ok())
                })
                .map_or(f64::NAN, |us| us / 1e6)
        })
        .sum()
}
