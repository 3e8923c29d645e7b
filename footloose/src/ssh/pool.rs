//! A few open connections per machine, so that running a command costs a
//! channel, not a handshake.

use std::net::IpAddr;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use super::connection::{Connection, Target};
use crate::error::{Error, Result};
use crate::machine::MachineError;

/// Connections kept open per machine. sshd serves up to `MaxSessions`
/// channels per connection; footloose uses one channel per connection at a
/// time and keeps this many idle connections.
const MAX_IDLE: usize = 4;

/// What a pool knows of its machine beyond ssh: the engine's view of its
/// boots, so that it can wait through a reboot.
pub trait Lifeline: Send + Sync {
    /// The machine's current boot as the engine knows it (when its
    /// container was last started).
    fn boot(&self) -> Result<Option<String>>;

    /// Waits until the machine runs a boot other than `after` (any boot
    /// when `None`) and is ready, and returns where it is reached now with
    /// a connection to it; fails when it will not come back (powered off,
    /// removed) or not within `within`.
    fn wait_ready(&self, after: Option<&str>, within: Duration) -> Result<Back>;
}

/// A machine ready again after it went down.
pub struct Back {
    /// Where its sshd is reached now.
    pub target: Target,
    /// An open connection to it, if the wait made one.
    pub connection: Option<Connection>,
    /// Its address now: an engine may give a restarted container another.
    pub ip: Option<IpAddr>,
}

/// How long a command waits for a machine that went down under it (a
/// reboot) to be ready again, unless it is given less time.
pub const BACK_WITHIN: Duration = Duration::from_secs(120);

