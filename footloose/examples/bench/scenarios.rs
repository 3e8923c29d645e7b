//! The figures.

use std::cell::{OnceCell, RefCell};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use footloose::engine::Engine;
use footloose::testing::TestSpec;
use footloose::{Cluster, ClusterBuilder, Config, Settings as FlSettings};

use crate::baseline;
use crate::cpu;
use crate::report::{Report, Samples, Target};
use crate::Settings;

/// Scratch space, keys, and the names of everything made.
pub struct Workspace {
    dir: tempfile::TempDir,
    pub keys: baseline::Keys,
    pub engine: Engine,
    /// The Incus engine, once a scenario asked for it.
    incus: OnceCell<Engine>,
    clusters: RefCell<Vec<String>>,
    /// The keys of the pools made, drained at the end.
    pools: RefCell<Vec<String>>,
}

/// footloose's settings from this process's environment, with
/// `FOOTLOOSE_BACKEND` set to `backend`.
fn settings_on(backend: &'static str) -> FlSettings {
    FlSettings::from_vars(|name| {
        if name == footloose::settings::FOOTLOOSE_BACKEND {
            Some(OsString::from(backend))
        } else {
            std::env::var_os(name)
        }
    })
}

impl Workspace {
    pub fn new() -> Workspace {
        let engine = footloose::runtime::block_on(Engine::connect())
            .unwrap_or_else(|e| panic!("the bench needs a Docker engine: {e}"));
        footloose::runtime::block_on(footloose::image::ensure(&engine, "footloose/debian12"))
            .expect("cannot make footloose/debian12");
        let dir = tempfile::tempdir().unwrap();
        let keys = baseline::Keys::new(dir.path());
        Workspace {
            dir,
            keys,
            engine,
            incus: OnceCell::new(),
            clusters: RefCell::new(Vec::new()),
            pools: RefCell::new(Vec::new()),
        }
    }

    /// The scratch directory, removed with the workspace.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// footloose's private key for the bench's clusters.
    pub fn key(&self) -> PathBuf {
        self.dir.path().join("footloose-key")
    }

    /// Remembers the pool `key` for the final drain and leftover check.
    pub fn remember_pool(&self, key: &str) {
        let mut pools = self.pools.borrow_mut();
        if !pools.iter().any(|k| k == key) {
            pools.push(key.to_owned());
        }
    }

    /// A new cluster name, remembered for the final clean-up.
    pub fn name(&self, what: &str) -> String {
        let name = footloose::unique_cluster_name(&format!("bench-{what}"));
        self.clusters.borrow_mut().push(name.clone());
        name
    }

    pub fn builder(&self, name: &str, machines: u32) -> ClusterBuilder {
        let config = Config::with_replicas(name, "footloose/debian12", machines);
        Cluster::builder(config)
            .private_key(self.key())
            .persistent()
    }

    /// A builder for machines on `backend` (`docker` or `incus`), whatever
    /// `FOOTLOOSE_BACKEND` says.
    pub fn builder_on(&self, backend: &'static str, name: &str, machines: u32) -> ClusterBuilder {
        self.builder(name, machines).settings(settings_on(backend))
    }

    /// The Incus engine (`FOOTLOOSE_BACKEND=incus` with the environment's
    /// `INCUS_*`), with `footloose/debian12` on it.
    pub fn incus(&self) -> &Engine {
        self.incus.get_or_init(|| {
            let settings = settings_on("incus").engine;
            let engine = footloose::runtime::block_on(Engine::connect_with(
                footloose::config::Backend::Incus,
                &settings,
            ))
            .unwrap_or_else(|e| panic!("the incus figures need an Incus daemon: {e}"));
            footloose::runtime::block_on(footloose::image::ensure(&engine, "footloose/debian12"))
                .expect("cannot make footloose/debian12 on Incus");
            engine
        })
    }

    pub fn baseline_create(&self, cluster: &str, machines: usize) -> Vec<baseline::Machine> {
        baseline::create(cluster, machines, &self.keys, self.engine.facts())
    }

