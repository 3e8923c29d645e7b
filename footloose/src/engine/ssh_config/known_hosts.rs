//! OpenSSH's `known_hosts` files, read as sshd(8) describes them (section
//! SSH_KNOWN_HOSTS FILE FORMAT): `[@marker] hosts keytype base64-key
//! [comment]`, hosts a comma-separated list of patterns (`*`, `?`,
//! `!negation`, `[host]:port`) or one hashed name (`|1|salt|hash`,
//! HMAC-SHA1, as `HashKnownHosts yes` writes them).
//!
//! footloose reads these lines itself rather than through libssh2, whose
//! check also takes a plain `host` line for a non-22 port, ignores the key
//! type (a host known by another type of key then looks "changed"), and
//! knows no patterns or `@revoked`. `@cert-authority` lines are skipped:
//! libssh2 cannot check host certificates. A line that cannot be read is
//! skipped, as OpenSSH skips it.

use std::path::{Path, PathBuf};

use base64ct::{Base64, Base64Unpadded, Encoding};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::pattern;

/// What the known-hosts files say about a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A line for the host has this key.
    Known,
    /// A `@revoked` line has this key (`file:line`).
    Revoked(String),
    /// The host is known with another key of the same type (`file:line`).
    Changed(String),
    /// No line for the host has this key; `other_types` are the key types
    /// the host is known by instead.
    Unknown { other_types: Vec<String> },
}

/// The name a host key is looked up by: `alias` as written (OpenSSH adds
/// no port to a `HostKeyAlias`), else `host`, as `[host]:port` when the
/// port is not 22; in lower case, as OpenSSH looks names up.
pub(crate) fn lookup_name(host: &str, port: u16, alias: Option<&str>) -> String {
    let name = match alias {
        Some(alias) => alias.to_owned(),
        None if port == 22 => host.to_owned(),
        None => format!("[{host}]:{port}"),
    };
    name.to_ascii_lowercase()
}

/// Judges `key` (the wire encoding the server sent) for `name` by the
/// lines of `files`.
pub(crate) fn check(files: &[PathBuf], name: &str, key: &[u8]) -> Verdict {
    let entries = entries_for(files, name);
    if let Some(revoked) = entries
        .iter()
        .find(|e| e.marker == Marker::Revoked && e.blob == key)
    {
        return Verdict::Revoked(revoked.at.clone());
    }
    let plain = || entries.iter().filter(|e| e.marker == Marker::None);
    if plain().any(|e| e.blob == key) {
        return Verdict::Known;
    }
    let presented = key_type(key);
    if let Some(changed) = plain().find(|e| presented.is_some() && key_type(&e.blob) == presented) {
        return Verdict::Changed(changed.at.clone());
    }
    Verdict::Unknown {
        other_types: known_types(files, name),
    }
}

/// The key types the files know `name` by, for preferring them in the
/// key exchange (as OpenSSH does, so that a host with several keys shows
/// the one that is known).
pub(crate) fn known_types(files: &[PathBuf], name: &str) -> Vec<String> {
    let mut types = Vec::new();
    for entry in entries_for(files, name) {
        if entry.marker != Marker::None {
            continue;
        }
        if let Some(key_type) = key_type(&entry.blob) {
            if !types.contains(&key_type) {
                types.push(key_type);
            }
        }
    }
    types
}

/// The type a key's wire encoding starts with (`ssh-ed25519`).
pub(crate) fn key_type(blob: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let name = blob.get(4..4 + len)?;
    String::from_utf8(name.to_vec()).ok()
}

/// `SHA256:…`, as `ssh-keygen -l` prints it.
pub(crate) fn fingerprint(blob: &[u8]) -> String {
    format!(
        "SHA256:{}",
        Base64Unpadded::encode_string(&Sha256::digest(blob))
    )
}

/// The line that makes `key` known for `name`.
pub(crate) fn line_for(name: &str, key: &[u8]) -> String {
    format!(
        "{name} {} {}",
        key_type(key).unwrap_or_default(),
        Base64::encode_string(key)
    )
}

/// The marker of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

/// One line of a known-hosts file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    marker: Marker,
    hosts: String,
    blob: Vec<u8>,
    /// `file:line`.
    at: String,
}

/// The lines of `files` whose hosts take in `name`; a file that does not
/// exist has none, one that cannot be read is skipped with a warning.
fn entries_for(files: &[PathBuf], name: &str) -> Vec<Entry> {
    let mut found = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                tracing::warn!("cannot read the known hosts in {}: {e}", file.display());
                continue;
            }
        };
        found.extend(
            parse_file(file, &text)
                .into_iter()
                .filter(|entry| hosts_match(&entry.hosts, name)),
        );
    }
    found
}

/// The lines of a file that can be read.
fn parse_file(file: &Path, text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let at = format!("{}:{}", file.display(), index + 1);
        match parse_line(line, &at) {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {}
            Err(e) => tracing::debug!("{at}: skipped: {e}"),
        }
    }
    entries
}

/// Why a known-hosts line is skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum LineError {
    #[error("unknown marker {0}")]
    Marker(String),
    #[error("no hosts")]
    NoHosts,
    #[error("no key type")]
    NoKeyType,
    #[error("no key")]
    NoKey,
    #[error("the key is not base64")]
    NotBase64,
}

