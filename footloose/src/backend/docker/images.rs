//! Images over the Docker API: inspect, pull, import, build, remove.

use std::collections::HashMap;

use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateImageOptionsBuilder, RemoveImageOptions,
};
use bollard::Docker;
use futures_util::{StreamExt, TryStreamExt};

use super::dockerfile;
use super::refusal::{error, found};
use crate::backend::seam::{ImageInfo, ImageRecipe, RootfsStream};
use crate::error::Result;
use crate::host::Flavour;

pub(super) async fn inspect(
    docker: &Docker,
    flavour: Flavour,
    reference: &str,
) -> Result<Option<ImageInfo>> {
    found(
        docker
            .inspect_image(reference)
            .await
            .map(|image| ImageInfo {
                id: image.id.unwrap_or_default(),
                labels: image.config.and_then(|c| c.labels).unwrap_or_default(),
            })
            .map_err(|e| error(flavour, format!("inspecting image {reference}"), e)),
    )
}

pub(super) async fn pull(docker: &Docker, flavour: Flavour, reference: &str) -> Result<()> {
    let options = CreateImageOptionsBuilder::default()
        .from_image(reference)
        .build();
    docker
        .create_image(Some(options), None, None)
        .try_for_each(|_| async { Ok(()) })
        .await
        .map_err(|e| error(flavour, format!("pulling {reference}"), e))
}

pub(super) async fn import(
    docker: &Docker,
    flavour: Flavour,
    rootfs: RootfsStream,
    reference: &str,
) -> Result<()> {
    // A base runs a shell when run by hand (`docker run -it BASE`).
    let options = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(reference)
        .changes(vec!["CMD [\"/bin/bash\"]".to_owned()])
        .build();
    docker
        .create_image(Some(options), Some(bollard::body_try_stream(rootfs)), None)
        .try_collect::<Vec<_>>()
        .await
        .map(|_| ())
        .map_err(|e| error(flavour, format!("importing {reference}"), e))
}

/// Builds the Dockerfile of `recipe` on `base` (the name `FROM` uses).
pub(super) async fn build(
    docker: &Docker,
    flavour: Flavour,
    recipe: &ImageRecipe<'_>,
    base: &str,
    on_line: &mut (dyn FnMut(&str) + Send + '_),
) -> Result<()> {
    let context = dockerfile::context(recipe.recipe)?;
    let build_args = HashMap::from([("BASE", base)]);
    let options = BuildImageOptionsBuilder::default()
        .dockerfile(dockerfile::PATH)
        .t(recipe.tag)
        .buildargs(&build_args)
        .labels(&recipe.labels)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| error(flavour, format!("building {}", recipe.tag), e))?;
        if let Some(line) = info.stream {
            on_line(&line);
        }
    }
    Ok(())
}

pub(super) async fn remove(docker: &Docker, flavour: Flavour, id: &str) -> Result<()> {
    docker
        .remove_image(id, None::<RemoveImageOptions>, None)
        .await
        .map(|_| ())
        .map_err(|e| error(flavour, format!("removing image {id}"), e))
}
