//! Adapting an image, decided as data: what a look inside it found
//! ([`Probe`]), and what it lacks and what installs it ([`Adaptation`]).

use std::collections::BTreeSet;
use std::fmt;

use super::family::{Family, Need, PackageManager};
use super::os_release::OsRelease;

/// What footloose's set-up runs with.
const SHELL: &str = "/bin/sh";

/// What an image holds, as far as adapting it goes: its os-release and
/// which of the paths footloose looks for exist.
///
/// ```
/// use footloose::image::{Need, OsRelease, Probe};
///
/// let probe = Probe::new(
///     Some(OsRelease::parse("ID=debian\nVERSION_ID=12\n")),
///     ["/bin/sh", "/usr/lib/systemd/systemd", "/usr/bin/apt-get"],
/// );
/// assert!(probe.has(Need::Systemd));
/// assert!(!probe.has(Need::Sshd));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Probe {
    /// The image's os-release, when it has one.
    pub os_release: Option<OsRelease>,
    /// Those of [`Probe::paths`] that exist in it.
    pub found: BTreeSet<String>,
}

impl Probe {
    /// A probe's result: `os_release`, and the paths `found`.
    pub fn new<'a>(
        os_release: Option<OsRelease>,
        found: impl IntoIterator<Item = &'a str>,
    ) -> Probe {
        Probe {
            os_release,
            found: found.into_iter().map(str::to_owned).collect(),
        }
    }

    /// Every path a probe looks for: the shell, `/sbin/init`, each need's
    /// programs and each package manager's.
    pub fn paths() -> Vec<&'static str> {
        let mut paths = vec![SHELL, "/sbin/init"];
        paths.extend(Need::ESSENTIAL.iter().flat_map(|need| need.paths()));
        paths.extend(PackageManager::ALL.iter().flat_map(|m| m.paths()));
        paths
    }

    /// Whether the image meets `need`.
    pub fn has(&self, need: Need) -> bool {
        need.paths().iter().any(|path| self.found.contains(*path))
    }

    /// The package managers it has, in [`PackageManager::ALL`]'s order.
    pub fn package_managers(&self) -> Vec<PackageManager> {
        PackageManager::ALL
            .into_iter()
            .filter(|m| m.paths().iter().any(|path| self.found.contains(*path)))
            .collect()
    }

    /// The distribution's name for messages.
    fn distribution(&self) -> String {
        self.os_release.as_ref().map_or_else(
            || "an image without os-release".to_owned(),
            |r| r.pretty_name.clone(),
        )
    }
}

/// What adapting one image takes: what it lacks, and what installs it.
///
/// ```
/// use footloose::image::{Adaptation, Need, OsRelease, PackageManager, Probe};
///
/// let probe = Probe::new(
///     Some(OsRelease::parse("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n")),
///     ["/bin/sh", "/usr/lib/systemd/systemd", "/usr/bin/apt-get"],
/// );
/// let plan = Adaptation::plan("acme/ubuntu-systemd:24.04", &probe).unwrap();
/// assert_eq!(plan.missing, [Need::Sshd, Need::Python]);
/// assert_eq!(plan.install, Some((PackageManager::Apt, vec!["openssh-server", "python3"])));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Adaptation {
    /// The image adapted.
    pub base: String,
    /// Its distribution, as its os-release names it.
    pub distribution: String,
    /// Its family, when footloose knows it.
    pub family: Option<Family>,
    /// What it lacks.
    pub missing: Vec<Need>,
    /// The packages that supply it, and what installs them (`None` when it
    /// lacks nothing: only footloose's set-up is added).
    pub install: Option<(PackageManager, Vec<&'static str>)>,
}

/// Why an image cannot be made a footloose machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdaptError {
    /// No `/bin/sh`: nothing can be run in it.
    #[error("it has no /bin/sh, so footloose cannot run its set-up in it (is it a distroless or scratch image?)")]
    NoShell,
    /// It lacks something and has no package manager footloose knows.
    #[error(
        "{distribution} lacks {} and has no package manager footloose can install {} with (looked for {})",
        NeedList(.missing),
        if .missing.len() == 1 { "it" } else { "them" },
        PackageManager::ALL.map(|m| m.program()).join(", ")
    )]
    NoPackageManager {
        /// The distribution, as its os-release names it.
        distribution: String,
        /// What it lacks.
        missing: Vec<Need>,
    },
    /// It lacks systemd, and its distribution has no systemd package.
    #[error("{distribution} lacks systemd and has no systemd package (it boots with another init); use an image of it that has systemd")]
    NoSystemdPackage {
        /// The distribution, as its os-release names it.
        distribution: String,
    },
}

