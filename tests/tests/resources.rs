//! `resources:` on Docker, seen from inside the machine: its cgroup's
//! memory limit and CPU quota, on cgroup v1 and v2.
//!
//! Where the machine's cgroup stands in the tree it sees depends on the
//! engine: with the host's cgroup namespace and `/sys/fs/cgroup` bound
//! in (unprivileged machines on Docker), a command's cgroup is
//! `/docker/<id>/system.slice/ssh.service` (or a login's scope) under the
//! host's root; with a private namespace, it is `/system.slice/…` under
//! the container's own. Either way the limits are those of the
//! container's cgroup, an ancestor of the command's, so the script walks
//! from the shell's own cgroup up to the root of the mounted tree and
//! prints every limit file on the way; the tightest is the machine's. A
//! command that systemd had put outside the container's cgroup (the
//! host's root cpu cgroup, as it does on cgroup v1 without CPU
//! accounting: see `footloose::guest`) finds no quota and fails.

use footloose::Cluster;

/// Prints `<path>: <value>` for each limit file in this shell's cgroup and
/// in each of its ancestors: `memory.max` and `cpu.max` on cgroup v2;
/// `memory.limit_in_bytes`, `cpu.cfs_quota_us` and `cpu.cfs_period_us` on
/// v1 (the cpu controller mounted as `cpu` or `cpu,cpuacct`).
const LIMITS: &str = r#"
walk() { # $1: the mounted root, $2: this shell's cgroup in it, then the files
    root=$1; dir=$1$2; shift 2
    while :; do
        for f in "$@"; do
            if [ -r "$dir/$f" ]; then echo "$dir/$f: $(cat "$dir/$f")"; fi
        done
        if [ "$dir" = "$root" ]; then break; fi
        dir=${dir%/*}
    done
}
cgroup_of() { # the cgroup of this shell in the hierarchy of controller $1
    awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup
}
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    rel=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
    walk /sys/fs/cgroup "${rel%/}" memory.max cpu.max
else
    walk /sys/fs/cgroup/memory "$(cgroup_of memory)" memory.limit_in_bytes
    for cpu in /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct; do
        if [ -d "$cpu" ]; then
            walk "$cpu" "$(cgroup_of cpu)" cpu.cfs_quota_us cpu.cfs_period_us
            break
        fi
    done
fi
"#;

/// The tightest limits of the script's output: bytes, and the CPU quota
/// as (quota, period) in microseconds.
fn tightest(report: &str) -> (Option<u64>, Option<(u64, u64)>) {
    let mut memory: Option<u64> = None;
    let mut quotas: Vec<(u64, u64)> = Vec::new();
    let mut v1_quota: Option<(&str, i64)> = None;
    for line in report.lines() {
        let (path, value) = line.split_once(": ").expect("`<path>: <value>`");
        let (dir, file) = path.rsplit_once('/').expect("a path");
        match file {
            "memory.max" | "memory.limit_in_bytes" => {
                // `max` is v2's "no limit"; v1's is a number near 2^63.
                if let Ok(bytes) = value.parse::<u64>() {
                    memory = Some(memory.map_or(bytes, |m| m.min(bytes)));
                }
            }
            "cpu.max" => {
                let (quota, period) = value.split_once(' ').expect("`<quota> <period>`");
                if quota != "max" {
                    quotas.push((quota.parse().unwrap(), period.parse().unwrap()));
                }
            }
            // The quota comes first, then the period of the same directory.
            "cpu.cfs_quota_us" => v1_quota = Some((dir, value.parse().unwrap())),
            "cpu.cfs_period_us" => {
                let (quota_dir, quota) = v1_quota.take().expect("the quota first");
                assert_eq!(quota_dir, dir, "{report}");
                if quota >= 0 {
                    quotas.push((quota as u64, value.parse().unwrap()));
                }
            }
            other => panic!("unexpected file {other}"),
        }
    }
    // The smallest share of a CPU, in billionths of one.
    let cpu = quotas
        .into_iter()
        .min_by_key(|&(q, p)| (q as u128 * 1_000_000_000 / p as u128, p));
    (memory, cpu)
}

#[footloose::cluster("resources.yaml")]
fn the_machines_cgroup_holds_its_memory_limit_and_cpu_quota(cluster: &Cluster) {
    let report = cluster
        .machine("node0")
        .exec(LIMITS)
        .unwrap()
        .checked()
        .unwrap()
        .stdout();
    let (memory, cpu) = tightest(&report);
    assert_eq!(memory, Some(268_435_456), "256Mi:\n{report}");
    let (quota, period) = cpu.unwrap_or_else(|| panic!("no CPU quota:\n{report}"));
    assert_eq!(2 * quota, period, "half a CPU:\n{report}");
}

#[test]
fn the_tightest_limits_are_found_on_both_cgroup_versions() {
    let v1 = "/sys/fs/cgroup/memory/docker/x/user.slice/memory.limit_in_bytes: 9223372036854771712
/sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes: 268435456
/sys/fs/cgroup/memory/memory.limit_in_bytes: 9223372036854771712
/sys/fs/cgroup/cpu/docker/x/user.slice/cpu.cfs_quota_us: -1
/sys/fs/cgroup/cpu/docker/x/user.slice/cpu.cfs_period_us: 100000
/sys/fs/cgroup/cpu/docker/x/cpu.cfs_quota_us: 50000
/sys/fs/cgroup/cpu/docker/x/cpu.cfs_period_us: 100000
/sys/fs/cgroup/cpu/cpu.cfs_quota_us: -1
/sys/fs/cgroup/cpu/cpu.cfs_period_us: 100000
";
    assert_eq!(tightest(v1), (Some(268_435_456), Some((50_000, 100_000))));
    let v2 = "/sys/fs/cgroup/user.slice/memory.max: max
/sys/fs/cgroup/user.slice/cpu.max: max 100000
/sys/fs/cgroup/memory.max: 268435456
/sys/fs/cgroup/cpu.max: 50000 100000
";
    assert_eq!(tightest(v2), (Some(268_435_456), Some((50_000, 100_000))));
    assert_eq!(tightest(""), (None, None));
}