    /// A one-machine footloose cluster and a baseline machine, for the
    /// figures measured on a ready machine.
    pub fn one_machine_each(&self, what: &str) -> (Cluster, Vec<baseline::Machine>) {
        let cluster = self.builder(&self.name(what), 1).create().unwrap();
        let base = self.baseline_create(&self.name(&format!("{what}-base")), 1);
        (cluster, base)
    }

    pub fn remove_everything(&self) {
        footloose::testing::shared::remove_all();
        crate::pool::drain_and_wait(&self.engine, &self.pools.borrow());
        for name in self.clusters.borrow().iter() {
            let _ = footloose::runtime::block_on(footloose::delete(&self.engine, name));
            if let Some(incus) = self.incus.get() {
                let _ = footloose::runtime::block_on(footloose::delete(incus, name));
            }
        }
        // The Incus baseline's instances, by name, should a script have
        // died before labelling one.
        if self.incus.get().is_some() {
            let clusters = self.clusters.borrow();
            for name in baseline::incus_instances().unwrap_or_default() {
                if clusters.iter().any(|c| name.starts_with(&format!("{c}-"))) {
                    // What fails here shows in the leftover count.
                    let _ = std::process::Command::new("incus")
                        .args(["delete", "-f", &name])
                        .output();
                }
            }
        }
    }

    /// Incus instances whose name starts with `bench-` (footloose's are
    /// `<cluster>-<hostname>`, the baseline's `<cluster>-node<i>`): none
    /// counted where there is no Incus, unless a scenario used it.
    pub fn incus_leftovers(&self) -> usize {
        match baseline::incus_instances() {
            Some(names) => names.iter().filter(|n| n.starts_with("bench-")).count(),
            None if self.incus.get().is_some() => usize::MAX,
            None => 0,
        }
    }

    /// What is left of this bench's pools: pooled clusters, refillers'
    /// locks, and containers of clusters named as the pools name theirs
    /// (`pool-KEY8-…`, which the `bench-` check does not see).
    pub fn pool_leftovers(&self) -> usize {
        crate::pool::leftovers(&self.engine, &self.pools.borrow())
    }

    /// Containers whose cluster label starts with `bench-`.
    pub fn leftovers(&self) -> usize {
        footloose::runtime::block_on(footloose::status(&self.engine, None))
            .map(|all| {
                all.iter()
                    .filter(|m| m.cluster().starts_with("bench-"))
                    .count()
            })
            .unwrap_or(usize::MAX)
    }
}

pub fn timed<T>(work: impl FnOnce() -> T) -> (T, std::time::Duration) {
    let started = Instant::now();
    let value = work();
    (value, started.elapsed())
}

/// CPU per machine while it is made, split by where it goes.
#[derive(Default)]
struct CpuSamples {
    total: Samples,
    machines: Samples,
    daemons: Samples,
    client: Samples,
    rest: Samples,
}

impl CpuSamples {
    fn push(&mut self, split: cpu::Split, count: u32) {
        let per = |v: f64| v / count as f64;
        self.total.0.push(per(split.total));
        self.machines.0.push(per(split.machines));
        self.daemons.0.push(per(split.daemons));
        self.client.0.push(per(split.client));
        self.rest.0.push(per(split.rest()));
    }
}

