//! Testing Ansible roles against a cluster: an inventory with the
//! machines' pinned host keys (and the config's Ansible variables), and a
//! runner for the real `ansible-playbook` that streams its output, reads
//! its PLAY RECAP, checks idempotence, finds the role under test by its
//! Galaxy name, installs requirements, and reports a failed play by host,
//! task, message and the failed units' journals.
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

mod error;
mod failure;
mod inventory;
mod playbook;
mod recap;
mod requirements;
mod roles;
mod tool;
mod under_test;
mod workdir;

pub use error::{AnsibleError, FailedUnit, MissingRole, PlaybookFailure, TaskFailure};
pub use inventory::{group_name, inventory, inventory_with, Inventory, InventoryHost};
pub use playbook::{Playbook, PlaybookRun};
pub use recap::{ChangedTask, Recap};
pub use roles::Role;
