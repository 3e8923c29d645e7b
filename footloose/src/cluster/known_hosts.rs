//! The OpenSSH `known_hosts` file of a cluster: one line per machine with
//! its pinned host key, filed under the container name (used as ssh's
//! `HostKeyAlias`, so that ports and addresses may change).

use std::path::PathBuf;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::MachineStatus;

/// Writes the `known_hosts` of `cluster`'s `machines` into the cluster's
/// state directory and returns its path.
pub(crate) fn write_known_hosts(cluster: &str, machines: &[MachineStatus]) -> Result<PathBuf> {
    let dir = crate::paths::state_dir(cluster);
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
/// and Ansible's inventory use.
pub async fn known_hosts(engine: &Engine, cluster: &str) -> Result<PathBuf> {
    let machines = super::inspect::status(engine, Some(cluster)).await?;
    write_known_hosts(cluster, &machines)
}
