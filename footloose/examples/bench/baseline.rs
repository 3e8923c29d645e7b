//! The baseline: what a shell script does with the `docker` CLI and
//! OpenSSH.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use footloose::engine::{CgroupVersion, HostFacts};

/// Keys made with ssh-keygen for the baseline machines.
pub struct Keys {
    pub user_key: PathBuf,
    host_key: PathBuf,
    authorized_keys: PathBuf,
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
            host_key,
            authorized_keys,
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

/// Creates `names` one after another as a script would (create, copy the
/// keys in, start), then waits until `ssh … true` answers on each.
pub fn create(names: &[String], cluster: &str, keys: &Keys, facts: HostFacts) -> Vec<Machine> {
    let cgroup = match facts.cgroup {
        CgroupVersion::V1 => "/sys/fs/cgroup:/sys/fs/cgroup:ro",
        CgroupVersion::V2 => "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    };
    let managed = format!("{}=true", footloose::labels::MANAGED);
    let owner = format!("{}={cluster}", footloose::labels::CLUSTER);
    for name in names {
        docker(&[
            "create",
            "--name",
            name,
            "--hostname",
            name,
            "-t",
            "--tmpfs",
            "/run",
            "--tmpfs",
            "/run/lock",
            "--tmpfs",
            "/tmp",
            "--cgroupns",
            "host",
            "-v",
            cgroup,
            "-p",
            "127.0.0.1::22",
            "--label",
            &managed,
            "--label",
            &owner,
            "footloose/debian12",
        ]);
        let host_key = keys.host_key.display().to_string();
        let authorized = keys.authorized_keys.display().to_string();
        docker(&[
            "cp",
            &host_key,
            &format!("{name}:/etc/ssh/ssh_host_ed25519_key"),
        ]);
        docker(&[
            "cp",
            &authorized,
            &format!("{name}:/root/.ssh/authorized_keys"),
        ]);
        docker(&["start", name]);
    }
    let machines: Vec<Machine> = names
        .iter()
        .map(|name| {
            let out = docker(&["port", name, "22/tcp"]);
            let text = String::from_utf8_lossy(&out.stdout);
            let port = text
                .lines()
                .find_map(|l| l.rsplit(':').next()?.trim().parse().ok())
                .expect("a published port");
            Machine {
                name: name.clone(),
                port,
            }
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    for machine in &machines {
        while !ssh_true(machine, keys) {
            assert!(
                Instant::now() < deadline,
                "baseline machine {} never answered ssh",
                machine.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    machines
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
