//! A remote engine: a second dockerd in a network namespace of its own
//! (its 127.0.0.1 is not ours), reached over tcp and over ssh. The smoke
//! suite passes both ways. Over tcp, ports are published on the engine's
//! address and reached there; over ssh they stay on the engine host's
//! loopback and are reached through the ssh connection. A bind source is
//! named as the engine host's path; an unknown ssh host key is refused with
//! the command that adds it; nothing is left. Over ssh, the engine is also
//! reached through nothing but `~/.ssh/config` aliases: one with its own
//! key file and known-hosts file, one through it as a `ProxyJump`.

use std::path::Path;
use std::process::{Command, Output};

use sha2::Digest as _;

use footloose_tests::podman::PodmanService;
use footloose_tests::{
    footloose_bin, in_home, leftovers_at, local_image, run_smoke, run_smoke_in_home,
};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/engines/remote-docker.sh");
const IMAGE: &str = "footloose/debian12";

/// The second engine; stopped and removed on drop.
struct RemoteEngine {
    name: String,
    /// `tcp://…`
    endpoint: String,
    /// `ssh://root@…/…/docker.sock`
    ssh_endpoint: String,
    /// For an engine over TLS: the client's `key.pem`, `cert.pem`, `ca.pem`.
    cert_path: Option<String>,
}

impl RemoteEngine {
    /// Starts an engine; `slot` (0 to 4) keeps this process's engines apart.
    fn start(slot: u32) -> RemoteEngine {
        RemoteEngine::start_with(slot, false)
    }

    /// Starts an engine, over TLS only with `tls`.
    fn start_with(slot: u32, tls: bool) -> RemoteEngine {
        assert!(slot < 5);
        local_image(IMAGE);
        // Unique per process and slot, so that runs on one host do not
        // collide; at most 249, the last subnet the script takes.
        let n = (std::process::id() % 48) * 5 + slot + 10;
        let name = format!("r{n}");
        let n = n.to_string();
        let mut args = vec![SCRIPT, "start", &name, &n];
        if tls {
            args.push("tls");
        }
        let out = Command::new("bash")
            .args(args)
            .output()
            .expect("cannot run the remote engine script");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let value = |key: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .unwrap_or_default()
                .to_owned()
        };
        let remote = RemoteEngine {
            name,
            endpoint: value("DOCKER_HOST="),
            ssh_endpoint: value("SSH_ENGINE="),
            cert_path: Some(value("DOCKER_CERT_PATH=")).filter(|p| !p.is_empty()),
        };
        assert!(out.status.success(), "{}", text(&out));
        let tls = match &remote.cert_path {
            Some(dir) => format!("DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH={dir}"),
            None => String::new(),
        };
        let load = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker save {IMAGE} | DOCKER_HOST={} {tls} docker load",
                remote.endpoint
            ))
            .output()
            .unwrap();
        assert!(load.status.success(), "{}", text(&load));
        remote
    }

    /// Runs the footloose CLI in `dir` against this engine.
    fn footloose(&self, dir: &Path, args: &[&str]) -> Output {
        footloose_at(&self.endpoint, dir, args, None)
    }

    /// A home directory whose `.ssh` has a key the engine's sshd accepts
    /// for root and, with `trusted`, the engine host's key in `known_hosts`.
    fn ssh_home(&self, trusted: bool) -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        let ssh = home.path().join(".ssh");
        std::fs::create_dir(&ssh).unwrap();
        let keygen = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(ssh.join("id_ed25519"))
            .output()
            .expect("cannot run ssh-keygen");
        assert!(keygen.status.success(), "{}", text(&keygen));
        let root = Path::new("/tmp").join(format!("fl-engine-{}", self.name));
        let public = std::fs::read_to_string(ssh.join("id_ed25519.pub")).unwrap();
        let mut authorized = std::fs::OpenOptions::new()
            .append(true)
            .open(root.join("authorized_keys"))
            .unwrap();
        std::io::Write::write_all(&mut authorized, public.as_bytes()).unwrap();
        if trusted {
            let host_key = std::fs::read_to_string(root.join("ssh_host_ed25519_key.pub")).unwrap();
            let host = self.engine_ip();
            std::fs::write(ssh.join("known_hosts"), format!("{host} {host_key}")).unwrap();
        }
        home
    }

    /// A home directory that reaches this engine through `~/.ssh/config`
    /// alone: no default key, no `~/.ssh/known_hosts`. `fl-remote-engine`
    /// is the engine's host (a key that is no default name, a known-hosts
    /// file elsewhere, hashed as `HashKnownHosts` writes it);
    /// `fl-remote-behind` is its sshd on the namespace's own loopback,
    /// which only a `ProxyJump` through `fl-remote-engine` reaches;
    /// `fl-remote-careless` asks not to check host keys at all.
    fn alias_home(&self) -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        for dir in [".ssh", "keys", "known"] {
            std::fs::create_dir(home.path().join(dir)).unwrap();
        }
        let key = home.path().join("keys/engine-key");
        let keygen = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .output()
            .expect("cannot run ssh-keygen");
        assert!(keygen.status.success(), "{}", text(&keygen));
        let root = Path::new("/tmp").join(format!("fl-engine-{}", self.name));
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let mut authorized = std::fs::OpenOptions::new()
            .append(true)
            .open(root.join("authorized_keys"))
            .unwrap();
        std::io::Write::write_all(&mut authorized, public.as_bytes()).unwrap();
        let host_key = std::fs::read_to_string(root.join("ssh_host_ed25519_key.pub")).unwrap();
        let ip = self.engine_ip();
        let known = home.path().join("known/engine_hosts");
        std::fs::write(
            &known,
            format!("{ip} {host_key}fl-remote-behind-key {host_key}"),
        )
        .unwrap();
        let hashed = Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(&known)
            .output()
            .unwrap();
        assert!(hashed.status.success(), "{}", text(&hashed));
        // Host * comes last and loses wherever an alias said otherwise.
        std::fs::write(
            home.path().join(".ssh/config"),
            format!(
                "Host fl-remote-careless
  HostName {ip}
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
                 Host fl-remote-*
  User root
  Port 22
  IdentityFile ~/keys/engine-key
  UserKnownHostsFile ~/.ssh/nothing-here ~/known/engine_hosts
                 Host fl-remote-engine
  HostName {ip}
                 Host fl-remote-behind
  HostName 127.0.0.1
  HostKeyAlias fl-remote-behind-key
  ProxyJump fl-remote-engine
                 Host *
  User nobody
  Port 2
"
            ),
        )
        .unwrap();
        home
    }

    /// `ssh://HOST/…/docker.sock`: the engine at the ssh host `host`.
    fn ssh_endpoint_at(&self, host: &str) -> String {
        let socket = self
            .ssh_endpoint
            .trim_start_matches("ssh://")
            .split_once('/')
            .map(|(_, path)| path)
            .unwrap_or_default();
        format!("ssh://{host}/{socket}")
    }

    fn engine_ip(&self) -> String {
        self.endpoint
            .trim_start_matches("tcp://")
            .split(':')
            .next()
            .unwrap()
            .to_owned()
    }
}

