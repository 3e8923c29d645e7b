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

    /// Runs `op` on an idle connection, or a new one. A pooled connection
    /// that fails at the ssh level (the machine restarted, say) is dropped
    /// and `op` is tried once more on a fresh one.
    pub fn with<T>(&self, op: impl Fn(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        if let Some(connection) = pooled {
            match op(&connection) {
                Err(Error::Ssh { .. }) => {}
                result => {
                    self.put(connection);
                    return result;
                }
            }
        }
        let connection = Connection::open(&self.target)?;
        let result = op(&connection);
        if !matches!(result, Err(Error::Ssh { .. })) {
            self.put(connection);
        }
        result
    }
}
