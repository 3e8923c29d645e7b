//! A running machine and what can be done with it over ssh.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod error;

pub use crate::backend::PublishedPort;
use crate::error::{Error, Result};
use crate::ssh::{Output, Pool};
use crate::systemd::UnitStatus;
pub use error::{MachineError, Unreachable};

/// How long a command may run before [`Machine::exec`] gives up on it.
pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(600);

/// How long [`Machine::reboot`] waits for the machine to go down and be
/// ready again.
pub const DEFAULT_REBOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// A file in the machine's `/run` (a tmpfs, empty at every boot): there
/// while the boot before a reboot lasts.
const REBOOT_MARKER: &str = "/run/footloose-reboot-pending";

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
