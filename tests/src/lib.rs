//! Helpers shared by the end-to-end tests.

pub mod podman;

use footloose::engine::Engine;

/// How many checks the smoke suite (`src/bin/smoke.rs`) runs: all must pass.
pub const SMOKE_CHECKS: usize = 5;

/// Fails with a clear message when no engine answers: these tests
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
    smoke(
        std::process::Command::new(smoke_bin),
        smoke_bin,
        label,
        endpoint,
        envs,
    );
}

/// Runs the smoke suite as [`run_smoke_with`] does, with `home` as this
/// user's home directory (see [`in_home`]) and no ssh agent.
pub fn run_smoke_in_home(smoke_bin: &str, label: &str, endpoint: &str, home: &std::path::Path) {
    let command = in_home(home, smoke_bin);
    smoke(
        command,
        smoke_bin,
        label,
        endpoint,
        &[("SSH_AUTH_SOCK", "")],
    );
}

fn smoke(
    mut command: std::process::Command,
    smoke_bin: &str,
    label: &str,
    endpoint: &str,
    envs: &[(&str, &str)],
) {
    let out = command
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
        out.status.success()
            && report.contains(&format!("smoke {label}: {SMOKE_CHECKS} passed, 0 failed")),
        "the smoke suite failed on {label}:\n{report}"
    );
}

/// A command that runs `program` with `home` as this user's home
/// directory, as OpenSSH finds it: ssh ignores `HOME` and reads the
/// password database, so `home` is bind-mounted over that directory in a
/// mount namespace of the command's own (`unshare --mount`), and `~/.ssh`
/// there is the only one the command's ssh sees.
pub fn in_home(
    home: &std::path::Path,
    program: impl AsRef<std::ffi::OsStr>,
) -> std::process::Command {
    let mut command = std::process::Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"real=$(getent passwd "$(id -u)" | cut -d: -f6) && mount --bind "$0" "$real" && HOME="$real" exec "$@""#)
        .arg(home)
        .arg(program);
    command
}

/// What footloose left of `cluster` on the engine at `endpoint`.
pub fn leftovers_at(endpoint: &str, cluster: &str) -> footloose::engine::Leftovers {
    footloose::runtime::block_on(async {
        let engine = Engine::connect_to(endpoint).await.unwrap();
        engine.leftovers(Some(cluster)).await.unwrap()
    })
}

/// Makes sure the local engine has `image`, to be copied from there.
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

/// systemd's sandboxing directives, each with a unit that proves it
/// applies: shared by the sandboxing tests and the smoke suite.
pub mod sandboxing {
    use footloose::Machine;

    /// A sandboxing directive and the proof that it applied.
    #[derive(Debug, Clone, Copy)]
    pub struct Directive {
        /// The unit's name: `sbx-<name>.service`.
        pub name: &'static str,
        /// The unit's `[Service]` lines that ask for it.
        pub lines: &'static str,
        /// A shell command that succeeds in the sandbox and fails outside
        /// it (checked too, so that a proof cannot pass vacuously).
        pub proof: &'static str,
        /// What systemd needs to apply it.
        pub needs: Needs,
    }