/// create → ready for 1 and 10 machines, and delete of 10, both sides,
/// alternating which goes first; CPU-seconds per machine for 10.
pub fn create_and_delete(work: &Workspace, settings: &Settings, report: &mut Report) {
    // Warm-up: page cache, image layers, key generation.
    let warm = work.name("warm");
    work.builder(&warm, 1).create().unwrap().delete().unwrap();
    let warm_base = work.name("warm-base");
    baseline::delete(&work.baseline_create(&warm_base, 1));

    for machines in [1u32, 10] {
        let (mut fl_create, mut bl_create) = (Samples::default(), Samples::default());
        let (mut fl_delete, mut bl_delete) = (Samples::default(), Samples::default());
        let (mut fl_cpu, mut bl_cpu) = (CpuSamples::default(), CpuSamples::default());
        for round in 0..settings.rounds {
            let mut footloose_side = || {
                let name = work.name(&format!("c{machines}"));
                let builder = work.builder(&name, machines);
                let before = cpu::Snapshot::now();
                let (cluster, took) = timed(|| builder.create().unwrap());
                let after = cpu::Snapshot::now();
                fl_create.push_duration(took);
                let names: Vec<String> = cluster
                    .machines()
                    .iter()
                    .map(|m| m.container_name().to_owned())
                    .collect();
                let inside = cpu::machines_seconds(&names);
                fl_cpu.push(
                    cpu::Split::between(before, after, inside, true, cpu::Daemons::Docker),
                    machines,
                );
                let (_, took) = timed(|| cluster.delete().unwrap());
                fl_delete.push_duration(took);
            };
            let mut baseline_side = || {
                let name = work.name(&format!("b{machines}"));
                let before = cpu::Snapshot::now();
                let (made, took) = timed(|| work.baseline_create(&name, machines as usize));
                let after = cpu::Snapshot::now();
                bl_create.push_duration(took);
                let names: Vec<String> = made.iter().map(|m| m.name.clone()).collect();
                let inside = cpu::machines_seconds(&names);
                bl_cpu.push(
                    cpu::Split::between(before, after, inside, false, cpu::Daemons::Docker),
                    machines,
                );
                let (_, took) = timed(|| baseline::delete(&made));
                bl_delete.push_duration(took);
            };
            if round % 2 == 0 {
                footloose_side();
                baseline_side();
            } else {
                baseline_side();
                footloose_side();
            }
        }
        let target = if machines == 1 { 0.8 } else { 0.6 };
        report.row(
            &format!("create {machines} -> ready"),
            "ms",
            &fl_create,
            &bl_create,
            Some(Target::RatioAtMost(target)),
        );
        if machines == 10 {
            report.row(
                "delete 10",
                "ms",
                &fl_delete,
                &bl_delete,
                Some(Target::RatioAtMost(0.5)),
            );
            report.row(
                "CPU per machine (create 10)",
                "cpu-s",
                &fl_cpu.total,
                &bl_cpu.total,
                Some(Target::ValueAtMost(0.35)),
            );
            report.row(
                "  in the machines",
                "cpu-s",
                &fl_cpu.machines,
                &bl_cpu.machines,
                None,
            );
            report.row(
                "  dockerd + containerd",
                "cpu-s",
                &fl_cpu.daemons,
                &bl_cpu.daemons,
                None,
            );
            report.row(
                "  client (fl / docker+ssh)",
                "cpu-s",
                &fl_cpu.client,
                &bl_cpu.client,
                None,
            );
            report.row(
                "  rest (shims, runc, kernel)",
                "cpu-s",
                &fl_cpu.rest,
                &bl_cpu.rest,
                None,
            );
        }
    }
}

/// The machines of one side of the Incus figure, made and removed.
#[derive(Default)]
struct Side {
    create: Samples,
    delete: Samples,
    cpu: CpuSamples,
    /// Why creates failed (footloose) or were helped (the script's pushes
    /// made again): told below the figures. A failed create is removed and
    /// made again, at most 3 times in a row, so that figures still come.
    failures: Vec<String>,
}

impl Side {
    /// The line that tells this side's failures, if any.
    fn tell_failures(&self, what: &str) {
        if let Some(first) = self.failures.first() {
            println!(
                "   {what}: {} time(s); the first: {first}",
                self.failures.len()
            );
        }
    }
}