/// Needs written as a list: `sshd and python3`.
struct NeedList<'a>(&'a [Need]);

impl fmt::Display for NeedList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.iter().map(Need::to_string).collect();
        match names.as_slice() {
            [] => f.write_str("nothing"),
            [one] => f.write_str(one),
            [init @ .., last] => write!(f, "{} and {last}", init.join(", ")),
        }
    }
}

impl Adaptation {
    /// What adapting `base`, which holds what `probe` found, takes.
    pub fn plan(base: &str, probe: &Probe) -> std::result::Result<Adaptation, AdaptError> {
        if !probe.found.contains(SHELL) {
            return Err(AdaptError::NoShell);
        }
        let distribution = probe.distribution();
        let managers = probe.package_managers();
        let family = probe
            .os_release
            .as_ref()
            .and_then(Family::of)
            .or_else(|| managers.first().copied().map(Family::by_package_manager));
        let missing: Vec<Need> = Need::ESSENTIAL
            .into_iter()
            .filter(|need| !probe.has(*need))
            .collect();
        let mut plan = Adaptation {
            base: base.to_owned(),
            distribution: distribution.clone(),
            family,
            missing: missing.clone(),
            install: None,
        };
        if missing.is_empty() {
            return Ok(plan);
        }
        let no_manager = || AdaptError::NoPackageManager {
            distribution: distribution.clone(),
            missing: missing.clone(),
        };
        let family = family.ok_or_else(no_manager)?;
        let manager = family
            .package_managers()
            .iter()
            .copied()
            .find(|m| managers.contains(m))
            .ok_or_else(no_manager)?;
        let major = probe.os_release.as_ref().and_then(OsRelease::major_version);
        if missing.contains(&Need::Systemd) && family.packages(Need::Systemd, major).is_empty() {
            return Err(AdaptError::NoSystemdPackage { distribution });
        }
        let packages = missing
            .iter()
            .flat_map(|need| family.packages(*need, major).iter().copied())
            .collect();
        plan.install = Some((manager, packages));
        Ok(plan)
    }

