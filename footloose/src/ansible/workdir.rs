//! The directory of this test process's role links and installed
//! requirements: made once, held by an `flock` for the process's life, and
//! removed by a later process once its owner is gone.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The directory of this process's links and installed requirements,
/// under `<runtime dir>/footloose/ansible/` (the lock directory of the
/// first call's `settings`: one per process). This process holds an `flock`
/// on its `.lock` for as long as it lives; a directory whose lock can be
/// taken belongs to a process that is gone (in any pid namespace of this
/// kernel) and is removed when this one is first made.
pub(crate) fn process_dir(settings: &crate::Settings) -> Result<PathBuf> {
    struct Held {
        path: PathBuf,
        // Open, and locked, until the process ends.
        _lock: std::fs::File,
    }
    static DIR: once_cell::sync::OnceCell<Held> = once_cell::sync::OnceCell::new();
    let held = DIR.get_or_try_init(|| {
        let base = settings.lock_dir().join("ansible");
        std::fs::create_dir_all(&base).map_err(|e| Error::io("cannot create", &base, e))?;
        remove_abandoned(&base);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("{}-{nanos:x}", std::process::id());
        // Made under a hidden name, which the clean-up skips, and renamed
        // once locked: no other process sees it unlocked.
        let making = base.join(format!(".{name}"));
        std::fs::create_dir_all(&making).map_err(|e| Error::io("cannot create", &making, e))?;
        let lock = lock_file(&making.join(".lock"), true)
            .map_err(|e| Error::io("cannot lock", making.join(".lock"), e))?;
        let path = base.join(name);
        std::fs::rename(&making, &path).map_err(|e| Error::io("cannot rename", &making, e))?;
        Ok::<Held, Error>(Held { path, _lock: lock })
    })?;
    Ok(held.path.clone())
}

/// Opens `path` and takes an exclusive `flock` on it, waiting for it when
/// `wait`; `Err` when another process holds it and `wait` is false.
fn lock_file(path: &Path, wait: bool) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    let mode = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    // SAFETY: flock on a file descriptor this function owns.
    if unsafe { libc::flock(file.as_raw_fd(), mode) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

/// Removes the directories in `base` of processes that are gone: those
/// whose `.lock` this process can lock.
fn remove_abandoned(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let dir = entry.path();
        let lock = dir.join(".lock");
        if !lock.exists() {
            continue;
        }
        if let Ok(_held) = lock_file(&lock, false) {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// A short hex digest of `parts`, each length-prefixed.
pub(crate) fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_directories_of_processes_that_are_gone_are_removed() {
        let base = tempfile::tempdir().unwrap();
        let dir = |name: &str| {
            let dir = base.path().join(name);
            std::fs::create_dir_all(dir.join("roles")).unwrap();
            dir
        };
        let alive = dir("1-a");
        let _held = lock_file(&alive.join(".lock"), true).unwrap();
        let gone = dir("2-b");
        std::fs::write(gone.join(".lock"), b"").unwrap();
        let making = dir(".3-c");
        remove_abandoned(base.path());
        assert!(alive.exists() && making.exists());
        assert!(!gone.exists());
    }
}
