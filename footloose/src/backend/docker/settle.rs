//! One network per name, also when creators race: Docker lets two
//! creators that race make two networks of one name (seen on 20.10), and
//! then refuses to start any container on either ("ambiguous"). Each
//! creator looks again after creating: the oldest network of that name
//! wins, and a creator whose own network lost removes it; after
//! [`DUPLICATE_GRACE`] anyone removes a younger duplicate that footloose
//! made (its creator may have died), never one made by someone else. Engines with unique names (Podman) refuse the second create
//! instead, and never get here.

use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::backend::model::NetworkInfo;
use crate::error::Result;
use crate::labels;

/// How long a creator leaves another's younger duplicate network alone.
const DUPLICATE_GRACE: Duration = Duration::from_secs(2);
/// How long a creator waits for duplicates to go before going on anyway.
const DUPLICATE_LIMIT: Duration = Duration::from_secs(10);
/// How often the networks are listed again while duplicates remain.
const POLL: Duration = Duration::from_millis(50);

/// What settling needs of an engine: its networks by exact name, and
/// removing one. The in-memory engine of the tests, which imitates
/// Docker's duplicates, settles through the same code.
#[async_trait]
pub(crate) trait NetworksByName: Sync {
    /// The networks named exactly `name`.
    async fn named(&self, name: &str) -> Result<Vec<NetworkInfo>>;
    /// Removes the network `id`.
    async fn remove(&self, id: &str) -> Result<()>;
}

/// Waits until one network is named `name` and returns it; `None` when
/// there is none. `mine` is the id of the network this caller just made,
/// removed at once when it is the younger.
pub(crate) async fn single_network(
    engine: &dyn NetworksByName,
    name: &str,
    mine: Option<&str>,
) -> Result<Option<NetworkInfo>> {
    let started = Instant::now();
    loop {
        let mut all = engine.named(name).await?;
        all.sort_by_cached_key(|n| (CreatedAt::parse(&n.created), n.id.clone()));
        let Some(winner) = all.first().cloned() else {
            return Ok(None);
        };
        if all.len() == 1 || started.elapsed() > DUPLICATE_LIMIT {
            return Ok(Some(winner));
        }
        for younger in &all[1..] {
            // Only footloose's own: a duplicate of a network someone else
            // made (a CI job's) is theirs to remove.
            let ours = younger
                .labels
                .get(labels::MANAGED)
                .is_some_and(|v| v == "true");
            let abandoned = ours && started.elapsed() > DUPLICATE_GRACE;
            if Some(younger.id.as_str()) == mine || abandoned {
                tracing::debug!(
                    "Network {name}: removing the younger duplicate {}",
                    younger.id
                );
                let _ = engine.remove(&younger.id).await;
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// An engine timestamp (`2026-11-29T18:40:01.12345Z`), ordered correctly
/// although the engine trims trailing zeros of the fraction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CreatedAt {
    seconds: String,
    nanos: u32,
}

impl CreatedAt {
    fn parse(text: &str) -> CreatedAt {
        let (seconds, rest) = text.split_once('.').unwrap_or((text, ""));
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let nanos = format!("{digits:0<9}")[..9].parse().unwrap_or(0);
        CreatedAt {
            seconds: seconds.trim_end_matches(['Z', 'z']).to_owned(),
            nanos,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CreatedAt;

    #[test]
    fn engine_timestamps_order_by_their_value() {
        let a = CreatedAt::parse("2026-11-29T18:40:01.12345Z");
        let b = CreatedAt::parse("2026-11-29T18:40:01.123456789Z");
        let c = CreatedAt::parse("2026-11-29T18:40:02Z");
        assert!(a < b && b < c, "{a:?} {b:?} {c:?}");
    }
}