/// The open connections to one machine.
pub struct Pool {
    /// Where the machine is reached; a restart may move its published port.
    target: Mutex<Target>,
    /// The machine's address (see [`Machine::ip`](crate::Machine::ip)).
    ip: Mutex<Option<IpAddr>>,
    idle: Mutex<Vec<Connection>>,
    /// A connection being opened ahead of the first command (see
    /// [`connect_ahead`](Self::connect_ahead)).
    ahead: Mutex<Option<JoinHandle<Result<Connection>>>>,
    lifeline: Option<Box<dyn Lifeline>>,
    /// A connection was lost under a command: the machine may have gone
    /// down (a reboot) and come back elsewhere, so the next connection is
    /// made through the lifeline, which reads where it is now.
    lost: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// An empty pool for `target`, a machine at `ip`.
    pub fn new(target: Target, ip: Option<IpAddr>) -> Pool {
        Pool {
            target: Mutex::new(target),
            ip: Mutex::new(ip),
            idle: Mutex::new(Vec::new()),
            ahead: Mutex::new(None),
            lifeline: None,
            lost: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Waits through `lifeline` whenever a fresh connection cannot be
    /// opened, so that the next command after a reboot runs once the
    /// machine is back.
    pub fn with_lifeline(mut self, lifeline: Box<dyn Lifeline>) -> Pool {
        self.lifeline = Some(lifeline);
        self
    }

    /// The machine's current boot, when the pool has a [`Lifeline`].
    pub fn boot(&self) -> Result<Option<String>> {
        match &self.lifeline {
            Some(lifeline) => lifeline.boot(),
            None => Ok(None),
        }
    }

    /// Waits until the machine runs a boot other than `after` and is
    /// ready; the connections of earlier boots are dropped. Without a
    /// [`Lifeline`] it returns at once.
    pub fn wait_for_boot_after(&self, after: &str, within: Duration) -> Result<()> {
        let Some(lifeline) = &self.lifeline else {
            return Ok(());
        };
        let back = lifeline.wait_ready(Some(after), within)?;
        self.reset(back.target, back.ip, back.connection);
        Ok(())
    }

    /// The machine's address now.
    pub fn ip(&self) -> Option<IpAddr> {
        *self.ip.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reaches the machine at `target` from now on, with `connection` as
    /// the only idle one.
    fn reset(&self, target: Target, ip: Option<IpAddr>, connection: Option<Connection>) {
        *self.target.lock().unwrap_or_else(|e| e.into_inner()) = target;
        *self.ip.lock().unwrap_or_else(|e| e.into_inner()) = ip;
        self.lost.store(false, std::sync::atomic::Ordering::SeqCst);
        // One opened ahead reaches the boot before: it ends on its own.
        drop(self.ahead.lock().unwrap_or_else(|e| e.into_inner()).take());
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.clear();
        idle.extend(connection);
    }

    /// Where the machine is reached now.
    pub fn target(&self) -> Target {
        self.target
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The target, address and one idle connection, for a pool that takes
    /// over.
    pub fn take(&self) -> Back {
        let connection = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let connection = connection.or_else(|| self.ahead_connection());
        Back {
            target: self.target(),
            connection,
            ip: self.ip(),
        }
    }

    /// Starts opening a connection on a thread of its own, for the first
    /// command to use: the handshake, authentication and sshd's login
    /// work (its PAM session) then overlap whatever the caller does
    /// before that command. Only logs in: nothing runs in the machine
    /// until a command does. A connection that fails is dropped, and the
    /// command opens one as it would have.
    pub fn connect_ahead(&self) {
        let target = self.target();
        let handle = std::thread::spawn(move || Connection::open(&target));
        *self.ahead.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
    }

    /// The connection [`connect_ahead`](Self::connect_ahead) opened, once
    /// it is open; `None` when none was started or it failed.
    fn ahead_connection(&self) -> Option<Connection> {
        let handle = self
            .ahead
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()?;
        match handle.join() {
            Ok(Ok(connection)) => Some(connection),
            Ok(Err(err)) => {
                tracing::debug!("The connection opened ahead failed: {err}");
                None
            }
            Err(_) => None,
        }
    }

    /// Adds an already open connection (the one readiness was checked with).
    pub fn put(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }

    /// Runs `op` on an idle connection, or a new one, at most once.
    ///
    /// A pooled connection that fails before `op` sent anything (the
    /// machine restarted, sshd was restarted: the channel cannot be opened)
    /// is dropped and `op` runs on a fresh one. Once `op` has sent its
    /// command or data ([`Connection::commit`]), a dropped connection is
    /// [`MachineError::ConnectionLost`]: the command may or may not have
    /// run, and it is never run a second time behind the caller's back.
    pub fn with<T>(&self, op: impl Fn(&Connection) -> Result<T>) -> Result<T> {
        self.with_within(BACK_WITHIN, op)
    }

    /// [`with`](Self::with), waiting at most `within` for a machine that
    /// went down to be back.
    pub fn with_within<T>(
        &self,
        within: Duration,
        op: impl Fn(&Connection) -> Result<T>,
    ) -> Result<T> {
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let pooled = pooled.or_else(|| self.ahead_connection());
        let mut dropped = false;
        if let Some(connection) = pooled {
            connection.begin();
            match op(&connection) {
                Err(Error::Machine(MachineError::Ssh { .. })) if !connection.committed() => {
                    dropped = true
                }
                result => return self.settle(connection, result),
            }
        }
        let lost = self.lost.swap(false, std::sync::atomic::Ordering::SeqCst);
        let connection = if dropped || lost {
            self.reconnect(within)?
        } else {
            self.open(within)?
        };
        connection.begin();
        let result = op(&connection);
        self.settle(connection, result)
    }

    /// A fresh connection after a pooled one was found dead: the machine may
    /// have rebooted (its address may have changed with it), or sshd was
    /// restarted. With a [`Lifeline`], wait until it is ready and reach it
    /// where it is now; the other idle connections are dead too.
    fn reconnect(&self, within: Duration) -> Result<Connection> {
        let Some(lifeline) = &self.lifeline else {
            return Connection::open(&self.target());
        };
        let back = lifeline.wait_ready(None, within)?;
        self.reset(back.target.clone(), back.ip, None);
        match back.connection {
            Some(connection) => Ok(connection),
            None => Connection::open(&back.target),
        }
    }

    /// A fresh connection. When the machine does not answer, it may be
    /// rebooting: with a [`Lifeline`], wait until it is back (or says why it
    /// will not be), and reach it where it is now.
    fn open(&self, within: Duration) -> Result<Connection> {
        match Connection::open(&self.target()) {
            Err(Error::Machine(MachineError::Ssh { .. })) if self.lifeline.is_some() => {
                self.reconnect(within)
            }
            result => result,
        }
    }

    /// Keeps `connection` when it is still good, and names an ssh failure
    /// after the operation was sent for what it is.
    fn settle<T>(&self, connection: Connection, result: Result<T>) -> Result<T> {
        match result {
            Err(Error::Machine(MachineError::Ssh {
                machine,
                action,
                error,
            })) if connection.committed() => {
                self.lost.store(true, std::sync::atomic::Ordering::SeqCst);
                Err(Error::Machine(MachineError::ConnectionLost {
                    machine,
                    action,
                    error,
                }))
            }
            Err(error @ Error::Machine(MachineError::Ssh { .. })) => Err(error),
            result => {
                self.put(connection);
                result
            }
        }
    }
}
