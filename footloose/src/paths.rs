//! File-system paths footloose derives: `~` expansion and where per-user
//! state (image build locks) lives.

use std::path::{Path, PathBuf};

/// Expands a leading `~/` (or a lone `~`) to the home directory.
pub fn expand_tilde(path: &str) -> PathBuf {
    match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

/// Resolves `path` (as written in a config file) against the directory
/// holding the config file.
pub fn resolve(path: &str, config_dir: &Path) -> PathBuf {
    let expanded = expand_tilde(path);
    if expanded.is_absolute() {
        expanded
    } else {
        config_dir.join(expanded)
    }
}

/// A per-user directory for footloose's lock files.
pub fn lock_dir() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    base.join("footloose")
}

/// A directory only this user can reach, for the control sockets through
/// which `footloose ssh` reuses connections (anyone who can open such a
/// socket can log in): `$XDG_RUNTIME_DIR/footloose/ssh`, else
/// `/tmp/footloose-<uid>/ssh`. `None` when it cannot be made, or is not
/// owned by this user with no access for anyone else.
pub fn ssh_control_dir() -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let base = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir).join("footloose"),
        None => std::env::temp_dir().join(format!("footloose-{uid}")),
    };
    let mut private = std::fs::DirBuilder::new();
    private.recursive(true).mode(0o700);
    for dir in [&base, &base.join("ssh")] {
        private.create(dir).ok()?;
        let meta = std::fs::symlink_metadata(dir).ok()?;
        if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
            return None;
        }
    }
    Some(base.join("ssh"))
}

/// Where footloose keeps per-cluster state (the OpenSSH `known_hosts`):
/// `$XDG_STATE_HOME/footloose/<cluster>`, else `~/.local/state/footloose/<cluster>`.
pub fn state_dir(cluster: &str) -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("footloose").join(cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ssh_control_dir_is_private() {
        use std::os::unix::fs::MetadataExt;
        let dir = ssh_control_dir().expect("a private directory");
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(meta.mode() & 0o077, 0, "{}", dir.display());
    }

    #[test]
    fn resolves_relative_absolute_and_home_paths() {
        assert_eq!(resolve("k", Path::new("/p")), PathBuf::from("/p/k"));
        assert_eq!(resolve("/abs/k", Path::new("/p")), PathBuf::from("/abs/k"));
        let home = std::env::var("HOME").unwrap();
        assert_eq!(
            resolve("~/k", Path::new("/p")),
            PathBuf::from(home).join("k")
        );
    }
}
