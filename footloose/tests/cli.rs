//! The `footloose` command line against a real Docker engine, as a user
//! drives it. Every test works in its own directory with its own cluster
//! name, so the tests run in parallel; each checks by label that nothing of
//! its cluster is left.

use std::path::PathBuf;
use std::process::{Command, Output};

use footloose::engine::Engine;

/// A scratch project directory with a `footloose.yaml`.
struct Project {
    dir: tempfile::TempDir,
    cluster: String,
}

impl Project {
    /// A project for `cluster_base`, made unique, with `machines` as the
    /// `machines:` section of its config.
    fn new(cluster_base: &str, machines: &str) -> Project {
        Project::named(&footloose::unique_cluster_name(cluster_base), machines)
    }

    /// A project for exactly `cluster`, in a directory of its own.
    fn named(cluster: &str, machines: &str) -> Project {
        require_docker();
        let cluster = cluster.to_owned();
        let dir = tempfile::tempdir().unwrap();
        let project = Project { dir, cluster };
        project.write_config(machines);
        project
    }

    fn write_config(&self, machines: &str) {
        let text = format!(
            "cluster:\n  name: {}\n  privateKey: cluster-key\nmachines:\n{machines}",
            self.cluster
        );
        std::fs::write(self.path("footloose.yaml"), text).unwrap();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs footloose in the project directory.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_footloose"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("FOOTLOOSE_CONFIG")
            .output()
            .unwrap()
    }

