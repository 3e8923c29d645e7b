//! Podman's Docker-compatible service, rootful, on a socket of its own:
//! the engine of the Podman suites, here and over ssh.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::local_image;

const IMAGE: &str = "footloose/debian12";

/// `podman system service` on a socket of its own; killed on drop.
pub struct PodmanService {
    child: Child,
    _dir: Option<tempfile::TempDir>,
    /// `unix://…/podman.sock`
    pub endpoint: String,
    /// The socket's path.
    pub socket: PathBuf,
}

impl PodmanService {
    /// Starts the service on a socket in a directory of its own.
    pub fn start() -> PodmanService {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("podman.sock");
        let mut service = PodmanService::start_at(&socket, None);
        service._dir = Some(dir);
        service
    }

    /// Starts the service on `socket`, in the network namespace `netns`
    /// (by `nsenter --net`) if given: there its machines' published ports
    /// are on that namespace's loopback.
    pub fn start_at(socket: &Path, netns: Option<&str>) -> PodmanService {
        let version = Command::new("podman").arg("--version").output();
        assert!(
            version.is_ok_and(|v| v.status.success()),
            "this test needs Podman: apt-get install podman netavark aardvark-dns"
        );
        local_image(IMAGE);
        let dir = socket.parent().unwrap();
        // Podman raises a container's rlimits to its own defaults; a host
        // that denies CAP_SYS_RESOURCE (as some CI containers do) refuses
        // that, so ask for what this process already has. netavark with
        // aardvark-dns resolves names on user networks.
        let conf = dir.join("containers.conf");
        std::fs::write(
            &conf,
            format!(
                "[containers]\ndefault_ulimits = [\"nofile={n}:{n}\", \"nproc={p}:{p}\"]\n\n[network]\nnetwork_backend = \"netavark\"\n",
                n = hard_limit(libc::RLIMIT_NOFILE),
                // Podman lowers its own RLIMIT_NPROC to 32768 at start.
                p = hard_limit(libc::RLIMIT_NPROC).min(32768),
            ),
        )
        .unwrap();
        let endpoint = format!("unix://{}", socket.display());
        let mut command = match netns {
            Some(netns) => {
                let mut nsenter = Command::new("nsenter");
                nsenter
                    .arg(format!("--net=/run/netns/{netns}"))
                    .arg("podman");
                nsenter
            }
            None => Command::new("podman"),
        };
        let child = command
            .args(["system", "service", "--time=0", &endpoint])
            .env("CONTAINERS_CONF", &conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start podman system service");
        let service = PodmanService {
            child,
            _dir: None,
            endpoint,
            socket: socket.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "podman's socket did not appear");
            std::thread::sleep(Duration::from_millis(100));
        }
        // Podman's copy must be the image Docker has now: an older one
        // would be built again, from a base Podman may not have.
        let id = |tool: &str| {
            Command::new(tool)
                .args(["image", "inspect", "--format", "{{.Id}}", IMAGE])
                .output()
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .trim()
                        .trim_start_matches("sha256:")
                        .to_owned()
                })
                .unwrap_or_default()
        };
        if id("podman").is_empty() || id("podman") != id("docker") {
            let load = Command::new("sh")
                .arg("-c")
                .arg(format!("docker save {IMAGE} | podman load"))
                .output()
                .unwrap();
            assert!(load.status.success(), "{load:?}");
        }
        service
    }
}

fn hard_limit(resource: libc::__rlimit_resource_t) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    unsafe { libc::getrlimit(resource, &mut limit) };
    limit.rlim_max
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
