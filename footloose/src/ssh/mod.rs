//! ssh to machines over libssh2: connections with pinned host keys, a small
//! pool of open sessions per machine, command execution and file copy.
//!
//! ssh2 is blocking; footloose calls it from plain threads (the blocking
//! API) or from `spawn_blocking` (the async twins).

mod connection;
mod copy;
mod exec;
mod pool;

pub(crate) use copy::shell_quote;

pub use connection::{Connection, Target};
pub use exec::{ExitStatus, Output};
pub use pool::{Back, Lifeline, Pool};