    /// Starts footloose in the project directory, its output captured.
    fn spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_footloose"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("FOOTLOOSE_CONFIG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs footloose and fails the test, with its output, unless it succeeds.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "footloose {args:?} failed:\n{}",
            text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The engine's objects labelled with this cluster: (containers, networks, volumes).
    fn leftovers(&self) -> (usize, usize, usize) {
        leftovers(&self.cluster)
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        // A failed assertion must not leak machines either.
        let _ = self.run(&["delete"]);
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

/// Fails with a clear message when no engine answers: these tests
/// need one and must not pass without it.
fn require_docker() {
    if let Err(err) = footloose::runtime::block_on(Engine::connect()) {
        panic!("these tests need a running Docker engine: {err}");
    }
}

fn leftovers(cluster: &str) -> (usize, usize, usize) {
    footloose::runtime::block_on(async {
        let engine = Engine::connect().await.unwrap();
        engine.leftovers(Some(cluster)).await.unwrap().counts()
    })
}

const THREE_NODES: &str = "- count: 3\n  spec:\n    image: footloose/debian12\n    name: node%d\n    portMappings:\n    - containerPort: 22\n";

#[test]
fn a_three_machine_cluster_lives_and_dies() {
    let project = Project::new("cli-life", THREE_NODES);
    project.ok(&["create"]);
    assert_eq!(
        project.ok(&["ssh", "root@node1", "--", "hostname"]).trim(),
        "node1"
    );

    let json: serde_json::Value =
        serde_json::from_str(&project.ok(&["show", "-o", "json"])).unwrap();
    let machines = json["machines"].as_array().unwrap();
    let hostnames: Vec<&str> = machines
        .iter()
        .map(|m| m["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(hostnames, ["node0", "node1", "node2"]);
    for machine in machines {
        assert_eq!(machine["state"], "running");
        assert_eq!(
            machine["container"],
            format!(
                "{}-{}",
                project.cluster,
                machine["hostname"].as_str().unwrap()
            )
        );
        assert_eq!(machine["ports"][0]["guest"], 22);
        assert_eq!(machine["ports"][0]["address"], "127.0.0.1");
        assert!(machine["ip"].as_str().unwrap().contains('.'));
        assert_eq!(machine["spec"]["name"], "node%d");
    }

    project.ok(&["stop", "node1"]);
    let table = project.ok(&["show", "node1"]);
    assert!(table.contains("Stopped"), "{table}");
    let others = project.ok(&["status", "node0", "node2"]);
    assert_eq!(others.matches("Running").count(), 2, "{others}");
    let refused = project.run(&["ssh", "root@node1", "--", "true"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not running"),
        "{}",
        text(&refused)
    );

    project.ok(&["start", "node1"]);
    assert_eq!(
        project
            .ok(&["ssh", "root@node1", "--", "systemctl", "is-system-running"])
            .trim(),
        "running"
    );

    project.ok(&["delete"]);
    assert_eq!(project.leftovers(), (0, 0, 0));
}

#[test]
fn creating_twice_changes_nothing() {
    let project = Project::new("cli-twice", "- count: 2\n  spec:\n    image: footloose/debian12\n    name: n%d\n    portMappings:\n    - containerPort: 22\n");
    project.ok(&["create"]);
    let ids = |p: &Project| {
        p.ok(&[
            "ssh",
            "n0",
            "--",
            "cat",
            "/proc/sys/kernel/random/boot_id",
            "/etc/machine-id",
        ])
    };
    let before = ids(&project);
    let first: serde_json::Value =
        serde_json::from_str(&project.ok(&["show", "-o", "json"])).unwrap();
    project.ok(&["create"]);
    let second: serde_json::Value =
        serde_json::from_str(&project.ok(&["show", "-o", "json"])).unwrap();
    assert_eq!(
        first, second,
        "a second create must keep the machines as they are"
    );
    assert_eq!(
        before,
        ids(&project),
        "the machine must not have been recreated"
    );
}

#[test]
fn machines_on_a_user_network_reach_each_other_by_hostname() {
    let base = footloose::unique_cluster_name("net");
    let machines = format!("- count: 2\n  spec:\n    image: footloose/debian12\n    name: peer%d\n    networks: [{base}]\n    portMappings:\n    - containerPort: 22\n");
    let project = Project::new("cli-net", &machines);
    project.ok(&["create"]);
    let out = project.ok(&["ssh", "peer0", "--", "ping", "-c1", "-W2", "peer1"]);
    assert!(out.contains("1 received"), "{out}");
    assert_eq!(
        project.leftovers().1,
        1,
        "footloose created and labelled the network"
    );
    project.ok(&["delete"]);
    assert_eq!(
        project.leftovers(),
        (0, 0, 0),
        "the network footloose made goes too"
    );
}

#[test]
fn a_published_port_reaches_a_service_in_the_machine() {
    let project = Project::new(
        "cli-port",
        "- count: 1\n  spec:\n    image: footloose/debian12\n    name: web%d\n    portMappings:\n    - containerPort: 22\n    - containerPort: 8080\n",
    );
    project.ok(&["create"]);
    project.ok(&["ssh", "web0", "--", "mkdir -p /srv && echo hello-from-web0 > /srv/index.html && systemd-run --unit=web python3 -m http.server 8080 --directory /srv"]);
    let json: serde_json::Value =
        serde_json::from_str(&project.ok(&["show", "-o", "json"])).unwrap();
    let port = json["machines"][0]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["guest"] == 8080)
        .expect("port 8080 is published")["host"]
        .as_u64()
        .unwrap();
    let body = (0..50)
        .find_map(|_| {
            let body = http_get(port);
            if body.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            body
        })
        .expect("the service answered");
    assert!(body.contains("hello-from-web0"), "{body}");
}

fn http_get(port: u64) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port as u16)).ok()?;
    stream.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).ok()?;
    body.contains("200").then_some(body)
}

#[test]
fn a_machine_that_cannot_boot_fails_in_time_and_leaves_nothing() {
    let project = Project::new(
        "cli-fail",
        "- count: 2\n  spec:\n    image: footloose/debian12\n    name: bad%d\n    cmd: /usr/bin/tail -v -f /etc/hostname\n    volumes:\n    - type: volume\n      destination: /data\n    portMappings:\n    - containerPort: 22\n",
    );
    let out = project.run(&["create", "--timeout", "5"]);
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("did not become ready within 5s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("==> /etc/hostname <=="),
        "the error shows the boot log: {stderr}"
    );
    assert_eq!(
        project.leftovers(),
        (0, 0, 0),
        "a failed create removes what it made"
    );
}