/// create → ready and delete of `INCUS_MACHINES` machines on Incus:
/// footloose (the library, `FOOTLOOSE_BACKEND=incus`) against
/// `baseline-incus.sh`; and the same cluster on Docker, footloose against
/// `baseline.sh`, measured in the same rounds so that the two engines are
/// compared under the same load. The four sides take turns, each round
/// starting one further.
pub fn incus_against_docker(work: &Workspace, settings: &Settings, report: &mut Report) {
    const MACHINES: u32 = 10;
    work.incus();
    let (mut fl_incus, mut raw_incus, mut fl_docker, mut raw_docker) = (
        Side::default(),
        Side::default(),
        Side::default(),
        Side::default(),
    );
    // Warm-up: page cache, the image's storage volume, key generation.
    let (warm, ..) = create_again(work, "incus", 1, &mut fl_incus);
    warm.delete().unwrap();
    let warm_base = work.name("warm-incus-base");
    let (made, notes) = baseline::incus_create(&warm_base, 1, &work.keys);
    raw_incus.failures.extend(notes);
    baseline::incus_delete(&made);
    let (warm, ..) = create_again(work, "docker", 1, &mut fl_docker);
    warm.delete().unwrap();

    let footloose_side = |backend: &'static str, side: &mut Side| {
        let (cluster, before, after, took) = create_again(work, backend, MACHINES, side);
        side.create.push_duration(took);
        let names: Vec<String> = cluster
            .machines()
            .iter()
            .map(|m| m.container_name().to_owned())
            .collect();
        let (inside, daemons) = if backend == "incus" {
            (cpu::incus_machines_seconds(&names), cpu::Daemons::Incus)
        } else {
            (cpu::machines_seconds(&names), cpu::Daemons::Docker)
        };
        side.cpu.push(
            cpu::Split::between(before, after, inside, true, daemons),
            MACHINES,
        );
        let (_, took) = timed(|| cluster.delete().unwrap());
        side.delete.push_duration(took);
    };
    let raw_side = |backend: &'static str, side: &mut Side| {
        let name = work.name(&format!("{}{MACHINES}-base", &backend[..1]));
        let before = cpu::Snapshot::now();
        let ((made, notes), took) = timed(|| {
            if backend == "incus" {
                baseline::incus_create(&name, MACHINES as usize, &work.keys)
            } else {
                (work.baseline_create(&name, MACHINES as usize), Vec::new())
            }
        });
        let after = cpu::Snapshot::now();
        side.failures.extend(notes);
        side.create.push_duration(took);
        let names: Vec<String> = made.iter().map(|m| m.name.clone()).collect();
        let (inside, daemons) = if backend == "incus" {
            (cpu::incus_machines_seconds(&names), cpu::Daemons::Incus)
        } else {
            (cpu::machines_seconds(&names), cpu::Daemons::Docker)
        };
        side.cpu.push(
            cpu::Split::between(before, after, inside, false, daemons),
            MACHINES,
        );
        let (_, took) = timed(|| {
            if backend == "incus" {
                baseline::incus_delete(&made)
            } else {
                baseline::delete(&made)
            }
        });
        side.delete.push_duration(took);
    };
    for round in 0..settings.rounds {
        for turn in 0..4 {
            match (round + turn) % 4 {
                0 => footloose_side("incus", &mut fl_incus),
                1 => raw_side("incus", &mut raw_incus),
                2 => footloose_side("docker", &mut fl_docker),
                _ => raw_side("docker", &mut raw_docker),
            }
        }
    }

    println!("-- Incus: footloose vs baseline-incus.sh, {MACHINES} machines");
    report.row(
        "incus create 10 -> ready",
        "ms",
        &fl_incus.create,
        &raw_incus.create,
        None,
    );
    report.row(
        "incus delete 10",
        "ms",
        &fl_incus.delete,
        &raw_incus.delete,
        None,
    );
    fl_incus.tell_failures("footloose create failed, removed and made again");
    raw_incus.tell_failures("the script pushed files again");
    cpu_rows(
        report,
        "incus CPU/machine (c10)",
        &fl_incus.cpu,
        &raw_incus.cpu,
        "incusd + forkproxy",
    );
    println!("-- Docker, same rounds: footloose vs baseline.sh");
    report.row(
        "docker create 10 -> ready",
        "ms",
        &fl_docker.create,
        &raw_docker.create,
        None,
    );
    report.row(
        "docker delete 10",
        "ms",
        &fl_docker.delete,
        &raw_docker.delete,
        None,
    );
    cpu_rows(
        report,
        "docker CPU/machine (c10)",
        &fl_docker.cpu,
        &raw_docker.cpu,
        "dockerd + containerd",
    );
    println!("-- Incus (left column) vs Docker (right column)");
    report.row(
        "footloose create 10",
        "ms",
        &fl_incus.create,
        &fl_docker.create,
        None,
    );
    report.row(
        "footloose delete 10",
        "ms",
        &fl_incus.delete,
        &fl_docker.delete,
        None,
    );
    report.row(
        "footloose CPU/machine (c10)",
        "cpu-s",
        &fl_incus.cpu.total,
        &fl_docker.cpu.total,
        None,
    );
    report.row(
        "script create 10",
        "ms",
        &raw_incus.create,
        &raw_docker.create,
        None,
    );
    report.row(
        "script delete 10",
        "ms",
        &raw_incus.delete,
        &raw_docker.delete,
        None,
    );
}

