//! What `create` asks of an image: ready for machines, however that is
//! had (present, built, pulled or adapted).

use super::adapt::adapt_with;
use super::build::{ensure_labelled, BuildOutcome};
use super::catalog::definition;
use crate::engine::Engine;
use crate::error::Result;
use crate::guest::KeyDelivery;
use crate::Settings;

/// An image made ready for machines by [`prepare`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Prepared {
    /// The image machines run: the one asked for, or its adapted image.
    pub reference: String,
    /// What it took.
    pub outcome: BuildOutcome,
    /// How the image machines run takes its keys.
    pub delivery: KeyDelivery,
}

/// Makes `reference` ready for machines: [`ensure`](super::ensure)s it,
/// then, for an image footloose did not build and that does not take
/// footloose's keys (no `io.footloose.keys=env` label), [`adapt`](super::adapt())s
/// it, unless the image says `io.footloose.adapt=false`
/// ([`ADAPT`](crate::labels::ADAPT)): that one runs as it is, with the keys
/// copied in.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let prepared = footloose::image::prepare(engine, "acme/systemd-image:1").await?;
/// println!("machines run {}", prepared.reference);
/// # Ok(()) }
/// ```
///
/// Builds take their lock and Debian mirror from the environment's
/// settings; [`prepare_with`] takes others.
pub async fn prepare(engine: &Engine, reference: &str) -> Result<Prepared> {
    prepare_with(engine, reference, &Settings::from_env()).await
}

/// [`prepare`] with `settings` (the lock directory, the Debian mirror).
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let settings = footloose::Settings::from_env();
/// let prepared = footloose::image::prepare_with(engine, "acme/systemd-image:1", &settings).await?;
/// # Ok(()) }
/// ```
pub async fn prepare_with(
    engine: &Engine,
    reference: &str,
    settings: &Settings,
) -> Result<Prepared> {
    let (outcome, labels) = ensure_labelled(engine, reference, settings).await?;
    let delivery = KeyDelivery::of_image(&labels);
    let as_it_is = labels.get(crate::labels::ADAPT).map(String::as_str) == Some("false");
    if definition(reference).is_some() || delivery == KeyDelivery::Environment || as_it_is {
        return Ok(Prepared {
            reference: reference.to_owned(),
            outcome,
            delivery,
        });
    }
    let adapted = adapt_with(engine, reference, settings).await?;
    Ok(Prepared {
        outcome: match adapted.built {
            Some(_) => BuildOutcome::Adapted,
            None => outcome,
        },
        reference: adapted.reference,
        delivery: KeyDelivery::Environment,
    })
}
