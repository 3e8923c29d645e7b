//! The report of a failed play, as [`Error::Playbook`](crate::Error::Playbook)
//! carries it: data and how it prints. [`crate::ansible`] reads it from
//! Ansible's output and fills in the failed units.

use std::fmt;
use std::path::PathBuf;

/// How many journal lines of each failed unit the report holds.
pub(crate) const JOURNAL_LINES: usize = 20;

/// A task that failed on a host, as its `fatal: [host]: FAILED! => {...}`
/// (or, in a loop, `failed: [host] (item=...) => {...}`) line says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskFailure {
    /// The inventory host.
    pub host: String,
    /// The task's name as Ansible printed it, such as `acme.redis : Start redis`.
    pub task: String,
    /// The loop item it failed on, for a task with a loop.
    pub item: Option<String>,
    /// Ansible's message (`msg`), with the module's stderr when it has one.
    pub message: String,
    /// True when the host could not be reached (`UNREACHABLE!`).
    pub unreachable: bool,
}

/// A failed `ansible-playbook` run, as [`Error::Playbook`](crate::Error::Playbook)
/// carries it. It prints as a report: each failed task with its host and
/// message first, then the end of the output, then each failed systemd
/// unit of those hosts with its `systemctl status` and its last journal
/// lines.
///
/// ```no_run
/// # fn demo(cluster: &footloose::Cluster) {
/// use footloose::{ansible::Playbook, Error};
///
/// match Playbook::new("converge.yml").run(cluster) {
///     Err(Error::Playbook(failure)) => {
///         let first = &failure.failures[0];
///         eprintln!("{} failed on {}: {}", first.task, first.host, first.message);
///         for unit in &failure.units {
///             eprintln!("{} on {}:\n{}", unit.unit, unit.host, unit.journal);
///         }
///     }
///     other => drop(other),
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlaybookFailure {
    /// The playbook.
    pub playbook: PathBuf,
    /// Its exit code (`None` when a signal ended it).
    pub exit_code: Option<i32>,
    /// The hosts that failed or were unreachable, from the PLAY RECAP.
    pub summary: String,
    /// Every task that failed, by host, in order (ignored ones left out).
    pub failures: Vec<TaskFailure>,
    /// The end of its output (stdout, then stderr).
    pub output_tail: Vec<String>,
    /// The systemd units that are failed on the hosts that failed.
    pub units: Vec<FailedUnit>,
    /// Hosts whose units could not be read, and why.
    pub unit_errors: Vec<(String, String)>,
}

/// A systemd unit that is failed on a host after a failed play.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedUnit {
    /// The inventory host (the machine's hostname).
    pub host: String,
    /// The unit, such as `redis-server.service`.
    pub unit: String,
    /// What `systemctl status` says of it (without its journal lines).
    pub status: String,
    /// Its last journal lines (`journalctl -u UNIT -n 20`).
    pub journal: String,
}

/// A task failure's line without its JSON, which the report gives above
/// (its message unescaped); any other line as it is.
fn shortened(line: &str) -> std::borrow::Cow<'_, str> {
    let failure = line.starts_with("fatal: [") || line.starts_with("failed: [");
    match line.find(" => {") {
        Some(at) if failure => format!("{} => {{…}} (message above)", &line[..at]).into(),
        _ => line.into(),
    }
}

/// `text`, every line indented by `indent`.
fn indented(text: &str, indent: &str) -> String {
    text.lines()
        .map(|l| format!("{indent}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl fmt::Display for PlaybookFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self
            .exit_code
            .map(|c| format!("exit code {c}"))
            .unwrap_or_else(|| "a signal".to_owned());
        write!(
            f,
            "ansible-playbook {} failed with {status}: {}",
            self.playbook.display(),
            self.summary
        )?;
        for failure in &self.failures {
            let verdict = if failure.unreachable {
                "unreachable"
            } else {
                "failed"
            };
            write!(f, "\n\n  {verdict} host: {}", failure.host)?;
            write!(f, "\n  task: {}", failure.task)?;
            if let Some(item) = &failure.item {
                write!(f, "\n  item: {item}")?;
            }
            let mut message = failure.message.lines();
            write!(f, "\n  message: {}", message.next().unwrap_or_default())?;
            for line in message {
                write!(f, "\n           {line}")?;
            }
        }
        write!(f, "\n\n  last output:")?;
        for line in &self.output_tail {
            write!(f, "\n    {}", shortened(line))?;
        }
        for unit in &self.units {
            write!(f, "\n\n  failed unit {} on {}:", unit.unit, unit.host)?;
            write!(f, "\n{}", indented(&unit.status, "    "))?;
            write!(f, "\n    journal (last {JOURNAL_LINES} lines):")?;
            write!(f, "\n{}", indented(&unit.journal, "      "))?;
        }
        for (host, error) in &self.unit_errors {
            write!(
                f,
                "\n\n  the failed units of {host} could not be read: {error}"
            )?;
        }
        Ok(())
    }
}
