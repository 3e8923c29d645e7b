//! A remote engine: a second dockerd in a network namespace of its own
//! (its 127.0.0.1 is not ours), reached over tcp. The smoke suite passes
//! there; ports are published on the engine's address and reached there;
//! a bind source is named as the engine host's path; nothing is left.

use std::path::Path;
use std::process::{Command, Output};

use footloose_tests::{footloose_bin, leftovers_at, local_image, run_smoke};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/engines/remote-docker.sh");
const IMAGE: &str = "footloose/debian12";

/// The second engine; stopped and removed on drop.
struct RemoteEngine {
    name: String,
    endpoint: String,
}

impl RemoteEngine {
    fn start() -> RemoteEngine {
        local_image(IMAGE);
        // Unique per process, so that runs on one host do not collide.
        let n = std::process::id() % 200 + 20;
        let name = format!("r{n}");
        let out = Command::new("bash")
            .args([SCRIPT, "start", &name, &n.to_string()])
            .output()
            .expect("cannot run the remote engine script");
        let remote = RemoteEngine {
            name,
            endpoint: String::from_utf8_lossy(&out.stdout)
                .trim()
                .trim_start_matches("DOCKER_HOST=")
                .to_owned(),
        };
        assert!(out.status.success(), "{}", text(&out));
        let load = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker save {IMAGE} | DOCKER_HOST={} docker load",
                remote.endpoint
            ))
            .output()
            .unwrap();
        assert!(load.status.success(), "{}", text(&load));
        remote
    }

    /// Runs the footloose CLI in `dir` against this engine.
    fn footloose(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(footloose_bin(env!("CARGO_BIN_EXE_smoke")))
            .args(args)
            .current_dir(dir)
            .env("DOCKER_HOST", &self.endpoint)
            .env_remove("FOOTLOOSE_CONFIG")
            .output()
            .unwrap()
    }
}

impl Drop for RemoteEngine {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([SCRIPT, "stop", &self.name])
            .output();
    }
}

fn text(out: &Output) -> String {
    format!(
        "status: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_remote_engine_over_tcp_passes_the_smoke_suite_and_publishes_on_its_address() {
    let remote = RemoteEngine::start();
    run_smoke(env!("CARGO_BIN_EXE_smoke"), "remote", &remote.endpoint);

    let engine_ip = remote
        .endpoint
        .trim_start_matches("tcp://")
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    let cluster = footloose::unique_cluster_name("remote");
    let config = |volumes: &str| {
        format!("cluster:\n  name: {cluster}\n  privateKey: key\nmachines:\n- count: 1\n  spec:\n    image: {IMAGE}\n    name: node%d\n    portMappings:\n    - containerPort: 22\n{volumes}")
    };
    std::fs::write(dir.join("footloose.yaml"), config("")).unwrap();
    let created = remote.footloose(dir, &["create"]);
    assert!(created.status.success(), "{}", text(&created));
    let shown = remote.footloose(dir, &["show", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        json["machines"][0]["ports"][0]["address"],
        engine_ip.as_str(),
        "{json}"
    );
    let deleted = remote.footloose(dir, &["delete"]);
    assert!(deleted.status.success(), "{}", text(&deleted));

    // A bind source is the engine host's path, and the error says so.
    std::fs::write(
        dir.join("footloose.yaml"),
        config("    volumes:\n    - type: bind\n      source: /nonexistent/footloose-src\n      destination: /src\n"),
    )
    .unwrap();
    let refused = remote.footloose(dir, &["create"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        stderr.contains("/nonexistent/footloose-src") && stderr.contains("runs on another host"),
        "{stderr}"
    );
    assert!(leftovers_at(&remote.endpoint, &cluster).is_empty());
}
