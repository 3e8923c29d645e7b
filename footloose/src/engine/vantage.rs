//! Where this process runs as the engine sees it, and the route to the
//! machines that follows.
//!
//! CI jobs (GitLab's docker executor, GitHub's `container:` jobs, Jenkins
//! Docker agents, devcontainers with docker-outside-of-docker) run in a
//! container that mounts the host's engine socket. The ports footloose
//! publishes are bound on the host's loopback, which a process in another
//! network namespace cannot reach.
//!
//! testcontainers answers this by connecting to the job's default gateway
//! (or `TESTCONTAINERS_HOST_OVERRIDE`) with ports published on every
//! address. Its users report where that breaks: user networks whose
//! gateway is firewalled from the job (GitHub's `container:` jobs), `--network
//! host` jobs, and every port opened to the whole network. footloose
//! instead finds its own container through the engine and attaches each
//! *machine* to the job container's network, reaching port 22 of the
//! machine's address there. Nothing of the job's container changes, no
//! port is opened beyond the host's loopback, no tool (`ip`) is needed in
//! the job image, and when the cluster goes its machines' attachments go
//! with them: there is nothing to detach. `FOOTLOOSE_REACH` or the
//! config's `cluster.reach` choose otherwise where this rule does not fit.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::backend::Backend;
use crate::reach::{Reach, Route};

/// The container this process runs in, as its engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobContainer {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its network mode (`bridge`, `host`, `none`, a network's name).
    pub network_mode: String,
    /// The networks its network namespace is on, with its address on each
    /// (those of the container it shares the namespace with, for
    /// `container:ID`).
    pub networks: BTreeMap<String, Option<IpAddr>>,
}

impl JobContainer {
    /// The networks it has an address on (Docker lists `none` for a
    /// container without a network).
    fn usable_networks(&self) -> Vec<&str> {
        self.networks
            .iter()
            .filter(|(name, ip)| ip.is_some() && !matches!(name.as_str(), "none" | "host"))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The network machines are reached on: the one it was started on,
    /// else its only one. With several and none named by its network mode,
    /// footloose does not guess (one may be internal, or refuse traffic
    /// between containers).
    fn primary_network(&self) -> Option<&str> {
        let usable = self.usable_networks();
        let mode = match self.network_mode.as_str() {
            "default" => "bridge",
            other => other,
        };
        match usable.iter().find(|name| **name == mode) {
            Some(name) => Some(name),
            None if usable.len() == 1 => Some(usable[0]),
            None => None,
        }
    }

    fn shares_the_hosts_network(&self) -> bool {
        self.network_mode == "host"
    }
}

/// Where this process runs relative to its engine.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// use footloose::engine::Vantage;
///
/// match engine.vantage() {
///     Vantage::Inside(job) => println!("in container {} on {:?}", job.name, job.networks.keys()),
///     _ => println!("{}", engine.vantage().describe()),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Vantage {
    /// Not in a container of this engine: on its host, or elsewhere.
    Outside,
    /// In a container of this engine.
    Inside(JobContainer),
}

impl Vantage {
    /// The id of the container this process runs in, if it runs in one of
    /// the engine's.
    ///
    /// ```no_run
    /// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
    /// let in_a_container = engine.vantage().container_id().is_some();
    /// # Ok(()) }
    /// ```
    pub fn container_id(&self) -> Option<&str> {
        match self {
            Vantage::Outside => None,
            Vantage::Inside(job) => Some(&job.id),
        }
    }

    /// "this process runs in container X on network Y", for messages.
    pub fn describe(&self) -> String {
        match self {
            Vantage::Outside => "this process runs outside the engine's containers".to_owned(),
            Vantage::Inside(job) => {
                let networks = job.usable_networks();
                format!(
                    "this process runs in container {} (network mode {}, on {})",
                    job.name,
                    job.network_mode,
                    if networks.is_empty() {
                        "no network".to_owned()
                    } else {
                        format!("network {}", networks.join(", "))
                    }
                )
            }
        }
    }
}

/// Finds the container this process runs in on `backend`'s engine, if it
/// runs in one. Asks the engine only when the process looks containerised.
pub(crate) async fn detect(backend: &dyn Backend) -> Vantage {
    for candidate in own_container_ids() {
        let Ok(Some(found)) = backend.container(&candidate).await else {
            continue;
        };
        // A name that happens to equal the candidate is not this container.
        if !found.id.starts_with(&candidate) {
            continue;
        }
        // `--network container:X` shares X's namespace: X's mode and
        // networks are this process's.
        let shared = match found.network_mode.strip_prefix("container:") {
            Some(other) => backend.container(other).await.ok().flatten(),
            None => None,
        };
        let (network_mode, networks) = match &shared {
            Some(shared) => (shared.network_mode.clone(), shared.networks.clone()),
            None if found.network_mode.starts_with("container:") => {
                (found.network_mode.clone(), BTreeMap::new())
            }
            None => (found.network_mode.clone(), found.networks.clone()),
        };
        return Vantage::Inside(JobContainer {
            id: found.id.clone(),
            name: found.name.clone(),
            network_mode,
            networks,
        });
    }
    Vantage::Outside
}

