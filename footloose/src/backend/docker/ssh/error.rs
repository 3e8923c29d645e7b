//! Why an engine's host could not be reached over ssh.

use std::time::Duration;

/// Why an engine's host could not be reached over ssh.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SshError {
    /// OpenSSH's client could not be run.
    #[error("cannot run ssh (is OpenSSH's client installed?)")]
    NoSsh(#[source] std::io::Error),
    /// A local directory or thread for the connection could not be made.
    #[error("cannot set up the ssh connection here")]
    Local(#[source] std::io::Error),
    /// `ssh -G` refused the destination.
    #[error("ssh cannot read its configuration for {destination}: {message}")]
    Config {
        destination: String,
        message: String,
    },
    /// The host's key is in no known-hosts file.
    #[error("the host key of {destination} is not in {advice}")]
    HostKeyUnknown {
        destination: String,
        /// The files looked in, and what to do.
        advice: String,
    },
    /// The host's key is not the one known for it.
    #[error("the host key of {destination} does not match the one known for it ({offending}): someone may be in the middle, or the host was reinstalled (then `ssh-keygen -R` that entry)")]
    HostKeyChanged {
        destination: String,
        /// ssh's `Offending … key in FILE:LINE`.
        offending: String,
    },
    /// ssh could not log in; its own words.
    #[error("ssh to {destination} failed: {said}")]
    Login { destination: String, said: String },
    /// The login did not finish in time.
    #[error("ssh to {destination} did not log in within {}s", after.as_secs())]
    LoginTimeout {
        destination: String,
        after: Duration,
    },
    /// The master connection would not forward to the engine's socket.
    #[error("ssh did not forward a local socket to the engine's {to}: {said}")]
    Forward {
        to: String,
        /// ssh's own words.
        said: String,
    },
}
