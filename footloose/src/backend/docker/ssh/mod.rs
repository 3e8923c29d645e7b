//! An engine on another host, reached as the docker CLI reaches one:
//! through the system's OpenSSH client. One master connection per engine
//! carries the API (a local unix socket forwarded to the engine's) and
//! every machine port footloose forwards, so `~/.ssh/config` applies as
//! `ssh` itself reads it: `Match`, `Include`, `ProxyJump`, `ProxyCommand`,
//! certificates, agents, FIDO keys.
//!
//! Why not bollard's own `ssh` connector: it starts a master connection
//! for every connection its HTTP pool opens (each an ssh handshake and a
//! login: 120 to 200 ms here, and one per concurrent request), runs `docker
//! system dial-stdio` (so it needs the docker CLI on the engine's host:
//! Podman hosts have none) and drops the URL's socket path (Podman's
//! `ssh://…/run/podman/podman.sock`). Nor the `openssh` crate's forwards:
//! its `request_port_forward` runs a backgrounded `ssh -fNT -L` client for
//! each (178 ms here, and a process left behind), where `ssh -O forward`
//! asks the master itself (15 ms).
//!
//! The master runs in the foreground as a child of a thread of its own
//! that waits for it, and dies with this process (`PR_SET_PDEATHSIG`):
//! engines are kept in statics (shared clusters) that are never dropped,
//! and a master that outlived its process would stay logged in to the
//! engine's host for good.

mod config;
mod error;
mod refusal;
mod url;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::backend::seam::HostLink;
pub(crate) use config::SshConfig;
pub(crate) use error::SshError;
pub(crate) use url::{SshUrl, SshUrlError};

/// How long the master may take to log in (a jump host, a slow agent).
const LOGIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How many local ports are tried for one forward: another process may
/// take the free port found before ssh listens on it.
const FORWARD_TRIES: usize = 3;

/// A logged-in master connection to an engine's host.
#[derive(Debug)]
pub(crate) struct SshLink {
    /// Holds the control socket, the API socket and the master's log.
    dir: tempfile::TempDir,
    /// The master's control socket.
    control: PathBuf,
    master: Master,
    /// `user@host:port` as ssh resolved it, `host` as the URL wrote it.
    jump: String,
    /// Local addresses already forwarded, by the address they reach.
    forwards: tokio::sync::Mutex<HashMap<SocketAddr, SocketAddr>>,
}

impl SshLink {
    /// Logs in to the host of `url` with the system's `ssh`, refusing a
    /// host key that is not known, and forwards a local socket to the
    /// engine's.
    pub(crate) async fn open(url: &SshUrl) -> Result<SshLink, SshError> {
        let dir = tempfile::Builder::new()
            .prefix("footloose-engine-")
            .tempdir()
            .map_err(SshError::Local)?;
        let control = dir.path().join("master");
        let log = dir.path().join("log");
        let master = Master::start(url, &control, &log)?;
        // ssh's reading of the configuration, meanwhile: for `ProxyJump`
        // and for what a refusal says.
        let config = SshConfig::read(url).await?;
        let link = SshLink {
            control,
            dir,
            master,
            jump: config.jump(url),
            forwards: Default::default(),
        };
        link.wait_for_login(&log, &config).await?;
        let api = link.api_socket();
        link.request_forward(&format!("{}:{}", api.display(), url.socket))
            .await
            .map_err(|said| SshError::Forward {
                to: url.socket.clone(),
                said,
            })?;
        Ok(link)
    }

