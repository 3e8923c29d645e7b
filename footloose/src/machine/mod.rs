//! A running machine and what can be done with it over ssh.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod asynchronous;
mod error;
mod units;

pub use crate::backend::PublishedPort;
use crate::error::Result;
use crate::ssh::{Output, Pool};
pub use error::{MachineError, Unreachable};

/// How long a command may run before [`Machine::exec`] gives up on it.
pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(600);

/// How long [`Machine::reboot`] waits for the machine to go down and be
/// ready again.
pub const DEFAULT_REBOOT_TIMEOUT: Duration = Duration::from_secs(120);

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
    pub(crate) ports: Vec<PublishedPort>,
    pub(crate) pool: Arc<Pool>,
}

impl Machine {
    /// A machine of the in-memory backend: its pool never connects unless
    /// used.
    #[cfg(test)]
    pub(crate) fn unconnected(
        hostname: &str,
        info: &crate::backend::ContainerInfo,
        host_key: &str,
        key_path: &Path,
    ) -> Machine {
        let target = crate::ssh::Target {
            machine: info.name.clone(),
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 22)),
            user: "root".to_owned(),
            key_path: key_path.to_owned(),
            host_key: host_key.to_owned(),
        };
        Machine {
            hostname: hostname.to_owned(),
            container_name: info.name.clone(),
            ports: info.ports.clone(),
            pool: Arc::new(Pool::new(target, info.ip())),
        }
    }

    /// The machine's hostname, such as `node0`.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// assert_eq!(machine.hostname(), "node0");
    /// # Ok(()) }
    /// ```
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The container's name: `<cluster>-<hostname>`.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// // The cluster's name, then the hostname.
    /// assert!(machine.container_name().ends_with("-node0"));
    /// # Ok(()) }
    /// ```
    pub fn container_name(&self) -> &str {
        &self.container_name
    }

    /// The machine's IP address where this process reaches it: on the
    /// network of the CI job container footloose runs in (see
    /// [`Route`](crate::engine::Route)), else on its first network. Its
    /// services are reached there when published ports are not (in a job
    /// container, the host's loopback is out of reach).
    ///
    /// The engine may give a machine another address when it reboots (on
    /// Docker's default bridge it often does); this is the address of its
    /// current boot as far as this `Machine` has seen it.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// if let Some(ip) = machine.ip() {
    ///     println!("{} is at {ip}", machine.hostname());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn ip(&self) -> Option<IpAddr> {
        self.pool.ip()
    }

    /// Every published port. Ports footloose picked (every port without a
    /// fixed host port, on an engine of this host) stay across reboots; on
    /// a remote engine, or from a job container, the engine picks them at
    /// every start, and this lists those of the first boot.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// for port in machine.ports() {
    ///     println!("{}/{} -> {}:{}", port.guest, port.protocol, port.address, port.host);
    /// }
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let out = machine.exec("systemctl is-system-running")?;
    /// if !out.success() {
    ///     eprintln!("{}: {}", out.status, out.stdout());
    /// }
    /// # Ok(()) }
    /// ```
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
        self.pool.with_within(timeout, |connection| {
            connection.exec(command, stdin, Some(timeout))
        })
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
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// machine.write_file("/etc/nginx/conf.d/app.conf", b"server { listen 8080; }\n")?;
    /// machine.exec("nginx -t")?.checked()?;
    /// # Ok(()) }
    /// ```
    pub fn write_file(&self, remote: &str, contents: &[u8]) -> Result<()> {
        let quoted = crate::ssh::shell_quote(remote);
        self.exec_with(&format!("cat > {quoted}"), contents, DEFAULT_EXEC_TIMEOUT)?
            .checked()
            .map(drop)
    }

    /// Reads the file `remote`.
    ///
    /// ```no_run
    /// # fn demo(machine: &footloose::Machine) -> footloose::Result<()> {
    /// let hostname = machine.read_file("/etc/hostname")?;
    /// assert_eq!(hostname, b"node0\n");
    /// # Ok(()) }
    /// ```
    pub fn read_file(&self, remote: &str) -> Result<Vec<u8>> {
        let quoted = crate::ssh::shell_quote(remote);
        Ok(self.exec(&format!("cat {quoted}"))?.checked()?.stdout)
    }
}
