//! Connections to a machine under the things roles do to sshd: a command
//! that drops its own connection runs once and says so, an upload cut
//! short is reported, not redone, and killed sessions, a restarted sshd
//! and an Ansible play that reconfigures it heal on the next command.

use std::time::Duration;

use footloose::{Cluster, Error, Machine, MachineError};

/// How many times the counting commands below ran.
fn runs(node: &Machine, file: &str) -> usize {
    let out = node.exec(&format!("cat {file} 2>/dev/null")).unwrap();
    out.stdout().lines().count()
}

#[footloose::cluster("footloose.yaml")]
fn a_command_that_drops_its_connection_runs_once(cluster: &Cluster) {
    let node = cluster.machine("node0");
    // The shell's parent is sshd's process for this connection: killing it
    // drops the connection while the command runs.
    let result = node.exec("echo ran >> /root/runs; kill -KILL $PPID; sleep 5");
    let err = result.expect_err("the command's connection was killed under it");
    assert!(
        matches!(err, Error::Machine(MachineError::ConnectionLost { .. })),
        "not named a lost connection: {err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("may or may not have taken effect") && message.contains("not tried again"),
        "{message}"
    );
    assert_eq!(
        runs(node, "/root/runs"),
        1,
        "the command ran more than once"
    );
}

#[footloose::cluster("footloose.yaml")]
fn an_upload_cut_short_is_reported_not_redone(cluster: &Cluster) {
    let node = cluster.machine("node0");
    // Every new connection's session is killed a moment after it starts,
    // while the copy's data is on its way.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    std::fs::write(&big, vec![7u8; 64 * 1024 * 1024]).unwrap();
    node.exec("nohup sh -c 'sleep 0.3; pkill -KILL -f \"sshd: root\"' >/dev/null 2>&1 &")
        .unwrap()
        .checked()
        .unwrap();
    let result = node.exec_with(
        "echo ran >> /root/copies; sleep 3; cat > /root/big",
        &std::fs::read(&big).unwrap(),
        Duration::from_secs(30),
    );
    let err = result.expect_err("the upload's connection was killed under it");
    assert!(
        matches!(err, Error::Machine(MachineError::ConnectionLost { .. })),
        "not named a lost connection: {err:?}"
    );
    assert_eq!(
        runs(node, "/root/copies"),
        1,
        "the upload ran more than once"
    );
}

#[footloose::cluster("footloose.yaml")]
fn connections_heal_after_sshd_sessions_are_killed_and_sshd_restarts(cluster: &Cluster) {
    let node = cluster.machine("node0");
    // Open several connections, so that the pool keeps more than one.
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| node.exec("sleep 0.5").unwrap().checked().unwrap());
        }
    });
    // A hardening role's shape: a new sshd_config, sshd restarted, and
    // every session that was open cut off.
    node.exec(
        "echo 'ClientAliveInterval 30' > /etc/ssh/sshd_config.d/role.conf; \
         nohup sh -c 'sleep 0.5; systemctl restart ssh; pkill -KILL -f \"sshd: root\"' >/dev/null 2>&1 &",
    )
    .unwrap()
    .checked()
    .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    for round in 0..6 {
        let out = node
            .exec("systemctl is-active ssh")
            .unwrap_or_else(|e| panic!("exec {round} after the restart: {e}"));
        assert_eq!(out.stdout().trim(), "active");
    }
    assert_eq!(node.exec("hostname").unwrap().stdout().trim(), "node0");
}

#[footloose::cluster("footloose.yaml")]
fn a_play_that_reconfigures_and_restarts_sshd_leaves_the_machine_usable(cluster: &Cluster) {
    let node = cluster.machine("node0");
    node.exec("true").unwrap().checked().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inventory = cluster
        .write_ansible_inventory(dir.path().join("inventory.yml"))
        .unwrap();
    let playbook = dir.path().join("harden.yml");
    // A hardening role's shape: a new sshd setting, sshd restarted by a
    // handler, and every open session cut off after it.
    std::fs::write(
        &playbook,
        "- hosts: all\n  gather_facts: false\n  tasks:\n  - ansible.builtin.copy:\n      dest: /etc/ssh/sshd_config.d/role.conf\n      content: \"ClientAliveInterval 30\\nMaxAuthTries 3\\n\"\n    notify: restart sshd\n  handlers:\n  - name: restart sshd\n    ansible.builtin.service:\n      name: ssh\n      state: restarted\n",
    )
    .unwrap();
    let out = footloose_tests::ansible_playbook(&inventory, &playbook);
    assert!(
        out.status.success(),
        "ansible-playbook failed:\n{}",
        footloose_tests::output_text(&out)
    );
    node.exec("pkill -KILL -f 'sshd: root' || true").ok();
    for round in 0..4 {
        let out = node
            .exec("sshd -T | grep -i '^maxauthtries'")
            .unwrap_or_else(|e| panic!("exec {round} after the play: {e}"));
        assert_eq!(out.stdout().trim(), "maxauthtries 3");
    }
}
