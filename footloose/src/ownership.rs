//! Who owns a cluster and until when, as typed labels, and the one rule
//! that says when anyone but its owner may remove it.
//!
//! ## Why a watchdog and a lease, not a reaper container
//! testcontainers' Ryuk runs a reaper *container* on the engine that holds
//! a TCP connection from each test process and removes that process's
//! objects by label once the connection drops. It sees every owner, on any
//! host, because it lives on the engine. footloose does not use that
//! design: the reaper needs an image (no registry may be reachable here, so
//! footloose would have to build one more image before the first test), it
//! needs the engine's socket mounted into it (a different path on Podman,
//! rootless or remote engines), and the test process must reach a port
//! the reaper publishes, the very thing a remote engine makes hard.
//!
//! Instead, every guarantee is kept where it can be proven:
//! - the *watchdog* (a child process in the owner's own pid namespace)
//!   removes the owner's clusters when its pipe closes: SIGKILL included,
//!   on every engine and host;
//! - a *janitor* removes a test cluster only when its owner is provably
//!   gone: same kernel boot, same pid namespace, same host, and the pid free
//!   or reused ([`Presence::Gone`]); an owner it cannot see is left alone;
//! - a *lease* covers the one case left, an owner that died together with
//!   its watchdog where nobody can see it (a CI job's container killed
//!   whole): past `io.footloose.lease-expires` any janitor, or
//!   `footloose prune --expired`, may remove the cluster.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::labels::{self, Lifetime};
use crate::process::{Identity, Presence};

/// How long a test cluster's lease runs when nothing else is said: longer
/// than any sane test run, short enough that a dead CI job's machines do
/// not outlive the working day.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(3 * 60 * 60);

/// How long a pooled cluster waits for a test when `FOOTLOOSE_POOL_LEASE`
/// does not say: a CI job's warm-up and its run fit in it, and a pool
/// nobody drains is gone within the half hour.
pub const DEFAULT_POOL_LEASE: Duration = Duration::from_secs(30 * 60);

/// Who owns the objects of a cluster: the labels every container, network
/// and volume of it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    /// The cluster's name.
    pub cluster: String,
    /// Whether it lives until deleted or until its owner ends.
    pub lifetime: Lifetime,
    /// The process that created it.
    pub owner: Identity,
    /// The owner's watchdog (same boot, namespace and host), if it has one.
    pub watchdog: Option<(u32, u64)>,
    /// When anyone may remove it, in seconds since the Unix epoch.
    pub lease_expires: Option<u64>,
    /// The `create` call that made the object (see [`labels::CREATION`]).
    pub creation: Option<String>,
    /// The container of the cluster's engine the owner ran in (see
    /// [`labels::OWNER_CONTAINER`]).
    pub owner_container: Option<String>,
    /// The pool the cluster was made for (see [`labels::POOL`]).
    pub pool: Option<String>,
}

/// What a janitor may do with a cluster, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Leave it: its owner lives, its watchdog will act, it is not a test
    /// cluster, or nothing proves it abandoned.
    Keep,
    /// Remove it: its owner is provably gone and so is its watchdog.
    OwnerGone,
    /// Remove it: its owner cannot be seen and its lease has run out.
    LeaseExpired,
}

impl Ownership {
    /// The ownership of a cluster that this process creates now.
    pub fn new(
        cluster: &str,
        lifetime: Lifetime,
        watchdog: Option<&Identity>,
        lease: Option<Duration>,
    ) -> Ownership {
        let expires = lease.map(|lease| (SystemTime::now() + lease).duration_since(UNIX_EPOCH));
        Ownership {
            cluster: cluster.to_owned(),
            lifetime,
            owner: Identity::current(),
            watchdog: watchdog.map(|w| (w.pid, w.start_time)),
            lease_expires: expires.and_then(Result::ok).map(|d| d.as_secs()),
            creation: None,
            owner_container: None,
            pool: None,
        }
    }

    /// The same ownership, of a cluster made for the pool `key`.
    pub fn for_pool(mut self, key: Option<&str>) -> Ownership {
        self.pool = key.map(str::to_owned);
        self
    }

    /// The same ownership, its owner running in container `id` of the
    /// cluster's engine (`None`: not in one).
    pub fn in_container(mut self, id: Option<&str>) -> Ownership {
        self.owner_container = id.map(str::to_owned);
        self
    }

