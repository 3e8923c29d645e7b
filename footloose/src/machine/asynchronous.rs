//! The async twins of [`Machine`]'s methods: the same ssh work on a worker
//! thread of footloose's runtime.

use std::path::PathBuf;
use std::time::Duration;

use super::Machine;
use crate::error::Result;
use crate::ssh::Output;
use crate::systemd::UnitStatus;

impl Machine {
    /// Async twin of [`reboot`](Self::reboot).
    pub async fn reboot_async(&self) -> Result<()> {
        let machine = self.clone();
        blocking(move || machine.reboot()).await
    }

    /// Async twin of [`exec`](Self::exec).
    ///
    /// ```no_run
    /// # async fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let out = machine.exec_async("uname -r").await?.checked()?;
    /// println!("kernel {}", out.stdout().trim());
    /// # Ok(()) }
    /// ```
    pub async fn exec_async(&self, command: &str) -> Result<Output> {
        let (machine, command) = (self.clone(), command.to_owned());
        blocking(move || machine.exec(&command)).await
    }

    /// Async twin of [`exec_with`](Self::exec_with).
    ///
    /// ```no_run
    /// # async fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// use std::time::Duration;
    ///
    /// let out = machine
    ///     .exec_with_async("wc -l", b"a\nb\n".to_vec(), Duration::from_secs(5))
    ///     .await?;
    /// assert_eq!(out.stdout().trim(), "2");
    /// # Ok(()) }
    /// ```
    pub async fn exec_with_async(
        &self,
        command: &str,
        stdin: Vec<u8>,
        timeout: Duration,
    ) -> Result<Output> {
        let (machine, command) = (self.clone(), command.to_owned());
        blocking(move || machine.exec_with(&command, &stdin, timeout)).await
    }

    /// Async twin of [`copy_to`](Self::copy_to).
    ///
    /// ```no_run
    /// # async fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// machine.copy_to_async("roles/web", "/etc/ansible/roles/web").await?;
    /// # Ok(()) }
    /// ```
    pub async fn copy_to_async(&self, local: impl Into<PathBuf>, remote: &str) -> Result<()> {
        let (machine, local, remote) = (self.clone(), local.into(), remote.to_owned());
        blocking(move || machine.copy_to(&local, &remote)).await
    }

    /// Async twin of [`copy_from`](Self::copy_from).
    ///
    /// ```no_run
    /// # async fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// machine.copy_from_async("/var/log/nginx", "target/nginx-logs").await?;
    /// # Ok(()) }
    /// ```
    pub async fn copy_from_async(&self, remote: &str, local: impl Into<PathBuf>) -> Result<()> {
        let (machine, local, remote) = (self.clone(), local.into(), remote.to_owned());
        blocking(move || machine.copy_from(&remote, &local)).await
    }

    /// Async twin of [`write_file`](Self::write_file).
    ///
    /// ```no_run
    /// # async fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// machine.write_file_async("/etc/motd", b"hello\n".to_vec()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn write_file_async(&self, remote: &str, contents: Vec<u8>) -> Result<()> {
        let (machine, remote) = (self.clone(), remote.to_owned());
        blocking(move || machine.write_file(&remote, &contents)).await
    }

    /// Async twin of [`read_file`](Self::read_file).
    ///
    /// ```no_run
    /// # async fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let motd = machine.read_file_async("/etc/motd").await?;
    /// assert_eq!(motd, b"hello\n");
    /// # Ok(()) }
    /// ```
    pub async fn read_file_async(&self, remote: &str) -> Result<Vec<u8>> {
        let (machine, remote) = (self.clone(), remote.to_owned());
        blocking(move || machine.read_file(&remote)).await
    }

    /// Async twin of [`wait_for_unit`](Self::wait_for_unit).
    ///
    /// ```no_run
    /// # async fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// use std::time::Duration;
    ///
    /// machine.wait_for_unit_async("nginx", Duration::from_secs(30)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_unit_async(&self, unit: &str, timeout: Duration) -> Result<()> {
        let (machine, unit) = (self.clone(), unit.to_owned());
        blocking(move || machine.wait_for_unit(&unit, timeout)).await
    }

    /// Async twin of [`unit_status`](Self::unit_status).
    ///
    /// ```no_run
    /// # async fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let nginx = machine.unit_status_async("nginx").await?;
    /// assert!(nginx.is_active(), "{nginx}");
    /// # Ok(()) }
    /// ```
    pub async fn unit_status_async(&self, unit: &str) -> Result<UnitStatus> {
        let (machine, unit) = (self.clone(), unit.to_owned());
        blocking(move || machine.unit_status(&unit)).await
    }

    /// Async twin of [`journal`](Self::journal).
    ///
    /// ```no_run
    /// # async fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// println!("{}", machine.journal_async("nginx", 20).await?);
    /// # Ok(()) }
    /// ```
    pub async fn journal_async(&self, unit: &str, lines: usize) -> Result<String> {
        let (machine, unit) = (self.clone(), unit.to_owned());
        blocking(move || machine.journal(&unit, lines)).await
    }
}

/// Runs blocking ssh work on a worker thread of footloose's runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    crate::runtime::spawn(async move {
        tokio::task::spawn_blocking(work)
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
    })
    .await
}
