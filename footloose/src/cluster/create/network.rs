//! The cluster's named networks: found, or made once, also when creators
//! race (the backend settles an engine's duplicate names, see
//! `Backend::create_network`).

use std::collections::HashMap;

use super::undo::Made;
use crate::engine::Engine;
use crate::error::{Error, Result};

/// Makes sure one network named `name` exists and returns its id.
pub(super) async fn ensure(
    engine: &Engine,
    name: &str,
    labels: &HashMap<String, String>,
    made: &Made,
) -> Result<String> {
    if let Some(network) = engine.backend().network(name).await? {
        return Ok(network.id);
    }
    tracing::info!("Creating network: {name} ...");
    // Recorded before asking: an interrupt may drop this call mid-request.
    made.network(name);
    let request = {
        let (engine, name, labels) = (engine.clone(), name.to_owned(), labels.clone());
        async move { engine.backend().create_network(&name, &labels).await }
    };
    match made.finish(request).await {
        Ok(id) => Ok(id),
        // Another creator's network has the name: use it.
        Err(err) if err.is_conflict() => existing(engine, name).await,
        Err(err) => Err(err),
    }
}

/// The id of the one network named `name`, which must exist.
pub(super) async fn existing(engine: &Engine, name: &str) -> Result<String> {
    match engine.backend().network(name).await? {
        Some(network) => Ok(network.id),
        None => Err(Error::NetworkRemoved {
            network: name.to_owned(),
        }),
    }
}
