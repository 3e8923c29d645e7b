//! Running the real `ansible-playbook` against a cluster.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::recap::{parse_changed, parse_recap, ChangedTask, Recap};
use crate::error::{Error, Result};
use crate::Cluster;

/// The program run; `FOOTLOOSE_ANSIBLE_PLAYBOOK` names another.
const PROGRAM: &str = "ansible-playbook";
const PROGRAM_ENV: &str = "FOOTLOOSE_ANSIBLE_PLAYBOOK";

/// A playbook and how to run it: extra vars, limit, tags, check mode,
/// environment. Cheap to clone, so one base can be varied per run.
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
    /// the crate's directory under `cargo test`).
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
        }
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

    /// Runs the playbook against `cluster` and fails, with the recap and
    /// the end of the output, unless it exits 0.
    pub fn run(&self, cluster: &Cluster) -> Result<PlaybookRun> {
        let run = self.run_unchecked(cluster)?;
        if run.success() {
            return Ok(run);
        }
        Err(Error::Playbook {
            playbook: self.path.clone(),
            status: run
                .exit_code
                .map(|c| format!("exit code {c}"))
                .unwrap_or_else(|| "a signal".to_owned()),
            summary: summary(&run.recap),
            output: tail(&format!("{}{}", run.stdout, run.stderr), 25),
        })
    }

    /// Runs the playbook against `cluster` and returns what happened,
    /// whatever its exit code. Fails only when it cannot run at all.
    pub fn run_unchecked(&self, cluster: &Cluster) -> Result<PlaybookRun> {
        let inventory =
            cluster.write_ansible_inventory(super::inventory::inventory_path(cluster.name()))?;
        let program: OsString = match &self.program {
            Some(program) => program.clone().into(),
            None => std::env::var_os(PROGRAM_ENV).unwrap_or_else(|| PROGRAM.into()),
        };
        let mut command = self.command(&program, &inventory);
        tracing::debug!("Running {command:?}");
        let out = command.output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::ToolMissing {
                tool: program.to_string_lossy().into_owned(),
                hint: "install ansible-core: `apt-get install ansible-core`, or `pip install ansible-core` in a virtualenv on PATH".to_owned(),
            },
            _ => Error::io("cannot run", PathBuf::from(&program), e),
        })?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        Ok(PlaybookRun {
            exit_code: out.status.code(),
            recap: parse_recap(&stdout),
            changed_tasks: parse_changed(&stdout),
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs the playbook against `cluster` once more and fails, naming
    /// every task that changed and on which host, unless nothing changed:
    /// the idempotence check, after a first converging run.
    pub fn assert_idempotent(&self, cluster: &Cluster) -> Result<PlaybookRun> {
        let run = self.run(cluster)?;
        if run.changed() == 0 {
            return Ok(run);
        }
        Err(Error::NotIdempotent {
            playbook: self.path.clone(),
            changed: run.changed_tasks.iter().map(ToString::to_string).collect(),
        })
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
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
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

/// The last `lines` lines of `text`, indented for an error message.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
