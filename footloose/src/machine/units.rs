//! A machine's systemd: units, their journal, rebooting.

use std::time::{Duration, Instant};

use super::error::MachineError;
use super::{Machine, DEFAULT_REBOOT_TIMEOUT};
use crate::error::{Error, Result};
use crate::systemd::UnitStatus;

/// A file in the machine's `/run` (a tmpfs, empty at every boot): there
/// while the boot before a reboot lasts.
const REBOOT_MARKER: &str = "/run/footloose-reboot-pending";

impl Machine {
    /// Waits until the systemd unit `unit` is active; fails when it becomes
    /// `failed` or `timeout` passes, with its state and its journal summary.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// use std::time::Duration;
    ///
    /// machine.exec("systemctl start nginx")?.checked()?;
    /// machine.wait_for_unit("nginx", Duration::from_secs(30))?;
    /// # Ok(()) }
    /// ```
    pub fn wait_for_unit(&self, unit: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.unit_status(unit)?;
            if status.is_active() {
                return Ok(());
            }
            if status.is_failed() || Instant::now() >= deadline {
                return Err(Error::Machine(MachineError::UnitNotActive {
                    machine: self.container_name.clone(),
                    status: status.to_string(),
                    waited: timeout,
                    journal: indent(&self.journal_summary(unit)?),
                }));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The state of the systemd unit `unit` (`systemctl show`).
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let nginx = machine.unit_status("nginx")?;
    /// assert!(nginx.is_active(), "{nginx}\n{}", machine.journal("nginx", 20)?);
    /// # Ok(()) }
    /// ```
    pub fn unit_status(&self, unit: &str) -> Result<UnitStatus> {
        let out = self.exec(&UnitStatus::query(unit))?.checked()?;
        Ok(UnitStatus::parse(unit, &out.stdout()))
    }

    /// The last `lines` lines of `unit`'s journal (`journalctl -u`), with
    /// ISO timestamps: what to print when an assertion on it fails.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let log = machine.journal("ssh", 20)?;
    /// assert!(log.contains("Server listening"), "{log}");
    /// # Ok(()) }
    /// ```
    pub fn journal(&self, unit: &str, lines: usize) -> Result<String> {
        let out = self
            .exec(&crate::systemd::journal_query(unit, lines, false))?
            .checked()?;
        Ok(out.stdout())
    }

    /// `unit`'s journal of this boot as a reader wants it after a failure:
    /// every line that says something new, in order, and the lines that
    /// only repeat an earlier one (numbers aside: a restart counter, a pid)
    /// folded into `(N more like it)`. A unit in a restart loop shows its
    /// first failed start whole, where the cause usually is, however often
    /// it restarted after; a long journal keeps its first 40 and last 10
    /// distinct lines. The first line says how many times the unit started.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let redis = machine.unit_status("redis-server")?;
    /// assert!(redis.is_active(), "{redis}\n{}", machine.journal_summary("redis-server")?);
    /// # Ok(()) }
    /// ```
    pub fn journal_summary(&self, unit: &str) -> Result<String> {
        let summary = self.unit_journal(unit)?;
        Ok(format!("journal ({}):\n{summary}", summary.heading()))
    }

    /// `unit`'s journal of this boot, summarised.
    pub(crate) fn unit_journal(&self, unit: &str) -> Result<crate::systemd::journal::Summary> {
        use crate::systemd::journal;
        let out = self.exec(&journal::query(unit))?.checked()?;
        Ok(journal::summarise(&journal::parse(&out.stdout())))
    }

    /// The messages of priority `err` or worse in `unit`'s journal, at most
    /// `lines` of them: empty for a unit that logged no error.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let errors = machine.journal_errors("nginx", 50)?;
    /// assert!(errors.is_empty(), "nginx logged errors:\n{errors}");
    /// # Ok(()) }
    /// ```
    pub fn journal_errors(&self, unit: &str, lines: usize) -> Result<String> {
        let out = self
            .exec(&crate::systemd::journal_query(unit, lines, true))?
            .checked()?;
        Ok(out.stdout())
    }

    /// Reboots the machine as a VM reboots, and returns once it is ready
    /// again (systemd finished booting, ssh answers): its disk, hostname
    /// and address are kept. Fails after [`DEFAULT_REBOOT_TIMEOUT`].
    ///
    /// A reboot started any other way (`systemctl reboot` in a command, a
    /// role, Ansible's `reboot` module) brings the machine back too: a
    /// command sent once the old boot is gone waits until the new one is
    /// ready, one sent while the machine goes down may be cut off
    /// ([`MachineError::ConnectionLost`]). A poweroff leaves the machine
    /// stopped, and the next command says so ([`MachineError::NotRunning`]).
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// machine.write_file("/etc/sysctl.d/90-test.conf", b"vm.swappiness = 10\n")?;
    /// machine.reboot()?;
    /// let value = machine.exec("sysctl -n vm.swappiness")?.checked()?.stdout();
    /// # let _ = value;
    /// # Ok(()) }
    /// ```
    pub fn reboot(&self) -> Result<()> {
        self.reboot_within(DEFAULT_REBOOT_TIMEOUT)
    }

    /// [`reboot`](Self::reboot), waiting at most `timeout`.
    pub fn reboot_within(&self, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        let boot = self.pool.boot()?;
        self.exec(&format!("touch {REBOOT_MARKER}"))?.checked()?;
        match self.exec_with("systemctl reboot", &[], timeout) {
            // The reboot may end systemctl's session before it exits.
            Ok(out) if out.signal().is_some() => {}
            Ok(out) => drop(out.checked()?),
            // The reboot took the connection down before systemctl answered.
            Err(Error::Machine(MachineError::ConnectionLost { .. })) => {}
            Err(err) => return Err(err),
        }
        if let Some(boot) = boot {
            // The engine tells when the container was started again.
            let left = timeout.saturating_sub(started.elapsed());
            self.pool
                .wait_for_boot_after(&boot, left)
                .map_err(|err| match err {
                    Error::Machine(MachineError::NotReady { .. }) => {
                        Error::Machine(MachineError::RebootTimeout {
                            machine: self.container_name.clone(),
                            waited: timeout,
                        })
                    }
                    err => err,
                })?;
        }
        // Until the marker is gone, the old boot still answers; once the
        // connection drops, the next command waits for the new boot.
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(Error::Machine(MachineError::RebootTimeout {
                    machine: self.container_name.clone(),
                    waited: timeout,
                }));
            }
            match self.exec_with(&format!("test -e {REBOOT_MARKER}"), &[], left) {
                Ok(out) if out.exit_code() == Some(1) => return Ok(()),
                Ok(_) => std::thread::sleep(Duration::from_millis(100)),
                Err(Error::Machine(MachineError::ConnectionLost { .. })) => {}
                Err(err) => return Err(err),
            }
        }
    }
}

/// `text` indented for an error message.
fn indent(text: &str) -> String {
    if text.trim().is_empty() {
        return "    (nothing)".to_owned();
    }
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
