//! The pool key: what makes two clusters interchangeable, so that a test
//! may take one made for another.

use sha2::{Digest, Sha256};

use crate::cluster::{generate_key, CreateRequest};
use crate::engine::Engine;
use crate::error::Result;
use crate::ClusterBuilder;
use std::path::Path;

/// The pool key of clusters made from `config` as `request` makes them:
/// a digest of everything a machine is made of (every machine's spec,
/// hostname included, the networks, the images by id, the client key by
/// fingerprint, where the config is, where ports are published), and of
/// nothing a test names (the cluster's name). `None` when an image is not
/// on the engine yet: the first, cold creation builds it.
///
/// The config is the builder's, before its network names are scoped to a
/// cluster; the cluster name in it is left out. Paths are taken as the
/// file system resolves them, so that `footloose pool fill -c FILE` and a
/// test naming the same file by another path fill one pool.
pub(crate) async fn pool_key(
    engine: &Engine,
    builder: &ClusterBuilder,
    request: &CreateRequest,
) -> Result<Option<String>> {
    let config = &builder.config;
    let mut neutral = config.clone();
    neutral.cluster.name = String::new();
    let mut digest = Sha256::new();
    let mut part = |name: &str, value: &str| {
        digest.update(name.as_bytes());
        digest.update([0]);
        digest.update(value.as_bytes());
        digest.update([0]);
    };
    part("footloose", env!("CARGO_PKG_VERSION"));
    part("record", &crate::record::RECORD_VERSION.to_string());
    part(
        "config",
        &serde_json::to_string(&neutral).unwrap_or_default(),
    );
    let resolved = |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let from = builder.config_path.as_deref().map(resolved);
    part("from", &format!("{from:?}"));
    part("dir", &resolved(&request.config_dir).to_string_lossy());
    // Made now if it is not there yet, as the cold path would make it.
    part("key", &generate_key(&request.key_path).await?.fingerprint());
    part(
        "publish",
        &format!(
            "{:?}/{:?}",
            request.publish_address, request.settings.publish_address
        ),
    );
    let mut images: Vec<String> = config.machines().map(|m| m.spec.image).collect();
    images.sort_unstable();
    images.dedup();
    for image in images {
        match engine.backend().image(&image).await? {
            Some(info) => part(&image, &info.id),
            None => return Ok(None),
        }
    }
    let hex: String = digest
        .finalize()
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Ok(Some(hex))
}
