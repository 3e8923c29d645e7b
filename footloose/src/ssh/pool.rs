//! A few open connections per machine, so that running a command costs a
//! channel, not a handshake.

use std::sync::Mutex;

use super::connection::{Connection, Target};
use crate::error::{Error, Result};

/// Connections kept open per machine. sshd serves up to `MaxSessions`
/// channels per connection; footloose uses one channel per connection at a
/// time and keeps this many idle connections.
const MAX_IDLE: usize = 4;

/// The open connections to one machine.
pub struct Pool {
    target: Target,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// An empty pool for `target`.
    pub fn new(target: Target) -> Pool {
        Pool {
            target,
            idle: Mutex::new(Vec::new()),
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
    /// [`Error::ConnectionLost`]: the command may or may not have run, and
    /// it is never run a second time behind the caller's back.
    pub fn with<T>(&self, op: impl Fn(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        if let Some(connection) = pooled {
            connection.begin();
            match op(&connection) {
                Err(Error::Ssh { .. }) if !connection.committed() => {}
                result => return self.settle(connection, result),
            }
        }
        let connection = Connection::open(&self.target)?;
        connection.begin();
        let result = op(&connection);
        self.settle(connection, result)
    }

    /// Keeps `connection` when it is still good, and names an ssh failure
    /// after the operation was sent for what it is.
    fn settle<T>(&self, connection: Connection, result: Result<T>) -> Result<T> {
        match result {
            Err(Error::Ssh {
                machine,
                action,
                error,
            }) if connection.committed() => Err(Error::ConnectionLost {
                machine,
                action,
                error,
            }),
            Err(error @ Error::Ssh { .. }) => Err(error),
            result => {
                self.put(connection);
                result
            }
        }
    }
}