/// Runs the footloose CLI in `dir` against the engine at `endpoint`, with
/// `home` as the user's home directory (where ssh reads `~/.ssh`).
fn footloose_at(endpoint: &str, dir: &Path, args: &[&str], home: Option<&Path>) -> Output {
    let program = footloose_bin(env!("CARGO_BIN_EXE_smoke"));
    let mut command = match home {
        Some(home) => in_home(home, program),
        None => Command::new(program),
    };
    command
        .args(args)
        .current_dir(dir)
        .env("DOCKER_HOST", endpoint)
        .env_remove("FOOTLOOSE_CONFIG")
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap()
}

impl Drop for RemoteEngine {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([SCRIPT, "stop", &self.name])
            .output();
    }
}

/// A Docker CLI configuration directory whose current context, `name`, is
/// the engine at `endpoint`, as `docker context create` and `docker context
/// use` would leave it.
fn docker_context(name: &str, endpoint: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let id: String = sha2::Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let meta = dir.path().join("contexts/meta").join(id);
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{endpoint}","SkipTLSVerify":false}}}}}}"#),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        format!(r#"{{"currentContext":"{name}"}}"#),
    )
    .unwrap();
    dir
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
    let remote = RemoteEngine::start(0);
    run_smoke(env!("CARGO_BIN_EXE_smoke"), "remote", &remote.endpoint);

    let engine_ip = remote.engine_ip();
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
    // The same engine chosen as a Docker context instead of DOCKER_HOST.
    let cli_config = docker_context("remote-engine", &remote.endpoint);
    let through_context = Command::new(footloose_bin(env!("CARGO_BIN_EXE_smoke")))
        .args(["show", "-o", "json"])
        .current_dir(dir)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env("DOCKER_CONFIG", cli_config.path())
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&through_context.stdout).unwrap_or_default()
            ["machines"][0]["container"],
        json["machines"][0]["container"],
        "{}",
        text(&through_context)
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

