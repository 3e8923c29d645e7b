//! Reading what `ansible-playbook` says (its default output callback):
//! the PLAY RECAP per host, which tasks changed what, and which failed
//! where and why.

use std::collections::BTreeMap;

use super::error::TaskFailure;

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

/// The task or handler a `TASK [NAME] ***` or `RUNNING HANDLER [NAME] ***`
/// line starts.
fn task_header(line: &str) -> Option<&str> {
    ["TASK [", "RUNNING HANDLER ["].iter().find_map(|header| {
        let rest = line.strip_prefix(header)?;
        Some(&rest[..rest.rfind(']')?])
    })
}

/// The roles whose tasks ran, by the name the play called each (the
/// `ROLE` of `TASK [ROLE : task]`), each once, in order.
pub(crate) fn roles_that_ran(output: &str) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for line in output.lines() {
        let Some((role, _)) = task_header(line).and_then(|t| t.split_once(" : ")) else {
            continue;
        };
        if !roles.iter().any(|r| r == role) {
            roles.push(role.to_owned());
        }
    }
    roles
}

/// Every task and handler that reported `changed`, with its host, in order.
pub(crate) fn parse_changed(output: &str) -> Vec<ChangedTask> {
    let mut task = String::new();
    let mut changed: Vec<ChangedTask> = Vec::new();
    for line in output.lines() {
        if let Some(name) = task_header(line) {
            task = name.to_owned();
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

/// Every task failure in `output`, in order, leaving out those that
/// `ignore_errors` ignored (a `...ignoring` line follows them).
pub(crate) fn parse_failures(output: &str) -> Vec<TaskFailure> {
    let mut task = String::new();
    let mut failures: Vec<TaskFailure> = Vec::new();
    for line in output.lines() {
        if let Some(name) = task_header(line) {
            task = name.to_owned();
        }
        if line.trim() == "...ignoring" {
            failures.pop();
            continue;
        }
        if let Some(failure) = parse_failure_line(line, &task) {
            failures.push(failure);
        }
    }
    failures
}

/// One `fatal: [host]: FAILED! => {...}`, `fatal: [host]: UNREACHABLE! =>
/// {...}` or `failed: [host] (item=x) => {...}` line.
fn parse_failure_line(line: &str, task: &str) -> Option<TaskFailure> {
    let (rest, looped) = if let Some(rest) = line.strip_prefix("fatal: [") {
        (rest, false)
    } else {
        (line.strip_prefix("failed: [")?, true)
    };
    let end = rest.find(']')?;
    let host = rest[..end].split(" -> ").next()?.trim().to_owned();
    let rest = &rest[end + 1..];
    let (head, json) = rest.split_once("=> ").unwrap_or((rest, ""));
    let unreachable = head.contains("UNREACHABLE!");
    if !looped && !unreachable && !head.contains("FAILED!") {
        return None;
    }
    let value: Option<serde_json::Value> = serde_json::from_str(json.trim()).ok();
    let text = |key: &str| -> Option<String> {
        let v = value.as_ref()?.get(key)?;
        let s = match v {
            serde_json::Value::String(s) => s.trim_end().to_owned(),
            serde_json::Value::Null => return None,
            other => other.to_string(),
        };
        (!s.is_empty()).then_some(s)
    };
    let item = if looped {
        text("item").or_else(|| {
            let start = head.find("(item=")? + "(item=".len();
            let stop = head.rfind(')')?;
            (stop > start).then(|| head[start..stop].to_owned())
        })
    } else {
        None
    };
    let mut message = text("msg")
        .or_else(|| text("reason"))
        .unwrap_or_else(|| json.trim().to_owned());
    for key in ["stderr", "module_stderr", "stdout"] {
        if let Some(output) = text(key) {
            if !message.contains(&output) {
                // Its end: where a failing command says why.
                let lines: Vec<&str> = output.lines().collect();
                let end = lines[lines.len().saturating_sub(10)..].join("\n");
                message.push_str(&format!("\n{key}: {end}"));
            }
        }
    }
    Some(TaskFailure {
        host,
        task: task.to_owned(),
        item,
        message,
        unreachable,
    })
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

    const FAILED: &str = r#"
TASK [acme.broken : Install the unit] ******************************************
changed: [instance0]

TASK [acme.broken : Try something] *********************************************
fatal: [instance0]: FAILED! => {"changed": false, "msg": "first"}
...ignoring

TASK [acme.broken : Start the unit] ********************************************
fatal: [instance0]: FAILED! => {"changed": false, "msg": "Unable to start service broken: Job for broken.service failed.\nSee \"systemctl status broken.service\" for details.\n"}
fatal: [instance1 -> localhost]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: refused", "unreachable": true}

TASK [Write the files] *********************************************************
failed: [web0] (item=/etc/a) => {"ansible_loop_var": "item", "changed": false, "item": "/etc/a", "msg": "Destination directory /etc does not exist"}
ok: [web0] => (item=/etc/b)

TASK [Run it] ******************************************************************
fatal: [db0]: FAILED! => {"changed": true, "cmd": ["false"], "msg": "non-zero return code", "rc": 1, "stderr": "no such file", "stdout": ""}
"#;

    #[test]
    fn reads_the_host_task_and_message_of_every_failure() {
        let failures = parse_failures(FAILED);
        let summary: Vec<(&str, &str, bool)> = failures
            .iter()
            .map(|f| (f.host.as_str(), f.task.as_str(), f.unreachable))
            .collect();
        assert_eq!(
            summary,
            [
                ("instance0", "acme.broken : Start the unit", false),
                ("instance1", "acme.broken : Start the unit", true),
                ("web0", "Write the files", false),
                ("db0", "Run it", false),
            ]
        );
        assert_eq!(
            failures[0].message,
            "Unable to start service broken: Job for broken.service failed.\nSee \"systemctl status broken.service\" for details."
        );
        assert_eq!(
            failures[1].message,
            "Failed to connect to the host via ssh: refused"
        );
        assert_eq!(failures[2].item.as_deref(), Some("/etc/a"));
        assert_eq!(
            failures[2].message,
            "Destination directory /etc does not exist"
        );
        assert_eq!(
            failures[3].message,
            "non-zero return code\nstderr: no such file"
        );
    }

    #[test]
    fn a_failure_line_that_is_not_json_keeps_its_text() {
        let failures = parse_failures("TASK [x] ***\nfatal: [n0]: FAILED! => odd text\n");
        assert_eq!(failures[0].message, "odd text");
        assert!(parse_failures(OUTPUT).is_empty());
    }
}
