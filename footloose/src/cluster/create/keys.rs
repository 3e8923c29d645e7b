//! The cluster's client key: loaded when it exists, generated only after
//! the plan has checked that no machine of the cluster trusts another.

use std::path::Path;

use crate::error::{Error, Result};
use crate::keys::ClientKey;

/// The key at `path`, `None` when there is none yet.
pub(super) async fn existing_key(path: &Path) -> Result<Option<ClientKey>> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || ClientKey::load_existing(&path))
        .await
        .map_err(|source| Error::Task {
            task: "key",
            source,
        })?
}

/// Generates the key at `path` (or loads it, when another process made it
/// meanwhile).
pub(crate) async fn generate_key(path: &Path) -> Result<ClientKey> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || ClientKey::load_or_generate(&path))
        .await
        .map_err(|source| Error::Task {
            task: "key",
            source,
        })?
}
