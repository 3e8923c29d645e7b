//! Removing the test clusters of processes that are gone.

use std::collections::{BTreeSet, HashMap};

use bollard::query_parameters::ListContainersOptionsBuilder;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::labels;
use crate::process::Identity;

/// Removes every test cluster whose owner process no longer runs on this
/// host (or ran before the last boot) and whose watchdog, if it had one, is
/// gone too: a live watchdog is about to remove the cluster itself.
/// Returns the clusters removed.
pub async fn sweep(engine: &Engine) -> Result<BTreeSet<String>> {
    let mut orphaned = BTreeSet::new();
    for (cluster, labels) in test_machines(engine).await? {
        if let Some(owner) = owner_of(&labels) {
            if !owner.is_alive() && !watchdog_alive(&labels, &owner.boot_id) {
                orphaned.insert(cluster);
            }
        }
    }
    for cluster in &orphaned {
        tracing::info!("Removing cluster {cluster}: the test process that made it is gone");
        crate::cluster::delete(engine, cluster).await?;
    }
    Ok(orphaned)
}

/// Every machine of a test cluster on the engine: its cluster and labels.
pub(crate) async fn test_machines(
    engine: &Engine,
) -> Result<Vec<(String, HashMap<String, String>)>> {
    let mut filters = labels::filter(None);
    filters
        .get_mut("label")
        .expect("filter has labels")
        .push(format!(
            "{}={}",
            labels::LIFETIME,
            labels::Lifetime::Test.as_str()
        ));
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let containers = engine
        .docker()
        .list_containers(Some(options))
        .await
        .map_err(|e| Error::engine("listing test machines", e))?;
    Ok(containers
        .into_iter()
        .filter_map(|c| {
            let labels = c.labels.unwrap_or_default();
            Some((labels.get(labels::CLUSTER)?.clone(), labels))
        })
        .collect())
}

fn watchdog_alive(labels: &HashMap<String, String>, boot_id: &str) -> bool {
    let watchdog = (|| {
        Some(Identity {
            pid: labels.get(labels::WATCHDOG_PID)?.parse().ok()?,
            start_time: labels.get(labels::WATCHDOG_START)?.parse().ok()?,
            boot_id: boot_id.to_owned(),
        })
    })();
    watchdog.is_some_and(|w| w.is_alive())
}

/// The owner recorded in `labels`, when complete.
pub fn owner_of(labels: &HashMap<String, String>) -> Option<Identity> {
    Some(Identity {
        pid: labels.get(labels::OWNER_PID)?.parse().ok()?,
        start_time: labels.get(labels::OWNER_START)?.parse().ok()?,
        boot_id: labels.get(labels::BOOT_ID)?.clone(),
    })
}
