//! Starting a machine's container, with the reason spelled out when the
//! engine refuses.

use crate::backend::BackendError;
use crate::engine::{ContainerStatus, Engine};
use crate::error::{Error, Result};
use crate::machine::MachineError;

/// Starts a container, explaining the usual reason a privileged one fails.
/// A container that another process started meanwhile is fine.
pub(crate) async fn start_container(engine: &Engine, name: &str, privileged: bool) -> Result<()> {
    let err = match engine.backend().start_container(name).await {
        Ok(()) => return Ok(()),
        Err(err) => err,
    };
    if err.is_not_found() || being_removed(engine, name).await {
        return Err(Error::Machine(MachineError::Vanished {
            machine: name.to_owned(),
        }));
    }
    let Error::Backend(BackendError::Engine {
        message: mut reason,
        ..
    }) = err
    else {
        return Err(err);
    };
    if reason.contains("port is already allocated") || reason.contains("address already in use") {
        reason.push_str(
            "\n  a host port this machine publishes is taken by another process or machine: change its hostPort if the config sets one; a port footloose picked when it created the machine (so that it stays across reboots) is kept while the machine is stopped too, and `footloose delete` then `create` picks a free one again",
        );
    }
    if privileged {
        reason.push_str(
            "\n  this machine is privileged: the engine's host must grant every capability (CAP_SYS_RESOURCE among them); where it cannot, use capAdd with only what the machine needs",
        );
    }
    Err(Error::Start {
        machine: name.to_owned(),
        reason,
    })
}

/// Whether the container is gone or on its way out (another footloose
/// deleting the cluster).
async fn being_removed(engine: &Engine, name: &str) -> bool {
    match engine.backend().container(name).await {
        Ok(Some(info)) => info.status == Some(ContainerStatus::Removing),
        Ok(None) => true,
        Err(_) => false,
    }
}
