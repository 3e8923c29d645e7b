//! A unit's journal as a reader wants it after a failure: every line of
//! this boot that says something new, in order, and the lines that only
//! say again what an earlier start said folded into a count. A unit in a
//! restart loop then shows its first failed start whole, where the cause
//! usually is, however often it restarted after.

use std::collections::HashMap;
use std::fmt;

/// How many distinct lines a summary shows, at most: the first ones (where
/// a failure starts) and the last ones (how it ended).
const SHOWN_FIRST: usize = 40;
const SHOWN_LAST: usize = 10;
/// How many journal entries of this boot are read, at most (the newest).
pub(crate) const READ_LINES: usize = 5000;

/// The `journalctl` command line that reads `unit`'s entries of this boot
/// as JSON, one object a line.
pub(crate) fn query(unit: &str) -> String {
    format!(
        "journalctl --no-pager --quiet --boot --output=json --lines={READ_LINES} --unit={}",
        crate::ssh::shell_quote(unit)
    )
}

/// One journal entry, as much of it as a summary prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Microseconds since the epoch.
    pub(crate) time_us: u64,
    /// The program (`SYSLOG_IDENTIFIER`, else `_COMM`).
    pub(crate) identifier: String,
    pub(crate) pid: Option<u32>,
    pub(crate) message: String,
    /// The start of the unit this entry belongs to (`_SYSTEMD_INVOCATION_ID`,
    /// or `INVOCATION_ID` on systemd's own lines about the unit).
    pub(crate) invocation: Option<String>,
}

/// Reads `journalctl --output=json` text: one entry a line; lines that are
/// not JSON objects are left out.
pub(crate) fn parse(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|value| {
            let field = |name: &str| value.get(name).and_then(field_text);
            Some(Entry {
                time_us: field("__REALTIME_TIMESTAMP")?.parse().ok()?,
                identifier: field("SYSLOG_IDENTIFIER")
                    .or_else(|| field("_COMM"))
                    .unwrap_or_else(|| "?".to_owned()),
                pid: field("_PID")
                    .or_else(|| field("SYSLOG_PID"))
                    .and_then(|p| p.parse().ok()),
                message: field("MESSAGE").unwrap_or_default(),
                invocation: field("_SYSTEMD_INVOCATION_ID").or_else(|| field("INVOCATION_ID")),
            })
        })
        .collect()
}

/// A journal field's text: journald writes a string, or an array of bytes
/// for a value that is not UTF-8 text.
fn field_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Array(bytes) => {
            let bytes: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A message with its numbers taken out: two lines that differ only in a
/// counter, a pid or a port say the same thing.
fn shape(entry: &Entry) -> (String, String) {
    let mut shape = String::with_capacity(entry.message.len());
    let mut in_number = false;
    for c in entry.message.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                shape.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            shape.push(c);
        }
    }
    (entry.identifier.clone(), shape)
}

/// A unit's journal of this boot, summarised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// How many times the unit started this boot (0 when the journal does
    /// not say).
    pub(crate) starts: usize,
    /// The lines shown, in order, each with how many later lines said the
    /// same (numbers aside).
    pub(crate) lines: Vec<(Entry, usize)>,
    /// Distinct lines left out between the first and the last ones shown.
    pub(crate) left_out: usize,
    /// Lines folded into the ones shown.
    pub(crate) folded: usize,
}

/// Summarises `entries` (oldest first): the first line of each shape is
/// kept, later ones count as its repeats.
pub(crate) fn summarise(entries: &[Entry]) -> Summary {
    let mut starts: Vec<&str> = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut lines: Vec<(Entry, usize)> = Vec::new();
    let mut folded = 0;
    for entry in entries {
        if let Some(invocation) = &entry.invocation {
            if !starts.contains(&invocation.as_str()) {
                starts.push(invocation);
            }
        }
        match seen.get(&shape(entry)) {
            Some(&at) => {
                lines[at].1 += 1;
                folded += 1;
            }
            None => {
                seen.insert(shape(entry), lines.len());
                lines.push((entry.clone(), 0));
            }
        }
    }
    let mut left_out = 0;
    if lines.len() > SHOWN_FIRST + SHOWN_LAST {
        left_out = lines.len() - SHOWN_FIRST - SHOWN_LAST;
        lines.drain(SHOWN_FIRST..lines.len() - SHOWN_LAST);
    }
    Summary {
        starts: starts.len(),
        lines,
        left_out,
        folded,
    }
}

