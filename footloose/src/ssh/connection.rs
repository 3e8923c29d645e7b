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
/// How long the machine may fall silent, after sending something that is
/// not the answer, before [`Connection::open_channel`] nudges it.
const QUIET_BEFORE_NUDGE: Duration = Duration::from_millis(3);
/// The keepalive interval libssh2 is configured with (footloose sends
/// keepalives itself only as [`Connection::open_channel`]'s nudge).
const KEEPALIVE_SECONDS: u32 = 15;

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
    /// Whether the one nudge of [`open_channel`](Self::open_channel) is
    /// still to be used.
    nudge_unused: Cell<bool>,
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
        session.set_keepalive(true, KEEPALIVE_SECONDS);
        Ok(Connection {
            session,
            fd,
            machine: target.machine.clone(),
            committed: Cell::new(false),
            nudge_unused: Cell::new(true),
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

    /// Opens a session channel in non-blocking mode, nudging the machine
    /// once if it falls silent before answering.
    ///
    /// ## Why a nudge
    /// After authentication, OpenSSH's sshd before 10.0 writes several small
    /// messages the client does not answer (the `hostkeys-00@openssh.com`
    /// notice, a debug message per key option), then the channel's
    /// confirmation, each as a write of its own on a socket without
    /// `TCP_NODELAY`. Nagle's algorithm holds each of these writes until the
    /// one before is acknowledged, and the peer that received it (this
    /// process, or a port publisher such as `docker-proxy` in between) has
    /// nothing to send, so it acknowledges only when its delayed-ACK timer
    /// fires: 40 ms on Linux, on every first channel of a connection.
    /// Measured on `footloose/debian12` (OpenSSH 9.2) through
    /// `docker-proxy`: the channel took 55-70 ms, 20-25 ms with the nudge.
    ///
    /// The nudge is a keepalive that asks for no reply (sshd ignores it),
    /// sent when the machine has said something that is not the answer and
    /// then been quiet for [`QUIET_BEFORE_NUDGE`]: the data carries an
    /// acknowledgement of everything received over every hop, which lets
    /// sshd send what Nagle held. libssh2 sends at most one keepalive per
    /// interval, so one nudge per connection is all there is, which covers
    /// the first channel, the one that stalls.
    pub(crate) fn open_channel(
        &self,
        deadline: Option<Instant>,
    ) -> std::result::Result<ssh2::Channel, ssh2::Error> {
        let mut heard = false;
        loop {
            match self.session.channel_session() {
                Err(e) if e.code() == ErrorCode::Session(EAGAIN) => {
                    if heard && self.nudge_unused.get() && !self.readable_within(QUIET_BEFORE_NUDGE)
                    {
                        self.nudge();
                    }
                    if !heard || !self.nudge_unused.get() {
                        self.wait(deadline)?;
                    }
                    heard = true;
                }
                other => return other,
            }
        }
    }

    /// Sends the one keepalive [`open_channel`](Self::open_channel) may
    /// send, asking for no reply.
    fn nudge(&self) {
        self.nudge_unused.set(false);
        self.session.set_keepalive(false, KEEPALIVE_SECONDS);
        // A failed send (a full socket buffer) only means no nudge: the
        // wait that follows still ends when the machine answers.
        let _ = self.session.keepalive_send();
        self.session.set_keepalive(true, KEEPALIVE_SECONDS);
    }

    /// Whether the socket has data to read within `quiet`.
    fn readable_within(&self, quiet: Duration) -> bool {
        let mut pollfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, owned by this frame, for the call's length.
        let ready = unsafe { libc::poll(&mut pollfd, 1, quiet.as_millis() as i32) };
        ready > 0
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