    /// The same ownership, for objects made by the `create` call `id`.
    pub fn made_by(mut self, id: &str) -> Ownership {
        self.creation = Some(id.to_owned());
        self
    }

    /// The labels that say all of this.
    pub fn to_labels(&self) -> HashMap<String, String> {
        let mut map = HashMap::from([
            (labels::MANAGED.to_owned(), "true".to_owned()),
            (labels::CLUSTER.to_owned(), self.cluster.clone()),
            (
                labels::LIFETIME.to_owned(),
                self.lifetime.as_str().to_owned(),
            ),
            (labels::OWNER_PID.to_owned(), self.owner.pid.to_string()),
            (
                labels::OWNER_START.to_owned(),
                self.owner.start_time.to_string(),
            ),
            (labels::BOOT_ID.to_owned(), self.owner.boot_id.clone()),
            (
                labels::OWNER_PID_NAMESPACE.to_owned(),
                self.owner.pid_namespace.to_string(),
            ),
            (labels::OWNER_HOST.to_owned(), self.owner.host.clone()),
        ]);
        if let Some((pid, start)) = self.watchdog {
            map.insert(labels::WATCHDOG_PID.to_owned(), pid.to_string());
            map.insert(labels::WATCHDOG_START.to_owned(), start.to_string());
        }
        if let Some(container) = &self.owner_container {
            map.insert(labels::OWNER_CONTAINER.to_owned(), container.clone());
        }
        if let Some(expires) = self.lease_expires {
            map.insert(labels::LEASE_EXPIRES.to_owned(), expires.to_string());
        }
        if let Some(creation) = &self.creation {
            map.insert(labels::CREATION.to_owned(), creation.clone());
        }
        if let Some(pool) = &self.pool {
            map.insert(labels::POOL.to_owned(), pool.clone());
        }
        map
    }

    /// Reads the ownership back; `None` for an object without a cluster
    /// or lifetime label. An owner recorded by an older footloose (no pid
    /// namespace) reads as one whose presence is unknown.
    pub fn from_labels(map: &HashMap<String, String>) -> Option<Ownership> {
        let number = |key: &str| map.get(key).and_then(|v| v.parse::<u64>().ok());
        let lifetime = match map.get(labels::LIFETIME)?.as_str() {
            "test" => Lifetime::Test,
            "pool" => Lifetime::Pool,
            _ => Lifetime::Cli,
        };
        let owner = Identity {
            pid: number(labels::OWNER_PID).unwrap_or(0) as u32,
            start_time: number(labels::OWNER_START).unwrap_or(0),
            boot_id: map.get(labels::BOOT_ID).cloned().unwrap_or_default(),
            pid_namespace: number(labels::OWNER_PID_NAMESPACE).unwrap_or(0),
            host: map.get(labels::OWNER_HOST).cloned().unwrap_or_default(),
        };
        let watchdog = number(labels::WATCHDOG_PID)
            .zip(number(labels::WATCHDOG_START))
            .map(|(pid, start)| (pid as u32, start));
        Some(Ownership {
            cluster: map.get(labels::CLUSTER)?.clone(),
            lifetime,
            owner,
            watchdog,
            lease_expires: number(labels::LEASE_EXPIRES),
            creation: map.get(labels::CREATION).cloned(),
            owner_container: map.get(labels::OWNER_CONTAINER).cloned(),
            pool: map.get(labels::POOL).cloned(),
        })
    }

    /// The owner's watchdog as a full identity (it shares the owner's
    /// boot, pid namespace and host).
    pub fn watchdog_identity(&self) -> Option<Identity> {
        self.watchdog.map(|(pid, start_time)| Identity {
            pid,
            start_time,
            ..self.owner.clone()
        })
    }

    /// Whether the lease has run out at `now`.
    pub fn lease_expired(&self, now: SystemTime) -> bool {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.lease_expires.is_some_and(|expires| expires <= now)
    }

