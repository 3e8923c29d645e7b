//! Running a command in a machine.

use std::fmt;
use std::io::Read;
use std::time::{Duration, Instant};

use super::connection::Connection;
use crate::error::{Error, Result};
use crate::machine::MachineError;

/// How a remote command ended.
///
/// ```no_run
/// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
/// use std::time::Duration;
///
/// use footloose::ExitStatus;
///
/// let out = machine.exec_with("sleep 60", b"", Duration::from_secs(1))?;
/// assert_eq!(out.status, ExitStatus::TimedOut);
/// assert_eq!(machine.exec("exit 4")?.status, ExitStatus::Code(4));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal (such as `KILL`).
    Signal(String),
    /// It was still running when the timeout passed, and was abandoned.
    TimedOut,
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(code) => write!(f, "exit code {code}"),
            ExitStatus::Signal(signal) => write!(f, "signal {signal}"),
            ExitStatus::TimedOut => write!(f, "a timeout"),
        }
    }
}

/// What a command run in a machine did.
///
/// ```no_run
/// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
/// let out = machine.exec("ls /nonexistent")?;
/// assert!(!out.success());
/// assert_eq!(out.exit_code(), Some(2));
/// assert!(out.stderr().contains("No such file"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Output {
    /// The container the command ran in.
    pub machine: String,
    /// The command line.
    pub command: String,
    /// How it ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

impl Output {
    /// True when it exited with code 0.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// assert!(machine.exec("true")?.success());
    /// assert!(!machine.exec("false")?.success());
    /// # Ok(()) }
    /// ```
    pub fn success(&self) -> bool {
        self.status == ExitStatus::Code(0)
    }

    /// The exit code, `None` when it was killed by a signal or timed out.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// assert_eq!(machine.exec("exit 3")?.exit_code(), Some(3));
    /// # Ok(()) }
    /// ```
    pub fn exit_code(&self) -> Option<i32> {
        match self.status {
            ExitStatus::Code(code) => Some(code),
            _ => None,
        }
    }

    /// The signal that killed it, if one did.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// assert_eq!(machine.exec("kill -KILL $$")?.signal(), Some("KILL"));
    /// # Ok(()) }
    /// ```
    pub fn signal(&self) -> Option<&str> {
        match &self.status {
            ExitStatus::Signal(signal) => Some(signal),
            _ => None,
        }
    }

    /// stdout as text (invalid UTF-8 replaced).
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// assert_eq!(machine.exec("echo hello")?.stdout(), "hello\n");
    /// # Ok(()) }
    /// ```
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (invalid UTF-8 replaced).
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// assert_eq!(machine.exec("echo oops >&2")?.stderr(), "oops\n");
    /// # Ok(()) }
    /// ```
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// `Ok(self)` when it succeeded, else a [`MachineError::Command`]
    /// carrying the command, its status and its stderr.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// // `?` turns a failed command into an error naming command, status and stderr.
    /// let version = machine.exec("python3 --version")?.checked()?.stdout();
    /// # let _ = version;
    /// # Ok(()) }
    /// ```
    pub fn checked(self) -> Result<Output> {
        if self.success() {
            Ok(self)
        } else {
            Err(Error::Machine(MachineError::Command {
                machine: self.machine.clone(),
                command: self.command.clone(),
                status: self.status.to_string(),
                stderr: self.stderr().trim_end().to_owned(),
            }))
        }
    }
}

impl Connection {
    /// Runs `command` with the login shell, optionally feeding `stdin`,
    /// and collects its output; stdout and stderr are drained together so
    /// that neither can stall the other.
    pub fn exec(&self, command: &str, stdin: &[u8], timeout: Option<Duration>) -> Result<Output> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.session.set_blocking(false);
        let result = self.exec_nonblocking(command, stdin, deadline);
        self.session.set_blocking(true);
        result
    }

    fn exec_nonblocking(
        &self,
        command: &str,
        stdin: &[u8],
        deadline: Option<Instant>,
    ) -> Result<Output> {
        let mut channel = self
            .open_channel(deadline)
            .map_err(|e| self.error("opening a channel", e))?;
        // The machine answered the channel: the connection is alive, and
        // what follows may start the command.
        self.commit();
        self.retry(deadline, || channel.exec(command))
            .map_err(|e| self.error("starting the command", e))?;
        let mut written = 0;
        while written < stdin.len() {
            match std::io::Write::write(&mut channel, &stdin[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self
                    .wait(deadline)
                    .map_err(|e| self.error("writing stdin", e))?,
                Err(e) => return Err(self.error("writing stdin", e)),
            }
        }
        self.retry(deadline, || channel.send_eof())
            .map_err(|e| self.error("closing stdin", e))?;

        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let mut progressed = false;
            for (stream_id, sink) in [(0, &mut stdout), (1, &mut stderr)] {
                match channel.stream(stream_id).read(&mut buffer) {
                    Ok(0) => {}
                    Ok(n) => {
                        sink.extend_from_slice(&buffer[..n]);
                        progressed = true;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(self.error("reading output", e)),
                }
            }
            if channel.eof() && !progressed {
                break;
            }
            if !progressed {
                if let Err(e) = self.wait(deadline) {
                    let _ = channel.close();
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(Output {
                            machine: self.machine.clone(),
                            command: command.to_owned(),
                            status: ExitStatus::TimedOut,
                            stdout,
                            stderr,
                        });
                    }
                    return Err(self.error("waiting for output", e));
                }
            }
        }
        self.retry(deadline, || channel.wait_close())
            .map_err(|e| self.error("closing the channel", e))?;
        let signal = channel
            .exit_signal()
            .ok()
            .and_then(|s| s.exit_signal)
            .filter(|s| !s.is_empty());
        let status = match signal {
            Some(signal) => ExitStatus::Signal(signal),
            None => ExitStatus::Code(
                channel
                    .exit_status()
                    .map_err(|e| self.error("reading the exit status", e))?,
            ),
        };
        Ok(Output {
            machine: self.machine.clone(),
            command: command.to_owned(),
            status,
            stdout,
            stderr,
        })
    }
}
