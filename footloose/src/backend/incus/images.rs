//! footloose's images on Incus: a root file system imported with a
//! metadata file, and a recipe made into an image by running it in a
//! container of the base and publishing that container.
//!
//! Incus has no builds. The recipe's script runs as the build container's
//! PID 1 (`lxc.init.cmd`), writes its output to the console, which is read
//! while it runs, and leaves a mark when it succeeded; the container then
//! stops and is published as the image. footloose's Debian bases already
//! hold the recipe's packages (mmdebstrap puts them in), so the build needs
//! no network, which a container without systemd would not have.
//!
//! An image's labels are its `properties`, except that its keys are always
//! copied in through the file API: Incus's `environment.*` keys cannot hold
//! a private key's line breaks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use hyper::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::client::{ApiError, Client};
use super::files;
use crate::archive::{self, Entry};
use crate::backend::seam::{BaseImage, ImageInfo, ImageRecipe, RootfsStream};
use crate::guest::KEYS_LABEL;

/// Where the build script is put in the build container, and the mark it
/// leaves when it succeeded.
const SCRIPT: &str = "/footloose-build.sh";
const DONE: &str = "/footloose-build.done";
/// How long a recipe may run.
const BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The Incus alias of an image reference: Docker's implicit `:latest`
/// left out (`footloose/debian12:latest` is `footloose/debian12`).
pub(crate) fn alias(reference: &str) -> &str {
    reference.strip_suffix(":latest").unwrap_or(reference)
}

#[derive(Debug, Deserialize)]
struct Alias {
    target: String,
}

#[derive(Debug, Deserialize)]
struct Image {
    fingerprint: String,
    #[serde(default, deserialize_with = "super::instances::nullable")]
    properties: HashMap<String, String>,
}

/// The image known by `reference`, `None` when there is none.
pub(super) async fn find(client: &Client, reference: &str) -> Result<Option<ImageInfo>, ApiError> {
    let path = format!("/1.0/images/aliases/{}", alias(reference));
    let Some(found) = client.find::<Alias>(&path).await? else {
        return Ok(None);
    };
    let Some(image) = client
        .find::<Image>(&format!("/1.0/images/{}", found.target))
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(ImageInfo {
        id: image.fingerprint,
        labels: image.properties,
    }))
}

/// Points the alias of `reference` at `fingerprint`, and removes the
/// image it pointed at before (an image rebuilt replaces the old one).
async fn name(client: &Client, reference: &str, fingerprint: &str) -> Result<(), ApiError> {
    let alias = alias(reference);
    let path = format!("/1.0/images/aliases/{alias}");
    match client.find::<Alias>(&path).await? {
        Some(old) if old.target == fingerprint => Ok(()),
        Some(old) => {
            client
                .call(
                    Method::PUT,
                    &path,
                    &json!({"target": fingerprint, "description": ""}),
                )
                .await?;
            let _ = client.delete(&format!("/1.0/images/{}", old.target)).await;
            Ok(())
        }
        None => client
            .call(
                Method::POST,
                "/1.0/images/aliases",
                &json!({"name": alias, "target": fingerprint}),
            )
            .await
            .map(drop),
    }
}

/// Imports the root file system `rootfs` (a tar stream) as the image
/// `reference`, with a metadata file that says what it is.
pub(super) async fn import(
    client: &Client,
    rootfs: RootfsStream,
    reference: &str,
) -> Result<(), ApiError> {
    let metadata = format!(
        "architecture: {}\ncreation_date: {}\nproperties:\n  description: {reference}\n",
        architecture(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    let metadata = archive::pack(&[Entry::file("metadata.yaml", 0o644, metadata.as_bytes())])
        .map_err(|e| ApiError::Transport(format!("cannot pack the metadata: {e}")))?;
    let boundary = format!(
        "footloose-{:016x}",
        rand_core::RngCore::next_u64(&mut rand_core::OsRng)
    );
    let part = |name: &str| {
        Bytes::from(format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.tar\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        ))
    };
    let head = [
        part("metadata"),
        Bytes::from(metadata),
        Bytes::from_static(b"\r\n"),
        part("rootfs"),
    ];
    let tail = Bytes::from(format!("\r\n--{boundary}--\r\n"));
    let body = futures_util::stream::iter(head.into_iter().map(Ok))
        .chain(rootfs)
        .chain(futures_util::stream::once(async move { Ok(tail) }));
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let done = client
        .upload_image(&content_type, &[], Box::pin(body))
        .await?;
    let fingerprint = done
        .get("fingerprint")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::Transport("the import did not say which image it made".to_owned())
        })?
        .to_owned();
    name(client, reference, &fingerprint).await
}

/// The architecture name Incus uses for this host's.
fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        other => other,
    }
}