/// footloose's create of `machines` on `backend`, timed, with CPU
/// snapshots around it. A create that fails is told, removed and made
/// again (the failure kept in `side`), at most 3 times in a row.
fn create_again(
    work: &Workspace,
    backend: &'static str,
    machines: u32,
    side: &mut Side,
) -> (Cluster, cpu::Snapshot, cpu::Snapshot, std::time::Duration) {
    let mut tries = 0;
    loop {
        let name = work.name(&format!("{}{machines}", &backend[..1]));
        let builder = work.builder_on(backend, &name, machines);
        let before = cpu::Snapshot::now();
        let (made, took) = timed(|| builder.create());
        let after = cpu::Snapshot::now();
        match made {
            Ok(cluster) => return (cluster, before, after, took),
            Err(e) => {
                eprintln!("footloose on {backend}: create failed: {e}");
                side.failures.push(e.to_string());
                let engine = if backend == "incus" {
                    work.incus()
                } else {
                    &work.engine
                };
                let _ = footloose::runtime::block_on(footloose::delete(engine, &name));
                tries += 1;
                assert!(
                    tries < 3,
                    "footloose on {backend} failed 3 times in a row: {e}"
                );
            }
        }
    }
}

/// The CPU rows: the total per machine, then where it went.
fn cpu_rows(report: &mut Report, name: &str, fl: &CpuSamples, bl: &CpuSamples, daemons: &str) {
    report.row(name, "cpu-s", &fl.total, &bl.total, None);
    report.row(
        "  in the machines",
        "cpu-s",
        &fl.machines,
        &bl.machines,
        None,
    );
    report.row(
        &format!("  {daemons}"),
        "cpu-s",
        &fl.daemons,
        &bl.daemons,
        None,
    );
    report.row("  client", "cpu-s", &fl.client, &bl.client, None);
    report.row("  rest", "cpu-s", &fl.rest, &bl.rest, None);
}

