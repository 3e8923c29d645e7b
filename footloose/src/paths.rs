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