    /// What it does, in one line: `installs openssh-server python3 with
    /// apt-get (it lacks sshd and python3), then footloose's set-up`.
    pub fn summary(&self) -> String {
        match &self.install {
            Some((manager, packages)) => format!(
                "{}: installs {} with {manager} (it lacks {}), then adds footloose's boot unit and settings",
                self.distribution,
                packages.join(" "),
                NeedList(&self.missing)
            ),
            None => format!(
                "{}: has systemd, sshd and python3; adds footloose's boot unit and settings",
                self.distribution
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(release: &str, found: &[&str]) -> Probe {
        Probe::new(Some(OsRelease::parse(release)), found.iter().copied())
    }

    const BARE_DEBIAN: &[&str] = &["/bin/sh", "/usr/bin/apt-get"];

    #[test]
    fn a_bare_debian_gets_systemd_sshd_and_python() {
        let plan = Adaptation::plan(
            "debian:bookworm",
            &probe("ID=debian\nVERSION_ID=12\n", BARE_DEBIAN),
        )
        .unwrap();
        assert_eq!(plan.missing, Need::ESSENTIAL);
        let (manager, packages) = plan.install.clone().unwrap();
        assert_eq!(manager, PackageManager::Apt);
        assert_eq!(
            packages,
            [
                "systemd",
                "systemd-sysv",
                "dbus",
                "libpam-systemd",
                "openssh-server",
                "python3"
            ]
        );
        assert_eq!(plan.base, "debian:bookworm");
    }

    #[test]
    fn an_image_with_everything_gets_only_the_set_up() {
        let found = [
            "/bin/sh",
            "/lib/systemd/systemd",
            "/usr/sbin/sshd",
            "/usr/bin/python3",
        ];
        let plan = Adaptation::plan("acme/ready", &probe("ID=debian\n", &found)).unwrap();
        assert!(plan.missing.is_empty());
        assert_eq!(plan.install, None);
        assert!(
            plan.summary().contains("has systemd, sshd and python3"),
            "{}",
            plan.summary()
        );
    }

    #[test]
    fn each_family_installs_with_its_own_manager() {
        let cases: [(&str, &str, PackageManager, &[&str]); 7] = [
            (
                "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n",
                "/usr/bin/apt-get",
                PackageManager::Apt,
                &["openssh-server", "python3"],
            ),
            (
                "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"8.10\"\n",
                "/usr/bin/dnf",
                PackageManager::Dnf,
                &["openssh-server", "python3.11"],
            ),
            (
                "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n",
                "/usr/bin/microdnf",
                PackageManager::Microdnf,
                &["openssh-server", "python3"],
            ),
            (
                "ID=fedora\nVERSION_ID=43\n",
                "/usr/bin/dnf",
                PackageManager::Dnf,
                &["openssh-server", "python3"],
            ),
            (
                "ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\nVERSION_ID=\"15.6\"\n",
                "/usr/bin/zypper",
                PackageManager::Zypper,
                &["openssh-server", "python311"],
            ),
            (
                "ID=arch\n",
                "/usr/bin/pacman",
                PackageManager::Pacman,
                &["openssh", "python"],
            ),
            (
                "ID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n",
                "/usr/bin/dnf",
                PackageManager::Dnf,
                &["openssh-server", "python3"],
            ),
        ];
        for (release, manager_path, manager, packages) in cases {
            // systemd is there; sshd and python3 are not.
            let found = ["/bin/sh", "/usr/lib/systemd/systemd", manager_path];
            let plan = Adaptation::plan("x", &probe(release, &found)).unwrap();
            assert_eq!(plan.missing, [Need::Sshd, Need::Python], "{release}");
            assert_eq!(
                plan.install,
                Some((manager, packages.to_vec())),
                "{release}"
            );
        }
    }

    #[test]
    fn what_cannot_be_adapted_says_what_is_missing() {
        let no_shell = Adaptation::plan(
            "gcr.io/distroless/base",
            &Probe::new(None, ["/usr/bin/python3"]),
        );
        assert_eq!(no_shell, Err(AdaptError::NoShell));

        let busybox = Adaptation::plan("busybox", &Probe::new(None, ["/bin/sh"]));
        let err = busybox.unwrap_err();
        assert_eq!(
            err.to_string(),
            "an image without os-release lacks systemd, sshd and python3 and has no package manager footloose can install them with (looked for apt-get, dnf, microdnf, yum, zypper, pacman, apk)"
        );

        let only_sshd = probe(
            "PRETTY_NAME=\"Acme OS\"\nID=acme\n",
            &["/bin/sh", "/usr/lib/systemd/systemd", "/usr/bin/python3"],
        );
        let err = Adaptation::plan("acme/os", &only_sshd).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "Acme OS lacks sshd and has no package manager footloose can install it with"
            ),
            "{err}"
        );

        let alpine = probe(
            "ID=alpine\nPRETTY_NAME=\"Alpine Linux v3.21\"\n",
            &["/bin/sh", "/sbin/apk"],
        );
        assert_eq!(
            Adaptation::plan("alpine:3.21", &alpine),
            Err(AdaptError::NoSystemdPackage {
                distribution: "Alpine Linux v3.21".into()
            })
        );
    }

    #[test]
    fn an_unknown_distribution_is_adapted_by_the_package_manager_it_has() {
        let found = ["/bin/sh", "/usr/bin/dnf", "/usr/lib/systemd/systemd"];
        let plan = Adaptation::plan("acme/os", &probe("ID=acme\n", &found)).unwrap();
        assert_eq!(plan.family, Some(Family::RedHat));
        assert_eq!(plan.install.unwrap().0, PackageManager::Dnf);
    }

    #[test]
    fn the_probe_looks_for_every_need_and_package_manager() {
        let paths = Probe::paths();
        for need in Need::ESSENTIAL {
            assert!(need.paths().iter().all(|p| paths.contains(p)), "{need}");
        }
        for manager in PackageManager::ALL {
            assert!(
                manager.paths().iter().all(|p| paths.contains(p)),
                "{manager}"
            );
        }
    }
}
