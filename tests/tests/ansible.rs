//! The Ansible face of footloose with the real `ansible-inventory`,
//! `ansible`, `ansible-playbook` and `ansible-galaxy`: the inventory
//! Ansible accepts, host keys checked strictly, the recap and idempotence
//! check, the error when Ansible is missing; and role tests as Molecule
//! runs them: the role under test by its Galaxy name, requirements from
//! local archives, a failed play reported by host, task, message and the
//! failed unit's journal, the config's variables on the hosts.

use std::path::Path;
use std::process::Command;

use footloose::ansible::{AnsibleError, Playbook, Role};
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
    let Error::Ansible(AnsibleError::NotIdempotent { changed, .. }) = &err else {
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
    assert!(
        matches!(err, Error::Ansible(AnsibleError::ToolMissing { .. })),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("apt-get install ansible-core"),
        "{message}"
    );
}

/// The role tests' data directory.
fn data(path: &str) -> std::path::PathBuf {
    Path::new("data/ansible").join(path)
}

#[footloose::cluster("ansible-role.yaml")]
fn a_molecule_converge_finds_the_role_by_its_galaxy_name(cluster: &Cluster) {
    let role = Role::at(data("roles/ansible-role-greeter")).unwrap();
    assert_eq!(role.name(), "acme.greeter");
    let converge = Playbook::new(data(
        "roles/ansible-role-greeter/molecule/default/converge.yml",
    ))
    .role(role)
    .env("ANSIBLE_ROLES_PATH", "/nonexistent/roles");
    let first = converge.run(cluster).unwrap();
    assert_eq!(first.recap["instance0"].changed, 1, "{}", first.stdout);
    // `roles:` and include_role both found it.
    assert_eq!(
        first
            .stdout
            .matches("TASK [acme.greeter : Write the greeting]")
            .count(),
        2,
        "{}",
        first.stdout
    );
    // The config's host and group variables reached the role.
    let greeting = cluster
        .machine("instance0")
        .read_file("/etc/greeting-from-group")
        .unwrap();
    assert_eq!(greeting, b"hello from footloose.yaml\n");
    converge.assert_idempotent(cluster).unwrap();
}

/// A role laid out as Galaxy's most used ones (`author` and `role_name`,
/// no `namespace`, in a clone's `ansible-role-motd`), and a stale copy by
/// its Galaxy name on the user's roles path, as Molecule leaves one in
/// `~/.ansible/roles`: the role's own converge runs it, not the copy.
#[footloose::cluster("ansible-role.yaml")]
fn a_galaxy_role_without_a_namespace_runs_its_own_converge_and_no_other_copy(cluster: &Cluster) {
    let role = Role::at(data("roles/ansible-role-motd")).unwrap();
    assert_eq!(role.name(), "acme.motd");
    assert_eq!(role.aliases, ["motd", "ansible-role-motd"]);
    let home_roles = tempfile::tempdir().unwrap();
    let stale = home_roles.path().join("acme.motd/tasks");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(
        stale.join("main.yml"),
        "- ansible.builtin.copy:\n    dest: /etc/motd-from-role\n    content: \"A STALE COPY RAN\\n\"\n",
    )
    .unwrap();
    let converge = Playbook::new(data(
        "roles/ansible-role-motd/molecule/default/converge.yml",
    ))
    .role(role.clone())
    .env("ANSIBLE_ROLES_PATH", home_roles.path());
    let first = converge.run(cluster).unwrap();
    assert_eq!(first.recap["instance0"].changed, 1, "{}", first.output);
    let motd = cluster
        .machine("instance0")
        .read_file("/etc/motd-from-role")
        .unwrap();
    assert_eq!(motd, b"written by the role under test\n");
    converge.assert_idempotent(cluster).unwrap();

    // Called by a name that is none of its names, a copy by that name ran:
    // an error, saying where that copy came from.
    std::fs::create_dir_all(home_roles.path().join("other.motd")).unwrap();
    std::fs::rename(
        home_roles.path().join("acme.motd/tasks"),
        home_roles.path().join("other.motd/tasks"),
    )
    .unwrap();
    let err = Playbook::new(data("other-name.yml"))
        .role(role.clone())
        .env("ANSIBLE_ROLES_PATH", home_roles.path())
        .run(cluster)
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, Error::Ansible(AnsibleError::Role { .. })),
        "{err:?}"
    );
    assert!(text.contains("the play ran `other.motd` from "), "{text}");
    assert!(
        text.contains(&format!(
            "{} (on Ansible's roles path)",
            std::fs::canonicalize(home_roles.path().join("other.motd"))
                .unwrap()
                .display()
        )),
        "{text}"
    );
    assert!(text.contains("Role::named("), "{text}");

    // Named so, it is the role under test that runs.
    let named = Role::named(data("roles/ansible-role-motd"), "other.motd").unwrap();
    Playbook::new(data("other-name.yml"))
        .role(named)
        .env("ANSIBLE_ROLES_PATH", home_roles.path())
        .extra_var("motd_text", "named by the test")
        .run(cluster)
        .unwrap();
    let motd = cluster
        .machine("instance0")
        .read_file("/etc/motd-from-role")
        .unwrap();
    assert_eq!(motd, b"named by the test\n");
}

