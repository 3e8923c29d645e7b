//! File-system paths footloose derives: `~` expansion and where per-user
//! state (image build locks) lives.
//!
//! Each depends on the environment (`HOME`, `XDG_RUNTIME_DIR`,
//! `XDG_STATE_HOME`): the methods of [`Settings`] derive them from the
//! settings they are given, and the functions here, for callers that
//! have none, from [`Settings::from_env`].

use std::path::{Path, PathBuf};

use crate::Settings;

/// Expands a leading `~/` (or a lone `~`) to the home directory (`HOME`
/// as [`Settings::from_env`] reads it; see [`Settings::expand_tilde`]).
///
/// ```
/// let key = footloose::paths::expand_tilde("/etc/key");
/// assert_eq!(key, std::path::PathBuf::from("/etc/key"));
/// ```
pub fn expand_tilde(path: &str) -> PathBuf {
    Settings::from_env().expand_tilde(path)
}

/// Resolves `path` (as written in a config file) against the directory
/// holding the config file (see [`Settings::resolve_path`]).
///
/// ```
/// use std::path::{Path, PathBuf};
///
/// let key = footloose::paths::resolve("cluster-key", Path::new("/work"));
/// assert_eq!(key, PathBuf::from("/work/cluster-key"));
/// ```
pub fn resolve(path: &str, config_dir: &Path) -> PathBuf {
    Settings::from_env().resolve_path(path, config_dir)
}

/// A per-user directory for footloose's lock files (see
/// [`Settings::lock_dir`]).
pub fn lock_dir() -> PathBuf {
    Settings::from_env().lock_dir()
}

/// The private directory of `footloose ssh`'s control sockets (see
/// [`Settings::ssh_control_dir`]).
pub fn ssh_control_dir() -> Option<PathBuf> {
    Settings::from_env().ssh_control_dir()
}

/// Where footloose keeps per-cluster state (see [`Settings::state_dir`]).
pub fn state_dir(cluster: &str) -> PathBuf {
    Settings::from_env().state_dir(cluster)
}

impl Settings {
    /// Expands a leading `~/` (or a lone `~`) to [`home`](Self::home);
    /// other paths, and every path when `HOME` is not set, stay as they are.
    ///
    /// ```
    /// let settings = footloose::Settings::from_vars(|name| (name == "HOME").then(|| "/home/me".into()));
    /// assert_eq!(settings.expand_tilde("~/key"), std::path::PathBuf::from("/home/me/key"));
    /// assert_eq!(settings.expand_tilde("~other/key"), std::path::PathBuf::from("~other/key"));
    /// ```
    pub fn expand_tilde(&self, path: &str) -> PathBuf {
        match (path.strip_prefix('~'), &self.home) {
            (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
                home.join(rest.trim_start_matches('/'))
            }
            _ => PathBuf::from(path),
        }
    }

    /// Resolves `path` (as written in a config file) against the directory
    /// holding the config file, after [`expand_tilde`](Self::expand_tilde).
    pub fn resolve_path(&self, path: &str, config_dir: &Path) -> PathBuf {
        let expanded = self.expand_tilde(path);
        if expanded.is_absolute() {
            expanded
        } else {
            config_dir.join(expanded)
        }
    }

    /// The temporary directory: [`tmpdir`](Self::tmpdir) (`TMPDIR`), else
    /// `/tmp`, as [`std::env::temp_dir`] finds it.
    ///
    /// ```
    /// let settings = footloose::Settings::from_vars(|_| None);
    /// assert_eq!(settings.temp_dir(), std::path::PathBuf::from("/tmp"));
    /// ```
    pub fn temp_dir(&self) -> PathBuf {
        self.tmpdir.clone().unwrap_or_else(|| PathBuf::from("/tmp"))
    }

    /// A per-user directory for footloose's lock files:
    /// `$XDG_RUNTIME_DIR/footloose`, else `footloose` in the temporary
    /// directory.
    pub fn lock_dir(&self) -> PathBuf {
        let base = self.runtime_dir.clone().unwrap_or_else(|| self.temp_dir());
        base.join("footloose")
    }

    /// A directory only this user can reach, for the control sockets
    /// through which `footloose ssh` reuses connections (anyone who can
    /// open such a socket can log in): `$XDG_RUNTIME_DIR/footloose/ssh`,
    /// else `/tmp/footloose-<uid>/ssh`. `None` when it cannot be made, or
    /// is not owned by this user with no access for anyone else.
    pub fn ssh_control_dir(&self) -> Option<PathBuf> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        let base = match &self.runtime_dir {
            Some(dir) => dir.join("footloose"),
            None => self.temp_dir().join(format!("footloose-{uid}")),
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

    /// Where footloose keeps per-cluster state (the OpenSSH `known_hosts`,
    /// the Ansible inventory): `$XDG_STATE_HOME/footloose/<cluster>`, else
    /// `~/.local/state/footloose/<cluster>`, else in the temporary
    /// directory.
    ///
    /// ```
    /// let settings = footloose::Settings::from_vars(|name| (name == "HOME").then(|| "/home/me".into()));
    /// assert_eq!(
    ///     settings.state_dir("demo"),
    ///     std::path::PathBuf::from("/home/me/.local/state/footloose/demo")
    /// );
    /// ```
    pub fn state_dir(&self, cluster: &str) -> PathBuf {
        let base = self
            .state_home
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".local/state")))
            .unwrap_or_else(|| self.temp_dir());
        base.join("footloose").join(cluster)
    }
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

    #[test]
    fn state_prefers_xdg_state_home_then_home() {
        let settings = Settings::from_vars(|name| match name {
            "XDG_STATE_HOME" => Some("/state".into()),
            "HOME" => Some("/home/me".into()),
            _ => None,
        });
        assert_eq!(settings.state_dir("c"), PathBuf::from("/state/footloose/c"));
        let runtime =
            Settings::from_vars(|name| (name == "XDG_RUNTIME_DIR").then(|| "/run/u".into()));
        assert_eq!(runtime.lock_dir(), PathBuf::from("/run/u/footloose"));
    }
}