/// The ids this process's container may have, most telling first: the
/// engine's per-container files mounted over `/etc/hostname`, `/etc/hosts`
/// or `/etc/resolv.conf` (Docker's `…/containers/ID/…`, Podman's
/// `…/overlay-containers/ID/userdata/…`), the cgroup path (cgroup v1,
/// `docker-ID.scope`), then the hostname when it looks like a short id in
/// a container.
fn own_container_ids() -> Vec<String> {
    let mut ids = Vec::new();
    if let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") {
        ids.extend(ids_in_mountinfo(&mountinfo));
    }
    if let Ok(cgroup) = std::fs::read_to_string("/proc/self/cgroup") {
        ids.extend(cgroup.lines().filter_map(id_in_path));
    }
    let containerised = ["/.dockerenv", "/run/.containerenv"]
        .iter()
        .any(|p| std::path::Path::new(p).exists());
    if containerised {
        if let Ok(hostname) = std::fs::read_to_string("/etc/hostname") {
            let hostname = hostname.trim();
            if hostname.len() >= 12 && hostname.chars().all(|c| c.is_ascii_hexdigit()) {
                ids.push(hostname.to_owned());
            }
        }
    }
    ids.dedup();
    ids
}

/// The container ids in the sources of the mounts over the files an
/// engine writes for each container.
fn ids_in_mountinfo(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (root, mount_point) = (fields.get(3)?, fields.get(4)?);
            ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"]
                .contains(mount_point)
                .then(|| id_in_path(root))
                .flatten()
        })
        .collect()
}

/// The first 64-hex-digit path component (or `docker-ID.scope` /
/// `libpod-ID.scope` one) of `path`.
fn id_in_path(path: &str) -> Option<String> {
    path.split(['/', ':']).find_map(|part| {
        let part = part
            .strip_suffix(".scope")
            .map(|p| p.rsplit('-').next().unwrap_or(p))
            .unwrap_or(part);
        (part.len() == 64 && part.chars().all(|c| c.is_ascii_hexdigit())).then(|| part.to_owned())
    })
}

/// Why the route asked for cannot work from where this process runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RouteError {
    /// `network` in a container of the engine that is on no single network.
    #[error("`network` needs a network, and {vantage}")]
    NoNetwork {
        /// Where this process runs, as [`Vantage::describe`] says it.
        vantage: String,
    },
    /// `network` outside the engine's containers.
    #[error("`network` means the network of the container footloose runs in, and {vantage}: name one (`network:NAME`)")]
    NotInContainer {
        /// Where this process runs, as [`Vantage::describe`] says it.
        vantage: String,
    },
    /// A way to reach machines that this footloose does not know (a newer
    /// `footloose-config` than footloose).
    #[error("`{reach}` is not a way this footloose reaches machines")]
    Unsupported {
        /// The way, as written.
        reach: String,
    },
}