    /// What systemd needs of a machine to apply a directive.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Needs {
        /// Nothing but a seccomp filter, `prctl` or capabilities: applies
        /// in any machine.
        Nothing,
        /// A user namespace: applies where the machine may create one.
        UserNamespace,
        /// A mount, network or UTS namespace, which a machine's root
        /// (without `CAP_SYS_ADMIN`) may only make inside a user namespace:
        /// applies beside `PrivateUsers=true` where systemd sets that up
        /// first (Debian 12's systemd 252); skipped otherwise.
        Namespaces,
    }

    /// A file that exists in the machine's own `/tmp` and `/root`, not in a
    /// sandbox's.
    pub const MARKER: &str = "footloose-sandbox-marker";

    const OWN_MOUNTS: &str =
        r#"test "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)""#;
    const MORE_FILTERS: &str =
        r#"test "$(awk '/^Seccomp_filters:/ {print $2}' /proc/self/status)" -gt 1"#;

    /// Every directive the tests check.
    pub const DIRECTIVES: &[Directive] = &[
        Directive {
            name: "PrivateUsers",
            lines: "PrivateUsers=true",
            proof: r#"test "$(readlink /proc/self/ns/user)" != "$(readlink /proc/1/ns/user)""#,
            needs: Needs::UserNamespace,
        },
        Directive {
            name: "PrivateTmp",
            lines: "PrivateTmp=true",
            proof: "test ! -e /tmp/footloose-sandbox-marker",
            needs: Needs::Namespaces,
        },
        Directive {
            name: "PrivateDevices",
            lines: "PrivateDevices=true",
            proof: "test ! -e /dev/console && test -e /dev/null",
            needs: Needs::Namespaces,
        },
        Directive {
            name: "PrivateNetwork",
            lines: "PrivateNetwork=true",
            proof: r#"test "$(ip -o link | wc -l)" = 1"#,
            needs: Needs::Namespaces,
        },
        Directive {
            name: "ProtectSystem",
            lines: "ProtectSystem=strict",
            proof: "! touch /etc/footloose-sandbox-probe",
            needs: Needs::Namespaces,
        },
        Directive {
            name: "ProtectHome",
            lines: "ProtectHome=true",
            proof: "test ! -e /root/footloose-sandbox-marker",
            needs: Needs::Namespaces,
        },
        Directive {
            name: "ProtectKernelTunables",
            lines: "ProtectKernelTunables=true",
            proof: OWN_MOUNTS,
            needs: Needs::Namespaces,
        },
        Directive {
            name: "ProtectKernelModules",
            lines: "ProtectKernelModules=true",
            proof: OWN_MOUNTS,
            needs: Needs::Namespaces,
        },
        Directive {
            name: "ProtectKernelLogs",
            lines: "ProtectKernelLogs=true",
            proof: OWN_MOUNTS,
            needs: Needs::Namespaces,
        },
        Directive {
            name: "ProtectControlGroups",
            lines: "ProtectControlGroups=true",
            proof: "! findmnt -rn -o OPTIONS -R /sys/fs/cgroup | grep -qv '^ro'",
            needs: Needs::Namespaces,
        },
        Directive {
            name: "ProtectClock",
            lines: "ProtectClock=true",
            proof: MORE_FILTERS,
            needs: Needs::Nothing,
        },
        Directive {
            name: "ProtectHostname",
            lines: "ProtectHostname=true",
            proof: r#"test "$(readlink /proc/self/ns/uts)" != "$(readlink /proc/1/ns/uts)""#,
            needs: Needs::Namespaces,
        },
        Directive {
            name: "RestrictNamespaces",
            lines: "RestrictNamespaces=true",
            proof: "! unshare -U true",
            needs: Needs::Nothing,
        },
        Directive {
            name: "NoNewPrivileges",
            lines: "NoNewPrivileges=true",
            proof: "grep -q '^NoNewPrivs:.1' /proc/self/status",
            needs: Needs::Nothing,
        },
        Directive {
            name: "DynamicUser",
            lines: "DynamicUser=true",
            proof: r#"test "$(id -u)" -ge 61184 && test "$(id -u)" -le 65519"#,
            needs: Needs::Namespaces,
        },
        Directive {
            name: "MemoryDenyWriteExecute",
            lines: "MemoryDenyWriteExecute=true",
            proof: "! python3 -c 'import mmap; mmap.mmap(-1, 4096, prot=7)'",
            needs: Needs::Nothing,
        },
        Directive {
            name: "SystemCallFilter",
            lines: "SystemCallFilter=@system-service\nSystemCallErrorNumber=EUCLEAN",
            proof: "mount -t tmpfs none /mnt 2>&1 | grep -q 'needs cleaning'",
            needs: Needs::Nothing,
        },
        Directive {
            name: "LockPersonality",
            lines: "LockPersonality=true",
            proof: "! setarch linux32 true",
            needs: Needs::Nothing,
        },
        Directive {
            name: "RestrictRealtime",
            lines: "RestrictRealtime=true",
            proof: MORE_FILTERS,
            needs: Needs::Nothing,
        },
        Directive {
            name: "CapabilityBoundingSet",
            lines: "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
            proof: "grep -q '^CapBnd:.0000000000000400$' /proc/self/status",
            needs: Needs::Nothing,
        },
    ];

    /// The directives that need `needs`.
    pub fn needing(needs: &[Needs]) -> Vec<Directive> {
        DIRECTIVES
            .iter()
            .filter(|d| needs.contains(&d.needs))
            .copied()
            .collect()
    }

    /// The directives named `names`, in that order.
    pub fn named(names: &[&str]) -> Vec<Directive> {
        names
            .iter()
            .map(|name| {
                *DIRECTIVES
                    .iter()
                    .find(|d| d.name == *name)
                    .unwrap_or_else(|| panic!("no directive {name}"))
            })
            .collect()
    }

    /// The oneshot unit of `directive`: its lines (with `PrivateUsers=true`
    /// beside those that need [`Needs::Namespaces`], when
    /// `with_user_namespace`), and
    /// `exec` (its proof, or `/bin/true` to see that it only starts).
    pub fn unit(directive: &Directive, with_user_namespace: bool, exec: Option<&str>) -> String {
        let userns = if with_user_namespace && directive.needs == Needs::Namespaces {
            "PrivateUsers=true\n"
        } else {
            ""
        };
        let exec = match exec {
            Some(command) => command.to_owned(),
            None => format!("/bin/sh -c '{}'", directive.proof.replace('\'', r#"'"'"'"#)),
        };
        format!(
            "[Unit]\nDescription=footloose sandbox check: {}\n\n[Service]\nType=oneshot\n{userns}{}\nExecStart={exec}\n",
            directive.name, directive.lines
        )
    }

    /// Installs the units of `directives` (see [`unit`]) in `machine` and
    /// starts each; returns one line per unit that failed, with its state
    /// and last journal lines. Also checks that each proof fails outside
    /// the sandbox, where it must.
    pub fn failures(
        machine: &Machine,
        directives: &[Directive],
        with_user_namespace: bool,
        only_start: bool,
    ) -> Vec<String> {
        machine
            .exec(&format!(
                "touch /tmp/{MARKER} /root/{MARKER}; rm -f /etc/footloose-sandbox-probe"
            ))
            .unwrap()
            .checked()
            .unwrap();
        let mut failed = Vec::new();
        for directive in directives {
            let exec = only_start.then_some("/bin/true");
            let text = unit(directive, with_user_namespace, exec);
            let path = format!("/etc/systemd/system/sbx-{}.service", directive.name);
            machine.write_file(&path, text.as_bytes()).unwrap();
            if !only_start {
                let outside = machine.exec(directive.proof).unwrap();
                if outside.success() {
                    failed.push(format!(
                        "{}: the proof `{}` holds outside the sandbox too",
                        directive.name, directive.proof
                    ));
                }
            }
        }
        machine
            .exec("systemctl daemon-reload")
            .unwrap()
            .checked()
            .unwrap();
        for directive in directives {
            let unit = format!("sbx-{}.service", directive.name);
            let started = machine.exec(&format!("systemctl start {unit}")).unwrap();
            if !started.success() {
                let status = machine.unit_status(&unit).unwrap();
                let journal = machine.journal(&unit, 6).unwrap();
                failed.push(format!("{status}\n{journal}"));
            }
        }
        machine
            .exec(&format!(
                "rm -f /etc/systemd/system/sbx-*.service /etc/footloose-sandbox-probe /tmp/{MARKER} /root/{MARKER}; systemctl daemon-reload; systemctl reset-failed"
            ))
            .unwrap()
            .checked()
            .unwrap();
        failed
    }
}
