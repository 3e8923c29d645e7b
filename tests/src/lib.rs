//! Helpers shared by the end-to-end tests.

use footloose::engine::Engine;

/// Fails with a clear message when no Docker engine answers: these tests
/// need one and must not pass without it.
pub fn require_docker() -> Engine {
    footloose::runtime::block_on(Engine::connect())
        .unwrap_or_else(|err| panic!("these tests need a running Docker engine: {err}"))
}

/// The names of the containers labelled with `cluster`.
pub fn containers_of(cluster: &str) -> Vec<String> {
    let engine = require_docker();
    footloose::runtime::block_on(async move {
        let status = footloose::status(&engine, Some(cluster)).await.unwrap();
        status.into_iter().map(|m| m.container).collect()
    })
}

/// Waits up to `seconds` for every container of `cluster` to be gone;
/// returns whether they went.
pub fn wait_until_gone(cluster: &str, seconds: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if containers_of(cluster).is_empty() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The workspace's `footloose` binary, built beside this crate's binaries.
pub fn footloose_bin(sibling: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(sibling).with_file_name("footloose");
    assert!(
        path.exists(),
        "{} is missing: build the workspace (cargo build --workspace)",
        path.display()
    );
    path
}

/// Runs the smoke suite (`smoke`, the binary at `smoke_bin`) against the
/// engine at `endpoint`, labelled `label`; panics with its report unless
/// every check passed.
pub fn run_smoke(smoke_bin: &str, label: &str, endpoint: &str) {
    run_smoke_with(smoke_bin, label, endpoint, &[]);
}

/// [`run_smoke`] with more environment variables (`HOME` with the ssh keys
/// of an engine over ssh, …).
pub fn run_smoke_with(smoke_bin: &str, label: &str, endpoint: &str, envs: &[(&str, &str)]) {
    let out = std::process::Command::new(smoke_bin)
        .arg(label)
        .arg(footloose_bin(smoke_bin))
        .env("DOCKER_HOST", endpoint)
        .envs(envs.iter().copied())
        .output()
        .expect("cannot run the smoke suite");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(
        out.status.success() && report.contains(&format!("smoke {label}: 3 passed, 0 failed")),
        "the smoke suite failed on {label}:\n{report}"
    );
}

/// What footloose left of `cluster` on the engine at `endpoint`.
pub fn leftovers_at(endpoint: &str, cluster: &str) -> footloose::engine::Leftovers {
    footloose::runtime::block_on(async {
        let engine = Engine::connect_to(endpoint).await.unwrap();
        engine.leftovers(Some(cluster)).await.unwrap()
    })
}

/// Makes sure the local Docker engine has `image`, to be copied from there.
pub fn local_image(image: &str) {
    let engine = require_docker();
    footloose::runtime::block_on(footloose::image::ensure(&engine, image)).unwrap();
}

/// The workspace's root directory.
pub fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the workspace")
        .to_owned()
}

/// The target directory this build is in: a test binary is in
/// `TARGET/debug/deps`.
pub fn target_dir() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.ancestors()
        .nth(3)
        .expect("the test binary is in TARGET/debug/deps")
        .to_owned()
}

/// A command's stdout then stderr, as text: what a failure message shows.
pub fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs the real `ansible-playbook` on `playbook` against `inventory`;
/// panics when it cannot run (ansible-core is not installed).
pub fn ansible_playbook(
    inventory: &std::path::Path,
    playbook: &std::path::Path,
) -> std::process::Output {
    std::process::Command::new("ansible-playbook")
        .arg("-i")
        .arg(inventory)
        .arg(playbook)
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run ansible-playbook (install ansible-core): {e}"))
}

/// Images made for the adapter's tests from footloose's Debian 12 base
/// (made with mmdebstrap when missing), as users' images from a registry
/// would be: labelled `io.footloose.test=true`, kept between runs.
pub mod test_images {
    use std::process::{Command, Stdio};

    /// A systemd image without an ssh daemon (footloose's Debian 12 base
    /// with openssh-server purged), as a user's own systemd image may be.
    pub const NO_SSHD: &str = "footloose-test/nosshd:bookworm";
    /// Neither systemd, sshd nor python3: what `debian:bookworm` from a
    /// registry holds.
    pub const BARE: &str = "footloose-test/bare:bookworm";

    const BASE: &str = "footloose/base:bookworm";

    /// The Dockerfile of a test image.
    fn dockerfile(image: &str, extra: &str) -> String {
        let purge = match image {
            NO_SSHD => "apt-get purge -y openssh-server openssh-sftp-server",
            BARE => "apt-get purge -y --allow-remove-essential systemd systemd-sysv libpam-systemd dbus openssh-server openssh-sftp-server python3 python3-minimal python3.11 python3.11-minimal && apt-get autoremove --purge -y && test ! -e /lib/systemd/systemd",
            other => panic!("no test image {other}"),
        };
        format!("FROM {BASE}\nRUN {purge}\nLABEL io.footloose.test=true{extra}\n")
    }

    /// Makes `image` (one of this module's) present; `extra` is appended to
    /// its label line (another text makes another image: a new base).
    pub fn make(image: &str, extra: &str) {
        let engine = super::require_docker();
        if !footloose::runtime::block_on(footloose::image::exists(&engine, BASE)).unwrap() {
            // Building footloose/debian12 offline makes the base first.
            footloose::runtime::block_on(footloose::image::ensure(&engine, "footloose/debian12"))
                .expect("cannot make footloose's Debian 12 base");
        }
        let mut child = Command::new("docker")
            .args(["build", "-q", "-t", image, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run docker build (the docker CLI is needed)");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dockerfile(image, extra).as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "cannot build {image}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The id of `image`, `None` when it is not present.
    pub fn id(image: &str) -> Option<String> {
        let out = Command::new("docker")
            .args(["image", "inspect", "-f", "{{.Id}}", image])
            .output()
            .expect("cannot run docker image inspect");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Removes `image` (by reference), when present and unused.
    pub fn remove(image: &str) {
        let _ = Command::new("docker")
            .args(["image", "rm", image])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
