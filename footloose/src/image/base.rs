//! The base image an image builds on: present already, pulled, or made
//! with mmdebstrap.

use std::process::Stdio;

use tokio::io::AsyncReadExt;

use super::catalog::ImageDefinition;
use crate::backend::{BackendError, BaseImage};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::Settings;

/// The Debian mirror mmdebstrap uses unless `FOOTLOOSE_DEBIAN_MIRROR`
/// names another.
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// The Debian mirror of `settings`, else [`DEFAULT_MIRROR`].
fn mirror(settings: &Settings) -> &str {
    settings.debian_mirror.as_deref().unwrap_or(DEFAULT_MIRROR)
}

/// Whether `reference` is present on the engine.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// if !footloose::image::exists(engine, "footloose/debian12").await? {
///     println!("footloose/debian12 will be built");
/// }
/// # Ok(()) }
/// ```
pub async fn exists(engine: &Engine, reference: &str) -> Result<bool> {
    Ok(engine.backend().image(reference).await?.is_some())
}

/// The base an image is made on, by where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Base {
    /// footloose made it with mmdebstrap and imported it.
    Imported(String),
    /// Pulled or loaded.
    Named(String),
}

impl Base {
    /// The base as the backend takes it.
    pub(crate) fn as_image(&self) -> BaseImage<'_> {
        match self {
            Base::Imported(name) => BaseImage::Imported(name),
            Base::Named(name) => BaseImage::Named(name),
        }
    }
}

impl std::fmt::Display for Base {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Base::Imported(name) | Base::Named(name) => f.write_str(name),
        }
    }
}

/// Returns the base image for `image`, making one if needed (from the
/// settings' Debian mirror).
pub(crate) async fn ensure_base(
    engine: &Engine,
    image: &ImageDefinition,
    settings: &Settings,
) -> Result<Base> {
    if let Some(local) = image.local_base() {
        if exists(engine, &local).await? {
            return Ok(Base::Imported(local));
        }
    }
    if exists(engine, &image.official_base()).await? {
        return Ok(Base::Named(image.official_base()));
    }
    tracing::info!("Pulling base image {} ...", image.official_base());
    let reason = match pull(engine, &image.official_base()).await {
        Ok(()) => return Ok(Base::Named(image.official_base())),
        Err(reason) => crate::error::chain(&reason),
    };
    let (Some(suite), Some(local)) = (image.suite, image.local_base()) else {
        return Err(Error::from(BackendError::Image {
            image: image.reference(),
            reason: format!(
                "it builds on {}, which is not present and cannot be pulled ({reason}); \
                 footloose makes a base itself only for Debian (with mmdebstrap): \
                 pull or load {} into the engine, or build images/{}/Dockerfile where a registry is reachable",
                image.official_base(),
                image.official_base(),
                image.name
            ),
        }));
    };
    tracing::info!(
        "Cannot pull {} ({reason}); making the base with mmdebstrap instead",
        image.official_base(),
    );
    // The image's own packages go into the base, so that its Dockerfile
    // finds them installed and needs no network.
    let packages = image.packages();
    debootstrap(engine, suite, mirror(settings), &local, &packages).await?;
    Ok(Base::Imported(local))
}

/// How long a pull of a base image may take before mmdebstrap makes it.
const PULL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Why a base image was not pulled.
#[derive(Debug, thiserror::Error)]
enum PullError {
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] Error),
    /// The pull did not finish in time.
    #[error("timed out after {}s", PULL_TIMEOUT.as_secs())]
    TimedOut,
}

async fn pull(engine: &Engine, reference: &str) -> std::result::Result<(), PullError> {
    let pulling = engine.backend().pull_image(reference);
    match tokio::time::timeout(PULL_TIMEOUT, pulling).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(PullError::TimedOut),
    }
}

/// Streams `mmdebstrap`'s root file system tarball of Debian `suite` from
/// `mirror`, with `packages`, into an image import tagged `local`.
async fn debootstrap(
    engine: &Engine,
    suite: &str,
    mirror: &str,
    local: &str,
    packages: &[&str],
) -> Result<()> {
    let unavailable = |reason: String| {
        Error::from(BackendError::Image {
            image: local.to_owned(),
            reason,
        })
    };
    tracing::info!("Making base image {local} with mmdebstrap (Debian {suite}) ...");
    let mut child = tokio::process::Command::new("mmdebstrap")
        .args(["--variant=minbase", "--format=tar"])
        .arg(format!("--include={}", packages.join(",")))
        .args([suite, "-"])
        .arg(mirror)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            unavailable(format!(
                "cannot run mmdebstrap ({e}); install it (`apt-get install mmdebstrap`) or make debian:{suite} available"
            ))
        })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let log = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let rootfs = futures_util::stream::unfold(stdout, |mut out| async move {
        let mut buffer = vec![0u8; 1 << 20];
        match out.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(bytes::Bytes::from(buffer)), out))
            }
            Err(e) => Some((Err(e), out)),
        }
    });
    let imported = engine.backend().import_image(Box::pin(rootfs), local).await;
    let status = child.wait().await.map_err(|e| unavailable(e.to_string()))?;
    let log = log.await.unwrap_or_default();
    if !status.success() {
        let _ = engine.backend().remove_image(local).await;
        return Err(unavailable(format!(
            "mmdebstrap failed ({status}); its last messages:\n{}",
            tail(&log, 15)
        )));
    }
    imported?;
    Ok(())
}

/// The last `n` lines of `text`, indented.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::backend::memory::MemoryBackend;
    use crate::image::definition;

    #[test]
    fn without_a_registry_a_non_debian_image_says_which_base_to_load() {
        let memory = MemoryBackend::docker_like();
        let engine = Engine::of(Arc::new(memory.clone()));
        let rocky9 = definition("rocky9").unwrap();
        let settings = Settings::from_vars(|_| None);
        let err = crate::runtime::block_on(ensure_base(&engine, &rocky9, &settings)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("image footloose/rocky9 is not available: it builds on rockylinux/rockylinux:9, which is not present and cannot be pulled ("),
            "{text}"
        );
        assert!(
            text.ends_with("footloose makes a base itself only for Debian (with mmdebstrap): pull or load rockylinux/rockylinux:9 into the engine, or build images/rocky9/Dockerfile where a registry is reachable"),
            "{text}"
        );
        // It asked the registry once and made nothing.
        let calls = memory.with(|s| s.calls.clone());
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("pull ")).count(),
            1,
            "{calls:?}"
        );
        assert!(!calls.iter().any(|c| c.starts_with("import")), "{calls:?}");
    }
}
