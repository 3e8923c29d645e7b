//! Images over the Docker API: inspect, pull, import, build, remove.

use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateImageOptionsBuilder, RemoveImageOptions,
};
use bollard::Docker;
use futures_util::{StreamExt, TryStreamExt};

use super::refusal::{error, found};
use crate::backend::seam::{ImageBuild, ImageInfo, RootfsStream};
use crate::error::Result;

pub(super) async fn inspect(docker: &Docker, reference: &str) -> Result<Option<ImageInfo>> {
    found(
        docker
            .inspect_image(reference)
            .await
            .map(|image| ImageInfo {
                id: image.id.unwrap_or_default(),
                labels: image.config.and_then(|c| c.labels).unwrap_or_default(),
            })
            .map_err(|e| error(format!("inspecting image {reference}"), e)),
    )
}

pub(super) async fn pull(docker: &Docker, reference: &str) -> Result<()> {
    let options = CreateImageOptionsBuilder::default()
        .from_image(reference)
        .build();
    docker
        .create_image(Some(options), None, None)
        .try_for_each(|_| async { Ok(()) })
        .await
        .map_err(|e| error(format!("pulling {reference}"), e))
}

pub(super) async fn import(
    docker: &Docker,
    rootfs: RootfsStream,
    reference: &str,
    changes: Vec<String>,
) -> Result<()> {
    let options = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(reference)
        .changes(changes)
        .build();
    docker
        .create_image(Some(options), Some(bollard::body_try_stream(rootfs)), None)
        .try_collect::<Vec<_>>()
        .await
        .map(|_| ())
        .map_err(|e| error(format!("importing {reference}"), e))
}

pub(super) async fn build(
    docker: &Docker,
    build: ImageBuild<'_>,
    on_line: &mut (dyn FnMut(&str) + Send + '_),
) -> Result<()> {
    let options = BuildImageOptionsBuilder::default()
        .dockerfile(build.dockerfile)
        .t(build.tag)
        .buildargs(&build.build_args)
        .labels(&build.labels)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = docker.build_image(
        options,
        None,
        Some(bollard::body_full(build.context.into())),
    );
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| error(format!("building {}", build.tag), e))?;
        if let Some(line) = info.stream {
            on_line(&line);
        }
    }
    Ok(())
}

pub(super) async fn remove(docker: &Docker, id: &str) -> Result<()> {
    docker
        .remove_image(id, None::<RemoveImageOptions>, None)
        .await
        .map(|_| ())
        .map_err(|e| error(format!("removing image {id}"), e))
}