#[footloose::cluster("ansible-role.yaml")]
fn a_role_ansible_does_not_find_is_reported_with_what_footloose_linked(cluster: &Cluster) {
    let role = Role::at(data("roles/ansible-role-motd")).unwrap();
    let err = Playbook::new(data("nobody.yml"))
        .role(role.clone())
        .run(cluster)
        .unwrap_err();
    let report = format!("{err:?}");
    let Error::Ansible(AnsibleError::Playbook(failure)) = &err else {
        panic!("expected a failed play, got {report}");
    };
    let missing = failure
        .missing_role
        .as_ref()
        .unwrap_or_else(|| panic!("no missing role in the report:\n{report}"));
    assert_eq!(missing.wanted, "nobody.motd");
    assert_eq!(missing.linked[0].0, role.dir);
    assert!(
        report.contains("role not found: the playbook calls for `nobody.motd`, but footloose linked the role under test"),
        "{report}"
    );
    assert!(
        report.contains("as `acme.motd`, `motd`, `ansible-role-motd` in "),
        "{report}"
    );
    assert!(report.contains("first in ANSIBLE_ROLES_PATH"), "{report}");
}

/// Set in the child run of `a_failing_role_test_panics_at_the_test_s_line`:
/// the test then returns the failed play as its error.
const FAIL_ON_PURPOSE_ENV: &str = "FOOTLOOSE_TESTS_FAIL_ON_PURPOSE";
/// Where the attribute of the test below stands.
const LOOPING_TEST_AT: (&str, u32) = (file!(), line!() + 1);
#[footloose::cluster("ansible-role.yaml")]
fn a_unit_in_a_restart_loop_keeps_its_cause_in_the_report(
    cluster: &Cluster,
) -> footloose::Result<()> {
    let converge = Playbook::new(data("roles/looping/molecule/default/converge.yml"))
        .role(Role::at(data("roles/looping"))?);
    if std::env::var_os(FAIL_ON_PURPOSE_ENV).is_some() {
        converge.run(cluster)?;
        return Ok(());
    }
    let err = converge.run(cluster).unwrap_err();
    let report = format!("{err:?}");
    let Error::Ansible(AnsibleError::Playbook(failure)) = &err else {
        panic!("expected a failed play, got {report}");
    };
    let unit = failure
        .units
        .iter()
        .find(|u| u.unit == "looping.service")
        .unwrap_or_else(|| panic!("no looping.service among the failed units:\n{report}"));
    // The journal's tail is restart noise only ...
    let tail = cluster.machine("instance0").journal("looping", 20)?;
    assert!(!tail.contains("(the distinctive cause)"), "{tail}");
    // ... and the report still has the first start's cause.
    assert!(unit.journal.contains("(the distinctive cause)"), "{report}");
    assert!(report.contains("(the distinctive cause)"), "{report}");
    assert!(
        unit.journal_heading.starts_with("this boot, 6 starts, "),
        "{report}"
    );
    assert!(unit.journal.contains("more like it)"), "{report}");
    assert!(unit.journal.lines().count() < 20, "{report}");
    Ok(())
}

/// A test that returns a failed play fails at its own file and line, not
/// inside footloose, with the report.
#[test]
fn a_failing_role_test_panics_at_the_test_s_line() {
    footloose_tests::require_docker();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "a_unit_in_a_restart_loop_keeps_its_cause_in_the_report",
            "--exact",
            "--nocapture",
        ])
        .env(FAIL_ON_PURPOSE_ENV, "1")
        .env("FOOTLOOSE_ANSIBLE_QUIET", "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("cannot run this test binary again");
    let text = footloose_tests::output_text(&out);
    assert!(!out.status.success(), "the child test passed:\n{text}");
    let (file, line) = LOOPING_TEST_AT;
    assert!(
        text.contains(&format!("panicked at {file}:{line}:")),
        "not at the test's line ({file}:{line}):\n{text}"
    );
    assert!(
        text.contains("test returned an error: ansible-playbook"),
        "{text}"
    );
    assert!(text.contains("(the distinctive cause)"), "{text}");
}

