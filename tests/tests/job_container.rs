//! CI job containers on the host's engine: the job runs in a container that
//! mounts the engine's socket, on the default bridge (GitLab's docker
//! executor) or on a user network of its own (GitHub's `container:` jobs).
//! footloose finds its own container through the engine and reaches the
//! machines over the job's network. In such a job, the smoke suite (the CLI
//! walk: two machines, ssh, show, stop/start, delete; and the test
//! framework) and a few tests of this crate under `cargo test` and under
//! `cargo nextest run` pass; nothing is left, and the job's container is on
//! no network but its own afterwards. A job without a network is refused
//! before anything is made, and one told to use the host's loopback fails
//! within seconds, saying what it tried and the way out.
//!
//! The job image is `footloose/debian12` (it has an ssh client and the
//! libraries the binaries link); the Rust toolchain, the workspace and its
//! target directory are mounted at the paths they have here, so that the
//! job's cargo finds this build fresh and only runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use footloose_tests::{footloose_bin, local_image, require_docker, target_dir, workspace};

const IMAGE: &str = "footloose/debian12";
/// Marks what these tests make on the engine, and which test made it.
const LABEL: &str = "io.footloose.test";
/// The framework tests the job runs under each runner.
const FRAMEWORK_TESTS: [&str; 2] = [
    "a_sync_test_gets_a_ready_machine",
    "files_and_directories_copy_both_ways",
];

/// A job container, removed (with its user network) on drop.
struct Job {
    name: String,
    network: Option<String>,
}

impl Job {
    /// Starts a job container named after `test`, idle until told what to
    /// run; `network`: on the default bridge (`None`), a user network made
    /// for it (`Some("")`), or a network mode such as `none`.
    fn start(test: &str, network: Option<&str>) -> Job {
        require_docker();
        local_image(IMAGE);
        let name = format!("fl-job-{test}-{}", std::process::id());
        let mut job = Job {
            name: name.clone(),
            network: None,
        };
        let mode = match network {
            Some("") => {
                let net = format!("{name}-net");
                docker(&[
                    "network",
                    "create",
                    "--label",
                    &format!("{LABEL}={test}"),
                    &net,
                ]);
                job.network = Some(net.clone());
                net
            }
            Some(mode) => mode.to_owned(),
            None => "bridge".to_owned(),
        };
        let workspace = workspace();
        let target = target_dir();
        let cargo_home = env_dir("CARGO_HOME", ".cargo");
        let rustup_home = env_dir("RUSTUP_HOME", ".rustup");
        let mut args: Vec<String> = vec![
            "run".into(),
            "-d".into(),
            "--name".into(),
            name.clone(),
            "--label".into(),
            format!("{LABEL}={test}"),
            "--network".into(),
            mode,
            "-v".into(),
            "/var/run/docker.sock:/var/run/docker.sock".into(),
        ];
        for dir in [&workspace, &target, &cargo_home, &rustup_home] {
            args.push("-v".into());
            args.push(format!("{0}:{0}", dir.display()));
        }
        args.push("-v".into());
        args.push(format!(
            "{}:/usr/local/bin/cargo-nextest:ro",
            nextest().display()
        ));
        args.extend([
            "-e".into(),
            format!("CARGO_HOME={}", cargo_home.display()),
            "-e".into(),
            format!("RUSTUP_HOME={}", rustup_home.display()),
            "-e".into(),
            format!("CARGO_TARGET_DIR={}", target.display()),
            "-e".into(),
            format!(
                "PATH={}:{}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                toolchain_bin().display(),
                cargo_home.display()
            ),
            "-w".into(),
            workspace.display().to_string(),
            "--entrypoint".into(),
            "sleep".into(),
            IMAGE.into(),
            "infinity".into(),
        ]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        docker(&refs);
        job
    }

    /// Runs `command` (through `sh -c`) in the job, with `env`.
    fn run(&self, command: &str, env: &[(&str, &str)]) -> Output {
        let mut args = vec!["exec".to_owned()];
        for (key, value) in env {
            args.push("-e".into());
            args.push(format!("{key}={value}"));
        }
        args.extend([self.name.clone(), "sh".into(), "-c".into(), command.into()]);
        Command::new("docker")
            .args(&args)
            .output()
            .expect("cannot run docker exec")
    }

    /// Runs `command` in the job and panics with its output unless it
    /// succeeds; returns stdout and stderr together.
    fn ok(&self, command: &str, env: &[(&str, &str)]) -> String {
        let out = self.run(command, env);
        let text = both(&out);
        println!("{text}");
        let hint = if text.contains("linker `cc` not found") {
            "\n(the job's cargo found this build stale, and the job image has no C toolchain: build the workspace's tests first, `cargo test --workspace --no-run`)"
        } else {
            ""
        };
        assert!(
            out.status.success(),
            "`{command}` failed in the job container:\n{text}{hint}"
        );
        text
    }

    /// Writes a config for a one-machine cluster named after the job and
    /// runs `footloose create ARGS` with `env`, in a directory of the job's.
    fn create_a_cluster(&self, args: &str, env: &[(&str, &str)]) -> Output {
        let footloose = footloose_bin(&footloose_bin_dir().join("smoke").display().to_string());
        let dir = format!("/tmp/{}", self.name);
        self.run(
            &format!(
                "mkdir -p {dir} && cd {dir} && {f} config create --name {name} && {f} create {args}",
                f = footloose.display(),
                name = self.name
            ),
            env,
        )
    }

    /// The networks the job's container is on, by name.
    fn networks(&self) -> Vec<String> {
        let out = docker(&[
            "inspect",
            "--format",
            "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}",
            &self.name,
        ]);
        out.split_whitespace().map(str::to_owned).collect()
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.name])
            .output();
        if let Some(network) = &self.network {
            let _ = Command::new("docker")
                .args(["network", "rm", network])
                .output();
        }
    }
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("cannot run docker");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        both(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn both(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The `cargo-nextest` on this PATH (`.ci/run` installs it).
fn nextest() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("cargo-nextest"))
        .find(|path| path.is_file())
        .expect("these tests run nextest in the job container: install cargo-nextest (`cargo install --locked cargo-nextest`)")
}

