//! Any systemd image made a footloose machine: footloose looks inside it
//! without starting it ([`Probe`]), decides what it lacks ([`Adaptation`]),
//! and derives an image from it once ([`adapt`]): labelled, cached, and
//! built again when its base or footloose's set-up changes.

use std::collections::HashMap;

use futures_util::future::join_all;

use super::build::{build_logged, lock};
use super::catalog::{digest_of, SETUP_SCRIPT};
use super::recipe::Recipe;
use crate::archive::{first_entry, Unpacked};
use crate::backend::{BackendError, BaseImage, ImageRecipe};
use crate::distro::{Adaptation, OsRelease, Probe};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::labels;
use crate::Settings;

/// The repository prefix of adapted images: `acme/app:1` is adapted into
/// `footloose-adapted/acme/app:1`.
pub const ADAPTED_PREFIX: &str = "footloose-adapted/";

/// Where os-release(5) may be.
const OS_RELEASE_PATHS: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];
/// The reference footloose gives the adapted `reference`: under
/// [`ADAPTED_PREFIX`], with the same tag (`latest` when none, the digest's
/// start for a digest).
///
/// ```
/// use footloose::image::adapted_reference;
///
/// assert_eq!(adapted_reference("acme/app"), "footloose-adapted/acme/app:latest");
/// assert_eq!(adapted_reference("registry.local:5000/team/app:1.2"), "footloose-adapted/registry.local-5000/team/app:1.2");
/// assert_eq!(
///     adapted_reference("acme/app@sha256:0123456789abcdef0123"),
///     "footloose-adapted/acme/app:sha256-0123456789ab"
/// );
/// ```
pub fn adapted_reference(reference: &str) -> String {
    let (name, tag) = match reference.split_once('@') {
        Some((name, digest)) => {
            let digest = digest.replace(':', "-");
            let short: String = digest.chars().take(19).collect();
            (name.to_owned(), short)
        }
        None => match reference.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name.to_owned(), tag.to_owned()),
            _ => (reference.to_owned(), "latest".to_owned()),
        },
    };
    let name = name.to_ascii_lowercase().replace(':', "-");
    format!("{ADAPTED_PREFIX}{name}:{tag}")
}

/// The digest of footloose's way of adapting: the set-up script and the
/// code that decides what to install. An adapted image built by another
/// footloose is built again.
fn adapter_digest() -> String {
    let code = [
        include_str!("adapt.rs"),
        include_str!("recipe.rs"),
        // How Docker makes images of recipes.
        include_str!("../backend/docker/dockerfile.rs"),
        include_str!("../distro/family.rs"),
        include_str!("../distro/adaptation.rs"),
    ]
    .concat();
    digest_of(&code, SETUP_SCRIPT)
}

/// The recipe of the adapted image.
fn recipe(plan: &Adaptation) -> Recipe {
    Recipe {
        header: vec![
            format!("{} adapted by footloose.", plan.base),
            plan.summary(),
        ],
        base: plan.base.clone(),
        install: plan.install.clone(),
        foreign_base: true,
        setup_script: SETUP_SCRIPT,
    }
}

/// What [`adapt`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Adapted {
    /// The adapted image, which machines run.
    pub reference: String,
    /// What it took, when it was built now; `None` when it was there.
    pub built: Option<Adaptation>,
}

/// Makes the adapted image of `reference` (present on the engine) present,
/// building it when it is missing or was made from another base or by
/// another footloose. Says what it did in the log.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let adapted = footloose::image::adapt(engine, "geerlingguy/docker-ubuntu2404-ansible").await?;
/// if let Some(plan) = &adapted.built {
///     println!("built {}: {}", adapted.reference, plan.summary());
/// }
/// # Ok(()) }
/// ```
///
/// The build lock is where the environment's settings put it;
/// [`adapt_with`] takes others.
pub async fn adapt(engine: &Engine, reference: &str) -> Result<Adapted> {
    adapt_with(engine, reference, &Settings::from_env()).await
}

/// [`adapt`] with `settings` (the lock directory).
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let settings = footloose::Settings::from_env();
/// let adapted = footloose::image::adapt_with(engine, "acme/app:1", &settings).await?;
/// # Ok(()) }
/// ```
pub async fn adapt_with(engine: &Engine, reference: &str, settings: &Settings) -> Result<Adapted> {
    let adapted = adapted_reference(reference);
    let Some(base) = engine.backend().image(reference).await? else {
        return Err(Error::from(BackendError::Image {
            image: reference.to_owned(),
            reason: "it is not present on the engine".to_owned(),
        }));
    };
    let digest = adapter_digest();
    let current = |labels: &HashMap<String, String>| {
        labels.get(labels::IMAGE_DEFINITION) == Some(&digest)
            && labels.get(labels::ADAPTED_FROM_ID) == Some(&base.id)
    };
    if let Some(image) = engine.backend().image(&adapted).await? {
        if current(&image.labels) {
            return Ok(Adapted {
                reference: adapted,
                built: None,
            });
        }
    }
    let _lock = lock(&adapted, settings).await?;
    let previous = engine.backend().image(&adapted).await?;
    if let Some(image) = &previous {
        if current(&image.labels) {
            return Ok(Adapted {
                reference: adapted,
                built: None,
            });
        }
    }
    let probe = probe(engine, reference).await?;
    let plan = Adaptation::plan(reference, &probe).map_err(|reason| Error::Adapt {
        image: reference.to_owned(),
        reason,
    })?;
    tracing::info!("Adapting {reference} into {adapted} ({})", plan.summary());
    let recipe = recipe(&plan);
    let mut log = String::new();
    let request = ImageRecipe {
        tag: &adapted,
        base: BaseImage::Named(reference),
        recipe: &recipe,
        labels: HashMap::from([
            (labels::MANAGED, "true"),
            (labels::IMAGE_DEFINITION, digest.as_str()),
            (labels::ADAPTED_FROM, reference),
            (labels::ADAPTED_FROM_ID, base.id.as_str()),
        ]),
    };
    if let Err(e) = build_logged(engine, request, &mut log).await {
        return Err(Error::from(BackendError::Image {
            image: adapted,
            reason: format!(
                "adapting {reference} failed: {e}\n{}\n  what footloose ran: {}",
                super::base::tail(&log, 15),
                plan.summary()
            ),
        }));
    }
    if let Some(old) = previous {
        let _ = engine.backend().remove_image(&old.id).await;
    }
    Ok(Adapted {
        reference: adapted,
        built: Some(plan),
    })
}