#[footloose::cluster("ansible-role.yaml")]
fn the_configs_variables_reach_the_hosts(cluster: &Cluster) {
    let run = Playbook::new(data("vars.yml")).run(cluster).unwrap();
    assert_eq!(run.recap["instance0"].failed, 0, "{}", run.stdout);
    let inventory: serde_yaml::Value =
        serde_yaml::from_str(&cluster.ansible_inventory().unwrap()).unwrap();
    let all = &inventory["all"];
    assert_eq!(all["hosts"]["instance0"]["limits"]["nofile"], 4096);
    assert_eq!(
        all["children"]["servers"]["vars"]["greeting_file"],
        "/etc/greeting-from-group"
    );
    assert_eq!(all["vars"]["footer"], "for every machine");
}

/// A role archive and a collection archive built from `data/ansible/
/// requirements`, a requirements file naming them by relative path, and
/// an `ansible-galaxy` that logs each call to `galaxy.log`, all in `dir`.
fn local_requirements(dir: &Path) -> std::path::PathBuf {
    let sources = std::fs::canonicalize(data("requirements")).unwrap();
    let run = |command: &mut Command| {
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            footloose_tests::output_text(&out)
        );
    };
    run(Command::new("tar")
        .arg("czf")
        .arg(dir.join("acme.base.tar.gz"))
        .arg("-C")
        .arg(sources.join("role-src"))
        .arg("acme.base"));
    run(Command::new("ansible-galaxy")
        .args(["collection", "build", "--output-path"])
        .arg(dir)
        .arg(sources.join("collection-src/acme/util")));
    let requirements = dir.join("requirements.yml");
    std::fs::write(
        &requirements,
        "roles:\n  - src: ./acme.base.tar.gz\n    name: acme.base\ncollections:\n  - name: ./acme-util-1.0.0.tar.gz\n    type: file\n",
    )
    .unwrap();
    let galaxy = dir.join("galaxy.sh");
    std::fs::write(
        &galaxy,
        format!(
            "#!/bin/sh\necho \"$1\" >> {}\nexec ansible-galaxy \"$@\"\n",
            dir.join("galaxy.log").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&galaxy, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    requirements
}

#[footloose::cluster("ansible-role.yaml")]
fn requirements_from_local_archives_are_installed_once_and_used(cluster: &Cluster) {
    let dir = tempfile::tempdir().unwrap();
    let requirements = local_requirements(dir.path());
    let site = Playbook::new(data("requirements/site.yml"))
        .requirements(&requirements)
        .galaxy_program(dir.path().join("galaxy.sh"));
    let first = site.run(cluster).unwrap();
    assert_eq!(first.recap["instance0"].changed, 1, "{}", first.stdout);
    let stamp = cluster
        .machine("instance0")
        .read_file("/etc/acme-base")
        .unwrap();
    assert_eq!(stamp, b"INSTALLED FROM AN ARCHIVE!\n");
    // Another playbook value with the same file: nothing is installed again.
    site.clone().check(true).run(cluster).unwrap();
    let log = std::fs::read_to_string(dir.path().join("galaxy.log")).unwrap();
    assert_eq!(log, "role\ncollection\n");

    // What only Galaxy has, from here where Galaxy is unreachable.
    let galaxy_only = dir.path().join("galaxy-only.yml");
    std::fs::write(&galaxy_only, "collections:\n  - community.general\n").unwrap();
    let err = Playbook::new(data("requirements/site.yml"))
        .requirements(&galaxy_only)
        .run(cluster)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Ansible(AnsibleError::Requirements {
                what: "collections",
                ..
            })
        ),
        "{err:?}"
    );
    let text = format!("{err:?}");
    assert!(
        text.contains("Galaxy (or the server a `src:` names) is not reachable"),
        "{text}"
    );
}