    /// Whether this process may remove the cluster at `now`. CLI clusters
    /// are never removed behind the user's back.
    pub fn verdict(&self, now: SystemTime) -> Verdict {
        match self.lifetime {
            Lifetime::Cli => return Verdict::Keep,
            // A pooled cluster waiting for a test has no owner to outlive:
            // its lease alone says when it goes.
            Lifetime::Pool if self.lease_expired(now) => return Verdict::LeaseExpired,
            Lifetime::Pool => return Verdict::Keep,
            Lifetime::Test => {}
        }
        let owner = self.owner.presence();
        let watchdog = self
            .watchdog_identity()
            .map(|w| w.presence())
            .unwrap_or(Presence::Gone);
        match (owner, watchdog) {
            (Presence::Alive, _) | (_, Presence::Alive) => Verdict::Keep,
            (Presence::Gone, _) => Verdict::OwnerGone,
            (Presence::Unknown, _) if self.lease_expired(now) => Verdict::LeaseExpired,
            (Presence::Unknown, _) => Verdict::Keep,
        }
    }
}

impl Ownership {
    /// [`verdict`](Self::verdict), knowing whether the container the owner
    /// ran in still runs (`None`: it ran in none, or nobody asked). An
    /// owner whose container stopped or went is gone, however far away
    /// its pid namespace is; its watchdog ran in that container too.
    pub fn verdict_seeing(&self, now: SystemTime, owner_container_runs: Option<bool>) -> Verdict {
        let verdict = self.verdict(now);
        let owner_alive = self.owner.presence() == Presence::Alive;
        match (verdict, owner_container_runs) {
            (Verdict::Keep, Some(false)) if self.lifetime == Lifetime::Test && !owner_alive => {
                Verdict::OwnerGone
            }
            _ => verdict,
        }
    }
}

/// `45s`, `90m`, `3h`, `1d` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => return None,
    };
    Some(Duration::from_secs(number.checked_mul(seconds)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_cluster(lease: Option<Duration>) -> Ownership {
        Ownership::new("c", Lifetime::Test, None, lease)
    }

    #[test]
    fn labels_round_trip() {
        let watchdog = Identity {
            pid: 7,
            start_time: 9,
            ..Identity::current()
        };
        let ownership = Ownership::new(
            "c",
            Lifetime::Test,
            Some(&watchdog),
            Some(Duration::from_secs(60)),
        )
        .made_by("1a2b3c");
        let back = Ownership::from_labels(&ownership.to_labels()).unwrap();
        assert_eq!(back, ownership);
        assert_eq!(back.watchdog_identity(), Some(watchdog));
    }

    #[test]
    fn a_live_owner_is_kept_even_past_its_lease() {
        let mut ownership = test_cluster(Some(Duration::ZERO));
        ownership.lease_expires = Some(0);
        assert_eq!(ownership.verdict(SystemTime::now()), Verdict::Keep);
    }

    #[test]
    fn a_gone_owner_in_this_namespace_is_removed() {
        let mut ownership = test_cluster(None);
        ownership.owner.start_time += 1;
        assert_eq!(ownership.verdict(SystemTime::now()), Verdict::OwnerGone);
    }

    #[test]
    fn an_unseen_owner_is_kept_until_its_lease_runs_out() {
        let mut ownership = test_cluster(Some(Duration::from_secs(3600)));
        ownership.owner.start_time += 1;
        ownership.owner.pid_namespace += 1;
        let now = SystemTime::now();
        assert_eq!(ownership.verdict(now), Verdict::Keep);
        let later = now + Duration::from_secs(3601);
        assert_eq!(ownership.verdict(later), Verdict::LeaseExpired);
        ownership.lease_expires = None;
        assert_eq!(ownership.verdict(later), Verdict::Keep);
    }

    #[test]
    fn an_older_label_set_without_a_namespace_is_never_judged_gone() {
        let mut map = test_cluster(None).to_labels();
        map.remove(labels::OWNER_PID_NAMESPACE);
        map.insert(labels::OWNER_START.into(), "1".into());
        let ownership = Ownership::from_labels(&map).unwrap();
        assert_eq!(ownership.verdict(SystemTime::now()), Verdict::Keep);
    }

    #[test]
    fn cli_clusters_are_never_judged() {
        let mut ownership = Ownership::new("c", Lifetime::Cli, None, None);
        ownership.owner.start_time += 1;
        ownership.lease_expires = Some(0);
        assert_eq!(ownership.verdict(SystemTime::now()), Verdict::Keep);
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("3h"), Some(Duration::from_secs(10800)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86400)));
        assert_eq!(parse_duration("3 hours"), None);
        assert_eq!(parse_duration("h"), None);
    }
}
