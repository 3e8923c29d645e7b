//! What every machine of one `create` shares, and how what the engine
//! has is read for the plan.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::request::CreateRequest;
use super::undo::Made;
use crate::cluster::ready::Deadline;
use crate::engine::{ContainerInfo, ContainerStatus, Engine};
use crate::error::Error;
use crate::image::Prepared;
use crate::keys::ClientKey;
use crate::machine::MachineError;
use crate::ownership::Ownership;
use crate::plan::{Existing, Observed, Refusal};
use crate::process::Presence;
use crate::record::MachineRecord;

/// What every machine of one `create` shares.
pub(super) struct Context<'a> {
    pub(super) engine: &'a Engine,
    pub(super) request: &'a CreateRequest,
    pub(super) key: Arc<ClientKey>,
    /// The labels of the cluster's objects: who owns them.
    pub(super) ownership: Ownership,
    pub(super) network_ids: BTreeMap<String, String>,
    pub(super) publish_address: IpAddr,
    /// By the config's image: what machines run, and how it takes keys.
    pub(super) images: BTreeMap<String, Prepared>,
    pub(super) deadline: Deadline,
    pub(super) made: &'a Made,
}

impl Context<'_> {
    /// The cluster's name.
    pub(super) fn cluster(&self) -> &str {
        &self.request.config.cluster.name
    }
}

/// One container as the plan reads it.
pub(super) fn observe(container: &ContainerInfo) -> Observed {
    let record = MachineRecord::from_labels(&container.labels);
    let state = match container.status {
        Some(ContainerStatus::Running) => Existing::Running,
        Some(ContainerStatus::Created) => Existing::Unstarted,
        Some(ContainerStatus::Removing) => Existing::Removing,
        _ => Existing::Stopped,
    };
    let creator_gone = state == Existing::Unstarted
        && record
            .as_ref()
            .is_ok_and(|r| r.ownership.owner.presence() == Presence::Gone);
    Observed {
        record,
        state,
        creator_gone,
    }
}

/// The error for a plan that refuses to go on.
pub(super) fn refused(request: &CreateRequest, ours: Option<String>, refusal: Refusal) -> Error {
    let cluster = request.config.cluster.name.clone();
    match refusal {
        Refusal::Foreign { container } => Error::ForeignContainer { container, cluster },
        Refusal::KeyMismatch {
            made_from, theirs, ..
        } => Error::ClusterKeyMismatch {
            cluster,
            made_from,
            theirs,
            key: request.key_path.clone(),
            ours,
        },
        Refusal::BeingRemoved { container } => {
            Error::Machine(MachineError::Vanished { machine: container })
        }
        Refusal::Unreadable { container, reason } => Error::Record {
            container,
            source: reason,
        },
    }
}