/// `footloose ssh node0 -- true` twice in a row on a ready machine: the
/// second reuses the first's connection. Against a new OpenSSH process.
pub fn cli_ssh(work: &Workspace, settings: &Settings, report: &mut Report) {
    let Some(cli) = footloose_cli() else {
        println!(
            "footloose ssh: skipped, build the CLI first (cargo build --release -p footloose --features cli)"
        );
        return;
    };
    let dir = work.dir.path().join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let name = work.name("cli");
    std::fs::write(
        dir.join("footloose.yaml"),
        format!("cluster:\n  name: {name}\n  privateKey: key\nmachines:\n- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n    portMappings:\n    - containerPort: 22\n"),
    )
    .unwrap();
    let footloose = |args: &[&str]| {
        let out = std::process::Command::new(&cli)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "footloose {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    footloose(&["create"]);
    let base = work.baseline_create(&work.name("cli-base"), 1);
    let (mut first, mut again, mut ssh) =
        (Samples::default(), Samples::default(), Samples::default());
    for _ in 0..settings.rounds.max(5) {
        // The connection of the previous round is closed first.
        close_ssh_masters();
        let (_, took) = timed(|| footloose(&["ssh", "node0", "--", "true"]));
        first.push_duration(took);
        let (_, took) = timed(|| footloose(&["ssh", "node0", "--", "true"]));
        again.push_duration(took);
        let (ok, took) = timed(|| baseline::ssh_true(&base[0], &work.keys));
        assert!(ok);
        ssh.push_duration(took);
    }
    report.row("footloose ssh, first", "ms", &first, &ssh, None);
    report.row(
        "footloose ssh, again",
        "ms",
        &again,
        &ssh,
        Some(Target::ValueAtMost(50.0)),
    );
    footloose(&["delete"]);
    baseline::delete(&base);
}

/// Closes every master connection `footloose ssh` left (`ssh -O exit`).
fn close_ssh_masters() {
    let Some(dir) = footloose::paths::ssh_control_dir() else {
        return;
    };
    for socket in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let _ = std::process::Command::new("ssh")
            .arg("-o")
            .arg(format!("ControlPath={}", socket.path().display()))
            .args(["-O", "exit", "footloose"])
            .output();
    }
}

/// The `footloose` binary built next to this bench (target/*/footloose).
pub fn footloose_cli() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let cli = exe.parent()?.parent()?.join("footloose");
    cli.exists().then_some(cli)
}

/// `true` on a ready machine: footloose's pooled ssh vs a new OpenSSH
/// process vs `docker exec`.
pub fn exec_round_trip(work: &Workspace, settings: &Settings, report: &mut Report) {
    let (cluster, base) = work.one_machine_each("exec");
    let node = cluster.machine("node0");
    let (mut fl, mut ssh, mut dexec) = (Samples::default(), Samples::default(), Samples::default());
    for _ in 0..10 {
        node.exec("true").unwrap();
    }
    // Alternate the three in blocks of 50, so drift hits them alike.
    const BLOCK: usize = 50;
    for _ in 0..settings.exec_count.div_ceil(BLOCK) {
        for _ in 0..BLOCK {
            let (out, took) = timed(|| node.exec("true").unwrap());
            assert!(out.success());
            fl.push_duration(took);
        }
        for _ in 0..BLOCK {
            let (ok, took) = timed(|| baseline::ssh_true(&base[0], &work.keys));
            assert!(ok);
            ssh.push_duration(took);
        }
        for _ in 0..BLOCK {
            let (_, took) = timed(|| baseline::docker_exec_true(&base[0]));
            dexec.push_duration(took);
        }
    }
    report.value_row("exec p50 vs ssh", "ms", fl.median(), ssh.median(), None);
    report.value_row(
        "exec p99 vs ssh",
        "ms",
        fl.percentile(99.0),
        ssh.percentile(99.0),
        None,
    );
    report.value_row(
        "exec p50 vs docker exec",
        "ms",
        fl.median(),
        dexec.median(),
        Some(Target::RatioAtMost(0.05)),
    );
    report.value_row(
        "exec p99 vs docker exec",
        "ms",
        fl.percentile(99.0),
        dexec.percentile(99.0),
        None,
    );
    report.value_row(
        "exec p50 (target 3 ms)",
        "ms",
        fl.median(),
        3.0,
        Some(Target::ValueAtMost(3.0)),
    );
    report.value_row(
        "exec p99 (target 10 ms)",
        "ms",
        fl.percentile(99.0),
        10.0,
        Some(Target::ValueAtMost(10.0)),
    );
    cluster.delete().unwrap();
    baseline::delete(&base);
}