/// Looks inside `image` through a container made from it that is never
/// started, and removed at once. Its name is random: the engine may be
/// shared with processes of other pid namespaces (CI job containers) and
/// hosts, which the build lock does not reach.
async fn probe(engine: &Engine, image: &str) -> Result<Probe> {
    let backend = engine.backend();
    let name = format!("footloose-probe-{}", crate::naming::random_id());
    let labels = HashMap::from([
        (labels::MANAGED.to_owned(), "true".to_owned()),
        (labels::PROBE.to_owned(), image.to_owned()),
    ]);
    backend
        .create_container(&crate::container_spec::inert(&name, image, labels))
        .await?;
    let removal = RemoveOnDrop {
        engine: engine.clone(),
        name: name.clone(),
    };
    let looked = look_inside(engine, &name).await;
    removal.remove().await;
    looked
}

/// What footloose needs to know of the container `name`'s file system.
async fn look_inside(engine: &Engine, name: &str) -> Result<Probe> {
    let paths = Probe::paths();
    let backend = engine.backend();
    let found = join_all(paths.iter().map(|path| backend.download(name, path))).await;
    let mut probe = Probe::default();
    for (path, answer) in paths.iter().zip(found) {
        if answer?.is_some() {
            probe.found.insert((*path).to_owned());
        }
    }
    probe.os_release = os_release(engine, name).await?;
    Ok(probe)
}

/// The os-release of the container `name`, following one link.
async fn os_release(engine: &Engine, name: &str) -> Result<Option<OsRelease>> {
    for path in OS_RELEASE_PATHS {
        let mut path = path.to_owned();
        for _hop in 0..4 {
            let Some(tar) = engine.backend().download(name, &path).await? else {
                break;
            };
            match first_entry(&tar) {
                Ok(Some(Unpacked::File(text))) => {
                    return Ok(Some(OsRelease::parse(&String::from_utf8_lossy(&text))))
                }
                Ok(Some(Unpacked::Link(target))) => path = resolve_link(&path, &target),
                _ => break,
            }
        }
    }
    Ok(None)
}

/// Where the link at `path` pointing to `target` leads.
fn resolve_link(path: &str, target: &str) -> String {
    if target.starts_with('/') {
        return target.to_owned();
    }
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Removes the probe container however the probe ends, also when its
/// future is dropped.
struct RemoveOnDrop {
    engine: Engine,
    name: String,
}

impl RemoveOnDrop {
    /// Removes the container now, and waits for the engine to have done
    /// it: whoever looks right after the probe finds nothing of it.
    async fn remove(mut self) {
        let name = std::mem::take(&mut self.name);
        let _ = self.engine.backend().remove_container(&name).await;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let (engine, name) = (self.engine.clone(), std::mem::take(&mut self.name));
        if name.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = engine.backend().remove_container(&name).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distro::Need;

    #[test]
    fn an_adapted_image_runs_its_set_up_as_root_and_boots_systemd() {
        let probe = Probe::new(
            Some(OsRelease::parse("ID=debian\nVERSION_ID=12\n")),
            ["/bin/sh", "/usr/bin/apt-get"],
        );
        let plan = Adaptation::plan("debian:bookworm", &probe).unwrap();
        assert_eq!(plan.missing, Need::ESSENTIAL);
        // How each backend makes it is tested there (Docker's Dockerfile:
        // root, no entrypoint, the set-up, systemd as PID 1).
        let recipe = recipe(&plan);
        assert_eq!(recipe.base, "debian:bookworm");
        assert!(recipe.foreign_base, "{recipe:?}");
        let (manager, packages) = recipe
            .install
            .clone()
            .expect("installs the missing packages");
        assert!(
            manager
                .install_command(&packages)
                .contains("apt-get install"),
            "{recipe:?}"
        );
        assert_eq!(recipe.setup_script, SETUP_SCRIPT);
    }

    #[test]
    fn links_resolve_as_the_kernel_would() {
        assert_eq!(
            resolve_link("/etc/os-release", "../usr/lib/os-release"),
            "/usr/lib/os-release"
        );
        assert_eq!(
            resolve_link("/etc/os-release", "/usr/lib/os-release"),
            "/usr/lib/os-release"
        );
        assert_eq!(
            resolve_link("/etc/os-release", "./os-release.d/x"),
            "/etc/os-release.d/x"
        );
    }

    #[test]
    fn the_adapter_digest_covers_the_set_up_script() {
        let digest = adapter_digest();
        assert_eq!(digest.len(), 16);
        assert_ne!(digest, digest_of("", SETUP_SCRIPT));
    }
}
