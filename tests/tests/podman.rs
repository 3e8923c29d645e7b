//! Podman as an engine: its Docker-compatible service, rootful, started by
//! this test on a socket of its own. It is detected as Podman, and the
//! smoke suite passes there (machines boot in Podman's systemd mode, `show`
//! names the image as the config does, nothing is left).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use footloose_tests::{local_image, run_smoke};

const IMAGE: &str = "footloose/debian12";

/// `podman system service` on a socket of its own; killed on drop.
struct PodmanService {
    child: Child,
    _dir: tempfile::TempDir,
    endpoint: String,
}

impl PodmanService {
    fn start() -> PodmanService {
        let version = Command::new("podman").arg("--version").output();
        assert!(
            version.is_ok_and(|v| v.status.success()),
            "this test needs Podman: apt-get install podman netavark aardvark-dns"
        );
        local_image(IMAGE);
        let dir = tempfile::tempdir().unwrap();
        // Podman raises a container's rlimits to its own defaults; a host
        // that denies CAP_SYS_RESOURCE (as some CI containers do) refuses
        // that, so ask for what this process already has. netavark with
        // aardvark-dns resolves names on user networks.
        let conf = dir.path().join("containers.conf");
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
        let socket = dir.path().join("podman.sock");
        let endpoint = format!("unix://{}", socket.display());
        let child = Command::new("podman")
            .args(["system", "service", "--time=0", &endpoint])
            .env("CONTAINERS_CONF", &conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start podman system service");
        let service = PodmanService {
            child,
            _dir: dir,
            endpoint,
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

#[test]
fn rootful_podman_is_detected_and_passes_the_smoke_suite() {
    let podman = PodmanService::start();
    let engine =
        footloose::runtime::block_on(footloose::engine::Engine::connect_to(&podman.endpoint))
            .unwrap();
    assert_eq!(engine.facts().flavour, footloose::engine::Flavour::Podman);
    run_smoke(env!("CARGO_BIN_EXE_smoke"), "podman", &podman.endpoint);
}
