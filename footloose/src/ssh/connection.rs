//! One authenticated ssh connection.

use std::cell::Cell;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ssh2::{ErrorCode, Session};

use crate::error::{Error, Result};
use crate::keys::host_key_matches;
use crate::machine::MachineError;

/// How long connecting, the handshake and authentication may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// libssh2's error code for "would block" in non-blocking mode.
const EAGAIN: i32 = -37;
/// libssh2's "Username/PublicKey combination invalid".
const AUTHENTICATION_FAILED: i32 = -18;
/// libssh2's "the key could not be verified by the server".
const PUBLICKEY_UNVERIFIED: i32 = -19;

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// The container name, for messages.
    pub machine: String,
    /// The address of the machine's sshd.
    pub addr: SocketAddr,
    /// The login user.
    pub user: String,
    /// The private key file.
    pub key_path: PathBuf,
    /// The pinned host public key (OpenSSH line).
    pub host_key: String,
}

/// Waits until the peer sends its first bytes (sshd's banner), without
/// reading them, so that libssh2 starts only when sshd answers. A port
/// publisher (docker-proxy, rootlessport) accepts the connection before sshd
/// listens and then closes it: that ends here, before any key exchange.
fn await_banner(tcp: &TcpStream) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(CONNECT_TIMEOUT))?;
    let mut first = [0u8; 4];
    let peeked = tcp.peek(&mut first);
    tcp.set_read_timeout(None)?;
    match peeked {
        Ok(0) => Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "closed before sshd answered (it is not listening yet)",
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    }
}

/// An authenticated session and the socket under it.
pub struct Connection {
    pub(crate) session: Session,
    fd: RawFd,
    pub(crate) machine: String,
    /// Set once the operation under way has sent something the machine may
    /// act on (a command, file data): from then on, a dropped connection
    /// must not lead to a second try. See [`Pool::with`](super::Pool::with).
    committed: Cell<bool>,
}

impl Connection {
    /// Connects, checks the host key against the pinned one, and
    /// authenticates with the key file.
    pub fn open(target: &Target) -> Result<Connection> {
        Connection::open_within(target, CONNECT_TIMEOUT)
    }

    /// [`open`](Self::open), giving the tcp connection `connect_timeout`
    /// to be accepted (waiting for a booting machine tries often, briefly).
    pub fn open_within(target: &Target, connect_timeout: Duration) -> Result<Connection> {
        let ssh = |action: &str, source: ssh2::Error| {
            Error::Machine(MachineError::Ssh {
                machine: target.machine.clone(),
                action: action.to_owned(),
                error: source.into(),
            })
        };
        let tcp = TcpStream::connect_timeout(&target.addr, connect_timeout).map_err(|error| {
            Error::Machine(MachineError::Ssh {
                machine: target.machine.clone(),
                action: format!("connecting to {}", target.addr),
                error,
            })
        })?;
        tcp.set_nodelay(true).ok();
        await_banner(&tcp).map_err(|error| {
            Error::Machine(MachineError::Ssh {
                machine: target.machine.clone(),
                action: format!("waiting for sshd at {}", target.addr),
                error,
            })
        })?;
        let fd = tcp.as_raw_fd();
        let mut session = Session::new().map_err(|e| ssh("creating a session", e))?;
        session.set_tcp_stream(tcp);
        session.set_timeout(CONNECT_TIMEOUT.as_millis() as u32);
        session.handshake().map_err(|e| ssh("handshaking", e))?;
        let (presented, _) = session.host_key().ok_or_else(|| {
            Error::Machine(MachineError::HostKeyMismatch {
                machine: target.machine.clone(),
            })
        })?;
        if !host_key_matches(presented, &target.host_key) {
            return Err(Error::Machine(MachineError::HostKeyMismatch {
                machine: target.machine.clone(),
            }));
        }
        session
            .userauth_pubkey_file(&target.user, None, &target.key_path, None)
            .map_err(|e| match e.code() {
                ErrorCode::Session(AUTHENTICATION_FAILED | PUBLICKEY_UNVERIFIED) => {
                    Error::Machine(MachineError::KeyRejected {
                        machine: target.machine.clone(),
                        key: target.key_path.clone(),
                    })
                }
                _ => ssh("authenticating", e),
            })?;
        session.set_keepalive(true, 15);
        Ok(Connection {
            session,
            fd,
            machine: target.machine.clone(),
            committed: Cell::new(false),
        })
    }

    /// Marks the operation under way as sent: the machine may act on it, so
    /// it is never tried again on another connection.
    pub(crate) fn commit(&self) {
        self.committed.set(true);
    }

    /// Whether the operation under way has been sent.
    pub(crate) fn committed(&self) -> bool {
        self.committed.get()
    }

    /// Starts a new operation on this connection: nothing sent yet.
    pub(crate) fn begin(&self) {
        self.committed.set(false);
    }

    /// Wraps a libssh2 error with what was being done.
    pub(crate) fn error(&self, action: &str, source: impl Into<std::io::Error>) -> Error {
        Error::Machine(MachineError::Ssh {
            machine: self.machine.clone(),
            action: action.to_owned(),
            error: source.into(),
        })
    }

    /// Runs `op` in non-blocking mode until it stops answering EAGAIN,
    /// waiting on the socket in between. Fails past `deadline`.
    pub(crate) fn retry<T>(
        &self,
        deadline: Option<Instant>,
        mut op: impl FnMut() -> std::result::Result<T, ssh2::Error>,
    ) -> std::result::Result<T, ssh2::Error> {
        loop {
            match op() {
                Err(e) if e.code() == ErrorCode::Session(EAGAIN) => self.wait(deadline)?,
                other => return other,
            }
        }
    }

    /// Waits until the socket is ready in the directions libssh2 is blocked
    /// on, or the deadline passes.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> std::result::Result<(), ssh2::Error> {
        let directions = self.session.block_directions();
        let mut events = 0;
        if matches!(
            directions,
            ssh2::BlockDirections::Inbound | ssh2::BlockDirections::Both
        ) {
            events |= libc::POLLIN;
        }
        if matches!(
            directions,
            ssh2::BlockDirections::Outbound | ssh2::BlockDirections::Both
        ) {
            events |= libc::POLLOUT;
        }
        if events == 0 {
            events = libc::POLLIN;
        }
        let timeout_ms = match deadline {
            None => 1000,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ssh2::Error::new(ErrorCode::Session(-9), "timed out"));
                }
                left.as_millis().min(1000) as i32
            }
        };
        let mut pollfd = libc::pollfd {
            fd: self.fd,
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd, owned by this frame, for the call's length.
        unsafe { libc::poll(&mut pollfd, 1, timeout_ms) };
        Ok(())
    }
}
