//! Distribution families: which package manager installs what a footloose
//! machine needs, under which package names.

use std::fmt;

use super::os_release::OsRelease;

/// What a machine needs from its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Need {
    /// systemd as PID 1.
    Systemd,
    /// An ssh daemon.
    Sshd,
    /// python3, for Ansible.
    Python,
    /// The tools footloose's own images carry (`ip`, `ping`, `ps`, `sudo`,
    /// CA certificates, curl); an adapted image is not given them.
    Tools,
}

impl Need {
    /// What a machine cannot do without (the ones an adapted image gets).
    pub const ESSENTIAL: [Need; 3] = [Need::Systemd, Need::Sshd, Need::Python];

    /// Where the program that meets the need lives; any one will do.
    pub fn paths(self) -> &'static [&'static str] {
        match self {
            Need::Systemd => &["/usr/lib/systemd/systemd", "/lib/systemd/systemd"],
            Need::Sshd => &["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"],
            Need::Python => &["/usr/bin/python3"],
            Need::Tools => &[],
        }
    }
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Need::Systemd => "systemd",
            Need::Sshd => "sshd",
            Need::Python => "python3",
            Need::Tools => "tools",
        })
    }
}

/// A package manager footloose knows how to drive non-interactively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum PackageManager {
    /// Debian and Ubuntu.
    Apt,
    /// Fedora, RHEL 8 and later, Amazon Linux 2023.
    Dnf,
    /// Older Red Hat family releases.
    Yum,
    /// Minimal Red Hat family images (UBI minimal).
    Microdnf,
    /// openSUSE and SLES.
    Zypper,
    /// Arch Linux.
    Pacman,
    /// Alpine.
    Apk,
}

impl PackageManager {
    /// Every package manager footloose knows, in the order a probe tries them.
    pub const ALL: [PackageManager; 7] = [
        PackageManager::Apt,
        PackageManager::Dnf,
        PackageManager::Microdnf,
        PackageManager::Yum,
        PackageManager::Zypper,
        PackageManager::Pacman,
        PackageManager::Apk,
    ];

    /// The program's name.
    pub fn program(self) -> &'static str {
        match self {
            PackageManager::Apt => "apt-get",
            PackageManager::Dnf => "dnf",
            PackageManager::Yum => "yum",
            PackageManager::Microdnf => "microdnf",
            PackageManager::Zypper => "zypper",
            PackageManager::Pacman => "pacman",
            PackageManager::Apk => "apk",
        }
    }

    /// Where its program lives.
    pub fn paths(self) -> &'static [&'static str] {
        match self {
            PackageManager::Apt => &["/usr/bin/apt-get"],
            PackageManager::Dnf => &["/usr/bin/dnf"],
            PackageManager::Yum => &["/usr/bin/yum"],
            PackageManager::Microdnf => &["/usr/bin/microdnf"],
            PackageManager::Zypper => &["/usr/bin/zypper"],
            PackageManager::Pacman => &["/usr/bin/pacman"],
            PackageManager::Apk => &["/sbin/apk", "/usr/bin/apk"],
        }
    }

    /// A shell command that installs those of `packages` that are not
    /// installed yet (so an image whose base holds them all needs no
    /// network), then empties the package cache. Fails when the install does.
    ///
    /// ```
    /// use footloose::image::PackageManager;
    ///
    /// let command = PackageManager::Dnf.install_command(&["openssh-server", "python3"]);
    /// assert!(command.contains("rpm -q \"$p\""));
    /// assert!(command.contains("dnf -y install"));
    /// assert!(command.ends_with("dnf clean all"));
    /// ```
    pub fn install_command(self, packages: &[&str]) -> String {
        let (installed, install, clean) = match self {
            PackageManager::Apt => (
                "dpkg-query -W -f='${db:Status-Abbrev}' \"$p\" 2>/dev/null | grep -q '^ii'",
                "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing",
                "apt-get clean && rm -rf /var/lib/apt/lists/*",
            ),
            PackageManager::Dnf => (
                "rpm -q \"$p\" >/dev/null 2>&1",
                "dnf -y install --setopt=install_weak_deps=False $missing",
                "dnf clean all",
            ),
            PackageManager::Yum => (
                "rpm -q \"$p\" >/dev/null 2>&1",
                "yum -y install $missing",
                "yum clean all",
            ),
            PackageManager::Microdnf => (
                "rpm -q \"$p\" >/dev/null 2>&1",
                "microdnf -y install --nodocs --setopt=install_weak_deps=0 $missing",
                "microdnf clean all",
            ),
            PackageManager::Zypper => (
                "rpm -q \"$p\" >/dev/null 2>&1",
                "zypper --non-interactive install --no-recommends $missing",
                "zypper clean --all",
            ),
            PackageManager::Pacman => (
                "pacman -Q \"$p\" >/dev/null 2>&1",
                "pacman -Syu --noconfirm --needed $missing",
                "rm -rf /var/cache/pacman/pkg/*",
            ),
            PackageManager::Apk => (
                "apk info -e \"$p\" >/dev/null 2>&1",
                "apk add --no-cache $missing",
                "rm -rf /var/cache/apk/*",
            ),
        };
        format!(
            "missing=; for p in {}; do {installed} || missing=\"$missing $p\"; done; \
             if [ -n \"$missing\" ]; then {install}; fi && {clean}",
            packages.join(" ")
        )
    }
}

