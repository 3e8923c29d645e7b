//! Building an image's Dockerfile layer through the API, once across
//! processes.

use std::collections::HashMap;
use std::fs::File;

use super::base::{ensure_base, tail};
use super::catalog::{definition, ImageDefinition};
use crate::backend::{BackendError, ImageRecipe};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::Settings;

/// What [`ensure`] had to do.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// use footloose::image::BuildOutcome;
///
/// if footloose::image::ensure(engine, "footloose/debian12").await? == BuildOutcome::Present {
///     println!("nothing to do");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildOutcome {
    /// The image was there.
    Present,
    /// footloose built it.
    Built,
    /// It was pulled from a registry.
    Pulled,
    /// footloose derived a machine image from it (see [`adapt`](super::adapt())).
    Adapted,
}

/// Makes `reference` present: nothing if it is, a build for footloose's own
/// images, a pull for any other.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// use footloose::image::{ensure, BuildOutcome};
///
/// match ensure(engine, "footloose/debian13").await? {
///     BuildOutcome::Built => println!("built it"),
///     BuildOutcome::Pulled => println!("pulled it"),
///     _ => {}
/// }
/// # Ok(()) }
/// ```
///
/// A build takes its lock in `$XDG_RUNTIME_DIR` and its Debian mirror from
/// the environment's settings; [`ensure_with`] takes others.
pub async fn ensure(engine: &Engine, reference: &str) -> Result<BuildOutcome> {
    ensure_with(engine, reference, &Settings::from_env()).await
}

/// [`ensure`] with `settings` (the lock directory, the Debian mirror).
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let settings = footloose::Settings::from_env();
/// footloose::image::ensure_with(engine, "footloose/debian13", &settings).await?;
/// # Ok(()) }
/// ```
pub async fn ensure_with(
    engine: &Engine,
    reference: &str,
    settings: &Settings,
) -> Result<BuildOutcome> {
    Ok(ensure_labelled(engine, reference, settings).await?.0)
}

/// [`ensure`], also returning the image's labels (read once when it was
/// there already).
pub(super) async fn ensure_labelled(
    engine: &Engine,
    reference: &str,
    settings: &Settings,
) -> Result<(BuildOutcome, HashMap<String, String>)> {
    let found = labels_of(engine, reference).await?;
    let outcome = ensure_from(engine, reference, found.as_ref(), settings).await?;
    match (outcome, found) {
        (BuildOutcome::Present, Some(labels)) => Ok((outcome, labels)),
        _ => Ok((
            outcome,
            labels_of(engine, reference).await?.unwrap_or_default(),
        )),
    }
}

/// The labels of `reference`, `None` when it is not there.
async fn labels_of(engine: &Engine, reference: &str) -> Result<Option<HashMap<String, String>>> {
    Ok(engine
        .backend()
        .image(reference)
        .await?
        .map(|image| image.labels))
}

async fn ensure_from(
    engine: &Engine,
    reference: &str,
    labels: Option<&HashMap<String, String>>,
    settings: &Settings,
) -> Result<BuildOutcome> {
    if let Some(image) = definition(reference) {
        return match labels {
            Some(labels) if !outdated(labels, &image) => Ok(BuildOutcome::Present),
            Some(_) => {
                tracing::info!(
                    "Building {} again: this footloose defines it differently",
                    image.reference()
                );
                build_with(engine, &image, false, settings).await
            }
            None => build_with(engine, &image, false, settings).await,
        };
    }
    if labels.is_some() {
        return Ok(BuildOutcome::Present);
    }
    tracing::info!("Pulling image {reference} ...");
    engine
        .backend()
        .pull_image(reference)
        .await
        .map_err(|e| Error::from(BackendError::Image {
            image: reference.to_owned(),
            reason: format!(
                "it is not present and cannot be pulled ({e}); load it into the engine, or use one of footloose's own images (`footloose image ls`)"
            ),
        }))?;
    Ok(BuildOutcome::Pulled)
}

/// Builds `image` (again, with `force`), holding a lock so that concurrent
/// callers, in this process or others, wait and then find it built.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let debian13 = footloose::image::definition("debian13").expect("a footloose image");
/// // `force`: build it again even if it is there and up to date.
/// footloose::image::build(engine, &debian13, true).await?;
/// # Ok(()) }
/// ```
///
/// The lock and the Debian mirror are the environment's settings';
/// [`build_with`] takes others.
pub async fn build(engine: &Engine, image: &ImageDefinition, force: bool) -> Result<BuildOutcome> {
    build_with(engine, image, force, &Settings::from_env()).await
}

