//! A running machine and what can be done with it over ssh.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::ssh::{Output, Pool};

/// How long a command may run before [`Machine::exec`] gives up on it.
pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(600);

/// A published port of a machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedPort {
    /// The port inside the machine.
    pub guest: u16,
    /// The port on the host.
    pub host: u16,
    /// The host address it is bound to.
    pub address: String,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// One machine of a [`Cluster`](crate::Cluster): a container running
/// systemd and sshd, reached over a pooled ssh connection.
///
/// ```no_run
/// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
/// let node = cluster.machine("node0");
/// let out = node.exec("hostname")?;
/// assert_eq!(out.stdout().trim(), "node0");
/// node.write_file("/etc/motd", b"hello\n")?;
/// assert_eq!(node.read_file("/etc/motd")?, b"hello\n");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Machine {
    pub(crate) hostname: String,
    pub(crate) container_name: String,
    pub(crate) ip: Option<IpAddr>,
    pub(crate) ports: Vec<PublishedPort>,
    pub(crate) pool: Arc<Pool>,
}

impl Machine {
    /// The machine's hostname, such as `node0`.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The container's name: `<cluster>-<hostname>`.
    pub fn container_name(&self) -> &str {
        &self.container_name
    }

    /// The machine's IP address on its first network.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    /// Every published port.
    pub fn ports(&self) -> &[PublishedPort] {
        &self.ports
    }

    /// The host port that `container_port` (TCP) is published on.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let port = machine.host_port(8080).expect("8080 is published");
    /// let url = format!("http://127.0.0.1:{port}/");
    /// # let _ = url;
    /// # Ok(()) }
    /// ```
    pub fn host_port(&self, container_port: u16) -> Option<u16> {
        self.ports
            .iter()
            .find(|p| p.guest == container_port && p.protocol == "tcp")
            .map(|p| p.host)
    }

    /// Runs `command` with the machine's shell as root. A non-zero exit is
    /// not an error here: look at [`Output::success`] or call
    /// [`Output::checked`].
    pub fn exec(&self, command: &str) -> Result<Output> {
        self.exec_with(command, &[], DEFAULT_EXEC_TIMEOUT)
    }

    /// Runs `command`, feeding it `stdin`, giving up after `timeout`.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// use std::time::Duration;
    ///
    /// let out = machine.exec_with("sort", b"b\na\n", Duration::from_secs(5))?;
    /// assert_eq!(out.stdout(), "a\nb\n");
    /// # Ok(()) }
    /// ```
    pub fn exec_with(&self, command: &str, stdin: &[u8], timeout: Duration) -> Result<Output> {
        self.pool
            .with(|connection| connection.exec(command, stdin, Some(timeout)))
    }

    /// Copies a local file or directory into the machine (permissions kept).
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// machine.copy_to("roles/web", "/etc/ansible/roles/web")?;
    /// machine.copy_to("target/release/agent", "/usr/local/bin/agent")?;
    /// # Ok(()) }
    /// ```
    pub fn copy_to(&self, local: impl AsRef<Path>, remote: &str) -> Result<()> {
        let local = local.as_ref();
        self.pool
            .with(|connection| connection.copy_to(local, remote))
    }

    /// Copies a file or directory out of the machine (permissions kept).
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// machine.copy_from("/var/log/journal", "target/journal")?;
    /// # Ok(()) }
    /// ```
    pub fn copy_from(&self, remote: &str, local: impl AsRef<Path>) -> Result<()> {
        let local = local.as_ref();
        self.pool
            .with(|connection| connection.copy_from(remote, local))
    }

    /// Writes `contents` to the file `remote`, creating or replacing it.
    pub fn write_file(&self, remote: &str, contents: &[u8]) -> Result<()> {
        let quoted = crate::ssh::shell_quote(remote);
        self.exec_with(&format!("cat > {quoted}"), contents, DEFAULT_EXEC_TIMEOUT)?
            .checked()
            .map(drop)
    }

    /// Reads the file `remote`.
    pub fn read_file(&self, remote: &str) -> Result<Vec<u8>> {
        let quoted = crate::ssh::shell_quote(remote);
        Ok(self.exec(&format!("cat {quoted}"))?.checked()?.stdout)
    }

    /// Waits until the systemd unit `unit` is active; fails with its status
    /// when it becomes `failed` or `timeout` passes.
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
        let quoted = crate::ssh::shell_quote(unit);
        loop {
            let state = self
                .exec(&format!("systemctl is-active {quoted}"))?
                .stdout();
            match state.trim() {
                "active" => return Ok(()),
                "failed" => break,
                _ if Instant::now() >= deadline => break,
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
        let status = self
            .exec(&format!("systemctl status --no-pager --lines=10 {quoted}"))?
            .stdout();
        Err(Error::Invalid(format!(
            "unit {unit} on {} did not become active within {}s:\n{status}",
            self.container_name,
            timeout.as_secs()
        )))
    }

    /// Async twin of [`exec`](Self::exec).
    pub async fn exec_async(&self, command: &str) -> Result<Output> {
        let (machine, command) = (self.clone(), command.to_owned());
        blocking(move || machine.exec(&command)).await
    }

    /// Async twin of [`exec_with`](Self::exec_with).
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
    pub async fn copy_to_async(&self, local: impl Into<PathBuf>, remote: &str) -> Result<()> {
        let (machine, local, remote) = (self.clone(), local.into(), remote.to_owned());
        blocking(move || machine.copy_to(&local, &remote)).await
    }

    /// Async twin of [`copy_from`](Self::copy_from).
    pub async fn copy_from_async(&self, remote: &str, local: impl Into<PathBuf>) -> Result<()> {
        let (machine, local, remote) = (self.clone(), local.into(), remote.to_owned());
        blocking(move || machine.copy_from(&remote, &local)).await
    }

    /// Async twin of [`write_file`](Self::write_file).
    pub async fn write_file_async(&self, remote: &str, contents: Vec<u8>) -> Result<()> {
        let (machine, remote) = (self.clone(), remote.to_owned());
        blocking(move || machine.write_file(&remote, &contents)).await
    }

    /// Async twin of [`read_file`](Self::read_file).
    pub async fn read_file_async(&self, remote: &str) -> Result<Vec<u8>> {
        let (machine, remote) = (self.clone(), remote.to_owned());
        blocking(move || machine.read_file(&remote)).await
    }

    /// Async twin of [`wait_for_unit`](Self::wait_for_unit).
    pub async fn wait_for_unit_async(&self, unit: &str, timeout: Duration) -> Result<()> {
        let (machine, unit) = (self.clone(), unit.to_owned());
        blocking(move || machine.wait_for_unit(&unit, timeout)).await
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
