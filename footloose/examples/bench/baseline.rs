//! The baseline: what a shell script does with the `docker` CLI and
//! OpenSSH (`baseline.sh` makes the machines), or with the `incus` CLI
//! (`baseline-incus.sh`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use footloose::engine::{CgroupVersion, HostFacts};

/// Keys made with ssh-keygen for the baseline machines.
pub struct Keys {
    pub user_key: PathBuf,
    pub known_hosts: PathBuf,
}

impl Keys {
    pub fn new(dir: &Path) -> Keys {
        let user_key = dir.join("baseline-user");
        let host_key = dir.join("baseline-host");
        for key in [&user_key, &host_key] {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(key));
        }
        let authorized_keys = dir.join("baseline-authorized_keys");
        std::fs::copy(dir.join("baseline-user.pub"), &authorized_keys).unwrap();
        let known_hosts = dir.join("baseline-known_hosts");
        let host_pub = std::fs::read_to_string(dir.join("baseline-host.pub")).unwrap();
        std::fs::write(&known_hosts, format!("baseline {host_pub}")).unwrap();
        Keys {
            user_key,
            known_hosts,
        }
    }

    /// OpenSSH options: the key, and the pinned host key.
    pub fn ssh_options(&self) -> Vec<String> {
        vec![
            "-i".into(),
            self.user_key.display().to_string(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            "StrictHostKeyChecking=yes".into(),
            "-o".into(),
            format!("UserKnownHostsFile={}", self.known_hosts.display()),
            "-o".into(),
            "HostKeyAlias=baseline".into(),
            "-o".into(),
            "ConnectTimeout=2".into(),
            "-o".into(),
            "LogLevel=ERROR".into(),
        ]
    }
}

/// A machine made by the baseline.
#[derive(Debug)]
pub struct Machine {
    pub name: String,
    pub port: u16,
}

/// Runs a command, failing loudly.
pub fn run(command: &mut Command) -> Output {
    let out = command.output().expect("cannot run a baseline command");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn docker(args: &[&str]) -> Output {
    run(Command::new("docker").args(args))
}

/// The fair baseline script, next to this file.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/bench/baseline.sh");

/// Creates `count` machines named `<cluster>-node<i>` with the baseline
/// script (all at once, keys bind-mounted, ssh polled on all at once) and
/// returns them once `ssh … true` answers on each.
pub fn create(cluster: &str, count: usize, keys: &Keys, facts: HostFacts) -> Vec<Machine> {
    let [dir, cgroup, managed, owner] = script_args(cluster, keys, facts);
    let out = run(Command::new("sh").args([
        SCRIPT,
        cluster,
        &count.to_string(),
        &dir,
        &cgroup,
        &managed,
        &owner,
    ]));
    let mut machines: Vec<Machine> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (name, port) = line.split_once(' ')?;
            Some(Machine {
                name: name.to_owned(),
                port: port.trim().parse().ok()?,
            })
        })
        .collect();
    assert_eq!(
        machines.len(),
        count,
        "the baseline script made {machines:?}"
    );
    machines.sort_by(|a, b| a.name.cmp(&b.name));
    machines
}

/// What the Docker scripts are given after the counts: the keys'
/// directory, the cgroup mount, and the labels that make the machines the
/// cluster `cluster`'s (for the final leftover check).
fn script_args(cluster: &str, keys: &Keys, facts: HostFacts) -> [String; 4] {
    let cgroup = match facts.cgroup {
        CgroupVersion::V1 => "/sys/fs/cgroup:/sys/fs/cgroup:ro",
        CgroupVersion::V2 => "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    };
    [
        keys.user_key.parent().unwrap().display().to_string(),
        cgroup.to_owned(),
        format!("{}=true", footloose::labels::MANAGED),
        format!("{}={cluster}", footloose::labels::CLUSTER),
    ]
}

/// The `pool` suite's baseline script, next to this file.
const SUITE_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/bench/baseline-suite.sh"
);

