//! Incus as a backend (`FOOTLOOSE_BACKEND=incus`), on the local daemon
//! `tests/engines/incus.sh start` sets up (`.ci/run` does): the smoke
//! suite (the CLI walk with names on a footloose network, the test
//! framework, reboots and exactly-once commands, sandboxed units); a
//! user's crate, unchanged, under `cargo test` and `cargo nextest run`
//! (the Ansible role example), leaving nothing; `resources:` seen from
//! inside the machine and on the host's side of its cgroup; and a cluster
//! spread by Incus over the two members of an Incus cluster, reached over
//! https as the `incus` client's remote.
//!
//! The tests take turns: each brings up machines on a host of two cores.

use std::process::Command;
use std::sync::Mutex;

use footloose::engine::{Engine, Flavour};
use footloose::{ClusterBuilder, Settings};
use footloose_tests::{output_text, run_smoke_with, workspace};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The settings of this process, with Incus as the backend.
fn on_incus() -> Settings {
    Settings::from_vars(|name| match name {
        "FOOTLOOSE_BACKEND" => Some("incus".into()),
        other => std::env::var_os(other),
    })
}

/// Fails with a clear message when no Incus daemon answers.
fn require_incus() -> Engine {
    let settings = on_incus();
    let engine = footloose::runtime::block_on(Engine::connect_with(
        footloose::config::Backend::Incus,
        &settings.engine,
    ))
    .unwrap_or_else(|err| {
        panic!("these tests need a running, initialised Incus daemon (tests/engines/incus.sh start): {err}")
    });
    assert_eq!(engine.facts().flavour, Flavour::Incus);
    engine
}

/// The instances carrying footloose's label of `cluster`.
fn instances_of(cluster: &str) -> Vec<String> {
    let out = Command::new("incus")
        .args([
            "list",
            &format!("user.footloose.cluster={cluster}"),
            "-f",
            "csv",
            "-c",
            "n",
        ])
        .output()
        .expect("the incus client runs");
    assert!(out.status.success(), "{}", output_text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn incus_passes_the_smoke_suite() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    require_incus();
    // DOCKER_HOST is the smoke runner's; footloose goes to Incus.
    run_smoke_with(
        env!("CARGO_BIN_EXE_smoke"),
        "incus",
        "unix:///var/run/docker.sock",
        &[("FOOTLOOSE_BACKEND", "incus")],
    );
}

#[test]
fn a_users_crate_passes_unchanged_on_incus_under_both_runners() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    require_incus();
    let crate_name = "footloose-example-ansible";
    let runs: [&[&str]; 2] = [
        &["test", "-p", crate_name],
        &["nextest", "run", "-p", crate_name],
    ];
    for args in runs {
        let mut cargo = Command::new(env!("CARGO"));
        // As a user runs it from a shell: without the variables cargo set
        // for this test. Build scripts that watch one of them
        // (ring's watches CARGO_MANIFEST_DIR) would otherwise be run again,
        // and the shared target directory would no longer be fresh for
        // the next cargo (a CI job container without a C compiler).
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy().into_owned();
            if name.starts_with("CARGO_") && name != "CARGO_HOME" && name != "CARGO_TARGET_DIR" {
                cargo.env_remove(&name);
            }
        }
        let out = cargo
            .args(args)
            .current_dir(workspace())
            .env("FOOTLOOSE_BACKEND", "incus")
            .output()
            .expect("cargo runs");
        let text = output_text(&out);
        assert!(
            out.status.success(),
            "cargo {args:?} failed on Incus:\n{text}"
        );
        assert!(
            text.contains("3 passed"),
            "cargo {args:?} ran other tests than the role's three:\n{text}"
        );
        // The role's cluster (examples/ansible/footloose.yaml) is gone.
        assert_eq!(
            instances_of("hello-http"),
            Vec::<String>::new(),
            "after cargo {args:?}"
        );
    }
}

#[test]
fn resources_are_incus_limits_seen_inside_the_machine() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    require_incus();
    let path = workspace().join("tests/resources.yaml");
    let mut config = footloose::Config::load(&path).unwrap();
    config.cluster.name = "res-incus".to_owned();
    let cluster = ClusterBuilder::new(config)
        .settings(on_incus())
        .start()
        .unwrap();
    let machine = &cluster.machines()[0];
    // cpus: 0.5 is one CPU (what `nproc` shows) at half its time.
    let nproc = machine.exec("nproc").unwrap();
    assert_eq!(nproc.stdout().trim(), "1");
    let memory = machine
        .exec("cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
        .unwrap();
    assert_eq!(memory.stdout().trim(), "268435456");
    // The quota is on the container's cgroup, which an unprivileged
    // container on cgroup v1 does not see: read it on the host.
    let instance = machine.container_name();
    let quota = [
        format!("/sys/fs/cgroup/lxc.payload.{instance}/cpu.max"),
        format!("/sys/fs/cgroup/cpu/lxc.payload.{instance}/cpu.cfs_quota_us"),
        format!("/sys/fs/cgroup/cpu,cpuacct/lxc.payload.{instance}/cpu.cfs_quota_us"),
    ]
    .iter()
    .find_map(|path| std::fs::read_to_string(path).ok())
    .unwrap_or_else(|| panic!("no cpu quota file of {instance} on the host"));
    let quota = quota
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(quota, "50000", "half of a 100 ms period");
    drop(cluster);
    assert_eq!(instances_of("res-incus"), Vec::<String>::new());
}

/// A two-member Incus cluster made by `tests/engines/incus-cluster.sh`,
/// stopped (and everything of it removed) on drop.
struct IncusCluster {
    name: String,
    /// An `incus` client configuration whose default remote is the
    /// cluster, over https with a client certificate it trusts.
    client: String,
    dir: String,
}

