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