#[test]
fn a_remote_engine_over_ssh_passes_the_smoke_suite_with_machines_reached_through_ssh() {
    let remote = RemoteEngine::start(1);
    let home = remote.ssh_home(true);
    run_smoke_in_home(
        env!("CARGO_BIN_EXE_smoke"),
        "remote-ssh",
        &remote.ssh_endpoint,
        home.path(),
    );

    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    let cluster = footloose::unique_cluster_name("ssh");
    std::fs::write(
        dir.join("footloose.yaml"),
        format!("cluster:\n  name: {cluster}\n  privateKey: key\nmachines:\n- count: 1\n  spec:\n    image: {IMAGE}\n    name: node%d\n    portMappings:\n    - containerPort: 22\n"),
    )
    .unwrap();
    let run = |args: &[&str]| footloose_at(&remote.ssh_endpoint, dir, args, Some(home.path()));
    let created = run(&["create"]);
    assert!(created.status.success(), "{}", text(&created));
    // Published on the engine host's loopback only, never on its network.
    let shown = run(&["show", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        json["machines"][0]["ports"][0]["address"], "127.0.0.1",
        "{json}"
    );
    let hostname = run(&["ssh", "node0", "--", "hostname"]);
    assert_eq!(
        String::from_utf8_lossy(&hostname.stdout).trim(),
        "node0",
        "{}",
        text(&hostname)
    );
    // The remote exit code is footloose's, also through the forward.
    let failed = run(&["ssh", "node0", "--", "exit", "7"]);
    assert_eq!(failed.status.code(), Some(7), "{}", text(&failed));
    // Ansible goes through the engine's host too.
    let inventory = run(&["show", "-o", "ansible"]);
    let inventory = String::from_utf8_lossy(&inventory.stdout);
    assert!(
        inventory.contains(&format!("-o ProxyJump=root@{}:22", remote.engine_ip())),
        "{inventory}"
    );
    let deleted = run(&["delete"]);
    assert!(deleted.status.success(), "{}", text(&deleted));
    assert!(leftovers_at(&remote.endpoint, &cluster).is_empty());

    // A host whose key is not known is refused, with what to do about it.
    let stranger = remote.ssh_home(false);
    let refused = footloose_at(&remote.ssh_endpoint, dir, &["show"], Some(stranger.path()));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        stderr.contains("is not in") && stderr.contains("ssh-keyscan"),
        "{stderr}"
    );
}

#[test]
fn a_remote_engine_reached_only_through_ssh_config_aliases_and_a_jump_host() {
    let remote = RemoteEngine::start(2);
    let home = remote.alias_home();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    let cluster = footloose::unique_cluster_name("alias");
    std::fs::write(
        dir.join("footloose.yaml"),
        format!("cluster:\n  name: {cluster}\n  privateKey: key\nmachines:\n- count: 1\n  spec:\n    image: {IMAGE}\n    name: node%d\n    portMappings:\n    - containerPort: 22\n"),
    )
    .unwrap();
    let run = |host: &str, args: &[&str]| {
        footloose_at(&remote.ssh_endpoint_at(host), dir, args, Some(home.path()))
    };

    let created = run("fl-remote-engine", &["create"]);
    assert!(created.status.success(), "{}", text(&created));
    let shown = run("fl-remote-engine", &["show", "-o", "json"]);
    let json: serde_json::Value =
        serde_json::from_slice(&shown.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&shown)));
    let container = json["machines"][0]["container"].clone();
    assert_eq!(container, format!("{cluster}-node0").as_str(), "{json}");
    let hostname = run("fl-remote-engine", &["ssh", "node0", "--", "hostname"]);
    assert_eq!(
        String::from_utf8_lossy(&hostname.stdout).trim(),
        "node0",
        "{}",
        text(&hostname)
    );
    // Ansible's ssh goes through the alias, so through the same config.
    let inventory = run("fl-remote-engine", &["show", "-o", "ansible"]);
    let inventory = String::from_utf8_lossy(&inventory.stdout);
    assert!(
        inventory.contains("-o ProxyJump=root@fl-remote-engine:22"),
        "{inventory}"
    );

    // The same engine through a jump host: the API and the machines' ports.
    let shown = run("fl-remote-behind", &["show", "-o", "json"]);
    let json: serde_json::Value =
        serde_json::from_slice(&shown.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&shown)));
    assert_eq!(json["machines"][0]["container"], container, "{json}");
    let hostname = run("fl-remote-behind", &["ssh", "node0", "--", "hostname"]);
    assert_eq!(
        String::from_utf8_lossy(&hostname.stdout).trim(),
        "node0",
        "{}",
        text(&hostname)
    );
    let deleted = run("fl-remote-behind", &["delete"]);
    assert!(deleted.status.success(), "{}", text(&deleted));
    assert!(leftovers_at(&remote.endpoint, &cluster).is_empty());

    // No known-hosts file and StrictHostKeyChecking no: still refused.
    let refused = run("fl-remote-careless", &["show"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        stderr.contains("is not in")
            && stderr.contains("/dev/null")
            && stderr.contains("StrictHostKeyChecking no")
            && stderr.contains("is not followed"),
        "{stderr}"
    );
}