/// The script the build container runs as PID 1: the recipe's packages
/// (those missing), footloose's set-up, then the mark.
fn build_script(recipe: &ImageRecipe<'_>) -> String {
    let mut script = String::from("#!/bin/sh\nexec >/dev/console 2>&1\nset -e\n");
    if let Some((manager, packages)) = &recipe.recipe.install {
        script.push_str(&manager.install_command(packages));
        script.push('\n');
    }
    script.push_str("cat > /usr/local/sbin/footloose-setup <<'FOOTLOOSE_SETUP'\n");
    script.push_str(recipe.recipe.setup_script);
    script.push_str("\nFOOTLOOSE_SETUP\nsh /usr/local/sbin/footloose-setup\nrm /usr/local/sbin/footloose-setup\n");
    script.push_str(&format!("touch {DONE}\n"));
    script
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum BuildError {
    /// The engine refused a step.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The recipe failed; its last lines say why.
    #[error("the recipe failed in the build container; its last output:\n{0}")]
    Failed(String),
    /// The recipe ran too long.
    #[error("the recipe did not finish within {} minutes", BUILD_TIMEOUT.as_secs() / 60)]
    TimedOut,
}

/// Makes the image of `recipe` (see the module documentation), handing
/// each line of the build's output to `on_line`.
pub(super) async fn build(
    client: &Client,
    recipe: ImageRecipe<'_>,
    on_line: &mut (dyn for<'l> FnMut(&'l str) + Send + '_),
) -> Result<(), BuildError> {
    let base = match recipe.base {
        BaseImage::Imported(name) | BaseImage::Named(name) => alias(name).to_owned(),
    };
    let builder = format!(
        "footloose-build-{:08x}",
        rand_core::RngCore::next_u32(&mut rand_core::OsRng)
    );
    let request = json!({
        "name": builder,
        "type": "container",
        "source": {"type": "image", "alias": base},
        "config": {
            "raw.lxc": format!("{}\nlxc.init.cmd = /bin/sh {SCRIPT}", super::instances::RAW_LXC),
            "user.footloose.managed": "true",
            "user.footloose.build": recipe.tag,
        },
        "start": false,
    });
    client
        .call(Method::POST, "/1.0/instances", &request)
        .await?;
    let built = run_and_publish(client, &builder, &recipe, on_line).await;
    // Stopped already, unless the build failed half-way.
    let _ = client
        .call(
            Method::PUT,
            &format!("/1.0/instances/{builder}/state"),
            &json!({"action": "stop", "force": true}),
        )
        .await;
    let removed = client.delete(&format!("/1.0/instances/{builder}")).await;
    let fingerprint = built?;
    removed?;
    name(client, recipe.tag, &fingerprint).await?;
    Ok(())
}

async fn run_and_publish(
    client: &Client,
    builder: &str,
    recipe: &ImageRecipe<'_>,
    on_line: &mut (dyn for<'l> FnMut(&'l str) + Send + '_),
) -> Result<String, BuildError> {
    let script = archive::pack(&[Entry::file(
        SCRIPT.trim_start_matches('/'),
        0o755,
        build_script(recipe).as_bytes(),
    )])
    .map_err(|e| ApiError::Transport(format!("cannot pack the build script: {e}")))?;
    files::unpack(client, builder, "/", &script).await?;
    let state = format!("/1.0/instances/{builder}/state");
    client
        .call(Method::PUT, &state, &json!({"action": "start"}))
        .await?;
    let started = Instant::now();
    let mut shown = 0;
    let console = loop {
        // The instance itself, not its `/state`: that one asks the
        // container's PID, and fails while the container stops.
        let status: Value = client.get(&format!("/1.0/instances/{builder}")).await?;
        let log = client
            .get_raw(&format!("/1.0/instances/{builder}/console"))
            .await
            .unwrap_or_default();
        let console = String::from_utf8_lossy(&log).into_owned();
        let lines: Vec<&str> = console.lines().collect();
        for line in lines.iter().skip(shown) {
            on_line(line);
        }
        shown = shown.max(lines.len());
        if status.get("status").and_then(Value::as_str) == Some("Stopped") {
            break console;
        }
        if started.elapsed() > BUILD_TIMEOUT {
            let _ = client
                .call(
                    Method::PUT,
                    &state,
                    &json!({"action": "stop", "force": true}),
                )
                .await;
            return Err(BuildError::TimedOut);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    if client.pull_file(builder, DONE).await?.is_none() {
        return Err(BuildError::Failed(crate::image::tail(&console, 15)));
    }
    for leftover in [SCRIPT, DONE] {
        let path = format!("/1.0/instances/{builder}/files?path={leftover}");
        client.delete(&path).await?;
    }
    let mut properties: HashMap<&str, &str> = recipe
        .labels
        .iter()
        .filter(|(key, _)| **key != KEYS_LABEL.0)
        .map(|(k, v)| (*k, *v))
        .collect();
    properties.insert("description", recipe.tag);
    let published = client
        .call(
            Method::POST,
            "/1.0/images",
            &json!({
                "source": {"type": "instance", "name": builder},
                "properties": properties,
                // The image stays on this daemon: packing it saves nothing.
                "compression_algorithm": "none",
            }),
        )
        .await?;
    published
        .get("fingerprint")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            BuildError::Api(ApiError::Transport(
                "the publish did not say which image it made".to_owned(),
            ))
        })
}

/// Removes the image `id` (a fingerprint, or an alias).
pub(super) async fn remove(client: &Client, id: &str) -> Result<(), ApiError> {
    let fingerprint = match client
        .find::<Alias>(&format!("/1.0/images/aliases/{}", alias(id)))
        .await?
    {
        Some(found) => found.target,
        None => id.to_owned(),
    };
    client.delete(&format!("/1.0/images/{fingerprint}")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_its_alias_without_latest() {
        assert_eq!(alias("footloose/debian12:latest"), "footloose/debian12");
        assert_eq!(alias("footloose/base:bookworm"), "footloose/base:bookworm");
    }

    #[test]
    fn the_build_script_runs_the_recipe_and_leaves_its_mark_last() {
        let recipe = crate::image::definition("debian12").unwrap().recipe();
        let image = ImageRecipe {
            tag: "footloose/debian12",
            base: BaseImage::Imported("footloose/base:bookworm"),
            recipe: &recipe,
            labels: HashMap::new(),
        };
        let script = build_script(&image);
        assert!(script.contains("apt-get"), "{script}");
        assert!(script.contains(recipe.setup_script.lines().last().unwrap()));
        assert!(
            script.trim_end().ends_with(&format!("touch {DONE}")),
            "{script}"
        );
    }
}
