//! Running the real `ansible-playbook` against a cluster.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::error::{AnsibleError, PlaybookFailure};
use super::recap::{parse_changed, parse_recap, ChangedTask, Recap};
use super::roles::{self, Role};
use super::under_test;
use crate::error::Result;
use crate::{Cluster, Settings};

/// The program run; `FOOTLOOSE_ANSIBLE_PLAYBOOK` names another.
const PROGRAM: &str = "ansible-playbook";

/// A playbook and how to run it: extra vars, limit, tags, check mode,
/// environment, the role under test and requirements. Cheap to clone, so
/// one base can be varied per run.
///
/// Its output streams to the test's output as it comes, each line after
/// `[playbook NAME]` (shown live with `--nocapture` or by nextest, and with
/// a failing test's output otherwise), unless [`quiet`](Self::quiet) or
/// `FOOTLOOSE_ANSIBLE_QUIET=1`; it is kept in [`PlaybookRun`] either way.
#[derive(Debug, Clone)]
pub struct Playbook {
    path: PathBuf,
    extra_vars: serde_json::Map<String, serde_json::Value>,
    limit: Option<String>,
    tags: Vec<String>,
    skip_tags: Vec<String>,
    check: bool,
    diff: bool,
    env: Vec<(OsString, OsString)>,
    args: Vec<OsString>,
    program: Option<PathBuf>,
    roles: Vec<Role>,
    requirements: Vec<PathBuf>,
    galaxy: Option<PathBuf>,
    quiet: Option<bool>,
    settings: Settings,
}

/// Which of the program's outputs a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// What one `ansible-playbook` run did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlaybookRun {
    /// The exit code (`None` when a signal ended it).
    pub exit_code: Option<i32>,
    /// Everything it printed on stdout (the task log and the recap).
    pub stdout: String,
    /// Everything it printed on stderr (warnings, errors).
    pub stderr: String,
    /// Everything it printed, stdout and stderr, in the order it came.
    pub output: String,
    /// The PLAY RECAP, by inventory host.
    pub recap: BTreeMap<String, Recap>,
    /// Every task and handler that reported `changed`, by host.
    pub changed_tasks: Vec<ChangedTask>,
}

impl PlaybookRun {
    /// True when it exited 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// The number of changed tasks over every host.
    pub fn changed(&self) -> u32 {
        self.recap.values().map(|r| r.changed).sum()
    }
}

impl Playbook {
    /// The playbook at `path` (relative to the current directory, which is
    /// the crate's directory under `cargo test`), run with the
    /// environment's settings ([`Settings::from_env`];
    /// [`settings`](Self::settings) gives others).
    pub fn new(path: impl Into<PathBuf>) -> Playbook {
        Playbook {
            path: path.into(),
            extra_vars: serde_json::Map::new(),
            limit: None,
            tags: Vec::new(),
            skip_tags: Vec::new(),
            check: false,
            diff: false,
            env: Vec::new(),
            args: Vec::new(),
            program: None,
            roles: Vec::new(),
            requirements: Vec::new(),
            galaxy: None,
            quiet: None,
            settings: Settings::from_env(),
        }
    }

    /// Runs with `settings` instead of the environment's: the programs
    /// (`FOOTLOOSE_ANSIBLE_PLAYBOOK`, `FOOTLOOSE_ANSIBLE_GALAXY`), whether
    /// it is quiet (`FOOTLOOSE_ANSIBLE_QUIET`), the search paths kept
    /// after footloose's (`ANSIBLE_ROLES_PATH`,
    /// `ANSIBLE_COLLECTIONS_PATH`), where the inventory and work
    /// directory go (`XDG_STATE_HOME`, `XDG_RUNTIME_DIR`, `HOME`).
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// use footloose::ansible::Playbook;
    ///
    /// let mut settings = footloose::Settings::from_env();
    /// settings.ansible_playbook = Some(".venv/bin/ansible-playbook".into());
    /// Playbook::new("site.yml").settings(settings).run(cluster)?;
    /// # Ok(()) }
    /// ```
    pub fn settings(mut self, settings: Settings) -> Playbook {
        self.settings = settings;
        self
    }

    /// Makes `role` resolvable by its name (see [`Role`]): a link to it,
    /// named so, in a directory put first in `ANSIBLE_ROLES_PATH` (the
    /// paths set in [`env`](Self::env) or the settings' environment, else
    /// Ansible's defaults, follow it). May be repeated.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// use footloose::ansible::{Playbook, Role};
    ///
    /// let converge = Playbook::new("molecule/default/converge.yml").role(Role::at(".")?);
    /// converge.run(cluster)?;
    /// converge.assert_idempotent(cluster)?;
    /// # Ok(()) }
    /// ```
    pub fn role(mut self, role: Role) -> Playbook {
        self.roles.push(role);
        self
    }

