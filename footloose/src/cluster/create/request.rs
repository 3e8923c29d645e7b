//! What `create` is asked to do, resolved from a
//! [`ClusterBuilder`](crate::ClusterBuilder), and where it publishes ports.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use footloose_config::Config;
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::error::Result;
use crate::labels::Lifetime;
use crate::process::Identity;
use crate::Settings;

/// Everything `create` is asked to do, resolved from a
/// [`ClusterBuilder`](crate::ClusterBuilder).
#[derive(Debug, Clone)]
pub(crate) struct CreateRequest {
    /// The config as it is created (network names scoped already).
    pub(crate) config: Config,
    /// Where the config came from: recorded on every machine.
    pub(crate) made_from: String,
    /// Relative bind sources resolve against this directory.
    pub(crate) config_dir: PathBuf,
    /// The client key's private file.
    pub(crate) key_path: PathBuf,
    /// How long the cluster lives.
    pub(crate) lifetime: Lifetime,
    /// The watchdog that removes it if this process dies.
    pub(crate) watchdog: Option<Identity>,
    /// The lease of a test cluster.
    pub(crate) lease: Option<Duration>,
    /// How long machines have to become ready.
    pub(crate) ready_timeout: Duration,
    /// Keep what was made when creation fails.
    pub(crate) keep_on_failure: bool,
    /// Stops creation when cancelled.
    pub(crate) cancel: Option<CancellationToken>,
    /// Where to publish ports whose mapping names no address.
    pub(crate) publish_address: Option<IpAddr>,
    /// How readiness is established (ssh, or assumed by in-memory tests).
    pub(crate) readiness: Readiness,
    /// The pool the cluster is made for, if it is a pooled one.
    pub(crate) pool: Option<String>,
    /// The settings of the builder: the publish address, paths, the
    /// Debian mirror.
    pub(crate) settings: Settings,
}

/// How `create` learns that a started machine is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// systemd reports a finished boot over an authenticated ssh session.
    Ssh,
    /// Taken as ready once running: machines of the in-memory backend
    /// have no sshd.
    #[cfg(test)]
    Assumed,
}

/// Where ports without an address are published on `engine`: the
/// request's address, else `FOOTLOOSE_PUBLISH_ADDRESS`, else the config's,
/// else where the route reaches published ports (`published:ADDRESS`,
/// such as the job network's gateway, which is an address of the engine's
/// host), else the engine's.
pub(super) fn publish_address(request: &CreateRequest, engine: &Engine) -> Result<IpAddr> {
    if let Some(address) = request.publish_address {
        return Ok(address);
    }
    if let Some(address) = request.settings.publish_address.clone()? {
        return Ok(address);
    }
    let configured = request.config.cluster.publish_address.as_deref();
    let reached_at = match engine.route() {
        crate::engine::Route::Published { host } => *host,
        _ => engine.address(),
    };
    Ok(configured
        .and_then(|a| a.parse().ok())
        .unwrap_or(reached_at))
}
