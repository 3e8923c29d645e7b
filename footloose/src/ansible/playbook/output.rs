//! What a run of the program printed and what it did: each line of its
//! stdout and stderr handed on as it is printed and collected
//! ([`stream`]), and the [`PlaybookRun`] read from them.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::{Command, Stdio};

use crate::ansible::recap::{ChangedTask, Recap};

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
