//! One network per name, also when creators race. Docker lets two
//! creators that race make two networks of one name
//! (`Capabilities::duplicate_network_names`); each creator then looks again
//! after creating: the oldest network of that name wins, and a creator
//! whose own network lost removes it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::undo::Made;
use crate::engine::Engine;
use crate::error::{Error, Result};

/// Makes sure one network named `name` exists and returns its id (see the
/// module documentation for racing creators).
pub(super) async fn ensure(
    engine: &Engine,
    name: &str,
    labels: &HashMap<String, String>,
    made: &Made,
) -> Result<String> {
    if !networks_named(engine, name).await?.is_empty() {
        return await_single_network(engine, name, None).await;
    }
    tracing::info!("Creating network: {name} ...");
    // Recorded before asking: an interrupt may drop this call mid-request.
    made.network(name);
    let request = {
        let (engine, name, labels) = (engine.clone(), name.to_owned(), labels.clone());
        async move { engine.backend().create_network(&name, &labels).await }
    };
    let mine = match made.finish(request).await {
        Ok(id) => Some(id),
        Err(err) if err.is_conflict() => None,
        Err(err) => return Err(err),
    };
    if !engine.facts().capabilities.duplicate_network_names {
        // Names are unique: whoever lost the race uses the winner's.
        return match mine {
            Some(id) => Ok(id),
            None => await_single_network(engine, name, None).await,
        };
    }
    await_single_network(engine, name, mine.as_deref()).await
}

/// Waits until one network is named `name` and returns its id. While two
/// exist, the engine refuses to start any machine on either ("ambiguous"),
/// so a creator whose network is younger removes its own at once, and
/// after [`DUPLICATE_GRACE`] anyone removes a younger duplicate that no
/// machine uses (its creator may have died).
pub(super) async fn await_single_network(
    engine: &Engine,
    name: &str,
    mine: Option<&str>,
) -> Result<String> {
    let started = Instant::now();
    loop {
        let all = networks_named(engine, name).await?;
        let Some((_, winner)) = all.first().cloned() else {
            return Err(Error::NetworkRemoved {
                network: name.to_owned(),
            });
        };
        if all.len() == 1 || started.elapsed() > DUPLICATE_LIMIT {
            return Ok(winner);
        }
        for (_, younger) in &all[1..] {
            if Some(younger.as_str()) == mine || started.elapsed() > DUPLICATE_GRACE {
                tracing::debug!("Network {name}: removing the younger duplicate {younger}");
                let _ = engine.backend().remove_network(younger).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long a creator leaves another's younger duplicate network alone.
const DUPLICATE_GRACE: Duration = Duration::from_secs(2);
/// How long a creator waits for duplicates to go before going on anyway.
const DUPLICATE_LIMIT: Duration = Duration::from_secs(10);

/// The networks named exactly `name`, oldest first: (created, id).
async fn networks_named(engine: &Engine, name: &str) -> Result<Vec<(CreatedAt, String)>> {
    let mut found: Vec<(CreatedAt, String)> = engine
        .backend()
        .networks_named(name)
        .await?
        .into_iter()
        .map(|n| (CreatedAt::parse(&n.created), n.id))
        .collect();
    found.sort();
    Ok(found)
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
