//! A remote engine: a second dockerd in a network namespace of its own
//! (its 127.0.0.1 is not ours), reached over tcp. The CLI walk and the
//! test framework work there: ports are published on the engine's address
//! and reached there, bind sources are named as the engine host's, and
//! nothing is left. One test, so that it alone sets DOCKER_HOST for its
//! process.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use footloose::engine::Engine;
use footloose::ClusterBuilder;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/engines/remote-docker.sh"
);
const IMAGE: &str = "footloose/debian12";

/// The second engine; stopped and removed on drop.
struct RemoteEngine {
    name: String,
    endpoint: String,
}

impl RemoteEngine {
    fn start() -> RemoteEngine {
        let local = footloose::runtime::block_on(Engine::connect())
            .unwrap_or_else(|e| panic!("these tests need a running Docker engine: {e}"));
        footloose::runtime::block_on(footloose::image::ensure(&local, IMAGE)).unwrap();
        // Unique per process, so that runs on one host do not collide.
        let n = std::process::id() % 200 + 20;
        let name = format!("r{n}");
        let out = Command::new("bash")
            .args([SCRIPT, "start", &name, &n.to_string()])
            .output()
            .expect("cannot run the remote engine script");
        let engine = RemoteEngine {
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
                engine.endpoint
            ))
            .output()
            .unwrap();
        assert!(load.status.success(), "{}", text(&load));
        engine
    }

    fn leftovers(&self, cluster: &str) -> footloose::engine::Leftovers {
        footloose::runtime::block_on(async {
            let engine = Engine::connect_to(&self.endpoint).await.unwrap();
            engine.leftovers(Some(cluster)).await.unwrap()
        })
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

fn footloose(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_footloose"))
        .args(args)
        .current_dir(dir)
        .env_remove("FOOTLOOSE_CONFIG")
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = footloose(dir, args);
    assert!(out.status.success(), "footloose {args:?}:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_remote_engine_over_tcp_runs_the_cli_and_the_test_framework() {
    let remote = RemoteEngine::start();
    // SAFETY: the only test of this binary; set before any thread reads it.
    unsafe { std::env::set_var("DOCKER_HOST", &remote.endpoint) };
    let engine_ip = remote
        .endpoint
        .trim_start_matches("tcp://")
        .split(':')
        .next()
        .unwrap()
        .to_owned();

    // The CLI walk.
    let project = tempfile::tempdir().unwrap();
    let cluster = footloose::unique_cluster_name("remote");
    std::fs::write(
        project.path().join("footloose.yaml"),
        format!("cluster:\n  name: {cluster}\n  privateKey: key\nmachines:\n- count: 2\n  spec:\n    image: {IMAGE}\n    name: node%d\n    networks: [inner]\n    portMappings:\n    - containerPort: 22\n"),
    )
    .unwrap();
    let dir = project.path();
    ok(dir, &["create"]);
    assert_eq!(ok(dir, &["ssh", "node1", "--", "hostname"]).trim(), "node1");
    let json: serde_json::Value = serde_json::from_str(&ok(dir, &["show", "-o", "json"])).unwrap();
    for machine in json["machines"].as_array().unwrap() {
        assert_eq!(machine["ports"][0]["address"], engine_ip.as_str(), "{json}");
    }
    ok(dir, &["stop", "node1"]);
    ok(dir, &["start", "node1"]);
    assert_eq!(
        ok(
            dir,
            &["ssh", "node1", "--", "systemctl", "is-system-running"]
        )
        .trim(),
        "running"
    );
    ok(dir, &["delete"]);
    assert!(remote.leftovers(&cluster).is_empty());

    // A bind source is the engine host's path, and the error says so.
    std::fs::write(
        project.path().join("footloose.yaml"),
        format!("cluster:\n  name: {cluster}\n  privateKey: key\nmachines:\n- count: 1\n  spec:\n    image: {IMAGE}\n    name: node%d\n    volumes:\n    - type: bind\n      source: /nonexistent/footloose-src\n      destination: /src\n"),
    )
    .unwrap();
    let refused = footloose(dir, &["create"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        stderr.contains("/nonexistent/footloose-src") && stderr.contains("runs on another host"),
        "{stderr}"
    );
    assert!(remote.leftovers(&cluster).is_empty());

    // The test framework: exec, copy, a unit, teardown.
    let config = project.path().join("framework.yaml");
    std::fs::write(
        &config,
        format!("cluster:\n  name: remote-fw\n  privateKey: key\nmachines:\n- count: 1\n  spec:\n    image: {IMAGE}\n    name: node%d\n    portMappings:\n    - containerPort: 22\n"),
    )
    .unwrap();
    let guard = ClusterBuilder::from_file(&config)
        .unwrap()
        .unique_name()
        .start()
        .unwrap();
    let name = guard.name().to_owned();
    let node = guard.machine("node0");
    assert_eq!(node.exec("hostname").unwrap().stdout().trim(), "node0");
    node.write_file("/root/hello", b"over tcp\n").unwrap();
    let back = project.path().join("hello");
    node.copy_from("/root/hello", &back).unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), b"over tcp\n");
    node.exec("systemd-run --unit=idle sleep 600")
        .unwrap()
        .checked()
        .unwrap();
    node.wait_for_unit("idle", Duration::from_secs(30)).unwrap();
    assert_eq!(remote.leftovers(&name).containers.len(), 1);
    drop(guard);
    assert!(remote.leftovers(&name).is_empty(), "the guard left {name}");
}
