//! Files in and out of an instance through Incus's file API, which works
//! on a stopped instance too (footloose hands a machine its keys before
//! its first start). The seam speaks tar archives, as Docker's archive
//! API does: an archive is unpacked entry by entry, and a path read back
//! is packed as one.

use std::io::Read;

use bytes::Bytes;

use super::client::{ApiError, Client};

/// Unpacks the tar archive `tar` at `at` in `instance`: directories,
/// files and symbolic links, with their modes and owners.
pub(super) async fn unpack(
    client: &Client,
    instance: &str,
    at: &str,
    tar: &[u8],
) -> Result<(), ApiError> {
    let pushes =
        read(at, tar).map_err(|e| ApiError::Transport(format!("unreadable archive: {e}")))?;
    for push in pushes {
        client
            .push_file(instance, &push.path, &push.headers, push.content)
            .await?;
    }
    Ok(())
}

/// One path to write through the file API.
struct Push {
    path: String,
    headers: Vec<(&'static str, String)>,
    content: Bytes,
}

/// The pushes that unpack `tar` at `at`, in the archive's order.
fn read(at: &str, tar: &[u8]) -> std::io::Result<Vec<Push>> {
    let mut pushes = Vec::new();
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let header = entry.header().clone();
        let relative = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_owned();
        if relative.is_empty() {
            continue;
        }
        let path = format!("{}/{relative}", at.trim_end_matches('/'));
        let mut headers = vec![
            ("X-Incus-uid", header.uid().unwrap_or(0).to_string()),
            ("X-Incus-gid", header.gid().unwrap_or(0).to_string()),
            (
                "X-Incus-mode",
                format!("{:04o}", header.mode().unwrap_or(0o644) & 0o7777),
            ),
            // Replace what is there: the archive's file wins.
            ("X-Incus-write", "overwrite".to_owned()),
        ];
        let content = match header.entry_type() {
            tar::EntryType::Directory => {
                headers.push(("X-Incus-type", "directory".to_owned()));
                Bytes::new()
            }
            tar::EntryType::Symlink => {
                headers.push(("X-Incus-type", "symlink".to_owned()));
                let target = entry
                    .link_name()?
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Bytes::from(target)
            }
            _ => {
                headers.push(("X-Incus-type", "file".to_owned()));
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes)?;
                Bytes::from(bytes)
            }
        };
        pushes.push(Push {
            path,
            headers,
            content,
        });
    }
    Ok(pushes)
}

/// The tar archive of `path` in `instance` (a file or a symbolic link, as
/// itself), `None` when there is no such path.
pub(super) async fn pack(
    client: &Client,
    instance: &str,
    path: &str,
) -> Result<Option<Vec<u8>>, ApiError> {
    let Some((content, headers)) = client.pull_file(instance, path).await? else {
        return Ok(None);
    };
    let header_text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    let mode = u32::from_str_radix(&header_text("x-incus-mode"), 8).unwrap_or(0o644);
    let mut header = tar::Header::new_gnu();
    header.set_mode(mode);
    header.set_uid(header_text("x-incus-uid").parse().unwrap_or(0));
    header.set_gid(header_text("x-incus-gid").parse().unwrap_or(0));
    let mut builder = tar::Builder::new(Vec::new());
    let packed = match header_text("x-incus-type").as_str() {
        "symlink" => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            let target = String::from_utf8_lossy(&content).trim_end().to_owned();
            builder.append_link(&mut header, name, target)
        }
        "directory" => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            builder.append_data(&mut header, format!("{name}/"), std::io::empty())
        }
        _ => {
            header.set_size(content.len() as u64);
            builder.append_data(&mut header, name, &content[..])
        }
    };
    packed
        .and_then(|()| builder.into_inner())
        .map(Some)
        .map_err(|e| ApiError::Transport(format!("cannot pack {path}: {e}")))
}
