//! A systemd unit's state, read from `systemctl show`, so that a test can
//! assert on it and say why it is not what it should be.

pub(crate) mod journal;

use std::collections::HashMap;

/// The properties of a unit that tell whether it works, and why not.
///
/// ```no_run
/// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
/// let ssh = machine.unit_status("ssh")?;
/// assert_eq!((ssh.unit.as_str(), ssh.active_state.as_str()), ("ssh.service", "active"));
/// assert_eq!(ssh.sub_state, "running");
/// println!("{ssh}"); // ssh.service: active (running, result success)
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnitStatus {
    /// The unit's full name (`hello.service` when `hello` was asked for).
    pub unit: String,
    /// `loaded`, `not-found`, `masked`, …
    pub load_state: String,
    /// `active`, `inactive`, `failed`, `activating`, …
    pub active_state: String,
    /// The unit type's finer state: `running`, `exited`, `dead`, …
    pub sub_state: String,
    /// How it last ended: `success`, `exit-code`, `signal`, `timeout`, …
    pub result: String,
    /// Its main process, 0 when none.
    pub main_pid: u32,
    /// How often systemd restarted it.
    pub restarts: u32,
}

impl UnitStatus {
    /// The `systemctl show` command line that reads `unit`.
    pub(crate) fn query(unit: &str) -> String {
        format!(
            "systemctl show --property=Id,LoadState,ActiveState,SubState,Result,MainPID,NRestarts -- {}",
            crate::ssh::shell_quote(unit)
        )
    }

    /// Reads `systemctl show`'s `Key=value` lines.
    pub(crate) fn parse(unit: &str, text: &str) -> UnitStatus {
        let values: HashMap<&str, &str> = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .collect();
        let text = |key: &str| values.get(key).copied().unwrap_or_default().to_owned();
        let number = |key: &str| values.get(key).and_then(|v| v.parse().ok()).unwrap_or(0);
        UnitStatus {
            unit: values
                .get("Id")
                .filter(|id| !id.is_empty())
                .copied()
                .unwrap_or(unit)
                .to_owned(),
            load_state: text("LoadState"),
            active_state: text("ActiveState"),
            sub_state: text("SubState"),
            result: text("Result"),
            main_pid: number("MainPID"),
            restarts: number("NRestarts"),
        }
    }

    /// True when the unit is active.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// machine.exec("systemctl start nginx")?.checked()?;
    /// assert!(machine.unit_status("nginx")?.is_active());
    /// # Ok(()) }
    /// ```
    pub fn is_active(&self) -> bool {
        self.active_state == "active"
    }

    /// True when the unit failed.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let unit = machine.unit_status("my-service")?;
    /// if unit.is_failed() {
    ///     eprintln!("{unit}\n{}", machine.journal("my-service", 30)?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn is_failed(&self) -> bool {
        self.active_state == "failed"
    }
}

impl std::fmt::Display for UnitStatus {
    /// `hello.service: failed (failed, result exit-code, 2 restarts)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.load_state != "loaded" && !self.load_state.is_empty() {
            return write!(f, "{}: {}", self.unit, self.load_state);
        }
        write!(
            f,
            "{}: {} ({}, result {}",
            self.unit, self.active_state, self.sub_state, self.result
        )?;
        if self.restarts > 0 {
            write!(f, ", {} restarts", self.restarts)?;
        }
        f.write_str(")")
    }
}

/// The `journalctl` command line for the last `lines` lines of `unit`.
pub(crate) fn journal_query(unit: &str, lines: usize, errors_only: bool) -> String {
    format!(
        "journalctl --no-pager --quiet --output=short-iso --lines={lines}{} --unit={}",
        if errors_only { " --priority=err" } else { "" },
        crate::ssh::shell_quote(unit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_systemctl_show() {
        let status = UnitStatus::parse(
            "hello",
            "Id=hello.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\nResult=exit-code\nMainPID=0\nNRestarts=2\n",
        );
        assert!(status.is_failed() && !status.is_active());
        assert_eq!(status.main_pid, 0);
        assert_eq!(
            status.to_string(),
            "hello.service: failed (failed, result exit-code, 2 restarts)"
        );
        let missing = UnitStatus::parse("nope", "LoadState=not-found\nActiveState=inactive\n");
        assert_eq!(missing.to_string(), "nope: not-found");
    }
}