impl fmt::Display for PackageManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.program())
    }
}

/// A family of distributions that share package names and a package
/// manager.
///
/// ```
/// use footloose::image::{Family, Need, OsRelease, PackageManager};
///
/// let rocky = OsRelease::parse("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n");
/// let family = Family::of(&rocky).unwrap();
/// assert_eq!(family, Family::RedHat);
/// assert_eq!(family.package_managers()[0], PackageManager::Dnf);
/// assert_eq!(family.packages(Need::Sshd, rocky.major_version()), ["openssh-server"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Family {
    /// Debian.
    Debian,
    /// Ubuntu and its derivatives.
    Ubuntu,
    /// Red Hat Enterprise Linux and its rebuilds: Rocky, AlmaLinux, CentOS,
    /// Oracle Linux.
    RedHat,
    /// Fedora.
    Fedora,
    /// Amazon Linux 2023.
    Amazon,
    /// openSUSE Leap, Tumbleweed and SLES.
    Suse,
    /// Arch Linux.
    Arch,
    /// Alpine, which has no systemd package: only an image that carries
    /// systemd already can be adapted.
    Alpine,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 8] = [
        Family::Debian,
        Family::Ubuntu,
        Family::RedHat,
        Family::Fedora,
        Family::Amazon,
        Family::Suse,
        Family::Arch,
        Family::Alpine,
    ];

    /// The family of a distribution, by its `ID`, then by each `ID_LIKE`.
    pub fn of(release: &OsRelease) -> Option<Family> {
        release.lineage().find_map(Family::by_id)
    }

    /// The family of the os-release `ID` `id`.
    fn by_id(id: &str) -> Option<Family> {
        Some(match id {
            "debian" | "raspbian" | "kali" => Family::Debian,
            "ubuntu" | "linuxmint" | "pop" => Family::Ubuntu,
            "rhel" | "rocky" | "almalinux" | "centos" | "ol" | "circle" => Family::RedHat,
            "fedora" => Family::Fedora,
            "amzn" => Family::Amazon,
            "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" | "sles" | "suse" => Family::Suse,
            "arch" | "archarm" | "manjaro" | "endeavouros" => Family::Arch,
            "alpine" | "postmarketos" => Family::Alpine,
            _ => return None,
        })
    }

    /// The family whose package manager is `manager`, for an image whose
    /// os-release names no known distribution.
    pub fn by_package_manager(manager: PackageManager) -> Family {
        match manager {
            PackageManager::Apt => Family::Debian,
            PackageManager::Dnf | PackageManager::Yum | PackageManager::Microdnf => Family::RedHat,
            PackageManager::Zypper => Family::Suse,
            PackageManager::Pacman => Family::Arch,
            PackageManager::Apk => Family::Alpine,
        }
    }

    /// Its package managers, preferred first.
    pub fn package_managers(self) -> &'static [PackageManager] {
        match self {
            Family::Debian | Family::Ubuntu => &[PackageManager::Apt],
            Family::RedHat | Family::Fedora | Family::Amazon => &[
                PackageManager::Dnf,
                PackageManager::Microdnf,
                PackageManager::Yum,
            ],
            Family::Suse => &[PackageManager::Zypper],
            Family::Arch => &[PackageManager::Pacman],
            Family::Alpine => &[PackageManager::Apk],
        }
    }

    /// The packages that meet `need` on release `major` of the family
    /// (empty when the family has none, as Alpine for systemd).
    pub fn packages(self, need: Need, major: Option<u32>) -> &'static [&'static str] {
        use Family::*;
        match (self, need) {
            (Debian | Ubuntu, Need::Systemd) => {
                &["systemd", "systemd-sysv", "dbus", "libpam-systemd"]
            }
            (Debian | Ubuntu, Need::Sshd) => &["openssh-server"],
            (Debian | Ubuntu, Need::Python) => &["python3"],
            (Debian | Ubuntu, Need::Tools) => &[
                "iproute2",
                "iputils-ping",
                "procps",
                "sudo",
                "ca-certificates",
                "curl",
            ],
            (RedHat | Fedora | Amazon, Need::Systemd) => &["systemd"],
            (RedHat | Fedora | Amazon | Suse, Need::Sshd) => &["openssh-server"],
            // RHEL 8's python3 is 3.6, which current ansible-core no
            // longer manages.
            (RedHat, Need::Python) if major == Some(8) => &["python3.11"],
            (RedHat | Fedora | Amazon, Need::Python) => &["python3"],
            // curl-minimal is there already, and conflicts with curl.
            (RedHat | Fedora | Amazon, Need::Tools) => {
                &["iproute", "iputils", "procps-ng", "sudo", "ca-certificates"]
            }
            (Suse, Need::Systemd) => &["systemd", "dbus-1"],
            (Suse, Need::Python) if major == Some(15) => &["python311"],
            (Suse, Need::Python) => &["python3"],
            (Suse, Need::Tools) => &[
                "iproute2",
                "iputils",
                "procps",
                "sudo",
                "ca-certificates",
                "curl",
            ],
            (Arch, Need::Systemd) => &["systemd"],
            (Arch, Need::Sshd) => &["openssh"],
            (Arch, Need::Python) => &["python"],
            (Arch, Need::Tools) => &[
                "iproute2",
                "iputils",
                "procps-ng",
                "sudo",
                "ca-certificates",
                "curl",
            ],
            (Alpine, Need::Systemd) => &[],
            (Alpine, Need::Sshd) => &["openssh-server"],
            (Alpine, Need::Python) => &["python3"],
            (Alpine, Need::Tools) => &[
                "iproute2",
                "iputils",
                "procps",
                "sudo",
                "ca-certificates",
                "curl",
            ],
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Debian => "Debian",
            Family::Ubuntu => "Ubuntu",
            Family::RedHat => "Red Hat",
            Family::Fedora => "Fedora",
            Family::Amazon => "Amazon Linux",
            Family::Suse => "SUSE",
            Family::Arch => "Arch",
            Family::Alpine => "Alpine",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The os-release files of the distributions footloose has images
    /// for, as their official images ship them (trimmed to the keys read).
    pub(crate) const RELEASES: [(&str, Family); 11] = [
        (
            "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
            Family::Debian,
        ),
        (
            "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n",
            Family::Ubuntu,
        ),
        (
            "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"8.10\"\n",
            Family::RedHat,
        ),
        (
            "ID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.5\"\n",
            Family::RedHat,
        ),
        ("ID=fedora\nVERSION_ID=43\n", Family::Fedora),
        (
            "ID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n",
            Family::Amazon,
        ),
        (
            "ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\nVERSION_ID=\"16.0\"\n",
            Family::Suse,
        ),
        (
            "ID=\"sles\"\nID_LIKE=\"suse\"\nVERSION_ID=\"15.6\"\n",
            Family::Suse,
        ),
        (
            "NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n",
            Family::Arch,
        ),
        ("ID=alpine\nVERSION_ID=3.21.0\n", Family::Alpine),
        (
            "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"22\"\n",
            Family::Ubuntu,
        ),
    ];

    #[test]
    fn families_are_found_by_id_then_id_like() {
        for (text, family) in RELEASES {
            assert_eq!(Family::of(&OsRelease::parse(text)), Some(family), "{text}");
        }
        let derived = OsRelease::parse("ID=acme\nID_LIKE=\"rhel fedora\"\n");
        assert_eq!(Family::of(&derived), Some(Family::RedHat));
        assert_eq!(Family::of(&OsRelease::parse("ID=gentoo\n")), None);
    }

    #[test]
    fn every_family_has_an_ssh_daemon_and_python_package_and_a_package_manager() {
        for family in Family::ALL {
            for need in [Need::Sshd, Need::Python, Need::Tools] {
                assert!(!family.packages(need, None).is_empty(), "{family} {need}");
            }
            assert!(!family.package_managers().is_empty(), "{family}");
            let systemd = family.packages(Need::Systemd, None);
            assert_eq!(systemd.is_empty(), family == Family::Alpine, "{family}");
        }
    }

    #[test]
    fn old_releases_get_a_python_current_ansible_manages() {
        assert_eq!(
            Family::RedHat.packages(Need::Python, Some(8)),
            ["python3.11"]
        );
        assert_eq!(Family::RedHat.packages(Need::Python, Some(9)), ["python3"]);
        assert_eq!(Family::Suse.packages(Need::Python, Some(15)), ["python311"]);
        assert_eq!(Family::Suse.packages(Need::Python, Some(16)), ["python3"]);
    }

    #[test]
    fn a_package_manager_installs_only_what_is_missing_and_fails_when_the_install_does() {
        for manager in PackageManager::ALL {
            let command = manager.install_command(&["a", "b"]);
            assert!(
                command.starts_with("missing=; for p in a b; do "),
                "{command}"
            );
            assert!(
                command.contains("if [ -n \"$missing\" ]; then "),
                "{command}"
            );
            // The clean-up runs only after a successful install.
            assert!(command.contains("; fi && "), "{command}");
            assert!(
                command.contains(&format!("{} ", manager.program())),
                "{command}"
            );
            assert!(
                Family::by_package_manager(manager)
                    .package_managers()
                    .contains(&manager),
                "{manager}"
            );
        }
    }

    #[test]
    fn package_names_follow_each_familys_naming() {
        assert_eq!(Family::Arch.packages(Need::Sshd, None), ["openssh"]);
        assert_eq!(Family::Arch.packages(Need::Python, None), ["python"]);
        assert_eq!(
            Family::Ubuntu.packages(Need::Tools, None)[1],
            "iputils-ping"
        );
        assert!(!Family::RedHat.packages(Need::Tools, None).contains(&"curl"));
    }
}