    /// Installs the roles and collections of the requirements file at
    /// `path` (a list of roles, or `roles:` and `collections:`) with
    /// `ansible-galaxy` before the first run, once per test process and
    /// file content, into a directory of this process's own, put in
    /// `ANSIBLE_ROLES_PATH` and `ANSIBLE_COLLECTIONS_PATH` after the
    /// [`role`](Self::role) links. Relative sources (`src: ./x.tar.gz`)
    /// are relative to the file. May be repeated.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// use footloose::ansible::{Playbook, Role};
    ///
    /// Playbook::new("molecule/default/converge.yml")
    ///     .role(Role::at(".")?)
    ///     .requirements("molecule/default/requirements.yml")
    ///     .run(cluster)?;
    /// # Ok(()) }
    /// ```
    pub fn requirements(mut self, path: impl Into<PathBuf>) -> Playbook {
        self.requirements.push(path.into());
        self
    }

    /// Installs [`requirements`](Self::requirements) with this program
    /// instead of `ansible-galaxy` from PATH (also set by
    /// `FOOTLOOSE_ANSIBLE_GALAXY`).
    pub fn galaxy_program(mut self, program: impl Into<PathBuf>) -> Playbook {
        self.galaxy = Some(program.into());
        self
    }

    /// Keeps the output to the result (`true`), or streams it as it comes
    /// (`false`, the default unless `FOOTLOOSE_ANSIBLE_QUIET=1`).
    pub fn quiet(mut self, quiet: bool) -> Playbook {
        self.quiet = Some(quiet);
        self
    }

    /// Sets an extra variable (`-e`), any value serde can write as JSON.
    pub fn extra_var(mut self, name: &str, value: impl serde::Serialize) -> Playbook {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.extra_vars.insert(name.to_owned(), value);
        self
    }

    /// Runs on the hosts or groups matching `pattern` only (`--limit`).
    pub fn limit(mut self, pattern: &str) -> Playbook {
        self.limit = Some(pattern.to_owned());
        self
    }

    /// Runs only the tasks tagged `tag` (`--tags`); may be repeated.
    pub fn tag(mut self, tag: &str) -> Playbook {
        self.tags.push(tag.to_owned());
        self
    }

    /// Skips the tasks tagged `tag` (`--skip-tags`); may be repeated.
    pub fn skip_tag(mut self, tag: &str) -> Playbook {
        self.skip_tags.push(tag.to_owned());
        self
    }

    /// Check mode (`--check`): report what would change, change nothing.
    pub fn check(mut self, check: bool) -> Playbook {
        self.check = check;
        self
    }

    /// Shows the differences of changed files (`--diff`).
    pub fn diff(mut self, diff: bool) -> Playbook {
        self.diff = diff;
        self
    }

    /// Sets an environment variable of the `ansible-playbook` process.
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Playbook {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Passes a further command-line argument to `ansible-playbook`.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Playbook {
        self.args.push(arg.into());
        self
    }

    /// Runs this program instead of `ansible-playbook` from PATH (also set
    /// by `FOOTLOOSE_ANSIBLE_PLAYBOOK`), such as one in a virtualenv.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Playbook {
        self.program = Some(program.into());
        self
    }

    /// Runs the playbook against `cluster` and fails unless it exits 0,
    /// with an [`AnsibleError::Playbook`] that names each failed task, its host and
    /// message, the end of the output, and the systemd units failed on
    /// those hosts with their journals.
    pub fn run(&self, cluster: &Cluster) -> Result<PlaybookRun> {
        let (run, links) = self.run_with_links(cluster)?;
        if run.success() {
            return Ok(run);
        }
        let mut failure = PlaybookFailure::new(
            self.path.clone(),
            run.exit_code,
            summary(&run.recap),
            &run.stdout,
            &run.output,
        );
        failure.missing_role = under_test::missing_role(&run.output, &self.roles, links.as_deref());
        failure.collect_units(cluster);
        Err(AnsibleError::Playbook(Box::new(failure)).into())
    }

