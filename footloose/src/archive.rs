//! In-memory tar archives of a few files, owned by root: how files reach a
//! container before it starts, and how a build context reaches the engine.

/// One entry of an archive.
pub(crate) struct Entry<'a> {
    path: &'a str,
    mode: u32,
    /// `None` for a directory.
    contents: Option<&'a [u8]>,
    /// Where a symbolic link points; `None` for anything else.
    link: Option<&'a str>,
}

impl<'a> Entry<'a> {
    /// A file with `contents` and permission bits `mode`.
    pub(crate) fn file(path: &'a str, mode: u32, contents: &'a [u8]) -> Entry<'a> {
        Entry {
            path,
            mode,
            contents: Some(contents),
            link: None,
        }
    }

    /// A directory with permission bits `mode`.
    pub(crate) fn dir(path: &'a str, mode: u32) -> Entry<'a> {
        Entry {
            path,
            mode,
            contents: None,
            link: None,
        }
    }

    /// A symbolic link at `path` to `target`.
    pub(crate) fn symlink(path: &'a str, target: &'a str) -> Entry<'a> {
        Entry {
            path,
            mode: 0o777,
            contents: None,
            link: Some(target),
        }
    }
}

/// The tar archive of `entries`, in order, owned by uid and gid 0.
pub(crate) fn pack(entries: &[Entry<'_>]) -> std::io::Result<Vec<u8>> {
    let mut archive = tar::Builder::new(Vec::new());
    for entry in entries {
        let data = entry.contents.unwrap_or_default();
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(match (entry.contents, entry.link) {
            (_, Some(_)) => tar::EntryType::Symlink,
            (Some(_), None) => tar::EntryType::Regular,
            (None, None) => tar::EntryType::Directory,
        });
        header.set_size(data.len() as u64);
        header.set_mode(entry.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        match entry.link {
            Some(target) => archive.append_link(&mut header, entry.path, target)?,
            None => {
                header.set_cksum();
                archive.append_data(&mut header, entry.path, data)?
            }
        }
    }
    archive.into_inner()
}

/// The first entry of an archive the engine sent for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unpacked {
    /// A regular file and its contents.
    File(Vec<u8>),
    /// A symbolic link and where it points.
    Link(String),
    /// Anything else (a directory, a device).
    Other,
}

/// The first entry of `tar`, `None` for an empty archive.
pub(crate) fn first_entry(tar: &[u8]) -> std::io::Result<Option<Unpacked>> {
    use std::io::Read;
    let mut archive = tar::Archive::new(tar);
    let Some(entry) = archive.entries()?.next() else {
        return Ok(None);
    };
    let mut entry = entry?;
    let kind = entry.header().entry_type();
    Ok(Some(if kind.is_symlink() {
        let target = entry.link_name()?.unwrap_or_default();
        Unpacked::Link(target.to_string_lossy().into_owned())
    } else if kind.is_file() {
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents)?;
        Unpacked::File(contents)
    } else {
        Unpacked::Other
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_files_and_directories_with_their_modes() {
        let bytes = pack(&[Entry::dir("d", 0o700), Entry::file("d/f", 0o600, b"hi")]).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let found: Vec<(String, u32, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.size().unwrap(),
                )
            })
            .collect();
        assert_eq!(found, [("d".into(), 0o700, 0), ("d/f".into(), 0o600, 2)]);
    }
}