#[footloose::cluster("ansible-role.yaml")]
fn a_failed_play_names_host_task_message_and_the_failed_units_journal(cluster: &Cluster) {
    let err = Playbook::new(data("roles/broken/molecule/default/converge.yml"))
        .role(Role::at(data("roles/broken")).unwrap())
        .run(cluster)
        .unwrap_err();
    // What a test returning this error prints.
    let report = format!("{err:?}");
    println!("{report}");
    let Error::Ansible(AnsibleError::Playbook(failure)) = &err else {
        panic!("expected a failed play, got {report}");
    };
    assert_eq!(failure.failures.len(), 1, "{report}");
    assert_eq!(failure.failures[0].host, "instance0");
    assert_eq!(failure.failures[0].task, "acme.broken : Start the unit");
    let lines: Vec<&str> = report.lines().collect();
    assert!(lines.contains(&"  failed host: instance0"), "{report}");
    assert!(
        lines.contains(&"  task: acme.broken : Start the unit"),
        "{report}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  message: Unable to start service broken")),
        "{report}"
    );
    let unit = failure
        .units
        .iter()
        .find(|u| u.unit == "broken.service")
        .unwrap_or_else(|| panic!("no broken.service among the failed units:\n{report}"));
    assert_eq!(unit.host, "instance0");
    assert!(unit.journal.contains("(the distinctive cause)"), "{report}");
    assert!(unit.status.contains("broken.service"), "{report}");
    assert!(report.contains("(the distinctive cause)"), "{report}");
    assert!(!report.contains("\\n"), "escaped newlines:\n{report}");
    assert!(
        report.contains("fatal: [instance0]: FAILED! => {…} (message above)"),
        "{report}"
    );
    // The order a reader wants: what failed, then the output, then the unit.
    let at = |text: &str| report.find(text).unwrap();
    assert!(at("failed host:") < at("last output:"), "{report}");
    assert!(
        at("last output:") < at("failed unit broken.service"),
        "{report}"
    );
}

/// Set in the child process of `a_play_s_output_is_shown_while_it_runs`:
/// the file its fake playbook waits for after its first line.
const LIVE_MARKER_ENV: &str = "FOOTLOOSE_TESTS_LIVE_MARKER";

/// A fake `ansible-playbook` in `dir`: it prints `first`, then, when
/// `LIVE_MARKER_ENV` names a file, waits (up to two minutes) for it.
fn fake_playbook(dir: &Path) -> std::path::PathBuf {
    let program = dir.join("fake-ansible-playbook");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\necho 'PLAY [fake] ***'\necho first\nm=\"${LIVE_MARKER_ENV}\"\nif [ -z \"$m\" ]; then echo 'second: nothing to wait for'; exit 0; fi\ni=0\nwhile [ ! -e \"$m\" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\nif [ -e \"$m\" ]; then echo 'second: the first line was seen'; else echo 'second: the first line was never seen'; fi\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &program,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    program
}

#[footloose::cluster("ansible-role.yaml")]
fn a_play_s_output_is_kept_and_streamed(cluster: &Cluster) {
    let dir = tempfile::tempdir().unwrap();
    let run = Playbook::new("live.yml")
        .program(fake_playbook(dir.path()))
        .run(cluster)
        .unwrap();
    // Alone, the program waits for nothing; in the child process of
    // `a_play_s_output_is_shown_while_it_runs` it waits for its first line
    // to be seen there.
    let second = if std::env::var_os(LIVE_MARKER_ENV).is_some() {
        "second: the first line was seen"
    } else {
        "second: nothing to wait for"
    };
    assert_eq!(
        run.stdout,
        format!("PLAY [fake] ***\nfirst\n{second}\n"),
        "the output is kept in the run"
    );
}

#[test]
fn a_play_s_output_is_shown_while_it_runs() {
    use std::io::BufRead;
    footloose_tests::require_docker();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("first-line-seen");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "a_play_s_output_is_kept_and_streamed",
            "--exact",
            "--nocapture",
        ])
        .env(LIVE_MARKER_ENV, &marker)
        .env_remove("FOOTLOOSE_ANSIBLE_QUIET")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run this test binary again");
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        // The play still runs and waits for this: the line came live.
        if line == "[playbook live.yml] first" {
            std::fs::write(&marker, b"").unwrap();
        }
        seen.push(line);
    }
    let status = child.wait().unwrap();
    let report = seen.join("\n");
    assert!(
        seen.contains(&"[playbook live.yml] second: the first line was seen".to_owned()),
        "the first line did not come while the play ran:\n{report}"
    );
    assert!(status.success(), "{report}");
}
