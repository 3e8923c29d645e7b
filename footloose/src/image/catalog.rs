//! The images footloose knows how to build, embedded from `images/`.

/// The shared set-up script every image's Dockerfile runs.
pub const SETUP_SCRIPT: &str = include_str!("../../images/common/setup.sh");

/// One buildable image.
///
/// ```
/// for image in footloose::image::IMAGES {
///     assert!(image.dockerfile.contains("ARG BASE"), "{}", image.name);
///     println!("{} ({}) builds on {}", image.reference(), image.suite, image.official_base());
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageDefinition {
    /// Short name, such as `debian12`.
    pub name: &'static str,
    /// The Debian suite, such as `bookworm`.
    pub suite: &'static str,
    /// The Dockerfile's text.
    pub dockerfile: &'static str,
}

impl ImageDefinition {
    /// The image's reference: `footloose/<name>`.
    ///
    /// ```
    /// let debian12 = footloose::image::definition("debian12").unwrap();
    /// assert_eq!(debian12.reference(), "footloose/debian12");
    /// ```
    pub fn reference(&self) -> String {
        format!("footloose/{}", self.name)
    }

    /// The official base image a registry would serve: `debian:<suite>`.
    ///
    /// ```
    /// let debian12 = footloose::image::definition("footloose/debian12").unwrap();
    /// assert_eq!(debian12.official_base(), "debian:bookworm");
    /// ```
    pub fn official_base(&self) -> String {
        format!("debian:{}", self.suite)
    }

    /// The base footloose makes with mmdebstrap: `footloose/base:<suite>`.
    ///
    /// ```
    /// let debian12 = footloose::image::definition("debian12").unwrap();
    /// assert_eq!(debian12.local_base(), "footloose/base:bookworm");
    /// ```
    pub fn local_base(&self) -> String {
        format!("footloose/base:{}", self.suite)
    }

    /// A digest of what the image is built from (its Dockerfile and the
    /// shared set-up script), kept as a label: an image built from an older
    /// definition is built again.
    ///
    /// ```
    /// let [a, b] = ["debian12", "debian13"].map(|name| footloose::image::definition(name).unwrap());
    /// assert_ne!(a.digest(), b.digest());
    /// ```
    pub fn digest(&self) -> String {
        digest_of(self.dockerfile, SETUP_SCRIPT)
    }
}

/// The digest of a definition made of `dockerfile` and `setup_script`.
fn digest_of(dockerfile: &str, setup_script: &str) -> String {
    // FNV-1a, 64 bits: stable across releases and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in dockerfile.bytes().chain(setup_script.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Every image footloose can build.
pub const IMAGES: [ImageDefinition; 3] = [
    ImageDefinition {
        name: "debian11",
        suite: "bullseye",
        dockerfile: include_str!("../../images/debian11/Dockerfile"),
    },
    ImageDefinition {
        name: "debian12",
        suite: "bookworm",
        dockerfile: include_str!("../../images/debian12/Dockerfile"),
    },
    ImageDefinition {
        name: "debian13",
        suite: "trixie",
        dockerfile: include_str!("../../images/debian13/Dockerfile"),
    },
];

/// The definition behind `reference`: a short name (`debian12`) or
/// `footloose/debian12`, with no tag or the `latest` tag.
///
/// ```
/// use footloose::image::definition;
///
/// assert_eq!(definition("footloose/debian13").unwrap().name, "debian13");
/// assert!(definition("ubuntu:24.04").is_none());
/// ```
pub fn definition(reference: &str) -> Option<ImageDefinition> {
    let untagged = reference.strip_suffix(":latest").unwrap_or(reference);
    let name = untagged.strip_prefix("footloose/").unwrap_or(untagged);
    IMAGES.iter().copied().find(|image| image.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_differ_by_definition() {
        let digests: std::collections::BTreeSet<String> =
            IMAGES.iter().map(|i| i.digest()).collect();
        assert_eq!(digests.len(), IMAGES.len(), "{digests:?}");
        for digest in &digests {
            assert_eq!(digest.len(), 16, "{digest}");
            assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{digest}");
        }
    }

    #[test]
    fn digest_is_pinned_fnv1a_so_it_stays_put_across_builds() {
        // Published FNV-1a 64 vectors: a change of algorithm, seed or
        // formatting would mark every image footloose built as outdated.
        assert_eq!(digest_of("", ""), "cbf29ce484222325");
        assert_eq!(digest_of("a", ""), "af63dc4c8601ec8c");
        assert_eq!(digest_of("", "a"), "af63dc4c8601ec8c");
        assert_eq!(digest_of("foo", ""), "dcb27518fed9d577");
    }

    #[test]
    fn digest_covers_the_dockerfile_and_the_setup_script() {
        for image in IMAGES {
            assert_eq!(image.digest(), digest_of(image.dockerfile, SETUP_SCRIPT));
            let base = image.digest();
            let dockerfile = format!("{}# changed\n", image.dockerfile);
            let setup = format!("{SETUP_SCRIPT}# changed\n");
            assert_ne!(digest_of(&dockerfile, SETUP_SCRIPT), base, "{}", image.name);
            assert_ne!(digest_of(image.dockerfile, &setup), base, "{}", image.name);
            // One byte changed in the middle, same length.
            let mut flipped = image.dockerfile.as_bytes().to_vec();
            let middle = flipped.len() / 2;
            flipped[middle] ^= 1;
            let flipped = String::from_utf8(flipped).unwrap();
            assert_ne!(digest_of(&flipped, SETUP_SCRIPT), base, "{}", image.name);
        }
    }

    #[test]
    fn the_digest_covers_every_file_a_dockerfile_copies() {
        // The build context holds the Dockerfile and common/setup.sh only
        // (build.rs); a Dockerfile that copied another file would build
        // from content the digest does not see.
        for image in IMAGES {
            for line in image.dockerfile.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                let Some((&instruction, args)) = words.split_first() else {
                    continue;
                };
                if !matches!(instruction.to_ascii_uppercase().as_str(), "COPY" | "ADD") {
                    continue;
                }
                let sources: Vec<&str> = args
                    .iter()
                    .copied()
                    .filter(|a| !a.starts_with("--"))
                    .collect();
                let (_, sources) = sources.split_last().expect("COPY has a destination");
                assert_eq!(sources, ["common/setup.sh"], "{}: {line}", image.name);
            }
        }
    }

    #[test]
    fn resolves_short_and_full_references() {
        assert_eq!(definition("debian12").unwrap().suite, "bookworm");
        assert_eq!(
            definition("footloose/debian13:latest").unwrap().suite,
            "trixie"
        );
        assert!(definition("footloose/debian12:v2").is_none());
        assert!(definition("ubuntu").is_none());
    }

    #[test]
    fn every_dockerfile_takes_its_base_as_an_argument() {
        for image in IMAGES {
            let expected = format!("ARG BASE=debian:{}", image.suite);
            assert!(image.dockerfile.contains(&expected), "{}", image.name);
            assert!(image.dockerfile.contains("FROM ${BASE}"), "{}", image.name);
            assert!(image.dockerfile.contains("STOPSIGNAL SIGRTMIN+3"));
        }
        assert!(SETUP_SCRIPT.contains("rm -f /etc/ssh/ssh_host_*"));
    }

    #[test]
    fn the_config_knows_every_image_footloose_builds_by_its_short_name() {
        // The config crate resolves short names without depending on this
        // one: its list must be this table's names, in order.
        let names: Vec<&str> = IMAGES.iter().map(|image| image.name).collect();
        assert_eq!(names, footloose_config::images::SHORT_NAMES);
    }
}