#[test]
fn a_machine_that_exits_fails_at_once() {
    let project = Project::new(
        "cli-exit",
        "- count: 1\n  spec:\n    image: footloose/debian12\n    name: gone%d\n    cmd: /bin/false\n",
    );
    let started = std::time::Instant::now();
    let out = project.run(&["create", "--timeout", "60"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("stopped while booting (exit code 1)"),
        "{stderr}"
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "it did not wait for the deadline"
    );
    assert_eq!(project.leftovers(), (0, 0, 0));
}

#[test]
fn ssh_passes_the_remote_exit_code_through() {
    let project = Project::new("cli-ssh", "- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n    portMappings:\n    - containerPort: 22\n");
    project.ok(&["create"]);
    assert_eq!(
        project
            .run(&["ssh", "root@node0", "--", "false"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        project
            .run(&["ssh", "node0", "--", "exit 42"])
            .status
            .code(),
        Some(42)
    );
    let unknown = project.run(&["ssh", "root@node9"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no machine node9"),
        "{}",
        text(&unknown)
    );
    // The key was generated with the right permissions, and the host key is pinned.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(project.path("cluster-key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn invalid_configs_are_refused_with_their_location_and_nothing_is_made() {
    let project = Project::new(
        "cli-bad",
        "- count: 1\n  spec:\n    image: footloose/debian12\n    name: node\n",
    );
    let out = project.run(&["create"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("footloose.yaml:8:11: machines[0].spec.name: `node` needs exactly one `%d`"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(project.leftovers(), (0, 0, 0));
    assert!(
        !project.path("cluster-key").exists(),
        "not even a key is made"
    );
}

#[test]
fn an_unreachable_engine_is_named_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_footloose"))
        .args(["show"])
        .current_dir(dir.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach the engine at unix:///nonexistent/docker.sock"),
        "{stderr}"
    );
    assert!(stderr.contains("DOCKER_HOST"), "{stderr}");
}

#[test]
fn config_create_writes_a_valid_file_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_footloose"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    assert!(
        run(&["config", "create", "--replicas", "3", "--name", "demo"])
            .status
            .success()
    );
    let config = footloose::Config::load(&dir.path().join("footloose.yaml")).unwrap();
    assert_eq!(config.cluster.name, "demo");
    assert_eq!(config.machines().count(), 3);
    let again = run(&["config", "create"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--override"));
    assert!(run(&["config", "create", "--override", "--replicas", "1"])
        .status
        .success());
    let config = footloose::Config::load(&dir.path().join("footloose.yaml")).unwrap();
    assert_eq!(config.machines().count(), 1);
    let validated = run(&["config", "validate"]);
    assert!(validated.status.success(), "{}", text(&validated));
}

#[test]
fn prune_removes_only_the_named_cluster() {
    let a = Project::new(
        "cli-prune-a",
        "- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n",
    );
    let b = Project::new(
        "cli-prune-b",
        "- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n",
    );
    a.ok(&["create"]);
    b.ok(&["create"]);
    a.ok(&["prune", "--cluster", &a.cluster]);
    assert_eq!(a.leftovers(), (0, 0, 0));
    assert_eq!(b.leftovers().0, 1, "the other cluster is untouched");
}

#[test]
fn volumes_are_labelled_and_removed_with_the_cluster() {
    let named = footloose::unique_cluster_name("vol");
    let machines = format!("- count: 1\n  spec:\n    image: footloose/debian12\n    name: store%d\n    volumes:\n    - type: volume\n      destination: /var/lib/docker\n    - type: volume\n      source: {named}\n      destination: /named\n");
    let project = Project::new("cli-vol", &machines);
    project.ok(&["create"]);
    assert_eq!(
        project.leftovers(),
        (1, 0, 2),
        "both volumes carry the cluster's labels"
    );
    project.ok(&["delete"]);
    assert_eq!(project.leftovers(), (0, 0, 0));
}

#[test]
fn a_taken_host_port_is_named_and_nothing_is_left() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let machines = format!("- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n    portMappings:\n    - containerPort: 22\n      hostPort: {port}\n");
    let project = Project::new("cli-port-taken", &machines);
    let out = project.run(&["create"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot start machine"), "{stderr}");
    assert!(stderr.contains("change its hostPort"), "{stderr}");
    assert_eq!(project.leftovers(), (0, 0, 0));
    drop(listener);
}

const SIX_NODES_ON_A_NETWORK: &str =
    "- count: 6\n  spec:\n    image: footloose/debian12\n    name: node%d\n    networks: [inner]\n";

#[test]
fn sigint_during_create_removes_what_it_made_and_exits_130() {
    let project = Project::new("cli-sigint", SIX_NODES_ON_A_NETWORK);
    let mut child = project.spawn(&["create"]);
    // Interrupted once it is making machines (not after a guessed delay):
    // the earlier moments are driven on the in-memory backend
    // (`cluster::create::tests`).
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        seen.push_str(&line);
        if read == 0 || line.contains("Creating machine") {
            break;
        }
    }
    assert!(seen.contains("Creating machine"), "{seen}");
    // SAFETY: a plain system call on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(
        seen.contains("Interrupted: removed what this run had made"),
        "{seen}"
    );
    assert_eq!(project.leftovers(), (0, 0, 0), "{seen}");
}

#[test]
fn two_creates_of_one_cluster_at_once_end_with_one_ready_cluster() {
    let project = Project::new("cli-race", THREE_NODES);
    let first = project.spawn(&["create"]);
    let second = project.spawn(&["create"]);
    for out in [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ] {
        assert!(out.status.success(), "{}", text(&out));
    }
    assert_eq!(project.leftovers().0, 3);
    for host in ["node0", "node1", "node2"] {
        assert_eq!(
            project
                .ok(&["ssh", host, "--", "systemctl", "is-system-running"])
                .trim(),
            "running"
        );
    }
    project.ok(&["delete"]);
    assert_eq!(project.leftovers(), (0, 0, 0));
}

const ONE_NODE: &str = "- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n    portMappings:\n    - containerPort: 22\n";

#[test]
fn a_cluster_made_with_another_key_is_refused_at_once_with_the_way_out() {
    let made = Project::new("cli-otherkey", ONE_NODE);
    made.ok(&["create"]);
    let other = Project::named(&made.cluster, ONE_NODE);
    let started = std::time::Instant::now();
    let out = other.run(&["create"]);
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
    let made_from = made.path("footloose.yaml").display().to_string();
    for needle in [
        format!("cluster {} already exists", made.cluster),
        made_from,
        "--cluster NAME".to_owned(),
        "footloose delete".to_owned(),
    ] {
        assert!(stderr.contains(&needle), "no {needle:?} in:\n{stderr}");
    }
    assert!(
        !other.path("cluster-key").exists(),
        "a refused create generated a key"
    );
    // The cluster that was there is untouched.
    assert_eq!(made.ok(&["ssh", "node0", "--", "hostname"]).trim(), "node0");
}

#[test]
fn a_refused_key_is_final_not_retried_until_the_deadline() {
    let project = Project::new("cli-refused", ONE_NODE);
    project.ok(&["create"]);
    project.ok(&["stop"]);
    // Another key where the cluster's was: the machine will refuse it.
    let elsewhere = tempfile::tempdir().unwrap();
    let replacement = elsewhere.path().join("k");
    footloose::ClientKey::load_or_generate(&replacement).unwrap();
    std::fs::copy(&replacement, project.path("cluster-key")).unwrap();
    let started = std::time::Instant::now();
    let out = project.run(&["start", "--timeout", "60"]);
    let took = started.elapsed();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused the key"), "{stderr}");
    project.ok(&["delete"]);
}

#[test]
fn clusters_naming_one_network_share_it_and_the_last_one_removes_it() {
    let network = footloose::unique_cluster_name("shared-net");
    let machines = format!(
        "- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n    networks: [{network}]\n"
    );
    let first = Project::new("cli-neta", &machines);
    let second = Project::new("cli-netb", &machines);
    let creators = [first.spawn(&["create"]), second.spawn(&["create"])];
    for creator in creators {
        let out = creator.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    assert_eq!(networks_named(&network), 1, "two creators, one network");
    // Both clusters' machines are on it: one resolves the other's container.
    let other = format!("{}-node0", second.cluster);
    let out = first.ok(&["ssh", "node0", "--", "getent", "hosts", &other]);
    assert!(out.contains(&other), "{out}");
    first.ok(&["delete"]);
    assert_eq!(
        networks_named(&network),
        1,
        "deleted while another cluster uses it"
    );
    second.ok(&["delete"]);
    assert_eq!(
        networks_named(&network),
        0,
        "the last cluster out leaves it behind"
    );
}

/// How many networks are named exactly `name`.
fn networks_named(name: &str) -> usize {
    footloose::runtime::block_on(async {
        let engine = Engine::connect().await.unwrap();
        engine.networks_named(name).await.unwrap().len()
    })
}

#[test]
fn show_o_ansible_prints_an_inventory_ansible_uses() {
    let project = Project::new(
        "cli-ansible",
        "- count: 2\n  spec:\n    image: footloose/debian12\n    name: web-%d\n    portMappings:\n    - containerPort: 22\n  groups: [frontend]\n",
    );
    project.ok(&["create"]);
    let inventory = project.ok(&["show", "-o", "ansible"]);
    std::fs::write(project.path("inventory.yml"), &inventory).unwrap();
    let out = Command::new("ansible")
        .args([
            "-i",
            "inventory.yml",
            "frontend",
            "-m",
            "ansible.builtin.command",
        ])
        .args(["-a", "hostname"])
        .current_dir(project.dir.path())
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("cannot run ansible (install ansible-core)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{inventory}\n{}", text(&out));
    for host in ["web-0", "web-1"] {
        assert!(
            stdout.contains(&format!("{host} | CHANGED | rc=0 >>\n{host}")),
            "{stdout}"
        );
    }
    let refused = project.run(&["show", "-o", "ansible", "web-0"]);
    assert!(!refused.status.success());
    project.ok(&["delete"]);
}

#[test]
fn image_ls_lists_every_image_with_its_family_and_base() {
    let project = Project::new("imgls", THREE_NODES);
    let listing = project.ok(&["image", "ls"]);
    let rows: Vec<Vec<&str>> = listing
        .lines()
        .skip(1)
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), footloose::image::IMAGES.len(), "{listing}");
    for (image, row) in footloose::image::IMAGES.iter().zip(&rows) {
        assert_eq!(row[0], image.reference(), "{listing}");
        assert_eq!(row[1], image.family.to_string(), "{listing}");
        assert_eq!(row[2], image.official_base(), "{listing}");
        assert!(matches!(row[3], "yes" | "no"), "{listing}");
    }
    assert!(listing.contains("footloose/rocky9"), "{listing}");
    // Building footloose's own images is not `adapt`'s business.
    let adapted = project.ok(&["image", "adapt", "footloose/debian12"]);
    let out = project.run(&["image", "adapt", "footloose/debian12"]);
    assert!(
        text(&out).contains("takes footloose's keys already: used as it is"),
        "{adapted}{}",
        text(&out)
    );
}