/// [`build`] with `settings` (the lock directory, the Debian mirror).
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let debian13 = footloose::image::definition("debian13").expect("a footloose image");
/// let settings = footloose::Settings::from_env();
/// footloose::image::build_with(engine, &debian13, false, &settings).await?;
/// # Ok(()) }
/// ```
pub async fn build_with(
    engine: &Engine,
    image: &ImageDefinition,
    force: bool,
    settings: &Settings,
) -> Result<BuildOutcome> {
    let _lock = lock(&image.reference(), settings).await?;
    // Another process may have built it while this one waited.
    if !force {
        if let Some(labels) = labels_of(engine, &image.reference()).await? {
            if !outdated(&labels, image) {
                return Ok(BuildOutcome::Present);
            }
        }
    }
    let previous = image_id(engine, &image.reference()).await;
    let base = ensure_base(engine, image, settings).await?;
    tracing::info!("Building image {} on {base} ...", image.reference());
    let recipe = image.recipe();
    let mut log = String::new();
    let (reference, digest) = (image.reference(), image.digest());
    let request = ImageRecipe {
        tag: &reference,
        base: base.as_image(),
        recipe: &recipe,
        labels: HashMap::from([
            (crate::labels::MANAGED, "true"),
            (crate::labels::IMAGE_DEFINITION, digest.as_str()),
        ]),
    };
    let built = engine
        .backend()
        .build_image(request, &mut |line| {
            tracing::debug!("{}", line.trim_end());
            log.push_str(line);
        })
        .await;
    if let Err(e) = built {
        return Err(Error::from(BackendError::Image {
            image: image.reference(),
            reason: format!("the build failed: {e}\n{}", tail(&log, 15)),
        }));
    }
    let Some(built) = image_id(engine, &image.reference()).await else {
        return Err(Error::from(BackendError::Image {
            image: image.reference(),
            reason: format!("the build ended without an image\n{}", tail(&log, 15)),
        }));
    };
    // A rebuild replaces the tag: drop the old image unless a machine uses it.
    if let Some(old) = previous.filter(|old| *old != built) {
        let _ = engine.backend().remove_image(&old).await;
    }
    Ok(BuildOutcome::Built)
}

/// Runs `request`, every line of its output in the debug log and in `log`.
pub(super) async fn build_logged(
    engine: &Engine,
    request: ImageRecipe<'_>,
    log: &mut String,
) -> Result<()> {
    engine
        .backend()
        .build_image(request, &mut |line| {
            tracing::debug!("{}", line.trim_end());
            log.push_str(line);
        })
        .await
}

/// True when footloose built the image from another definition than this
/// binary's; images built otherwise (`docker build`) are left as they are.
fn outdated(labels: &HashMap<String, String>, image: &ImageDefinition) -> bool {
    labels
        .get(crate::labels::MANAGED)
        .is_some_and(|v| v == "true")
        && labels.get(crate::labels::IMAGE_DEFINITION) != Some(&image.digest())
}

/// The id of `reference`, if present.
async fn image_id(engine: &Engine, reference: &str) -> Option<String> {
    engine
        .backend()
        .image(reference)
        .await
        .ok()
        .flatten()
        .map(|image| image.id)
}

/// Takes the build lock of the image `reference`, in the settings' lock
/// directory (blocking in a worker thread).
pub(super) async fn lock(reference: &str, settings: &Settings) -> Result<File> {
    let dir = settings.lock_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
    let file_name: String = reference
        .trim_start_matches("footloose/")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("image-{file_name}.lock"));
    let file = File::create(&path).map_err(|e| Error::io("cannot create", &path, e))?;
    tokio::task::spawn_blocking(move || {
        if file.try_lock().is_err() {
            tracing::info!(
                "Waiting for another footloose to finish building {} ...",
                path.display()
            );
            file.lock()
                .map_err(|e| Error::io("cannot lock", &path, e))?;
        }
        Ok(file)
    })
    .await
    .map_err(|source| Error::Task {
        task: "lock",
        source,
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::catalog::IMAGES;

    #[test]
    fn only_images_footloose_built_from_another_definition_are_outdated() {
        let image = IMAGES[1];
        let labels = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let digest = image.digest();
        let current = labels(&[
            (crate::labels::MANAGED, "true"),
            (crate::labels::IMAGE_DEFINITION, &digest),
        ]);
        assert!(!outdated(&current, &image));
        let older = labels(&[(crate::labels::MANAGED, "true")]);
        assert!(outdated(&older, &image));
        let other = labels(&[
            (crate::labels::MANAGED, "true"),
            (crate::labels::IMAGE_DEFINITION, "0123456789abcdef"),
        ]);
        assert!(outdated(&other, &image));
        // Built with `docker build` from images/: the user's own.
        assert!(!outdated(&labels(&[]), &image));
    }
}
