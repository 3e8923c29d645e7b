//! The images footloose knows how to build, embedded from `images/`.

use super::recipe::Recipe;
use crate::distro::{Family, Need};

/// The shared set-up script every image's Dockerfile runs.
pub const SETUP_SCRIPT: &str = include_str!("../../images/common/setup.sh");

/// One buildable image.
///
/// ```
/// for image in footloose::image::IMAGES {
///     assert!(image.dockerfile.contains("ARG BASE"), "{}", image.name);
///     println!("{} ({}) builds on {}", image.reference(), image.title, image.official_base());
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageDefinition {
    /// Short name, such as `debian12` or `rocky9`.
    pub name: &'static str,
    /// What it is, such as `Ubuntu 24.04 LTS (noble)`.
    pub title: &'static str,
    /// Its distribution family: package manager and package names.
    pub family: Family,
    /// The release's major version, where package names depend on it.
    pub major: Option<u32>,
    /// The official image a registry serves, which it builds on.
    pub base: &'static str,
    /// The Debian suite (`bookworm`), for Debian images only: footloose
    /// makes their base itself with mmdebstrap when no registry is there.
    pub suite: Option<&'static str>,
    /// The Dockerfile's text (`images/<name>/Dockerfile`).
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

    /// The official base image a registry would serve.
    ///
    /// ```
    /// use footloose::image::definition;
    ///
    /// assert_eq!(definition("footloose/debian12").unwrap().official_base(), "debian:bookworm");
    /// assert_eq!(definition("rocky9").unwrap().official_base(), "rockylinux/rockylinux:9");
    /// ```
    pub fn official_base(&self) -> String {
        self.base.to_owned()
    }

    /// The base footloose makes with mmdebstrap, `footloose/base:<suite>`:
    /// Debian images only.
    ///
    /// ```
    /// use footloose::image::definition;
    ///
    /// assert_eq!(definition("debian12").unwrap().local_base().as_deref(), Some("footloose/base:bookworm"));
    /// assert_eq!(definition("ubuntu24.04").unwrap().local_base(), None);
    /// ```
    pub fn local_base(&self) -> Option<String> {
        self.suite.map(|suite| format!("footloose/base:{suite}"))
    }

    /// The packages the image installs on its base (those missing).
    ///
    /// ```
    /// let rocky8 = footloose::image::definition("rocky8").unwrap();
    /// assert!(rocky8.packages().contains(&"python3.11"));
    /// ```
    pub fn packages(&self) -> Vec<&'static str> {
        [Need::Systemd, Need::Sshd, Need::Python, Need::Tools]
            .into_iter()
            .flat_map(|need| self.family.packages(need, self.major).iter().copied())
            .collect()
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

    /// What this definition makes, as data. The Docker backend renders
    /// it as the text `images/<name>/Dockerfile` holds (a test there
    /// checks it, and writes it with `FOOTLOOSE_BLESS=1`).
    pub(crate) fn recipe(&self) -> Recipe {
        let mut header = vec![
            format!(
                "footloose/{}: {} as a footloose machine.",
                self.name, self.title
            ),
            "Made from footloose's image table (footloose/src/image/catalog.rs).".to_owned(),
            format!(
                "With a registry:  docker build -f images/{}/Dockerfile -t footloose/{} images/",
                self.name, self.name
            ),
        ];
        header.push(match self.suite {
            Some(_) => format!(
                "Offline, footloose builds BASE itself with mmdebstrap (footloose image build {}).",
                self.name
            ),
            None => format!("Needs {} from a registry.", self.base),
        });
        Recipe {
            header,
            base: self.base.to_owned(),
            install: Some((self.family.package_managers()[0], self.packages())),
            foreign_base: false,
            setup_script: SETUP_SCRIPT,
        }
    }
}

