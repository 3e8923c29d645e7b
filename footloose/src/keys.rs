//! ssh keys: the cluster's client key pair (generated when missing) and a
//! fresh host key for every machine.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rand_core::OsRng;
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey};

use crate::error::{Error, Result};

/// The cluster's client key pair, as files.
///
/// ```no_run
/// let key = footloose::ClientKey::load_or_generate("target/cluster-key".as_ref())?;
/// assert_eq!(key.private_path, std::path::Path::new("target/cluster-key"));
/// assert!(key.public.starts_with("ssh-ed25519 "));
/// # Ok::<(), footloose::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientKey {
    /// The private key file (mode 0600).
    pub private_path: PathBuf,
    /// The public key, one OpenSSH line.
    pub public: String,
}

impl ClientKey {
    /// Loads the key pair at `private_path`, generating an ed25519 pair when
    /// the private file does not exist. Safe when several processes race:
    /// the first to link its file wins and the others read it.
    ///
    /// ```no_run
    /// let key = footloose::ClientKey::load_or_generate("target/cluster-key".as_ref())?;
    /// println!("{} ({})", key.private_path.display(), key.fingerprint());
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn load_or_generate(private_path: &Path) -> Result<ClientKey> {
        let key_error = |reason: String| Error::Key {
            path: private_path.to_owned(),
            reason,
        };
        if !private_path.exists() {
            generate_into(private_path).map_err(|e| key_error(e.to_string()))?;
        }
        let private = PrivateKey::read_openssh_file(private_path).map_err(|e| {
            key_error(format!(
                "cannot read it as an OpenSSH private key ({e}); footloose needs an unencrypted key"
            ))
        })?;
        if private.is_encrypted() {
            return Err(key_error(
                "it is passphrase-protected; footloose needs an unencrypted key".into(),
            ));
        }
        let public = private
            .public_key()
            .to_openssh()
            .map_err(|e| key_error(e.to_string()))?;
        let public_path = public_path_of(private_path);
        if !public_path.exists() {
            fs::write(&public_path, format!("{public}\n"))
                .map_err(|e| Error::io("cannot write", &public_path, e))?;
        }
        Ok(ClientKey {
            private_path: private_path.to_owned(),
            public,
        })
    }
}

impl ClientKey {
    /// Loads the key pair at `private_path` when the file exists.
    ///
    /// ```no_run
    /// if footloose::ClientKey::load_existing("cluster-key".as_ref())?.is_none() {
    ///     println!("the first create makes the key");
    /// }
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn load_existing(private_path: &Path) -> Result<Option<ClientKey>> {
        if private_path.exists() {
            ClientKey::load_or_generate(private_path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The public key's SHA-256 fingerprint, as `ssh-keygen -l` prints it.
    ///
    /// ```no_run
    /// let key = footloose::ClientKey::load_or_generate("target/cluster-key".as_ref())?;
    /// assert!(key.fingerprint().starts_with("SHA256:"));
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public).unwrap_or_default()
    }
}

/// The SHA-256 fingerprint (`SHA256:…`) of an OpenSSH public key line.
pub fn fingerprint(public: &str) -> Option<String> {
    PublicKey::from_openssh(public)
        .ok()
        .map(|key| key.fingerprint(HashAlg::Sha256).to_string())
}

/// `<private>.pub`.
///
/// ```
/// use std::path::Path;
///
/// assert_eq!(footloose::public_path_of(Path::new("keys/id")), Path::new("keys/id.pub"));
/// ```
pub fn public_path_of(private_path: &Path) -> PathBuf {
    let mut name = private_path.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

fn generate_into(private_path: &Path) -> std::io::Result<()> {
    let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).map_err(std::io::Error::other)?;
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(std::io::Error::other)?;
    let public = key
        .public_key()
        .to_openssh()
        .map_err(std::io::Error::other)?;
    if let Some(dir) = private_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    // Unique per process and call: threads of one process race here too.
    let temp = private_path.with_extension(format!(
        "tmp.{}.{:08x}",
        std::process::id(),
        rand_core::RngCore::next_u32(&mut OsRng)
    ));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    fs::write(public_path_of(&temp), format!("{public}\n"))?;
    // hard_link fails if the target exists: exactly one racer installs its key.
    let linked = fs::hard_link(&temp, private_path);
    if linked.is_ok() {
        let _ = fs::rename(public_path_of(&temp), public_path_of(private_path));
    }
    let _ = fs::remove_file(&temp);
    let _ = fs::remove_file(public_path_of(&temp));
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// A machine's ssh host key pair.
#[derive(Clone)]
pub struct HostKey {
    /// The private key in OpenSSH format, written into the machine.
    pub private: String,
    /// The public key, one OpenSSH line: pinned by footloose.
    pub public: String,
}

impl std::fmt::Debug for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl HostKey {
    /// A new ed25519 host key.
    pub fn generate() -> Result<HostKey> {
        let fail = |source: ssh_key::Error| Error::HostKey { source };
        let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).map_err(fail)?;
        Ok(HostKey {
            private: key.to_openssh(LineEnding::LF).map_err(fail)?.to_string(),
            public: key.public_key().to_openssh().map_err(fail)?,
        })
    }
}

/// Whether the raw key blob a server presented is the pinned OpenSSH
/// public key `pinned`.
pub fn host_key_matches(presented: &[u8], pinned: &str) -> bool {
    match (
        PublicKey::from_bytes(presented),
        PublicKey::from_openssh(pinned),
    ) {
        (Ok(presented), Ok(pinned)) => presented.key_data() == pinned.key_data(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generates_a_private_0600_key_once_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/cluster-key");
        let first = ClientKey::load_or_generate(&path).unwrap();
        assert!(first.public.starts_with("ssh-ed25519 "));
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let public_file = fs::read_to_string(public_path_of(&path)).unwrap();
        assert_eq!(public_file.trim(), first.public);
        let second = ClientKey::load_or_generate(&path).unwrap();
        assert_eq!(first.public, second.public);
        assert!(first.fingerprint().starts_with("SHA256:"));
        assert_eq!(first.fingerprint(), second.fingerprint());
    }

    #[test]
    fn racing_threads_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("raced-key");
        let keys: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| ClientKey::load_or_generate(&path).unwrap().public))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "only the key and its .pub remain");
    }

    #[test]
    fn a_garbage_key_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        fs::write(&path, "not a key").unwrap();
        let err = ClientKey::load_or_generate(&path).unwrap_err().to_string();
        assert!(
            err.contains("cannot read it as an OpenSSH private key"),
            "{err}"
        );
    }

    #[test]
    fn host_keys_match_only_themselves() {
        let a = HostKey::generate().unwrap();
        let b = HostKey::generate().unwrap();
        let blob = PublicKey::from_openssh(&a.public)
            .unwrap()
            .to_bytes()
            .unwrap();
        assert!(host_key_matches(&blob, &a.public));
        assert!(!host_key_matches(&blob, &b.public));
    }
}
