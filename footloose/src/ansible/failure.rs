//! What a failed play says: which host failed which task and why, the
//! end of the output, and the systemd units that are failed on those hosts
//! with their journals, collected over ssh while the machines still run.

use std::path::PathBuf;

use super::error::{FailedUnit, PlaybookFailure};
use crate::Cluster;

/// How many units of one host are reported, at most.
const MAX_UNITS: usize = 5;
/// How many lines of the play's output.
const OUTPUT_LINES: usize = 25;

impl PlaybookFailure {
    /// The report of a run of `playbook` that exited with `exit_code`,
    /// printed `stdout` and, with stderr in the order they came, `output`,
    /// and whose recap says `summary`.
    pub(crate) fn new(
        playbook: PathBuf,
        exit_code: Option<i32>,
        summary: String,
        stdout: &str,
        output: &str,
    ) -> PlaybookFailure {
        let all: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
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
            missing_role: None,
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
        let journal = machine.unit_journal(unit)?;
        units.push(FailedUnit {
            host: machine.hostname().to_owned(),
            unit: unit.to_owned(),
            status: status.trim_end().to_owned(),
            journal: journal.to_string(),
            journal_heading: journal.heading(),
        });
    }
    Ok(units)
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
            stdout,
        );
        failure.units.push(FailedUnit {
            host: "instance0".into(),
            unit: "broken.service".into(),
            status: "x broken.service - Broken\n     Active: failed".into(),
            journal: "Dec 01 broken: the distinctive line".into(),
            journal_heading: "this boot, 6 starts, 47 repeated lines folded".into(),
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
    fatal: [instance0]: FAILED! => {…} (message above)
";
        assert!(text.starts_with(expected), "{text}");
        assert!(
            text.ends_with("\n\n  failed unit broken.service on instance0:\n    x broken.service - Broken\n         Active: failed\n    journal (this boot, 6 starts, 47 repeated lines folded):\n      Dec 01 broken: the distinctive line"),
            "{text}"
        );
        assert_eq!(failure.failed_hosts(), ["instance0"]);
    }
}