/// The digest of a definition made of `dockerfile` and `setup_script`.
pub(crate) fn digest_of(dockerfile: &str, setup_script: &str) -> String {
    // FNV-1a, 64 bits: stable across releases and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in dockerfile.bytes().chain(setup_script.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// One entry of [`IMAGES`].
const fn image(
    name: &'static str,
    title: &'static str,
    family: Family,
    major: Option<u32>,
    base: &'static str,
    suite: Option<&'static str>,
    dockerfile: &'static str,
) -> ImageDefinition {
    ImageDefinition {
        name,
        title,
        family,
        major,
        base,
        suite,
        dockerfile,
    }
}

/// Every image footloose can build. Only the Debian ones can be built
/// without a registry (their base is made with mmdebstrap).
pub const IMAGES: [ImageDefinition; 14] = [
    image(
        "debian11",
        "Debian 11 (bullseye)",
        Family::Debian,
        Some(11),
        "debian:bullseye",
        Some("bullseye"),
        include_str!("../../images/debian11/Dockerfile"),
    ),
    image(
        "debian12",
        "Debian 12 (bookworm)",
        Family::Debian,
        Some(12),
        "debian:bookworm",
        Some("bookworm"),
        include_str!("../../images/debian12/Dockerfile"),
    ),
    image(
        "debian13",
        "Debian 13 (trixie)",
        Family::Debian,
        Some(13),
        "debian:trixie",
        Some("trixie"),
        include_str!("../../images/debian13/Dockerfile"),
    ),
    image(
        "ubuntu22.04",
        "Ubuntu 22.04 LTS (jammy)",
        Family::Ubuntu,
        Some(22),
        "ubuntu:22.04",
        None,
        include_str!("../../images/ubuntu22.04/Dockerfile"),
    ),
    image(
        "ubuntu24.04",
        "Ubuntu 24.04 LTS (noble)",
        Family::Ubuntu,
        Some(24),
        "ubuntu:24.04",
        None,
        include_str!("../../images/ubuntu24.04/Dockerfile"),
    ),
    image(
        "rocky8",
        "Rocky Linux 8",
        Family::RedHat,
        Some(8),
        "rockylinux/rockylinux:8",
        None,
        include_str!("../../images/rocky8/Dockerfile"),
    ),
    image(
        "rocky9",
        "Rocky Linux 9",
        Family::RedHat,
        Some(9),
        "rockylinux/rockylinux:9",
        None,
        include_str!("../../images/rocky9/Dockerfile"),
    ),
    image(
        "alma8",
        "AlmaLinux 8",
        Family::RedHat,
        Some(8),
        "almalinux:8",
        None,
        include_str!("../../images/alma8/Dockerfile"),
    ),
    image(
        "alma9",
        "AlmaLinux 9",
        Family::RedHat,
        Some(9),
        "almalinux:9",
        None,
        include_str!("../../images/alma9/Dockerfile"),
    ),
    image(
        "fedora",
        "Fedora (the current release)",
        Family::Fedora,
        None,
        "fedora:latest",
        None,
        include_str!("../../images/fedora/Dockerfile"),
    ),
    image(
        "leap15.6",
        "openSUSE Leap 15.6",
        Family::Suse,
        Some(15),
        "opensuse/leap:15.6",
        None,
        include_str!("../../images/leap15.6/Dockerfile"),
    ),
    image(
        "leap16.0",
        "openSUSE Leap 16.0",
        Family::Suse,
        Some(16),
        "opensuse/leap:16.0",
        None,
        include_str!("../../images/leap16.0/Dockerfile"),
    ),
    image(
        "arch",
        "Arch Linux (rolling)",
        Family::Arch,
        None,
        "archlinux:latest",
        None,
        include_str!("../../images/arch/Dockerfile"),
    ),
    image(
        "amazon2023",
        "Amazon Linux 2023",
        Family::Amazon,
        Some(2023),
        "amazonlinux:2023",
        None,
        include_str!("../../images/amazon2023/Dockerfile"),
    ),
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
        assert_eq!(definition("debian12").unwrap().suite, Some("bookworm"));
        assert_eq!(
            definition("footloose/debian13:latest").unwrap().suite,
            Some("trixie")
        );
        assert_eq!(definition("rocky9").unwrap().family, Family::RedHat);
        assert!(definition("footloose/debian12:v2").is_none());
        assert!(definition("ubuntu").is_none());
    }

    #[test]
    fn every_dockerfile_takes_its_base_as_an_argument() {
        for image in IMAGES {
            let expected = format!("ARG BASE={}\n", image.base);
            assert!(image.dockerfile.contains(&expected), "{}", image.name);
            assert!(image.dockerfile.contains("FROM ${BASE}"), "{}", image.name);
            assert!(image.dockerfile.contains("STOPSIGNAL SIGRTMIN+3"));
            assert_eq!(image.suite.is_some(), image.family == Family::Debian);
        }
        assert!(SETUP_SCRIPT.contains("rm -f /etc/ssh/ssh_host_*"));
    }

    /// The data test of each family's definition: the package manager the
    /// family uses installs that family's package names on the official
    /// image, and nothing from another family.
    #[test]
    fn each_familys_image_installs_its_own_packages_with_its_own_manager() {
        let expect = |name: &str, manager: &str, packages: &[&str], not: &[&str]| {
            let image = definition(name).unwrap();
            let run = image
                .dockerfile
                .lines()
                .find(|l| l.starts_with("RUN missing="))
                .unwrap_or_else(|| panic!("{name} installs nothing"));
            assert!(run.contains(&format!(" {manager} ")), "{name}: {run}");
            for package in packages {
                assert!(
                    run.contains(&format!(" {package} ")) || run.contains(&format!(" {package};")),
                    "{name} lacks {package}: {run}"
                );
            }
            for package in not {
                assert!(
                    !run.contains(&format!(" {package} ")),
                    "{name} has {package}: {run}"
                );
            }
        };
        let debian = ["systemd-sysv", "openssh-server", "python3", "iputils-ping"];
        for name in [
            "debian11",
            "debian12",
            "debian13",
            "ubuntu22.04",
            "ubuntu24.04",
        ] {
            expect(name, "apt-get", &debian, &["openssh", "procps-ng"]);
        }
        for name in ["rocky9", "alma9"] {
            expect(
                name,
                "dnf",
                &[
                    "systemd",
                    "openssh-server",
                    "python3",
                    "procps-ng",
                    "iproute",
                ],
                &["curl", "python3.11"],
            );
        }
        for name in ["rocky8", "alma8"] {
            expect(name, "dnf", &["openssh-server", "python3.11"], &["python3"]);
        }
        expect(
            "fedora",
            "dnf",
            &["systemd", "openssh-server", "python3"],
            &["curl"],
        );
        expect(
            "amazon2023",
            "dnf",
            &["systemd", "openssh-server", "python3"],
            &["curl"],
        );
        expect(
            "leap15.6",
            "zypper",
            &["openssh-server", "python311", "dbus-1"],
            &["python3"],
        );
        expect(
            "leap16.0",
            "zypper",
            &["openssh-server", "python3", "dbus-1"],
            &["python311"],
        );
        expect(
            "arch",
            "pacman",
            &["systemd", "openssh", "python", "procps-ng"],
            &["openssh-server"],
        );
        // Every family footloose builds for, but Alpine (no systemd).
        let built: std::collections::BTreeSet<Family> = IMAGES.iter().map(|i| i.family).collect();
        let all: std::collections::BTreeSet<Family> = Family::ALL
            .into_iter()
            .filter(|f| *f != Family::Alpine)
            .collect();
        assert_eq!(built, all);
    }

    #[test]
    fn the_config_knows_every_image_footloose_builds_by_its_short_name() {
        // The config crate resolves short names without depending on this
        // one: its list must be this table's names, in order.
        let names: Vec<&str> = IMAGES.iter().map(|image| image.name).collect();
        assert_eq!(names, footloose_config::images::SHORT_NAMES);
    }
}