    /// Runs the playbook against `cluster` and returns what happened,
    /// whatever its exit code. Fails only when it cannot run at all (or
    /// its requirements cannot be installed).
    ///
    /// When a role under test was given ([`role`](Self::role)), it also
    /// fails ([`AnsibleError::Role`]) if another role by one of its names would
    /// run in its place (one in `roles/` beside the playbook, which Ansible
    /// looks in first), or if a role by its short name but called by
    /// another name ran instead (from `~/.ansible/roles`, say).
    pub fn run_unchecked(&self, cluster: &Cluster) -> Result<PlaybookRun> {
        Ok(self.run_with_links(cluster)?.0)
    }

    /// [`run_unchecked`](Self::run_unchecked), and the directory of the
    /// role links.
    fn run_with_links(&self, cluster: &Cluster) -> Result<(PlaybookRun, Option<PathBuf>)> {
        under_test::check_before(&self.roles, &self.path)?;
        let inventory_path = super::inventory::inventory_path(&self.settings, cluster.name());
        let inventory = cluster.write_ansible_inventory(inventory_path)?;
        let program: OsString = match &self.program {
            Some(program) => program.clone().into(),
            None => self
                .settings
                .ansible_playbook
                .clone()
                .unwrap_or_else(|| PROGRAM.into()),
        };
        let mut command = self.command(&program, &inventory);
        let links = self.search_paths(&mut command)?;
        tracing::debug!("Running {command:?}");
        let prefix = format!(
            "[playbook {}] ",
            self.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let quiet = self.quiet.unwrap_or(self.settings.ansible_quiet);
        if !quiet {
            for role in &self.roles {
                println!("{prefix}{}", under_test::describe(role));
            }
        }
        let out = stream(&mut command, |from, line| {
            // Ansible's blank separator lines say nothing once prefixed.
            if quiet || line.trim().is_empty() {
                return;
            }
            match from {
                Stream::Stdout => println!("{prefix}{line}"),
                Stream::Stderr => eprintln!("{prefix}{line}"),
            }
        })
        .map_err(|e| super::tool::not_started(&program, e))?;
        if !self.roles.is_empty() {
            let theirs = roles::their_search_path(roles::ROLES_PATH, &self.env, &self.settings);
            let theirs: Vec<PathBuf> = std::env::split_paths(&theirs).collect();
            under_test::check_after(&self.roles, &self.path, &out.stdout, &theirs)?;
        }
        let run = PlaybookRun {
            exit_code: out.exit_code,
            recap: parse_recap(&out.stdout),
            changed_tasks: parse_changed(&out.stdout),
            stdout: out.stdout,
            stderr: out.stderr,
            output: out.output,
        };
        Ok((run, links))
    }

    /// Puts the role links and installed requirements first in Ansible's
    /// search paths; returns the directory of the role links.
    fn search_paths(&self, command: &mut Command) -> Result<Option<PathBuf>> {
        if self.roles.is_empty() && self.requirements.is_empty() {
            return Ok(None);
        }
        let mut role_dirs = Vec::new();
        let mut collection_dirs = Vec::new();
        let links = match self.roles.is_empty() {
            true => None,
            false => Some(roles::link_roles(&self.roles, &self.settings)?),
        };
        role_dirs.extend(links.clone());
        for requirements in &self.requirements {
            let installed =
                super::requirements::install(requirements, self.galaxy.as_deref(), &self.settings)?;
            role_dirs.push(installed.roles);
            collection_dirs.push(installed.collections);
        }
        let path = roles::ROLES_PATH;
        command.env(
            path.variable,
            roles::search_path(&role_dirs, path, &self.env, &self.settings),
        );
        if !collection_dirs.is_empty() {
            let path = roles::COLLECTIONS_PATH;
            command.env(
                path.variable,
                roles::search_path(&collection_dirs, path, &self.env, &self.settings),
            );
        }
        Ok(links)
    }

    /// Runs the playbook against `cluster` once more and fails, naming
    /// every task that changed and on which host, unless nothing changed:
    /// the idempotence check, after a first converging run.
    pub fn assert_idempotent(&self, cluster: &Cluster) -> Result<PlaybookRun> {
        let run = self.run(cluster)?;
        if run.changed() == 0 {
            return Ok(run);
        }
        Err(AnsibleError::NotIdempotent {
            playbook: self.path.clone(),
            changed: run.changed_tasks.iter().map(ToString::to_string).collect(),
        }
        .into())
    }

    fn command(&self, program: &OsString, inventory: &Path) -> Command {
        let mut command = Command::new(program);
        command.arg("-i").arg(inventory);
        if let Some(limit) = &self.limit {
            command.args(["--limit", limit]);
        }
        if !self.tags.is_empty() {
            command.args(["--tags", &self.tags.join(",")]);
        }
        if !self.skip_tags.is_empty() {
            command.args(["--skip-tags", &self.skip_tags.join(",")]);
        }
        if self.check {
            command.arg("--check");
        }
        if self.diff {
            command.arg("--diff");
        }
        if !self.extra_vars.is_empty() {
            let vars = serde_json::Value::Object(self.extra_vars.clone());
            command.arg("--extra-vars").arg(vars.to_string());
        }
        command.args(&self.args).arg(&self.path);
        // The output is read back: plain text from the default callback.
        command
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0")
            .env("ANSIBLE_STDOUT_CALLBACK", "default")
            .env("ANSIBLE_HOST_KEY_CHECKING", "True")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "False")
            // Each line as it is printed, not in blocks: it is streamed.
            .env("PYTHONUNBUFFERED", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// What [`stream`] collected.
#[derive(Debug)]
pub(crate) struct Streamed {
    pub(crate) exit_code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// Both, line by line in the order they were read.
    pub(crate) output: String,
}

/// Runs `command`, handing each line of its stdout and stderr to `on_line`
/// as soon as it is printed, and returns them collected with the exit code.
pub(crate) fn stream(
    command: &mut Command,
    on_line: impl Fn(Stream, &str) + Sync,
) -> std::io::Result<Streamed> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let output = std::sync::Mutex::new(String::new());
    let read = |pipe: &mut dyn std::io::Read, from: Stream| -> String {
        let mut reader = std::io::BufReader::new(pipe);
        let mut all = String::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    let line = text.trim_end_matches(['\n', '\r']);
                    on_line(from, line);
                    let mut output = output.lock().unwrap_or_else(|e| e.into_inner());
                    output.push_str(line);
                    output.push('\n');
                    all.push_str(&text);
                }
            }
        }
        all
    };
    // A thread spawned in a test inherits its output capture, so what it
    // prints goes with the test's output.
    let (stdout, stderr) = std::thread::scope(|scope| {
        let read = &read;
        let mut stderr = stderr;
        let errors = scope.spawn(move || read(&mut stderr, Stream::Stderr));
        let mut stdout = stdout;
        let out = read(&mut stdout, Stream::Stdout);
        (out, errors.join().unwrap_or_default())
    });
    let status = child.wait()?;
    Ok(Streamed {
        exit_code: status.code(),
        stdout,
        stderr,
        output: output.into_inner().unwrap_or_else(|e| e.into_inner()),
    })
}

