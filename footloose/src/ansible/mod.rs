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

pub use inventory::{group_name, inventory, Inventory, InventoryHost};
pub use playbook::{Playbook, PlaybookRun};
pub use recap::{ChangedTask, Recap};
