//! Clusters: bringing machines up, finding them again, taking them down.

mod builder;
mod create;
mod inspect;
mod known_hosts;
mod manage;
mod ready;
pub(crate) mod records;
mod running;
mod start;

pub use builder::{ClusterBuilder, DEFAULT_READY_TIMEOUT};
#[cfg(test)]
pub(crate) use create::Readiness;
pub(crate) use create::{create, generate_key, CreateRequest};
#[cfg(test)]
pub(crate) use inspect::test_clusters as inspect_test_clusters;
pub use inspect::{list_clusters, status, MachineState, MachineStatus};
pub(crate) use known_hosts::write_known_hosts;
pub use known_hosts::{host_key_alias, known_hosts, known_hosts_with, openssh_options};
pub use manage::{
    delete, delete_with, prune, prune_abandoned, prune_abandoned_with, start, stop, Removed,
};
pub(crate) use manage::{remove_owned_by, remove_pooled};
pub(crate) use ready::known_ready;
pub use running::Cluster;