impl IncusCluster {
    fn start(name: &str, subnet: u32) -> IncusCluster {
        let script = workspace().join("tests/engines/incus-cluster.sh");
        let out = Command::new("bash")
            .arg(&script)
            .args(["start", name, &subnet.to_string(), "footloose/debian12"])
            .output()
            .expect("bash runs");
        let mut cluster = IncusCluster {
            name: name.to_owned(),
            client: String::new(),
            dir: String::new(),
        };
        assert!(
            out.status.success(),
            "incus-cluster.sh start failed:\n{}",
            output_text(&out)
        );
        let env = String::from_utf8_lossy(&out.stdout).into_owned();
        let value = |key: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("the script prints {key}=:\n{env}"))
                .to_owned()
        };
        cluster.dir = value("SOCKET").trim_end_matches("/unix.socket").to_owned();
        cluster.client = value("INCUS_CONF");
        cluster
    }

    /// `instance,location` of every instance of the cluster.
    fn placements(&self) -> Vec<(String, String)> {
        let out = Command::new("incus")
            .args(["list", "-f", "csv", "-c", "nL"])
            .env("INCUS_DIR", &self.dir)
            .output()
            .expect("the incus client runs");
        assert!(out.status.success(), "{}", output_text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(','))
            .map(|(n, l)| (n.to_owned(), l.to_owned()))
            .collect()
    }
}

impl Drop for IncusCluster {
    fn drop(&mut self) {
        let script = workspace().join("tests/engines/incus-cluster.sh");
        let _ = Command::new("bash")
            .arg(script)
            .args(["stop", &self.name])
            .output();
    }
}

#[test]
fn a_cluster_of_four_machines_runs_on_a_two_member_incus_cluster_over_https() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    require_incus();
    // The image is copied from the host's daemon.
    let engine = require_incus();
    footloose::runtime::block_on(footloose::image::ensure_with(
        &engine,
        "footloose/debian12",
        &on_incus(),
    ))
    .unwrap();
    let subnet = 20 + std::process::id() % 200;
    let members = IncusCluster::start(&format!("t{}", std::process::id() % 100_000), subnet);
    let dir = tempfile::tempdir().unwrap();
    // The usual config, port 22 published: on a cluster each machine is
    // reached at its own address, behind the member it landed on (the
    // host routes to both).
    std::fs::write(
        dir.path().join("footloose.yaml"),
        "cluster:\n  name: spread\n  privateKey: cluster-key\nmachines:\n- count: 4\n  spec:\n    image: footloose/debian12\n    name: node%d\n    portMappings:\n    - containerPort: 22\n",
    )
    .unwrap();
    let cli = footloose_tests::footloose_bin(env!("CARGO_BIN_EXE_smoke"));
    let footloose = |args: &[&str]| {
        let out = Command::new(&cli)
            .args(args)
            .current_dir(dir.path())
            .env("FOOTLOOSE_BACKEND", "incus")
            // The cluster as a team reaches it: a remote of the incus
            // client's configuration, over https.
            .env("INCUS_CONF", &members.client)
            .output()
            .expect("footloose runs");
        assert!(
            out.status.success(),
            "footloose {args:?}:\n{}",
            output_text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    footloose(&["create"]);
    let placed = members.placements();
    eprintln!("placed by Incus: {placed:?}");
    assert_eq!(placed.len(), 4, "{placed:?}");
    assert!(
        placed
            .iter()
            .all(|(_, member)| member == "a" || member == "b"),
        "{placed:?}"
    );
    for n in 0..4 {
        let said = footloose(&["ssh", &format!("root@node{n}"), "--", "hostname"]);
        assert_eq!(said.trim(), format!("node{n}"));
    }
    footloose(&["delete"]);
    assert_eq!(members.placements(), Vec::<(String, String)>::new());
}

#[test]
fn a_pooled_cluster_is_taken_on_incus_and_its_machines_resolve_each_other() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let engine = require_incus();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pool.yaml");
    std::fs::copy(workspace().join("tests/pool.yaml"), &config).unwrap();
    let builder = ClusterBuilder::from_file(&config)
        .unwrap()
        .settings(on_incus())
        .unique_name();
    let filled = footloose::runtime::block_on(footloose::pool::fill(&builder, 1)).unwrap();
    assert_eq!(filled.ready, 1, "{filled:?}");
    // A test process of its own, as under nextest.
    let out = Command::new(env!("CARGO_BIN_EXE_pool-claim"))
        .arg(&config)
        .arg("1")
        .env("FOOTLOOSE_BACKEND", "incus")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = said.lines().collect();
    let taken = lines
        .first()
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_default();
    assert!(
        taken.starts_with(&format!("pool-{}", &filled.key[..8])),
        "not taken from the pool {}: {said}",
        filled.key
    );
    for (line, host) in lines[1..].iter().zip(["node0", "node1"]) {
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some(host), "{said}");
        let neighbour = words.next().unwrap_or_default();
        assert!(neighbour.parse::<std::net::IpAddr>().is_ok(), "{said}");
    }
    assert!(instances_of(taken).is_empty(), "{taken} outlived its test");
    // The refiller made the next one: drained, nothing of the pool stays.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        footloose::runtime::block_on(footloose::pool::drain(&engine, Some(&filled.key))).unwrap();
        let pooled = footloose::runtime::block_on(footloose::pool::list(&engine)).unwrap();
        let refilling = footloose::runtime::block_on(footloose::pool::refillers(&engine)).unwrap();
        if pooled.iter().all(|p| p.key != filled.key)
            && refilling.iter().all(|r| r.key != filled.key)
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "left: {pooled:?} {refilling:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}
