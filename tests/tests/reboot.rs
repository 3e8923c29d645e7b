//! Machines that reboot like VMs: a reboot from inside (three ways) brings
//! the machine back with its disk, hostname, address and ports; a poweroff
//! leaves it stopped; `footloose show` follows each step.

use std::process::Command;
use std::time::{Duration, Instant};

use footloose::{Cluster, Error, Machine, MachineError};

/// The machine's state and ssh port as `footloose show -o json` reports
/// them.
fn shown(cluster: &Cluster, node: &Machine) -> (String, Option<u64>) {
    let footloose = footloose_tests::footloose_bin(env!("CARGO_BIN_EXE_smoke"));
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(footloose)
        .current_dir(dir.path())
        .args(["show", "-o", "json", "--cluster", cluster.name()])
        .output()
        .expect("cannot run footloose show");
    assert!(out.status.success(), "show failed: {out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let machine = json["machines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["container"] == node.container_name())
        .unwrap_or_else(|| panic!("{} not shown: {json:#}", node.container_name()))
        .clone();
    let port = machine["ports"]
        .as_array()
        .and_then(|ports| ports.iter().find(|p| p["guest"] == 22))
        .and_then(|p| p["host"].as_u64());
    (machine["state"].as_str().unwrap().to_owned(), port)
}

/// What stays of the machine across a boot: its disk and hostname. (Its
/// address may not: Docker's default bridge gives a restarted container
/// the next free one. `Machine::ip` follows it.)
fn identity(node: &Machine) -> (String, String) {
    let out = node
        .exec("cat /root/kept; hostname; hostname -I | cut -d' ' -f1")
        .unwrap()
        .checked()
        .unwrap()
        .stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(
        node.ip().map(|ip| ip.to_string()).as_deref(),
        Some(lines[2]),
        "Machine::ip is not the machine's address"
    );
    (lines[0].into(), lines[1].into())
}

/// PID 1's start time: a new one at every boot. `None` while the machine
/// goes down: a command sent then may be cut off, and says so.
fn booted_at(node: &Machine) -> Option<String> {
    match node.exec("cut -d' ' -f22 /proc/1/stat") {
        Ok(out) => Some(out.checked().unwrap().stdout()),
        Err(Error::Machine(MachineError::ConnectionLost { .. })) => None,
        Err(err) => panic!("{err}"),
    }
}

#[footloose::cluster("footloose.yaml")]
fn a_machine_rebooted_three_ways_comes_back_with_its_disk(cluster: &Cluster) {
    let node = cluster.machine("node0");
    node.write_file("/root/kept", b"written before the reboots\n")
        .unwrap();
    let before = identity(node);
    let (state, port) = shown(cluster, node);
    assert_eq!(state, "running");
    let port = port.expect("ssh is published");
    assert_eq!(u64::from(node.host_port(22).unwrap()), port);

    // 1. The API: reboot, wait until down, wait until ready.
    let boot = booted_at(node);
    let started = Instant::now();
    node.reboot().unwrap();
    println!("Machine::reboot round trip: {:?}", started.elapsed());
    assert_ne!(booted_at(node), boot, "it did not boot again");
    assert_eq!(identity(node), before);
    assert_eq!(shown(cluster, node), ("running".into(), Some(port)));

    // 2. `reboot` in a command: the next command waits for the new boot.
    let boot = booted_at(node);
    match node.exec("reboot") {
        Ok(out) => assert!(out.success(), "{}", out.stderr()),
        Err(Error::Machine(MachineError::ConnectionLost { .. })) => {}
        Err(err) => panic!("reboot: {err}"),
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while booted_at(node).is_none_or(|now| Some(now) == boot) {
        assert!(Instant::now() < deadline, "the machine did not reboot");
        std::thread::sleep(Duration::from_millis(100));
    }
    let state = node
        .exec("systemctl is-system-running --wait")
        .unwrap()
        .stdout();
    assert!(matches!(state.trim(), "running" | "degraded"), "{state}");
    assert_eq!(identity(node), before);

    // 3. `shutdown -r now`, which Ansible's reboot module runs too (see
    // ansible_s_reboot_module_reboots_a_machine).
    let boot = booted_at(node);
    let _ = node.exec("shutdown -r now");
    let deadline = Instant::now() + Duration::from_secs(120);
    while booted_at(node).is_none_or(|now| Some(now) == boot) {
        assert!(Instant::now() < deadline, "the machine did not reboot");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(identity(node), before);
    assert_eq!(shown(cluster, node), ("running".into(), Some(port)));
}

#[footloose::cluster("footloose.yaml")]
fn a_powered_off_machine_stays_off_and_says_so(cluster: &Cluster) {
    let node = cluster.machine("node0");
    match node.exec("poweroff") {
        Ok(_) | Err(Error::Machine(MachineError::ConnectionLost { .. })) => {}
        Err(err) => panic!("poweroff: {err}"),
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while shown(cluster, node).0 != "stopped" {
        assert!(Instant::now() < deadline, "the machine did not power off");
        std::thread::sleep(Duration::from_millis(200));
    }
    let err = node
        .exec("true")
        .expect_err("a powered-off machine ran a command");
    assert!(
        matches!(err, Error::Machine(MachineError::NotRunning { .. })),
        "not named a stopped machine: {err:?}"
    );
    assert!(err.to_string().contains("powered off"), "{err}");
    // It stays off: the engine does not start it again.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(shown(cluster, node).0, "stopped");
}

#[footloose::cluster("footloose.yaml")]
fn ansible_s_reboot_module_reboots_a_machine(cluster: &Cluster) {
    let node = cluster.machine("node0");
    node.write_file("/root/kept", b"before ansible's reboot\n")
        .unwrap();
    let before = identity(node);
    let boot = booted_at(node);
    let dir = tempfile::tempdir().unwrap();
    let inventory = cluster
        .write_ansible_inventory(dir.path().join("inventory.yml"))
        .unwrap();
    let playbook = dir.path().join("reboot.yml");
    // The module tells boots apart by the kernel's boot_id, which a
    // container shares with its host: the README's line gives it PID 1's
    // start time instead, new at every boot of the machine.
    std::fs::write(
        &playbook,
        "- hosts: all\n  gather_facts: false\n  tasks:\n  - ansible.builtin.reboot:\n      boot_time_command: cut -d' ' -f22 /proc/1/stat\n      reboot_timeout: 120\n",
    )
    .unwrap();
    let out = footloose_tests::ansible_playbook(&inventory, &playbook);
    assert!(
        out.status.success(),
        "ansible-playbook failed:\n{}",
        footloose_tests::output_text(&out)
    );
    let recap = String::from_utf8_lossy(&out.stdout);
    assert!(recap.contains("changed=1"), "{recap}");
    assert_ne!(
        booted_at(node),
        boot,
        "ansible reported a reboot that did not happen"
    );
    assert_eq!(identity(node), before);
}
