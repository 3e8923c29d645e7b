//! The OpenSSH `known_hosts` file of a cluster: one line per machine with
//! its pinned host key, filed under the container name (used as ssh's
//! `HostKeyAlias`, so that ports and addresses may change).

use std::path::{Path, PathBuf};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::{MachineStatus, Settings};

/// Writes the `known_hosts` of `cluster`'s `machines` into the cluster's
/// state directory (where `settings` put it) and returns its path.
pub(crate) fn write_known_hosts(
    settings: &Settings,
    cluster: &str,
    machines: &[MachineStatus],
) -> Result<PathBuf> {
    let dir = settings.state_dir(cluster);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
    let path = dir.join("known_hosts");
    let text: String = machines
        .iter()
        .filter_map(|m| {
            Some(format!(
                "{} {}\n",
                m.container,
                m.record.host_key.as_deref()?
            ))
        })
        .collect();
    std::fs::write(&path, text).map_err(|e| Error::io("cannot write", &path, e))?;
    Ok(path)
}

/// Writes the `known_hosts` of `cluster` as it runs now and returns its
/// path: what `ssh -o UserKnownHostsFile=… -o HostKeyAlias=<container>`
/// and Ansible's inventory use. It goes in the cluster's state directory
/// as the environment's settings place it ([`known_hosts_with`] takes
/// others).
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let file = footloose::known_hosts(engine, "demo").await?;
/// println!("UserKnownHostsFile {}", file.display());
/// # Ok(()) }
/// ```
pub async fn known_hosts(engine: &Engine, cluster: &str) -> Result<PathBuf> {
    known_hosts_with(engine, cluster, &Settings::from_env()).await
}

/// [`known_hosts`], in the state directory `settings` say.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let settings = footloose::Settings::from_env();
/// let file = footloose::known_hosts_with(engine, "demo", &settings).await?;
/// assert!(file.starts_with(settings.state_dir("demo")));
/// # Ok(()) }
/// ```
pub async fn known_hosts_with(
    engine: &Engine,
    cluster: &str,
    settings: &Settings,
) -> Result<PathBuf> {
    let machines = super::inspect::status(engine, Some(cluster)).await?;
    write_known_hosts(settings, cluster, &machines)
}

/// The OpenSSH options, as `-o` values, with which every client footloose
/// sets up (`footloose ssh`, Ansible's inventory) reaches a cluster's
/// machines: only the cluster's key, and host keys checked strictly
/// against the cluster's `known_hosts`. Add [`host_key_alias`] per machine.
///
/// ```
/// let options = footloose::openssh_options("/tmp/known_hosts".as_ref());
/// assert!(options.iter().any(|o| o.contains("StrictHostKeyChecking")));
/// ```
pub fn openssh_options(known_hosts: &Path) -> Vec<String> {
    vec![
        "IdentitiesOnly=yes".to_owned(),
        "StrictHostKeyChecking=yes".to_owned(),
        format!("UserKnownHostsFile={}", known_hosts.display()),
    ]
}

/// The `-o` value that files a machine's pinned host key under its
/// container name, so that its port or address may change.
///
/// ```
/// assert_eq!(footloose::host_key_alias("demo-node0"), "HostKeyAlias=demo-node0");
/// ```
pub fn host_key_alias(container: &str) -> String {
    format!("HostKeyAlias={container}")
}
