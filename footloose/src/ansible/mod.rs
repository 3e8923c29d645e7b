//! Testing Ansible roles against a cluster: an inventory with the
//! machines' pinned host keys, and a runner for the real `ansible-playbook`
//! that reads its PLAY RECAP and checks idempotence.
//!
//! ```no_run
//! # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
//! use footloose::ansible::Playbook;
//!
//! let site = Playbook::new("site.yml").extra_var("greeting", "hello");
//! let converge = site.run(cluster)?; // fails on a failed or unreachable host
//! assert!(converge.recap["node0"].changed > 0);
//! site.assert_idempotent(cluster)?; // a second run changes nothing
//! assert_eq!(site.clone().check(true).run(cluster)?.changed(), 0);
//! # Ok(()) }
//! ```

mod inventory;
mod playbook;
mod recap;

pub use inventory::{group_name, Inventory, InventoryHost};
pub use playbook::{Playbook, PlaybookRun};
pub use recap::{ChangedTask, Recap};

use std::path::{Path, PathBuf};

use crate::engine::Engine;
use crate::error::{Error, Result};

/// The Ansible inventory of `cluster` as it runs now (YAML), with its
/// `known_hosts` written into the cluster's state directory.
pub async fn inventory(engine: &Engine, cluster: &str, key_path: &Path) -> Result<String> {
    let machines = crate::status(engine, Some(cluster)).await?;
    if machines.is_empty() {
        return Err(Error::Invalid(format!(
            "cluster {cluster} has no machines; create it with `footloose create`"
        )));
    }
    let known_hosts = crate::cluster::write_known_hosts(cluster, &machines)?;
    let key = std::path::absolute(key_path).unwrap_or_else(|_| key_path.to_owned());
    let mut inventory = Inventory::of(cluster, &machines, key, known_hosts);
    inventory.jump = engine.ssh_jump();
    inventory.to_yaml()
}

/// Where the inventory of `cluster` is written for a playbook run.
pub(crate) fn inventory_path(cluster: &str) -> PathBuf {
    crate::paths::state_dir(cluster).join("inventory.yml")
}