/// `2026-12-01T19:14:11+0000` (UTC) for microseconds since the epoch.
fn timestamp(time_us: u64) -> String {
    let seconds = time_us / 1_000_000;
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+0000",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

impl Summary {
    /// What the report's heading says of it: `this boot, 6 starts, 30
    /// repeated lines folded`.
    pub(crate) fn heading(&self) -> String {
        let mut parts = vec!["this boot".to_owned()];
        if self.starts > 1 {
            parts.push(format!("{} starts", self.starts));
        }
        if self.folded > 0 {
            parts.push(format!("{} repeated lines folded", self.folded));
        }
        parts.join(", ")
    }
}

impl fmt::Display for Summary {
    /// One line an entry, `TIME IDENTIFIER[PID]: MESSAGE`, with `(N more
    /// like it)` after a line that repeated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (at, (entry, repeats)) in self.lines.iter().enumerate() {
            if at > 0 {
                f.write_str("\n")?;
            }
            if self.left_out > 0 && at == SHOWN_FIRST {
                writeln!(f, "… {} more distinct lines …", self.left_out)?;
            }
            write!(f, "{} {}", timestamp(entry.time_us), entry.identifier)?;
            if let Some(pid) = entry.pid {
                write!(f, "[{pid}]")?;
            }
            write!(f, ": {}", entry.message)?;
            if *repeats > 0 {
                write!(f, "  ({repeats} more like it)")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(second: u64, identifier: &str, invocation: &str, message: &str) -> Entry {
        Entry {
            time_us: 1_764_616_451_000_000 + second * 1_000_000,
            identifier: identifier.to_owned(),
            pid: Some(if identifier == "systemd" {
                1
            } else {
                70 + second as u32
            }),
            message: message.to_owned(),
            invocation: Some(invocation.to_owned()),
        }
    }

    /// A unit that failed on its cause once, then restarted `restarts`
    /// times saying something else each time, as a restart loop does.
    fn restart_loop(restarts: u64) -> Vec<Entry> {
        let mut entries = vec![
            entry(
                0,
                "systemd",
                "a0",
                "Started looping.service - A unit in a restart loop.",
            ),
            entry(
                0,
                "looping",
                "a0",
                "FATAL CONFIG FILE ERROR: 'port 63790000': Bad port number",
            ),
            entry(
                0,
                "systemd",
                "a0",
                "looping.service: Main process exited, code=exited, status=1/FAILURE",
            ),
        ];
        for n in 1..=restarts {
            let id = format!("a{n}");
            let at = n * 2;
            entries.push(entry(
                at,
                "systemd",
                &id,
                &format!("looping.service: Scheduled restart job, restart counter is at {n}."),
            ));
            entries.push(entry(
                at,
                "systemd",
                &id,
                "Started looping.service - A unit in a restart loop.",
            ));
            for noise in 0..8 {
                entries.push(entry(
                    at + 1,
                    "looping",
                    &id,
                    &format!(
                        "pid file /run/looping.pid held by {}: waiting ({noise}/8)",
                        900 + n
                    ),
                ));
            }
            entries.push(entry(
                at + 1,
                "systemd",
                &id,
                "looping.service: Main process exited, code=exited, status=1/FAILURE",
            ));
        }
        entries
    }

    #[test]
    fn a_restart_loop_keeps_its_first_start_and_folds_the_rest() {
        let entries = restart_loop(5);
        // The last 20 lines, as a tail shows them, lost the cause.
        let tail: Vec<&str> = entries[entries.len() - 20..]
            .iter()
            .map(|e| e.message.as_str())
            .collect();
        assert!(!tail.iter().any(|m| m.contains("63790000")), "{tail:?}");

        let summary = summarise(&entries);
        assert_eq!(summary.starts, 6);
        let text = summary.to_string();
        assert!(
            text.contains("looping[70]: FATAL CONFIG FILE ERROR: 'port 63790000': Bad port number"),
            "{text}"
        );
        // Each thing said once, with its count.
        assert_eq!(text.matches("Main process exited").count(), 1, "{text}");
        assert!(
            text.contains("status=1/FAILURE  (5 more like it)"),
            "{text}"
        );
        assert!(
            text.contains("restart counter is at 1.  (4 more like it)"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(text.contains("waiting (0/8)  (39 more like it)"), "{text}");
        assert!(
            text.starts_with("2025-12-01T19:14:11+0000 systemd[1]: Started looping.service"),
            "{text}"
        );
        assert_eq!(
            summary.heading(),
            "this boot, 6 starts, 53 repeated lines folded"
        );
    }

    #[test]
    fn a_long_journal_keeps_its_first_and_last_lines() {
        let entries: Vec<Entry> = (0..100)
            .map(|n| {
                entry(
                    n,
                    "chatty",
                    "x",
                    &format!("line {}", "x".repeat(n as usize)),
                )
            })
            .collect();
        let summary = summarise(&entries);
        let text = summary.to_string();
        assert_eq!(summary.left_out, 50);
        assert_eq!(text.lines().count(), SHOWN_FIRST + SHOWN_LAST + 1, "{text}");
        assert!(text.contains("… 50 more distinct lines …"), "{text}");
        assert!(
            text.ends_with(&format!("line {}", "x".repeat(99))),
            "{text}"
        );
        assert_eq!(summary.heading(), "this boot");
    }

    #[test]
    fn reads_journalctl_json() {
        let text = concat!(
            r#"{"__REALTIME_TIMESTAMP":"1764616451000000","SYSLOG_IDENTIFIER":"systemd","_PID":"1","PRIORITY":"6","MESSAGE":"Started x.service.","INVOCATION_ID":"abc"}"#,
            "\n",
            r#"{"__REALTIME_TIMESTAMP":"1764616452000000","_COMM":"sh","_PID":"75","PRIORITY":"3","MESSAGE":[104,105,255],"_SYSTEMD_INVOCATION_ID":"abc"}"#,
            "\n-- No entries --\n",
        );
        let entries = parse(text);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].identifier, "systemd");
        assert_eq!(entries[0].invocation.as_deref(), Some("abc"));
        assert_eq!(entries[1].identifier, "sh");
        assert_eq!(entries[1].message, "hi\u{fffd}");
        assert_eq!(summarise(&entries).starts, 1);
        assert_eq!(timestamp(0), "1970-01-01T00:00:00+0000");
        assert_eq!(timestamp(951_782_400_000_000), "2000-02-29T00:00:00+0000");
    }
}