/// A file into the machine and back: footloose vs scp, in MB/s.
pub fn copy(work: &Workspace, settings: &Settings, report: &mut Report) {
    let (cluster, base) = work.one_machine_each("copy");
    let node = cluster.machine("node0");
    let bytes = settings.copy_mb * 1024 * 1024;
    let source = work.dir.path().join("payload.bin");
    let mut data = vec![0u8; bytes];
    let mut state = 0x2545_f491_u32;
    for byte in data.iter_mut() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        *byte = state as u8;
    }
    std::fs::write(&source, &data).unwrap();
    let back = work.dir.path().join("back.bin");
    let mb = settings.copy_mb as f64;
    let rate = |d: std::time::Duration| mb / d.as_secs_f64();
    let (mut fl_to, mut bl_to, mut fl_from, mut bl_from) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    for _ in 0..settings.rounds {
        let (_, took) = timed(|| node.copy_to(&source, "/root/payload.bin").unwrap());
        fl_to.0.push(rate(took));
        let (_, took) =
            timed(|| baseline::scp(&base[0], &work.keys, &source, "/root/payload.bin", true));
        bl_to.0.push(rate(took));
        let (_, took) = timed(|| node.copy_from("/root/payload.bin", &back).unwrap());
        fl_from.0.push(rate(took));
        assert_eq!(std::fs::metadata(&back).unwrap().len(), bytes as u64);
        let (_, took) =
            timed(|| baseline::scp(&base[0], &work.keys, &back, "/root/payload.bin", false));
        bl_from.0.push(rate(took));
    }
    report.row(
        &format!("copy {}MB to machine", settings.copy_mb),
        "MB/s",
        &fl_to,
        &bl_to,
        Some(Target::RatioAtLeast(0.8)),
    );
    report.row(
        &format!("copy {}MB from machine", settings.copy_mb),
        "MB/s",
        &fl_from,
        &bl_from,
        Some(Target::RatioAtLeast(0.8)),
    );
    cluster.delete().unwrap();
    baseline::delete(&base);
}

/// What the attribute adds to a test: a fresh 1-machine cluster, a shared
/// cluster, against an empty test.
pub fn per_test_overhead(work: &Workspace, settings: &Settings, report: &mut Report) {
    let config = work.dir.path().join("footloose.yaml");
    let text = format!(
        "cluster:\n  name: bench\n  privateKey: {}\nmachines:\n- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n    portMappings:\n    - containerPort: 22\n",
        work.key().display()
    );
    std::fs::write(&config, &text).unwrap();
    let spec = |shared: bool| TestSpec {
        test_name: "bench-overhead",
        config_path: Box::leak(config.display().to_string().into_boxed_str()),
        config_text: Box::leak(text.clone().into_boxed_str()),
        image: None,
        shared,
        ready_timeout: None,
        keep_on_failure: false,
        pool: None,
    };
    let (mut fresh, mut shared, mut empty) =
        (Samples::default(), Samples::default(), Samples::default());
    let empty_test = |_: &Cluster| {};
    // The shared cluster is made by its first test; later tests pay the rest.
    footloose::testing::run_test(spec(true), empty_test);
    for _ in 0..settings.rounds.max(3) {
        let (_, took) = timed(|| {
            footloose::testing::run_test(spec(false), |c: &Cluster| {
                assert_eq!(c.machines().len(), 1);
            })
        });
        fresh.push_duration(took);
        for _ in 0..20 {
            let (_, took) = timed(|| {
                footloose::testing::run_test(spec(true), |c: &Cluster| {
                    assert_eq!(c.machines().len(), 1);
                })
            });
            shared.push_duration(took);
            let (_, took) = timed(|| std::hint::black_box(|| ())());
            empty.push_duration(took);
        }
    }
    report.row(
        "test, fresh cluster",
        "ms",
        &fresh,
        &empty,
        Some(Target::ValueAtMost(1200.0)),
    );
    report.row(
        "test, shared cluster",
        "ms",
        &shared,
        &empty,
        Some(Target::ValueAtMost(5.0)),
    );
}