/// `node0 failed=1, node1 unreachable=1`: the hosts that went wrong.
fn summary(recap: &BTreeMap<String, Recap>) -> String {
    let bad: Vec<String> = recap
        .iter()
        .filter(|(_, r)| r.failed > 0 || r.unreachable > 0)
        .map(|(host, r)| format!("{host} failed={} unreachable={}", r.failed, r.unreachable))
        .collect();
    if recap.is_empty() {
        "no PLAY RECAP (the playbook did not run)".to_owned()
    } else if bad.is_empty() {
        "every host ok".to_owned()
    } else {
        bad.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn lines_are_handed_on_as_they_are_printed() {
        // The program waits, after each line, for a file that only the line
        // handler makes on seeing it: it ends well only if each line came
        // through while it still ran, and then the order is known: first
        // (stdout), warning (stderr), second (stdout).
        let dir = tempfile::tempdir().unwrap();
        let marker = |n: u8| dir.path().join(format!("seen-{n}"));
        let wait = |n: u8| {
            format!(
                "i=0; while [ ! -e {m} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done",
                m = marker(n).display()
            )
        };
        let script = format!(
            "echo first; {}; echo warning >&2; {}; [ -e {m} ] && echo second: it was seen || echo second: never seen; exit 3",
            wait(1),
            wait(2),
            m = marker(2).display()
        );
        let lines = Mutex::new(Vec::new());
        let out = stream(Command::new("sh").arg("-c").arg(&script), |from, line| {
            lines.lock().unwrap().push((from, line.to_owned()));
            match line {
                "first" => std::fs::write(marker(1), b"").unwrap(),
                "warning" => std::fs::write(marker(2), b"").unwrap(),
                _ => {}
            }
        })
        .unwrap();
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.stdout, "first\nsecond: it was seen\n");
        assert_eq!(out.stderr, "warning\n");
        // Both streams in the order they came: stderr is not put last.
        assert_eq!(out.output, "first\nwarning\nsecond: it was seen\n");
        let lines = lines.into_inner().unwrap();
        assert!(
            lines.contains(&(Stream::Stderr, "warning".to_owned())),
            "{lines:?}"
        );
        assert_eq!(lines.len(), 3, "{lines:?}");
    }
}