#[test]
fn a_podman_engine_over_ssh_passes_the_smoke_suite() {
    let remote = RemoteEngine::start(3);
    let home = remote.ssh_home(true);
    // Podman's service in the engine host's network namespace, on a socket
    // beside Docker's: its published ports are on that host's loopback.
    let root = Path::new("/tmp").join(format!("fl-engine-{}", remote.name));
    let podman = PodmanService::start_at(
        &root.join("podman.sock"),
        Some(&format!("fl-{}", remote.name)),
    );
    let endpoint = remote.ssh_endpoint_at(&format!("root@{}", remote.engine_ip()));
    let endpoint = endpoint.replace("/docker.sock", "/podman.sock");
    assert!(
        endpoint.ends_with(&podman.socket.display().to_string()),
        "{endpoint}"
    );
    let project = tempfile::tempdir().unwrap();
    let shown = footloose_at(
        &endpoint,
        project.path(),
        &["show", "-o", "json"],
        Some(home.path()),
    );
    assert!(shown.status.success(), "{}", text(&shown));
    run_smoke_in_home(
        env!("CARGO_BIN_EXE_smoke"),
        "podman-ssh",
        &endpoint,
        home.path(),
    );
}

#[test]
fn a_remote_engine_over_tls_is_reached_with_the_clients_certificates() {
    let remote = RemoteEngine::start_with(4, true);
    let certs = remote
        .cert_path
        .clone()
        .expect("the engine's client certificates");
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    let cluster = footloose::unique_cluster_name("tls");
    std::fs::write(
        dir.join("footloose.yaml"),
        format!("cluster:\n  name: {cluster}\n  privateKey: key\nmachines:\n- count: 1\n  spec:\n    image: {IMAGE}\n    name: node%d\n    portMappings:\n    - containerPort: 22\n"),
    )
    .unwrap();
    let run = |cert_path: &str, args: &[&str]| {
        Command::new(footloose_bin(env!("CARGO_BIN_EXE_smoke")))
            .args(args)
            .current_dir(dir)
            .env("DOCKER_HOST", &remote.endpoint)
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", cert_path)
            .env_remove("FOOTLOOSE_CONFIG")
            .output()
            .unwrap()
    };
    let created = run(&certs, &["create"]);
    assert!(created.status.success(), "{}", text(&created));
    let hostname = run(&certs, &["ssh", "node0", "--", "hostname"]);
    assert_eq!(
        String::from_utf8_lossy(&hostname.stdout).trim(),
        "node0",
        "{}",
        text(&hostname)
    );
    let deleted = run(&certs, &["delete"]);
    assert!(deleted.status.success(), "{}", text(&deleted));
    let shown = run(&certs, &["show", "-o", "json"]);
    let json: serde_json::Value =
        serde_json::from_slice(&shown.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&shown)));
    assert_eq!(json["machines"], serde_json::json!([]), "{json}");

    // Without the client's certificates the engine is not reached, and the
    // error names the file it wanted.
    let elsewhere = tempfile::tempdir().unwrap();
    let refused = run(elsewhere.path().to_str().unwrap(), &["show"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        stderr.contains(&format!("{}", elsewhere.path().join("ca.pem").display())),
        "{stderr}"
    );
    // Plain HTTP to it is refused by the engine itself.
    let plain = remote.footloose(dir, &["show"]);
    assert!(!plain.status.success(), "{}", text(&plain));
    assert!(
        String::from_utf8_lossy(&plain.stderr).contains("HTTPS"),
        "{}",
        text(&plain)
    );
}