/// `count` one-machine "tests" with `baseline-suite.sh`, `jobs` at a time
/// (`docker run -d`, `ssh … true` polled, `ssh … true`, `docker rm -f`
/// each); its machines are named `<cluster>-t<i>`.
pub fn suite(cluster: &str, count: usize, jobs: usize, keys: &Keys, facts: HostFacts) {
    let [dir, cgroup, managed, owner] = script_args(cluster, keys, facts);
    run(Command::new("sh").args([
        SUITE_SCRIPT,
        cluster,
        &count.to_string(),
        &jobs.to_string(),
        &dir,
        &cgroup,
        &managed,
        &owner,
    ]));
}

/// `ssh root@… true`, a new process each time.
pub fn ssh_true(machine: &Machine, keys: &Keys) -> bool {
    Command::new("ssh")
        .args(keys.ssh_options())
        .args(["-p", &machine.port.to_string(), "root@127.0.0.1", "true"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// `docker exec … true`.
pub fn docker_exec_true(machine: &Machine) {
    docker(&["exec", &machine.name, "true"]);
}

/// `docker rm -f -v` of every machine in one command.
pub fn delete(machines: &[Machine]) {
    let mut args = vec!["rm", "-f", "-v"];
    args.extend(machines.iter().map(|m| m.name.as_str()));
    docker(&args);
}

/// `scp` to (`upload`) or from the machine.
pub fn scp(machine: &Machine, keys: &Keys, local: &Path, remote: &str, upload: bool) {
    let remote = format!("root@127.0.0.1:{remote}");
    let local = local.display().to_string();
    let (from, to) = if upload {
        (&local, &remote)
    } else {
        (&remote, &local)
    };
    run(Command::new("scp").args(keys.ssh_options()).args([
        "-q",
        "-P",
        &machine.port.to_string(),
        from,
        to,
    ]));
}

/// The Incus baseline script, next to this file.
const INCUS_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/bench/baseline-incus.sh"
);

/// Free ports on 127.0.0.1, as footloose picks them (the kernel's, let go
/// just before the machines bind them).
fn free_ports(count: usize) -> Vec<u16> {
    let held: Vec<std::net::TcpListener> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("no free port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// Creates `count` Incus instances named `<cluster>-node<i>` with the
/// Incus baseline script (all at once, files pushed before the start, ssh
/// through a proxy device polled per machine) and returns them once `ssh
/// … true` answers on each, with the script's notes (pushes made again).
pub fn incus_create(cluster: &str, count: usize, keys: &Keys) -> (Vec<Machine>, Vec<String>) {
    let dir = keys.user_key.parent().unwrap().display().to_string();
    let ports: Vec<String> = free_ports(count).iter().map(u16::to_string).collect();
    let out = run(Command::new("sh")
        .args([INCUS_SCRIPT, cluster, &dir])
        .args(&ports));
    // The script's notes (a push made again).
    let notes: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect();
    for note in &notes {
        eprintln!("baseline-incus.sh: {note}");
    }
    let mut machines: Vec<Machine> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (name, port) = line.split_once(' ')?;
            Some(Machine {
                name: name.to_owned(),
                port: port.trim().parse().ok()?,
            })
        })
        .collect();
    assert_eq!(
        machines.len(),
        count,
        "the Incus baseline script made {machines:?}"
    );
    machines.sort_by(|a, b| a.name.cmp(&b.name));
    (machines, notes)
}

/// `incus delete -f` of every machine at once, one command each (the
/// `incus` CLI deletes the instances it is given one after another).
pub fn incus_delete(machines: &[Machine]) {
    let children: Vec<_> = machines
        .iter()
        .map(|m| {
            Command::new("incus")
                .args(["delete", "-f", &m.name])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("cannot run incus")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "incus delete failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Names of the Incus instances, or `None` when there is no Incus to ask.
pub fn incus_instances() -> Option<Vec<String>> {
    let out = Command::new("incus")
        .args(["list", "--format", "csv", "--columns", "n"])
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    })
}
