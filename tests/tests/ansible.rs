//! The Ansible face of footloose with the real `ansible-inventory`,
//! `ansible` and `ansible-playbook`: the inventory Ansible accepts, host
//! keys checked strictly, the recap and idempotence check, and the error
//! when Ansible is missing.

use std::path::Path;
use std::process::Command;

use footloose::ansible::Playbook;
use footloose::{Cluster, Error};

/// Runs an Ansible command line; panics with its output when it cannot run.
fn ansible(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (install ansible-core): {e}"))
}

#[footloose::cluster("ansible.yaml")]
fn ansible_inventory_accepts_the_inventory_with_its_groups(cluster: &Cluster) {
    let dir = tempfile::tempdir().unwrap();
    let path = cluster
        .write_ansible_inventory(dir.path().join("inventory.yml"))
        .unwrap();
    let out = ansible(
        "ansible-inventory",
        &["-i", path.to_str().unwrap(), "--list"],
    );
    assert!(out.status.success(), "{out:?}");
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let members = |group: &str| -> Vec<String> {
        let mut hosts: Vec<String> = listed[group]["hosts"]
            .as_array()
            .unwrap_or_else(|| panic!("no group {group} in {listed:#}"))
            .iter()
            .map(|h| h.as_str().unwrap().to_owned())
            .collect();
        hosts.sort();
        hosts
    };
    let cluster_group = footloose::ansible::group_name(cluster.name());
    assert_eq!(members(&cluster_group), ["db0", "web0", "web1"]);
    assert_eq!(members("web"), ["web0", "web1"]);
    assert_eq!(members("frontend"), ["web0", "web1"]);
    assert_eq!(members("db"), ["db0"]);
    let web1 = &listed["_meta"]["hostvars"]["web1"];
    assert_eq!(
        web1["ansible_port"],
        cluster.machine("web1").host_port(22).unwrap()
    );
    assert_eq!(web1["ansible_user"], "root");
}

#[footloose::cluster("ansible.yaml")]
fn ansible_checks_the_pinned_host_keys(cluster: &Cluster) {
    let dir = tempfile::tempdir().unwrap();
    let inventory = cluster
        .write_ansible_inventory(dir.path().join("inventory.yml"))
        .unwrap();
    // Another key where web0's pinned one is, before any connection (an
    // OpenSSH master connection would skip the check): ssh must refuse it.
    let impostor = footloose::ClientKey::load_or_generate(&dir.path().join("impostor"))
        .unwrap()
        .public;
    let known_hosts = known_hosts_of(cluster);
    let web0 = cluster.machine("web0").container_name().to_owned();
    let forged: String = std::fs::read_to_string(&known_hosts)
        .unwrap()
        .lines()
        .map(|line| match line.split_once(' ') {
            Some((alias, _)) if alias == web0 => format!("{alias} {impostor}\n"),
            _ => format!("{line}\n"),
        })
        .collect();
    std::fs::write(&known_hosts, forged).unwrap();
    let ping = || {
        let out = ansible(
            "ansible",
            &[
                "-i",
                inventory.to_str().unwrap(),
                "all",
                "-m",
                "ansible.builtin.ping",
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success(), text)
    };
    let (ok, text) = ping();
    assert!(!ok, "a forged host key was accepted:\n{text}");
    assert!(text.contains("web0 | UNREACHABLE"), "{text}");
    assert_eq!(text.matches("\"ping\": \"pong\"").count(), 2, "{text}");

    // Written again, the inventory's known_hosts holds the real keys.
    cluster
        .write_ansible_inventory(dir.path().join("inventory.yml"))
        .unwrap();
    let (ok, text) = ping();
    assert!(ok, "{text}");
    assert_eq!(text.matches("\"ping\": \"pong\"").count(), 3, "{text}");
}

fn known_hosts_of(cluster: &Cluster) -> std::path::PathBuf {
    footloose::paths::state_dir(cluster.name()).join("known_hosts")
}

#[footloose::cluster("ansible.yaml")]
fn the_recap_and_the_idempotence_check_name_what_changed(cluster: &Cluster) {
    let touch = Playbook::new("data/ansible/touch.yml");
    let first = touch.run(cluster).unwrap();
    assert_eq!(first.recap.len(), 3, "{}", first.stdout);
    for host in ["web0", "web1", "db0"] {
        assert_eq!(first.recap[host].changed, 1, "{}", first.stdout);
        assert_eq!(first.recap[host].failed, 0);
    }
    let err = touch.assert_idempotent(cluster).unwrap_err();
    let Error::NotIdempotent { changed, .. } = &err else {
        panic!("expected NotIdempotent, got {err}");
    };
    assert!(
        changed.contains(&"db0: Touch the stamp".to_owned()),
        "{changed:?}"
    );
    assert_eq!(changed.len(), 3, "{changed:?}");

    // Limit, and check mode (a command task is skipped in check mode).
    let limited = touch.clone().limit("web").check(true).run(cluster).unwrap();
    let hosts: Vec<&String> = limited.recap.keys().collect();
    assert_eq!(hosts, ["web0", "web1"], "{}", limited.stdout);
    assert_eq!(limited.changed(), 0, "{}", limited.stdout);

    // A failing play is an error with the recap's verdict.
    let failing = touch
        .clone()
        .extra_var("ansible_python_interpreter", "/nonexistent/python")
        .run(cluster)
        .unwrap_err()
        .to_string();
    assert!(failing.contains("failed=1"), "{failing}");
}

#[footloose::cluster("footloose.yaml")]
fn a_missing_ansible_playbook_is_a_clear_error(cluster: &Cluster) {
    let missing = Path::new("/nonexistent/ansible-playbook");
    let err = Playbook::new("data/ansible/touch.yml")
        .program(missing)
        .run(cluster)
        .unwrap_err();
    assert!(matches!(err, Error::ToolMissing { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("apt-get install ansible-core"),
        "{message}"
    );
}