/// The route for `reach` from `vantage`, the engine's host being at
/// `engine_address` (`through_tunnel`: reached over ssh, which carries the
/// published ports). An error says why the asked-for route cannot work.
pub(crate) fn route(
    reach: &Reach,
    vantage: &Vantage,
    engine_address: IpAddr,
    through_tunnel: bool,
) -> Result<Route, RouteError> {
    let published = Route::Published {
        host: engine_address,
    };
    match reach {
        Reach::Published(None) => Ok(published),
        Reach::Published(Some(host)) => Ok(Route::Published { host: *host }),
        Reach::Network(Some(network)) => Ok(Route::Network {
            network: network.clone(),
        }),
        Reach::Network(None) => match vantage {
            Vantage::Inside(job) => job
                .primary_network()
                .map(|n| Route::Network {
                    network: n.to_owned(),
                })
                .ok_or_else(|| RouteError::NoNetwork {
                    vantage: vantage.describe(),
                }),
            Vantage::Outside => Err(RouteError::NotInContainer {
                vantage: vantage.describe(),
            }),
        },
        Reach::Auto => Ok(match vantage {
            _ if through_tunnel => published,
            Vantage::Outside => published,
            Vantage::Inside(job) if job.shares_the_hosts_network() => published,
            Vantage::Inside(job) => match job.primary_network() {
                Some(network) => Route::Network {
                    network: network.to_owned(),
                },
                None if job.usable_networks().is_empty() => Route::Unroutable {
                    reason: format!(
                        "{}: no machine can be reached from it. Run the job on a network (`docker run --network bridge …`, or the CI's default), or set FOOTLOOSE_REACH (`published:ADDRESS`, `network:NAME`) to a route that works",
                        vantage.describe()
                    ),
                },
                None => Route::Unroutable {
                    reason: format!(
                        "{}: footloose does not guess which of its networks reaches the machines; name one with FOOTLOOSE_REACH=network:NAME (or cluster.reach)",
                        vantage.describe()
                    ),
                },
            },
        }),
        other => Err(RouteError::Unsupported {
            reach: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "36f622e97dd5ba5d22b2340962ad979a1ee56040cdf6b08f435cf82fdf7651cb";

    fn job(mode: &str, networks: &[&str]) -> Vantage {
        Vantage::Inside(JobContainer {
            id: "1d".into(),
            name: "job".into(),
            network_mode: mode.into(),
            networks: networks
                .iter()
                .map(|n| (n.to_string(), Some(IpAddr::from([10, 0, 0, 9]))))
                .collect(),
        })
    }

    fn local() -> IpAddr {
        IpAddr::from([127, 0, 0, 1])
    }

    #[test]
    fn docker_and_podman_mounts_name_the_container() {
        let mountinfo = format!(
            "812 790 0:52 / / rw,relatime - overlay overlay rw\n\
             830 812 254:1 /var/lib/docker/containers/{ID}/hostname /etc/hostname rw - ext4 /dev/vda1 rw\n\
             831 812 254:1 /var/lib/docker/containers/{ID}/mounts/shm /dev/shm rw - ext4 /dev/vda1 rw\n"
        );
        assert_eq!(ids_in_mountinfo(&mountinfo), [ID]);
        let podman = format!(
            "40 30 0:33 /containers/storage/overlay-containers/{ID}/userdata/resolv.conf /etc/resolv.conf rw - tmpfs tmpfs rw\n"
        );
        assert_eq!(ids_in_mountinfo(&podman), [ID]);
        // On the engine's host, container files appear under other mount points only.
        let host = format!(
            "831 812 254:1 / /var/lib/docker/containers/{ID}/mounts/shm rw - tmpfs shm rw\n"
        );
        assert!(ids_in_mountinfo(&host).is_empty());
    }

    #[test]
    fn cgroup_paths_name_the_container() {
        assert_eq!(
            id_in_path(&format!("12:pids:/docker/{ID}")).as_deref(),
            Some(ID)
        );
        assert_eq!(
            id_in_path(&format!("0::/system.slice/docker-{ID}.scope")).as_deref(),
            Some(ID)
        );
        assert_eq!(id_in_path("0::/"), None);
    }

    #[test]
    fn on_the_host_or_through_ssh_the_published_ports_are_used() {
        let published = Route::Published { host: local() };
        assert_eq!(
            route(&Reach::Auto, &Vantage::Outside, local(), false),
            Ok(published.clone())
        );
        assert_eq!(
            route(&Reach::Auto, &job("host", &[]), local(), false),
            Ok(published.clone())
        );
        assert_eq!(
            route(&Reach::Auto, &job("bridge", &["bridge"]), local(), true),
            Ok(published)
        );
    }

    #[test]
    fn in_a_job_container_machines_are_reached_on_its_network() {
        let on = |n: &str| {
            Ok(Route::Network {
                network: n.to_owned(),
            })
        };
        assert_eq!(
            route(&Reach::Auto, &job("default", &["bridge"]), local(), false),
            on("bridge")
        );
        assert_eq!(
            route(
                &Reach::Auto,
                &job("github_network_1", &["a", "github_network_1"]),
                local(),
                false
            ),
            on("github_network_1")
        );
        assert_eq!(
            route(&Reach::Network(None), &job("x", &["ci"]), local(), false),
            on("ci")
        );
    }

    #[test]
    fn a_job_without_a_network_has_no_route_and_says_why() {
        let mut none = job("none", &[]);
        if let Vantage::Inside(job) = &mut none {
            job.networks.insert("none".into(), None);
        }
        let Ok(Route::Unroutable { reason }) = route(&Reach::Auto, &none, local(), false) else {
            panic!("a job container without a network has a route");
        };
        assert!(
            reason.contains("container job (network mode none, on no network)"),
            "{reason}"
        );
        assert!(
            reason.contains("run the job on a network")
                || reason.contains("Run the job on a network"),
            "{reason}"
        );
        assert!(reason.contains("FOOTLOOSE_REACH"), "{reason}");
    }

    #[test]
    fn overrides_win_and_impossible_ones_say_why() {
        let gateway = IpAddr::from([172, 17, 0, 1]);
        assert_eq!(
            route(
                &Reach::Published(Some(gateway)),
                &job("bridge", &["bridge"]),
                local(),
                false
            ),
            Ok(Route::Published { host: gateway })
        );
        assert_eq!(
            route(
                &Reach::Network(Some("ci".into())),
                &Vantage::Outside,
                local(),
                false
            ),
            Ok(Route::Network {
                network: "ci".into()
            })
        );
        let err = route(&Reach::Network(None), &Vantage::Outside, local(), false).unwrap_err();
        assert!(matches!(err, RouteError::NotInContainer { .. }));
        assert!(err.to_string().contains("network:NAME"), "{err}");
    }
}