    /// Waits until the master's control socket answers, or says why the
    /// master ended.
    async fn wait_for_login(&self, log: &Path, config: &SshConfig) -> Result<(), SshError> {
        let deadline = Instant::now() + LOGIN_TIMEOUT;
        loop {
            if self.master.ended() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                return Err(refusal::interpret(&text, config));
            }
            // ssh listens on the control socket once logged in.
            if self.control.exists() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(SshError::LoginTimeout {
                    destination: config.destination(),
                    after: LOGIN_TIMEOUT,
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Asks the master to forward `spec` (`LISTEN:TARGET`, as `ssh -L`
    /// takes it); ssh's own words when it refuses.
    async fn request_forward(&self, spec: &str) -> Result<(), String> {
        let out = tokio::process::Command::new("ssh")
            .arg("-S")
            .arg(&self.control)
            .args(["-O", "forward", "-L", spec, "engine"])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| format!("cannot run ssh: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    /// The local unix socket that reaches the engine's API.
    pub(crate) fn api_socket(&self) -> PathBuf {
        self.dir.path().join("engine.sock")
    }

    /// The last lines the master logged: why a forward did not connect.
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(3)..].join("; ")
    }
}

#[async_trait]
impl HostLink for SshLink {
    async fn forward(&self, remote: SocketAddr) -> std::io::Result<SocketAddr> {
        let mut forwards = self.forwards.lock().await;
        if let Some(local) = forwards.get(&remote) {
            return Ok(*local);
        }
        let mut said = String::new();
        for _ in 0..FORWARD_TRIES {
            let local = free_local_port()?;
            let target = match remote {
                SocketAddr::V4(v4) => v4.to_string(),
                SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
            };
            match self.request_forward(&format!("{local}:{target}")).await {
                Ok(()) => {
                    forwards.insert(remote, local);
                    return Ok(local);
                }
                Err(e) => said = e,
            }
        }
        Err(std::io::Error::other(format!(
            "ssh did not forward a local port to {remote}: {said}"
        )))
    }

    fn jump(&self) -> String {
        self.jump.clone()
    }
}

/// The `ssh -M` process, waited for by a thread of its own.
#[derive(Debug)]
struct Master {
    pid: u32,
    /// Set by the waiting thread once the process has ended and is reaped.
    ended: Arc<AtomicBool>,
}

impl Master {
    /// Starts `ssh -M` for `url`, logging to `log`; it listens on
    /// `control` once logged in.
    fn start(url: &SshUrl, control: &Path, log: &Path) -> Result<Master, SshError> {
        let mut ssh = Command::new("ssh");
        ssh.arg("-M")
            .arg("-N")
            .arg("-S")
            .arg(control)
            .arg("-E")
            .arg(log)
            .args(["-o", "ControlPersist=no"])
            .args(["-o", "BatchMode=yes"])
            // footloose never trusts an engine's host on first use, whatever
            // the configuration says (see `refusal`).
            .args(["-o", "StrictHostKeyChecking=yes"])
            .args(url.ssh_args())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        die_with_this_process(&mut ssh);
        let ended = Arc::new(AtomicBool::new(false));
        let (started, pid) = mpsc::channel();
        let flag = ended.clone();
        std::thread::Builder::new()
            .name("footloose-ssh-master".into())
            .spawn(move || match ssh.spawn() {
                Ok(mut child) => {
                    let _ = started.send(Ok(child.id()));
                    let _ = child.wait();
                    flag.store(true, Ordering::SeqCst);
                }
                Err(e) => {
                    let _ = started.send(Err(e));
                }
            })
            .map_err(SshError::Local)?;
        let pid = pid
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("the ssh master's thread ended")))
            .map_err(SshError::NoSsh)?;
        Ok(Master { pid, ended })
    }

    /// True once the process has ended.
    fn ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        if !self.ended() {
            // SAFETY: kill(2) of our own child, not yet reaped (so its pid
            // is not reused) as `ended` says.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
            }
        }
    }
}

/// Has the child end when the thread that started it (which lives as long
/// as the child) ends, that is when this process ends.
#[cfg(target_os = "linux")]
fn die_with_this_process(command: &mut Command) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: prctl and getppid are async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_this_process(_command: &mut Command) {}

/// A local port free at this moment.
fn free_local_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()
}