/// The directory of the cargo running these tests, and of its rustc: the
/// toolchain's own (under `RUSTUP_HOME`, mounted into the job) when rustup
/// installed it. `CARGO_HOME/bin` has rustup's proxies only where cargo's
/// home is the one rustup installed into.
fn toolchain_bin() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    Path::new(&cargo)
        .parent()
        .expect("cargo's path has a directory")
        .to_owned()
}

fn env_dir(var: &str, under_home: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").expect("HOME is set")).join(under_home)
    })
}

/// Footloose's containers and networks whose name starts with `prefix`.
fn left_with_prefix(prefix: &str) -> Vec<String> {
    let engine = require_docker();
    let left = footloose::runtime::block_on(async move { engine.leftovers(None).await })
        .expect("cannot list what footloose left");
    left.containers
        .into_iter()
        .chain(left.networks)
        .filter(|name| name.starts_with(prefix))
        .collect()
}

/// The smoke suite, then a few framework tests under each runner, in a job
/// container on `network`; then nothing is left and the job is on its own
/// network only.
fn a_job_passes_unchanged(test: &str, network: Option<&str>) {
    // One such job at a time: each checks that the smoke suite's clusters
    // are gone, and the two cores are busy enough with one.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let job = Job::start(test, network);
    let before = job.networks();
    let smoke = footloose_bin_dir().join("smoke");
    let footloose = footloose_bin(&smoke.display().to_string());
    let report = job.ok(
        &format!("{} job-{test} {}", smoke.display(), footloose.display()),
        &[],
    );
    assert!(
        report.contains(&format!(
            "smoke job-{test}: {} passed, 0 failed",
            footloose_tests::SMOKE_CHECKS
        )),
        "{report}"
    );
    let filter = FRAMEWORK_TESTS.join(" ");
    let out = job.ok(
        // The same targets as the README's `cargo test --workspace`, so
        // that this build is fresh (one test target alone resolves other
        // features); the name filter picks the framework's tests.
        &format!("cargo test --offline --workspace --tests -- --exact {filter}"),
        &[],
    );
    assert!(out.contains("test result: ok. 2 passed"), "{out}");
    let expression = FRAMEWORK_TESTS
        .iter()
        .map(|t| format!("test(={t})"))
        .collect::<Vec<_>>()
        .join(" | ");
    let out = job.ok(
        &format!("cargo nextest run --offline --workspace -E 'binary(framework) & ({expression})'"),
        &[],
    );
    assert!(out.contains("2 tests run: 2 passed"), "{out}");
    assert_eq!(
        job.networks(),
        before,
        "footloose changed the job container's networks"
    );
    // The smoke suite's clusters are named `smoke-…` and `fw-…`, the
    // framework's after their tests; no other test of this binary makes
    // such clusters, and the host's own runs of them are not running now
    // (`cargo test` runs one test binary at a time).
    let mut prefixes = vec!["smoke-".to_owned(), "fw-".to_owned()];
    prefixes.extend(
        FRAMEWORK_TESTS
            .iter()
            .map(|t| t.replace('_', "-")[..12].to_owned()),
    );
    for prefix in prefixes {
        assert_eq!(
            left_with_prefix(&prefix),
            Vec::<String>::new(),
            "{prefix}… was left"
        );
    }
}

/// Where this build's binaries are (`TARGET/debug`).
fn footloose_bin_dir() -> PathBuf {
    target_dir().join("debug")
}

#[test]
fn a_job_on_the_default_bridge_passes_unchanged() {
    a_job_passes_unchanged("bridge", None);
}

#[test]
fn a_job_on_a_user_network_passes_unchanged() {
    a_job_passes_unchanged("usernet", Some(""));
}

#[test]
fn a_job_without_a_network_is_refused_before_anything_is_made() {
    let job = Job::start("none", Some("none"));
    let out = job.create_a_cluster("", &[]);
    let text = both(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("footloose cannot reach machines from here"),
        "{text}"
    );
    assert!(
        text.contains(&format!("runs in container {}", job.name)),
        "{text}"
    );
    assert!(text.contains("network mode none"), "{text}");
    assert!(
        !text.contains("Creating machine"),
        "it made something first: {text}"
    );
    assert_eq!(left_with_prefix(&job.name), Vec::<String>::new());
}

#[test]
fn a_job_told_to_use_the_hosts_loopback_fails_within_seconds_saying_why() {
    let job = Job::start("loopback", None);
    let started = std::time::Instant::now();
    let out = job.create_a_cluster("--timeout 120", &[("FOOTLOOSE_REACH", "published")]);
    let took = started.elapsed();
    let text = both(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("booted, but footloose cannot reach its sshd at 127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains(&format!("runs in container {}", job.name)),
        "{text}"
    );
    assert!(
        text.contains("bound to 127.0.0.1 of the engine's host"),
        "{text}"
    );
    // Not the 120 s a machine that does not boot is given.
    assert!(
        took.as_secs() < 60,
        "it waited {took:?} as if the machine had not booted"
    );
    assert_eq!(left_with_prefix(&job.name), Vec::<String>::new());
}
