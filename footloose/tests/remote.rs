//! A remote engine: a second dockerd in a network namespace of its own
//! (its 127.0.0.1 is not ours), reached over tcp. The CLI walk and the
//! test framework work there: ports are published on the engine's address
//! and reached there, bind sources are named as the engine host's, and
//! nothing is left. One test, so that it alone sets DOCKER_HOST for its
//! process.

mod common;

use std::process::Command;

use common::{footloose, text, EngineUnderTest, IMAGE};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/engines/remote-docker.sh"
);

/// The second engine; stopped and removed on drop.
struct RemoteEngine {
    name: String,
    engine: EngineUnderTest,
}

impl RemoteEngine {
    fn start() -> RemoteEngine {
        common::local_image();
        // Unique per process, so that runs on one host do not collide.
        let n = std::process::id() % 200 + 20;
        let name = format!("r{n}");
        let out = Command::new("bash")
            .args([SCRIPT, "start", &name, &n.to_string()])
            .output()
            .expect("cannot run the remote engine script");
        let remote = RemoteEngine {
            name,
            engine: EngineUnderTest {
                endpoint: String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .trim_start_matches("DOCKER_HOST=")
                    .to_owned(),
            },
        };
        assert!(out.status.success(), "{}", text(&out));
        let load = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker save {IMAGE} | DOCKER_HOST={} docker load",
                remote.engine.endpoint
            ))
            .output()
            .unwrap();
        assert!(load.status.success(), "{}", text(&load));
        remote
    }
}

impl Drop for RemoteEngine {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([SCRIPT, "stop", &self.name])
            .output();
    }
}

#[test]
fn a_remote_engine_over_tcp_runs_the_cli_and_the_test_framework() {
    let remote = RemoteEngine::start();
    let engine = &remote.engine;
    // SAFETY: the only test of this binary, before it starts threads.
    unsafe { engine.use_for_this_process() };
    let engine_ip = engine
        .endpoint
        .trim_start_matches("tcp://")
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();

    common::cli_walk(engine, dir, &engine_ip);

    // A bind source is the engine host's path, and the error says so.
    let cluster = footloose::unique_cluster_name("remote-bind");
    std::fs::write(
        dir.join("footloose.yaml"),
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
    assert!(engine.leftovers(&cluster).is_empty());

    common::framework_walk(engine, dir);
}