/// One line: `None` for blank lines and comments.
fn parse_line(line: &str, at: &str) -> Result<Option<Entry>, LineError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next().unwrap_or_default();
    let marker = match first {
        "@revoked" => Marker::Revoked,
        "@cert-authority" => Marker::CertAuthority,
        other if other.starts_with('@') => return Err(LineError::Marker(other.to_owned())),
        _ => Marker::None,
    };
    if marker != Marker::None {
        first = fields.next().ok_or(LineError::NoHosts)?;
    }
    let _type = fields.next().ok_or(LineError::NoKeyType)?;
    let key = fields.next().ok_or(LineError::NoKey)?;
    let blob = Base64::decode_vec(key).map_err(|_| LineError::NotBase64)?;
    Ok(Some(Entry {
        marker,
        hosts: first.to_owned(),
        blob,
        at: at.to_owned(),
    }))
}

/// Whether a line's hosts field takes in `name`: a hashed name, or a
/// pattern list of which one matches and no negated one does.
fn hosts_match(hosts: &str, name: &str) -> bool {
    if let Some(hashed) = hosts.strip_prefix("|1|") {
        return hashed_matches(hashed, name);
    }
    pattern::list_matches(hosts.to_ascii_lowercase().split(','), name)
}

/// `salt|hash`, both base64: HMAC-SHA1 of `name` keyed by the salt.
fn hashed_matches(hashed: &str, name: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (Base64::decode_vec(salt), Base64::decode_vec(hash)) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire encoding of a key of `key_type` with body `body`.
    fn blob(key_type: &str, body: &[u8]) -> Vec<u8> {
        let mut blob = (key_type.len() as u32).to_be_bytes().to_vec();
        blob.extend_from_slice(key_type.as_bytes());
        blob.extend_from_slice(&(body.len() as u32).to_be_bytes());
        blob.extend_from_slice(body);
        blob
    }

    fn b64(blob: &[u8]) -> String {
        Base64::encode_string(blob)
    }

    /// A file of `lines`, and its path list.
    fn files(lines: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        std::fs::write(&file, lines).unwrap();
        let list = vec![dir.path().join("missing"), file];
        (dir, list)
    }

    #[test]
    fn names_are_looked_up_with_their_port_unless_it_is_22_or_aliased() {
        assert_eq!(lookup_name("10.0.0.5", 22, None), "10.0.0.5");
        assert_eq!(
            lookup_name("Engine.Example", 2222, None),
            "[engine.example]:2222"
        );
        assert_eq!(
            lookup_name("10.0.0.5", 2222, Some("fl-engine")),
            "fl-engine"
        );
    }

    #[test]
    fn a_key_is_known_changed_revoked_or_unknown() {
        let ed = blob("ssh-ed25519", b"good");
        let other = blob("ssh-ed25519", b"other");
        let ecdsa = blob("ecdsa-sha2-nistp256", b"p256");
        let text = format!(
            "# comment\n\n[engine]:2222 ssh-ed25519 {}\nengine,*.corp,!db.corp ecdsa-sha2-nistp256 {} a comment\nnot a line\n@revoked * ssh-ed25519 {}\n",
            b64(&ed),
            b64(&ecdsa),
            b64(&other)
        );
        let (_dir, files) = files(&text);
        assert_eq!(check(&files, "[engine]:2222", &ed), Verdict::Known);
        // A plain `engine` line does not cover port 2222, nor the reverse.
        assert_eq!(
            check(&files, "engine", &ed),
            Verdict::Unknown {
                other_types: vec!["ecdsa-sha2-nistp256".into()]
            }
        );
        assert_eq!(check(&files, "web.corp", &ecdsa), Verdict::Known);
        assert!(matches!(
            check(&files, "db.corp", &ecdsa),
            Verdict::Unknown { .. }
        ));
        let changed = blob("ecdsa-sha2-nistp256", b"new");
        assert!(
            matches!(check(&files, "engine", &changed), Verdict::Changed(at) if at.ends_with(":4"))
        );
        assert!(
            matches!(check(&files, "anything", &other), Verdict::Revoked(at) if at.ends_with(":6"))
        );
        assert_eq!(known_types(&files, "engine"), vec!["ecdsa-sha2-nistp256"]);
    }

    #[test]
    fn hashed_names_are_matched() {
        // `ssh-keygen -H` of "10.250.3.2", salt of 20 bytes.
        let salt = [7u8; 20];
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&salt).unwrap();
        mac.update(b"10.250.3.2");
        let hash = mac.finalize().into_bytes();
        let key = blob("ssh-ed25519", b"k");
        let text = format!(
            "|1|{}|{} ssh-ed25519 {}\n",
            b64(&salt),
            b64(&hash),
            b64(&key)
        );
        let (_dir, files) = files(&text);
        assert_eq!(check(&files, "10.250.3.2", &key), Verdict::Known);
        assert!(matches!(
            check(&files, "10.250.3.3", &key),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn the_line_to_add_and_the_fingerprint_are_openssh_s() {
        let key = blob("ssh-ed25519", &[1; 32]);
        let line = line_for("[h]:2222", &key);
        assert!(
            line.starts_with("[h]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"),
            "{line}"
        );
        assert!(fingerprint(&key).starts_with("SHA256:"));
        assert!(!fingerprint(&key).ends_with('='));
    }
}
