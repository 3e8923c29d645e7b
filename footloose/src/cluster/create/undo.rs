//! What one `create` call made, and removing it when the call fails or is
//! interrupted.
//!
//! A request that creates something is not dropped with an interrupted
//! `create`: the engine carries it out whether or not the client still
//! waits for the answer, so an undo that looked before it finished would
//! miss what it made. Such requests therefore run as tasks of their own
//! ([`Made::finish`]), and the undo waits for them before it looks.

use std::future::Future;
use std::sync::Mutex;

use futures_util::future::join_all;
use tokio::task::JoinHandle;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ownership::Ownership;

/// What one `create` call made. Shared with the machine futures so that
/// what they made is known even when they are dropped half-way (an
/// interrupt): a name is recorded *before* the request that makes it.
/// How long an undo waits for creating requests still on their way.
const SETTLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug)]
pub(super) struct Made {
    /// This call's id, on everything it makes.
    creation: String,
    inner: Mutex<Lists>,
    /// Creating requests still (or no longer) on their way.
    in_flight: Mutex<Vec<JoinHandle<()>>>,
}

#[derive(Debug, Default, Clone)]
struct Lists {
    containers: Vec<String>,
    /// Names of networks this call asked for.
    networks: Vec<String>,
}

impl Default for Made {
    fn default() -> Made {
        Made {
            creation: crate::naming::random_id(),
            inner: Mutex::default(),
            in_flight: Mutex::default(),
        }
    }
}

impl Made {
    /// The id this call labels what it makes with.
    pub(super) fn creation(&self) -> &str {
        &self.creation
    }

    /// Records a container about to be created.
    pub(super) fn container(&self, name: &str) {
        self.lists().containers.push(name.to_owned());
    }

    /// Forgets a container this call turned out not to make (it lost the
    /// race for the name).
    pub(super) fn not_made(&self, name: &str) {
        self.lists().containers.retain(|n| n != name);
    }

    /// Records a network about to be created, by name: the engine names
    /// its id only once it answers, and an interrupt may come first.
    pub(super) fn network(&self, name: &str) {
        self.lists().networks.push(name.to_owned());
    }

    /// Runs a request that creates something to its end, also when the
    /// caller is dropped half-way (an interrupt); the undo waits for it.
    pub(super) async fn finish<T: Send + 'static>(
        &self,
        request: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let _ = answer.send(request.await);
        });
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task);
        answered.await.unwrap_or(Err(Error::Unanswered))
    }

    /// Waits until every creating request has ended, for a while: past
    /// [`SETTLE_LIMIT`] the undo goes on with what the engine shows.
    async fn settle(&self) {
        let tasks = std::mem::take(&mut *self.in_flight.lock().unwrap_or_else(|e| e.into_inner()));
        if tokio::time::timeout(SETTLE_LIMIT, join_all(tasks))
            .await
            .is_err()
        {
            tracing::warn!(
                "Requests to the engine are still on their way; removing what is there now"
            );
        }
    }

    fn lists(&self) -> std::sync::MutexGuard<'_, Lists> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self) -> Lists {
        std::mem::take(&mut *self.lists())
    }
}

/// Removes what a failed or interrupted `create` made: the containers and
/// networks that carry this call's id (checked on the engine, as an
/// interrupted request may have lost a race it never heard of); a network
/// only when the engine agrees that nothing uses it.
pub(super) async fn undo(engine: &Engine, made: &Made) {
    made.settle().await;
    let ours = Some(made.creation.clone());
    let made = made.take();
    let backend = engine.backend();
    let made_here = |labels: &std::collections::HashMap<String, String>| {
        Ownership::from_labels(labels).and_then(|o| o.creation) == ours
    };
    join_all(made.containers.iter().map(|name| async {
        let found = backend.container(name).await.ok().flatten();
        if found.is_some_and(|c| made_here(&c.labels)) {
            let _ = backend.remove_container(name).await;
        }
    }))
    .await;
    for name in &made.networks {
        let Ok(networks) = engine.networks_named(name).await else {
            continue;
        };
        for network in networks {
            if made_here(&network.labels) {
                let _ = backend.remove_network(&network.id).await;
            }
        }
    }
}
