//! The smoke suite every engine must pass, against whichever engine
//! DOCKER_HOST names: the CLI walk (two machines on a user network:
//! create, ssh, names resolving, show, stop/start, delete, nothing left)
//! and the test framework (exec, copy, a unit, teardown), a warm pool
//! (filled, taken from, refilled by a refiller process, drained), reboots, and
//! sandboxed units (`PrivateUsers=true` applies; `PrivateTmp=` and
//! `ProtectSystem=` beside it start, and the report says whether they
//! applied, which an AppArmor profile denying mounts may prevent). Run by the
//! remote-engine and Podman tests, and inside the cgroup-v2 guest (see
//! tests/engines/guest.sh). One line per check,
//! then `smoke ENGINE: N passed, M failed`; the exit code says whether all
//! passed.
//!
//! Usage: smoke ENGINE-LABEL PATH-TO-FOOTLOOSE-BINARY

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use footloose::engine::Engine;
use footloose::{ClusterBuilder, ClusterGuard};

// Test clusters made here get the cleanup watchdog: the binary has the
// hooks a `#[footloose::cluster]` test binary has.
footloose::test_hooks!();

const IMAGE: &str = "footloose/debian12";
/// Under software emulation a machine boots ten times slower.
const READY: &str = "600";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(label), Some(cli)) = (args.next(), args.next()) else {
        eprintln!("usage: smoke ENGINE-LABEL PATH-TO-FOOTLOOSE");
        return ExitCode::from(2);
    };
    // The walks run in a directory of their own: the binary's path must not
    // be relative to this one.
    let cli = std::path::absolute(&cli).unwrap_or_else(|_| cli.clone().into());
    let dir = std::env::temp_dir().join(format!("smoke-{label}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let checks: [(&str, &dyn Fn()); 5] = [
        ("cli walk", &|| cli_walk(&cli, &dir)),
        ("test framework", &|| framework(&dir)),
        ("warm pool", &|| warm_pool(&dir)),
        ("reboot", &|| reboot(&cli, &dir)),
        ("sandboxed units", &|| sandboxed_units(&dir)),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, check) in checks {
        let started = Instant::now();
        match catch_unwind(AssertUnwindSafe(check)) {
            Ok(()) => {
                passed += 1;
                println!(
                    "ok {label} {name} ({:.1}s)",
                    started.elapsed().as_secs_f64()
                );
            }
            Err(panic) => {
                failed += 1;
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                println!("FAILED {label} {name}: {why}");
            }
        }
    }
    println!("smoke {label}: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run(cli: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(cli)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "footloose {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn leftovers(cluster: &str) -> footloose::engine::Leftovers {
    footloose::runtime::block_on(async {
        let engine = Engine::connect().await.unwrap();
        engine.leftovers(Some(cluster)).await.unwrap()
    })
}

fn cli_walk(cli: &Path, dir: &Path) {
    let facts = footloose::runtime::block_on(Engine::connect())
        .unwrap()
        .facts();
    println!("  engine: {:?}, cgroup {:?}", facts.flavour, facts.cgroup);
    let cluster = footloose::unique_cluster_name("smoke");
    // A network of this walk's own: names written in a config are shared
    // by every cluster that writes them. Its machines keep the engine's
    // own seccomp and AppArmor profiles (`userNamespaces: false`), so that
    // machines confined as the engine confines containers are walked too
    // (the guest checks the label of their PID 1); the sandboxed-units
    // check has the default.
    let network = format!("{cluster}-net");
    std::fs::write(
        dir.join("footloose.yaml"),
        format!("cluster:\n  name: {cluster}\n  privateKey: key\nmachines:\n- count: 2\n  spec:\n    image: {IMAGE}\n    name: node%d\n    networks: [{network}]\n    userNamespaces: false\n    portMappings:\n    - containerPort: 22\n"),
    )
    .unwrap();
    // Whatever happens below, the cluster goes.
    let _cleanup = Cleanup(|| {
        let _ = Command::new(cli).arg("delete").current_dir(dir).output();
    });
    let started = Instant::now();
    run(cli, dir, &["create", "--timeout", READY]);
    println!(
        "  create 2 machines to ready: {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        run(cli, dir, &["ssh", "node1", "--", "hostname"]).trim(),
        "node1"
    );
    let state = run(
        cli,
        dir,
        &["ssh", "node0", "--", "systemctl", "is-system-running"],
    );
    assert_eq!(state.trim(), "running");
    let resolved = run(
        cli,
        dir,
        &["ssh", "node0", "--", "getent", "hosts", "node1"],
    );
    assert!(resolved.contains("node1"), "{resolved}");
    let table = run(cli, dir, &["show"]);
    assert_eq!(table.matches("Running").count(), 2, "{table}");
    assert!(table.contains(&format!(" {IMAGE} ")), "{table}");
    run(cli, dir, &["stop", "node1"]);
    assert!(run(cli, dir, &["show", "node1"]).contains("Stopped"));
    run(cli, dir, &["start", "node1", "--timeout", READY]);
    run(cli, dir, &["delete"]);
    assert!(leftovers(&cluster).is_empty(), "{:?}", leftovers(&cluster));
}

/// Runs its closure when dropped, also when a check panics.
struct Cleanup<F: FnMut()>(F);

impl<F: FnMut()> Drop for Cleanup<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// `DIR/NAME.yaml`: a one-machine cluster named `name` on the suite's image.
fn one_machine_config(dir: &Path, name: &str) -> PathBuf {
    let config = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &config,
        format!("cluster:\n  name: {name}\n  privateKey: key\nmachines:\n- count: 1\n  spec:\n    image: {IMAGE}\n    name: node%d\n    portMappings:\n    - containerPort: 22\n"),
    )
    .unwrap();
    config
}

/// A test cluster of its own from `config`, given the time a machine under
/// software emulation takes.
fn start(config: &Path) -> ClusterGuard {
    ClusterBuilder::from_file(config)
        .unwrap()
        .unique_name()
        .ready_timeout(Duration::from_secs(600))
        .start()
        .unwrap()
}

fn framework(dir: &Path) {
    let config = one_machine_config(dir, "fw");
    let guard = start(&config);
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
    node.wait_for_unit("idle", Duration::from_secs(120))
        .unwrap();
    drop(guard);
    assert!(leftovers(&name).is_empty(), "{:?}", leftovers(&name));
}

/// A pool of one is filled, a test takes its cluster (not a new one), the
/// refiller the take started makes the next, and draining leaves nothing.
fn warm_pool(dir: &Path) {
    let dir = dir.join("pool");
    std::fs::create_dir_all(&dir).unwrap();
    let config = one_machine_config(&dir, "pooled");
    let builder = || {
        ClusterBuilder::from_file(&config)
            .unwrap()
            .unique_name()
            .ready_timeout(Duration::from_secs(600))
    };
    let engine = footloose::runtime::block_on(builder().connect()).unwrap();
    let drain = |key: &str| {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            footloose::runtime::block_on(footloose::pool::drain(&engine, Some(key))).unwrap();
            let pooled = footloose::runtime::block_on(footloose::pool::list(&engine)).unwrap();
            let refillers =
                footloose::runtime::block_on(footloose::pool::refillers(&engine)).unwrap();
            if pooled.iter().all(|p| p.key != key) && refillers.iter().all(|r| r.key != key) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "left of pool {key}: {pooled:?} {refillers:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    let filled = footloose::runtime::block_on(footloose::pool::fill(&builder(), 1)).unwrap();
    let _drained = Cleanup(|| drain(&filled.key));
    assert_eq!(filled.ready, 1, "{filled:?}");
    let guard = builder().pool(1).start().unwrap();
    let name = guard.name().to_owned();
    assert!(
        name.starts_with(&format!("pool-{}", &filled.key[..8])),
        "{name} is not the pooled cluster of {}",
        filled.key
    );
    assert_eq!(
        guard
            .machine("node0")
            .exec("hostname")
            .unwrap()
            .stdout()
            .trim(),
        "node0"
    );
    drop(guard);
    assert!(leftovers(&name).is_empty(), "{:?}", leftovers(&name));
}

/// Units with systemd's sandboxing run in a machine that is not
/// privileged: `PrivateUsers=true` applies (the machine may create user
/// namespaces); `PrivateTmp=` and `ProtectSystem=strict` beside it start,
/// and whether they applied is reported, not required (see
/// tests/tests/sandboxing.rs for where they do).
fn sandboxed_units(dir: &Path) {
    use footloose_tests::sandboxing::{failures, named};
    let config = one_machine_config(dir, "sbx");
    let guard = start(&config);
    let name = guard.name().to_owned();
    let node = guard.machine("node0");
    let label = node
        .exec("cat /proc/1/attr/current 2>/dev/null || echo none")
        .unwrap();
    println!(
        "sandboxed units: PID 1 under AppArmor {}",
        label.stdout().trim()
    );
    let failed = failures(node, &named(&["PrivateUsers"]), true, false);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    let beside = named(&["PrivateTmp", "ProtectSystem"]);
    let failed = failures(node, &beside, true, true);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    for directive in &beside {
        let applied = failures(node, std::slice::from_ref(directive), true, false).is_empty();
        let verdict = if applied {
            "applied"
        } else {
            "started, not applied"
        };
        println!(
            "sandboxed units: {} beside PrivateUsers=true {verdict}",
            directive.name
        );
    }
    drop(guard);
    assert!(leftovers(&name).is_empty(), "{:?}", leftovers(&name));
}

/// A machine reboots with its disk kept, a command that drops its own
/// connection runs once, and a machine powered off stays off; a
/// `Machine` outlives its `Cluster` value (and, on an `ssh://` engine, the
/// tunnel it is reached through stays with it).
fn reboot(cli: &Path, dir: &Path) {
    let config = one_machine_config(dir, "rb");
    let guard = start(&config);
    let name = guard.name().to_owned();
    let node = guard.machine("node0");
    node.write_file("/root/kept", b"kept\n").unwrap();
    let started = Instant::now();
    node.reboot_within(Duration::from_secs(600)).unwrap();
    println!("reboot round trip: {:.1}s", started.elapsed().as_secs_f64());
    assert_eq!(node.read_file("/root/kept").unwrap(), b"kept\n");
    // A command that kills its own session runs once, and says so.
    match node.exec("echo ran >> /root/runs; kill -KILL $PPID; sleep 5") {
        Err(footloose::Error::Machine(footloose::MachineError::ConnectionLost { .. })) => {}
        other => panic!("a command that dropped its connection: {other:?}"),
    }
    assert_eq!(node.read_file("/root/runs").unwrap(), b"ran\n");
    match node.exec("poweroff") {
        Ok(_) | Err(footloose::Error::Machine(footloose::MachineError::ConnectionLost { .. })) => {}
        Err(err) => panic!("poweroff: {err}"),
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        match node.exec("true") {
            Err(footloose::Error::Machine(footloose::MachineError::NotRunning { .. })) => break,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(500)),
            other => panic!("the powered-off machine is still up: {other:?}"),
        }
    }
    drop(guard);
    assert!(leftovers(&name).is_empty(), "{:?}", leftovers(&name));

    let guard = start(&config);
    let name = guard.name().to_owned();
    let node = guard.machine("node0").clone();
    // Kept on the engine, and the Cluster value dropped.
    drop(guard.keep());
    let outlived = node.exec("hostname");
    run(cli, dir, &["delete", "-c", "rb.yaml", "--cluster", &name]);
    assert_eq!(
        outlived
            .expect("the Machine outlived its Cluster")
            .stdout()
            .trim(),
        "node0"
    );
    assert!(leftovers(&name).is_empty(), "{:?}", leftovers(&name));
}
