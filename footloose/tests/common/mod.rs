//! What every engine must do, as the remote-engine and Podman tests walk
//! it: the CLI (create, ssh, show, stop/start, delete) and the test
//! framework (exec, copy, a unit, teardown), each leaving nothing.

// Each test binary uses a part of these helpers.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use footloose::engine::{Engine, Leftovers};
use footloose::ClusterBuilder;

/// The image every engine test runs.
pub const IMAGE: &str = "footloose/debian12";

/// An engine under test, reached at `endpoint` (a `DOCKER_HOST` value).
pub struct EngineUnderTest {
    pub endpoint: String,
}

impl EngineUnderTest {
    /// What footloose left of `cluster` there.
    pub fn leftovers(&self, cluster: &str) -> Leftovers {
        footloose::runtime::block_on(async {
            let engine = Engine::connect_to(&self.endpoint).await.unwrap();
            engine.leftovers(Some(cluster)).await.unwrap()
        })
    }

    /// Makes this process and its children use the engine.
    ///
    /// # Safety
    /// Only in a test binary with a single test, before other threads read
    /// the environment.
    pub unsafe fn use_for_this_process(&self) {
        unsafe { std::env::set_var("DOCKER_HOST", &self.endpoint) };
    }
}

/// Makes sure the local Docker engine has `IMAGE`, to be copied from there.
pub fn local_image() {
    let local = footloose::runtime::block_on(Engine::connect())
        .unwrap_or_else(|e| panic!("these tests need a running Docker engine: {e}"));
    footloose::runtime::block_on(footloose::image::ensure(&local, IMAGE)).unwrap();
}

pub fn text(out: &Output) -> String {
    format!(
        "status: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn footloose(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_footloose"))
        .args(args)
        .current_dir(dir)
        .env_remove("FOOTLOOSE_CONFIG")
        .output()
        .unwrap()
}

pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = footloose(dir, args);
    assert!(out.status.success(), "footloose {args:?}:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The CLI walk on the engine this process uses: two machines on a user
/// network, their ports published on `published_on`.
pub fn cli_walk(engine: &EngineUnderTest, dir: &Path, published_on: &str) {
    let cluster = footloose::unique_cluster_name("walk");
    std::fs::write(
        dir.join("footloose.yaml"),
        format!("cluster:\n  name: {cluster}\n  privateKey: key\nmachines:\n- count: 2\n  spec:\n    image: {IMAGE}\n    name: node%d\n    networks: [inner]\n    portMappings:\n    - containerPort: 22\n"),
    )
    .unwrap();
    ok(dir, &["create"]);
    assert_eq!(ok(dir, &["ssh", "node1", "--", "hostname"]).trim(), "node1");
    let json: serde_json::Value = serde_json::from_str(&ok(dir, &["show", "-o", "json"])).unwrap();
    for machine in json["machines"].as_array().unwrap() {
        assert_eq!(machine["image"], IMAGE, "{json}");
        assert_eq!(machine["state"], "running", "{json}");
        assert_eq!(machine["ports"][0]["address"], published_on, "{json}");
    }
    let resolved = ok(dir, &["ssh", "node0", "--", "getent", "hosts", "node1"]);
    assert!(resolved.contains("node1"), "{resolved}");
    ok(dir, &["stop", "node1"]);
    assert!(ok(dir, &["show", "node1"]).contains("Stopped"));
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
    let left = engine.leftovers(&cluster);
    assert!(left.is_empty(), "{cluster} left {left:?}");
}

/// The test framework on the engine this process uses.
pub fn framework_walk(engine: &EngineUnderTest, dir: &Path) {
    let config = dir.join("framework.yaml");
    std::fs::write(
        &config,
        format!("cluster:\n  name: fw\n  privateKey: key\nmachines:\n- count: 1\n  spec:\n    image: {IMAGE}\n    name: node%d\n    portMappings:\n    - containerPort: 22\n"),
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
    node.write_file("/root/hello", b"hello\n").unwrap();
    let back = dir.join("hello");
    node.copy_from("/root/hello", &back).unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), b"hello\n");
    node.exec("systemd-run --unit=idle sleep 600")
        .unwrap()
        .checked()
        .unwrap();
    node.wait_for_unit("idle", Duration::from_secs(60)).unwrap();
    assert!(node.unit_status("idle").unwrap().is_active());
    assert_eq!(engine.leftovers(&name).containers.len(), 1);
    drop(guard);
    let left = engine.leftovers(&name);
    assert!(left.is_empty(), "the guard left {left:?}");
}
