//! Reading what `ansible-playbook` says (its default output callback):
//! the PLAY RECAP per host, and which tasks changed what.

use std::collections::BTreeMap;

/// One host's line of the PLAY RECAP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recap {
    /// Tasks that ran without change.
    pub ok: u32,
    /// Tasks that changed something.
    pub changed: u32,
    /// Whether the host could not be reached (count of attempts).
    pub unreachable: u32,
    /// Tasks that failed.
    pub failed: u32,
    /// Tasks skipped by a condition.
    pub skipped: u32,
    /// Failures rescued by a `rescue:` block.
    pub rescued: u32,
    /// Failures ignored by `ignore_errors`.
    pub ignored: u32,
}

/// A task (or handler) that reported `changed` on a host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChangedTask {
    /// The task's name as Ansible printed it, such as `hello_http : Install the unit`.
    pub task: String,
    /// The inventory host.
    pub host: String,
}

impl std::fmt::Display for ChangedTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.host, self.task)
    }
}

/// The PLAY RECAP of `output`, by host.
pub(crate) fn parse_recap(output: &str) -> BTreeMap<String, Recap> {
    let mut recap = BTreeMap::new();
    let mut in_recap = false;
    for line in output.lines() {
        if line.starts_with("PLAY RECAP") {
            in_recap = true;
            continue;
        }
        if !in_recap {
            continue;
        }
        let Some((host, counts)) = line.split_once(" : ") else {
            continue;
        };
        let mut entry = Recap::default();
        for pair in counts.split_whitespace() {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let Ok(value) = value.parse() else { continue };
            match key {
                "ok" => entry.ok = value,
                "changed" => entry.changed = value,
                "unreachable" => entry.unreachable = value,
                "failed" => entry.failed = value,
                "skipped" => entry.skipped = value,
                "rescued" => entry.rescued = value,
                "ignored" => entry.ignored = value,
                _ => {}
            }
        }
        recap.insert(host.trim().to_owned(), entry);
    }
    recap
}

/// Every task and handler that reported `changed`, with its host, in order.
pub(crate) fn parse_changed(output: &str) -> Vec<ChangedTask> {
    let mut task = String::new();
    let mut changed: Vec<ChangedTask> = Vec::new();
    for line in output.lines() {
        for header in ["TASK [", "RUNNING HANDLER ["] {
            if let Some(rest) = line.strip_prefix(header) {
                if let Some(end) = rest.rfind(']') {
                    task = rest[..end].to_owned();
                }
            }
        }
        let Some(rest) = line.strip_prefix("changed: [") else {
            continue;
        };
        let Some(end) = rest.find(']') else { continue };
        let host = rest[..end]
            .split(" -> ")
            .next()
            .unwrap_or_default()
            .to_owned();
        let entry = ChangedTask {
            task: task.clone(),
            host,
        };
        // A loop reports each item: one task counts once per host.
        if !changed.contains(&entry) {
            changed.push(entry);
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
PLAY [all] *********************************************************************

TASK [Gathering Facts] *********************************************************
ok: [node0]
ok: [node1]

TASK [hello_http : Write the page] *********************************************
changed: [node0] => (item=index.html)
changed: [node0] => (item=about.html)
ok: [node1]

TASK [hello_http : Ask the controller] *****************************************
changed: [node1 -> localhost]

RUNNING HANDLER [hello_http : Restart hello-http] ******************************
changed: [node0]

PLAY RECAP *********************************************************************
node0                      : ok=3    changed=2    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   
node1                      : ok=2    changed=1    unreachable=0    failed=1    skipped=4    rescued=1    ignored=2   
";

    #[test]
    fn reads_the_recap_of_every_host() {
        let recap = parse_recap(OUTPUT);
        assert_eq!(recap.len(), 2);
        assert_eq!(
            recap["node0"],
            Recap {
                ok: 3,
                changed: 2,
                ..Recap::default()
            }
        );
        assert_eq!(
            recap["node1"],
            Recap {
                ok: 2,
                changed: 1,
                unreachable: 0,
                failed: 1,
                skipped: 4,
                rescued: 1,
                ignored: 2
            }
        );
    }

    #[test]
    fn names_the_tasks_that_changed_once_per_host() {
        let changed: Vec<String> = parse_changed(OUTPUT)
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            changed,
            [
                "node0: hello_http : Write the page",
                "node1: hello_http : Ask the controller",
                "node0: hello_http : Restart hello-http",
            ]
        );
    }

    #[test]
    fn no_recap_reads_as_empty() {
        assert!(parse_recap("ERROR! the playbook could not be found").is_empty());
    }
}
