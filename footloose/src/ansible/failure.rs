//! What a failed play says: which host failed which task and why, the
//! end of the output, and the systemd units that are failed on those hosts
//! with their journals, collected over ssh while the machines still run.

use std::fmt;
use std::path::PathBuf;

use super::recap::TaskFailure;
use crate::Cluster;

/// How many units of one host are reported, at most.
const MAX_UNITS: usize = 5;
/// How many journal lines of each failed unit.
const JOURNAL_LINES: usize = 20;
/// How many lines of the play's output.
const OUTPUT_LINES: usize = 25;

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

impl PlaybookFailure {
    /// The report of a run of `playbook` that exited with `exit_code`,
    /// printed `stdout` and `stderr`, and whose recap says `summary`.
    pub(crate) fn new(
        playbook: PathBuf,
        exit_code: Option<i32>,
        summary: String,
        stdout: &str,
        stderr: &str,
    ) -> PlaybookFailure {
        let all: Vec<&str> = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| !l.trim().is_empty())
            .collect();
        PlaybookFailure {
            playbook,
            exit_code,
            summary,
            failures: super::recap::parse_failures(stdout),
            output_tail: all[all.len().saturating_sub(OUTPUT_LINES)..]
                .iter()
                .map(|l| l.to_string())
                .collect(),
            units: Vec::new(),
            unit_errors: Vec::new(),
        }
    }

    /// The hosts that failed a task (not the unreachable ones), each once,
    /// in order.
    fn failed_hosts(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> = Vec::new();
        for failure in self.failures.iter().filter(|f| !f.unreachable) {
            if !hosts.contains(&failure.host.as_str()) {
                hosts.push(&failure.host);
            }
        }
        hosts
    }

    /// Reads the failed units of every failed host from `cluster`'s
    /// machines (inventory hosts are machine hostnames).
    pub(crate) fn collect_units(&mut self, cluster: &Cluster) {
        let hosts: Vec<String> = self.failed_hosts().into_iter().map(str::to_owned).collect();
        for host in hosts {
            let Some(machine) = cluster.get(&host) else {
                continue;
            };
            match failed_units(machine) {
                Ok(units) => self.units.extend(units),
                Err(err) => self.unit_errors.push((host, crate::error::chain(&err))),
            }
        }
    }
}

/// The failed units of `machine`, with their status and journal.
fn failed_units(machine: &crate::Machine) -> crate::Result<Vec<FailedUnit>> {
    let listed = machine
        .exec("systemctl list-units --state=failed --no-legend --plain --full")?
        .checked()?
        .stdout();
    let mut units = Vec::new();
    for unit in listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .take(MAX_UNITS)
    {
        let quoted = crate::ssh::shell_quote(unit);
        // `systemctl status` exits 3 for a failed unit: its text is all we want.
        let status = machine
            .exec(&format!(
                "SYSTEMD_COLORS=0 systemctl status --no-pager --full --lines=0 -- {quoted}"
            ))?
            .stdout();
        let journal = machine.journal(unit, JOURNAL_LINES)?;
        units.push(FailedUnit {
            host: machine.hostname().to_owned(),
            unit: unit.to_owned(),
            status: status.trim_end().to_owned(),
            journal: journal.trim_end().to_owned(),
        });
    }
    Ok(units)
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
            write!(f, "\n    {line}")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_host_task_and_message_first_then_output_and_units() {
        let stdout = "TASK [acme.broken : Start it] ***\nfatal: [instance0]: FAILED! => {\"msg\": \"Unable to start service broken: job failed\\nsee the journal\"}\n\nPLAY RECAP ***\ninstance0 : ok=1 changed=0 unreachable=0 failed=1\n";
        let mut failure = PlaybookFailure::new(
            "converge.yml".into(),
            Some(2),
            "instance0 failed=1 unreachable=0".into(),
            stdout,
            "",
        );
        failure.units.push(FailedUnit {
            host: "instance0".into(),
            unit: "broken.service".into(),
            status: "x broken.service - Broken\n     Active: failed".into(),
            journal: "Dec 01 broken: the distinctive line".into(),
        });
        let text = failure.to_string();
        let expected = "\
ansible-playbook converge.yml failed with exit code 2: instance0 failed=1 unreachable=0

  failed host: instance0
  task: acme.broken : Start it
  message: Unable to start service broken: job failed
           see the journal

  last output:
    TASK [acme.broken : Start it] ***
";
        assert!(text.starts_with(expected), "{text}");
        assert!(
            text.ends_with("\n\n  failed unit broken.service on instance0:\n    x broken.service - Broken\n         Active: failed\n    journal (last 20 lines):\n      Dec 01 broken: the distinctive line"),
            "{text}"
        );
        assert_eq!(failure.failed_hosts(), ["instance0"]);
    }
}
