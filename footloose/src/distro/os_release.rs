//! `/etc/os-release`: which distribution an image holds.

/// The fields of an os-release file footloose reads.
///
/// ```
/// use footloose::image::OsRelease;
///
/// let ubuntu = OsRelease::parse("NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n");
/// assert_eq!(ubuntu.id, "ubuntu");
/// assert_eq!(ubuntu.id_like, ["debian"]);
/// assert_eq!(ubuntu.major_version(), Some(24));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OsRelease {
    /// `ID`, lower case (`ubuntu`, `rocky`, `opensuse-leap`); `linux` when unset,
    /// as os-release(5) says.
    pub id: String,
    /// `ID_LIKE`, the distributions this one derives from, closest first.
    pub id_like: Vec<String>,
    /// `VERSION_ID`, such as `24.04` or `9.4`; empty on rolling releases.
    pub version_id: String,
    /// `PRETTY_NAME`, for messages; `NAME` or the id when unset.
    pub pretty_name: String,
}

impl OsRelease {
    /// Reads an os-release file's text. Unknown keys, comments and bad
    /// lines are ignored, as systemd does.
    pub fn parse(text: &str) -> OsRelease {
        let mut release = OsRelease::default();
        let mut name = String::new();
        for line in text.lines() {
            let Some((key, value)) = line.trim().split_once('=') else {
                continue;
            };
            let value = unquote(value.trim());
            match key.trim() {
                "ID" => release.id = value.to_ascii_lowercase(),
                "ID_LIKE" => {
                    release.id_like = value
                        .split_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect()
                }
                "VERSION_ID" => release.version_id = value,
                "PRETTY_NAME" => release.pretty_name = value,
                "NAME" => name = value,
                _ => {}
            }
        }
        if release.id.is_empty() {
            release.id = "linux".into();
        }
        if release.pretty_name.is_empty() {
            release.pretty_name = if name.is_empty() {
                release.id.clone()
            } else {
                name
            };
        }
        release
    }

    /// The number before the first dot of `VERSION_ID`.
    pub fn major_version(&self) -> Option<u32> {
        self.version_id.split('.').next()?.parse().ok()
    }

    /// `ID` followed by `ID_LIKE`: every name the distribution answers to.
    pub fn lineage(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.id_like.iter().map(String::as_str))
    }
}

/// A value without its shell quotes and backslash escapes.
fn unquote(value: &str) -> String {
    let inner = match value.as_bytes() {
        [b'"', .., b'"'] | [b'\'', .., b'\''] if value.len() >= 2 => &value[1..value.len() - 1],
        _ => value,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_unquoted_and_escaped_values() {
        let release = OsRelease::parse(
            "# comment\nNAME='Rocky Linux'\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"Rocky \\\"Blue\\\" Onyx\"\nbroken line\n",
        );
        assert_eq!(release.id, "rocky");
        assert_eq!(release.id_like, ["rhel", "centos", "fedora"]);
        assert_eq!(release.major_version(), Some(9));
        assert_eq!(release.pretty_name, "Rocky \"Blue\" Onyx");
        assert_eq!(
            release.lineage().collect::<Vec<_>>(),
            ["rocky", "rhel", "centos", "fedora"]
        );
    }

    #[test]
    fn defaults_follow_os_release_5() {
        let release = OsRelease::parse("NAME=Arch Linux\n");
        assert_eq!(release.id, "linux");
        assert_eq!(release.pretty_name, "Arch Linux");
        assert_eq!(release.major_version(), None);
        assert_eq!(OsRelease::parse("").pretty_name, "linux");
    }
}
