//! The guest contract: what a machine's image and footloose agree on, in
//! one place. `images/common/setup.sh` and the images' Dockerfiles follow
//! it (a test below holds them to it):
//!
//! - An image labelled `io.footloose.keys=env` takes the machine's host key
//!   and the cluster's public key in the environment
//!   ([`HOST_KEY_ENV`], [`AUTHORIZED_KEY_ENV`]); its [`BOOT_UNIT`] writes
//!   them to [`HOST_KEY_PATH`] and [`AUTHORIZED_KEYS_PATH`] before sshd
//!   starts, so nothing is copied into the container.
//! - Any other image gets the same files copied into the created
//!   container before it starts ([`key_files`]).
//! - A reboot in the machine makes PID 1 exit with [`REBOOT_EXIT_CODE`]
//!   (the drop-in at [`REBOOT_DROP_IN_PATH`]), and the engine's restart
//!   policy starts the container again; a poweroff exits 0.
//! - [`USER_MANAGER_ENV`] set to `1` lets the boot unit start the per-user
//!   manager (`userManager: true` in the config).
//! - A machine with a CPU limit (`resources.cpus`) gets the systemd
//!   configuration at [`CPU_ACCOUNTING_PATH`] copied in before it starts
//!   ([`cpu_accounting_files`]), whatever its image: CPU accounting for
//!   every unit. Without it, systemd on a cgroup v1 host (the host's
//!   cgroup namespace, its tree bound in) puts itself and the units it
//!   starts in the host's *root* cpu cgroup, outside the container's and
//!   its CFS quota (seen on Docker 20.10 with systemd 252); with it, every
//!   unit stays in the container's cgroup, under the quota.

use std::collections::HashMap;

use crate::archive::{self, Entry};

/// The image label by which an image says it takes the keys in the
/// environment, and its value.
pub const KEYS_LABEL: (&str, &str) = ("io.footloose.keys", "env");
/// The machine's private host key, for images that take keys by environment.
pub const HOST_KEY_ENV: &str = "FOOTLOOSE_HOST_KEY";
/// The cluster's public key, for images that take keys by environment.
pub const AUTHORIZED_KEY_ENV: &str = "FOOTLOOSE_AUTHORIZED_KEY";
/// Set to `1` when the machine's spec asks for the per-user manager.
pub const USER_MANAGER_ENV: &str = "FOOTLOOSE_USER_MANAGER";
/// The unit of footloose's images that writes the keys at boot.
pub const BOOT_UNIT: &str = "footloose-boot.service";
/// Where sshd reads the machine's host key.
pub const HOST_KEY_PATH: &str = "/etc/ssh/ssh_host_ed25519_key";
/// Where sshd reads the keys root may log in with.
pub const AUTHORIZED_KEYS_PATH: &str = "/root/.ssh/authorized_keys";
/// The drop-in that turns a reboot into PID 1 exiting with
/// [`REBOOT_EXIT_CODE`].
pub const REBOOT_DROP_IN_PATH: &str = "/etc/systemd/system/systemd-reboot.service.d/footloose.conf";
/// What a machine's PID 1 exits with when the machine reboots; the
/// engine's restart policy (on-failure) starts it again. A poweroff exits 0.
pub const REBOOT_EXIT_CODE: i64 = 129;
/// The drop-in's text.
pub const REBOOT_DROP_IN: &str = "[Unit]\nSuccessAction=exit-force\nSuccessActionExitStatus=129\n";

/// The systemd configuration that turns CPU accounting on for every unit
/// of a machine with a CPU limit, so that systemd keeps them in the
/// machine's cpu cgroup (see the module documentation).
pub const CPU_ACCOUNTING_PATH: &str = "/etc/systemd/system.conf.d/footloose-cpu.conf";
/// Its text.
pub const CPU_ACCOUNTING_CONF: &str = "[Manager]\nDefaultCPUAccounting=yes\n";

/// How a machine's image takes its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyDelivery {
    /// In the environment, written by the image's boot unit.
    Environment,
    /// Copied into the created container before it starts.
    Copy,
}

impl KeyDelivery {
    /// How an image with `labels` takes its keys.
    pub fn of_image(labels: &HashMap<String, String>) -> KeyDelivery {
        if labels.get(KEYS_LABEL.0).map(String::as_str) == Some(KEYS_LABEL.1) {
            KeyDelivery::Environment
        } else {
            KeyDelivery::Copy
        }
    }
}

/// The environment that hands an image the keys (`KeyDelivery::Environment`).
pub fn keys_env(host_private_key: &str, authorized_key: &str) -> Vec<String> {
    vec![
        format!("{HOST_KEY_ENV}={}", host_private_key.trim_end()),
        format!("{AUTHORIZED_KEY_ENV}={}", authorized_key.trim_end()),
    ]
}

/// The key files, and the reboot drop-in ([`REBOOT_DROP_IN_PATH`]), as a tar
/// archive to unpack at `/` (`KeyDelivery::Copy`): an image footloose did not
/// build reboots like a VM too.
pub fn key_files(
    host_private_key: &str,
    host_public_key: &str,
    authorized_key: &str,
) -> std::io::Result<Vec<u8>> {
    let public = format!("{}\n", host_public_key.trim_end());
    let authorized = format!("{}\n", authorized_key.trim_end());
    let relative = |path: &'static str| path.trim_start_matches('/');
    let host_public = format!("{}.pub", relative(HOST_KEY_PATH));
    archive::pack(&[
        Entry::file(relative(HOST_KEY_PATH), 0o600, host_private_key.as_bytes()),
        Entry::file(&host_public, 0o644, public.as_bytes()),
        Entry::dir("root/.ssh", 0o700),
        Entry::file(relative(AUTHORIZED_KEYS_PATH), 0o600, authorized.as_bytes()),
        Entry::dir("etc/systemd/system/systemd-reboot.service.d", 0o755),
        Entry::file(
            relative(REBOOT_DROP_IN_PATH),
            0o644,
            REBOOT_DROP_IN.as_bytes(),
        ),
    ])
}

/// The CPU accounting configuration ([`CPU_ACCOUNTING_PATH`]) as a tar
/// archive to unpack at `/`, for a machine with a CPU limit.
pub fn cpu_accounting_files() -> std::io::Result<Vec<u8>> {
    let path = CPU_ACCOUNTING_PATH.trim_start_matches('/');
    let dir = path.rsplit_once('/').map_or(path, |(dir, _)| dir);
    archive::pack(&[
        Entry::dir(dir, 0o755),
        Entry::file(path, 0o644, CPU_ACCOUNTING_CONF.as_bytes()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETUP: &str = include_str!("../images/common/setup.sh");

    #[test]
    fn the_image_setup_follows_the_contract() {
        for name in [
            HOST_KEY_ENV,
            AUTHORIZED_KEY_ENV,
            USER_MANAGER_ENV,
            BOOT_UNIT,
            HOST_KEY_PATH,
            AUTHORIZED_KEYS_PATH,
        ] {
            assert!(SETUP.contains(name), "setup.sh does not mention {name}");
        }
        assert!(
            SETUP.contains(&format!(
                "cat > {REBOOT_DROP_IN_PATH} <<'CONF'\n{REBOOT_DROP_IN}CONF\n"
            )),
            "setup.sh writes another reboot drop-in than footloose copies"
        );
        assert!(REBOOT_DROP_IN.contains(&format!("SuccessActionExitStatus={REBOOT_EXIT_CODE}\n")));
        for suite in ["debian11", "debian12", "debian13"] {
            let dockerfile = std::fs::read_to_string(format!(
                "{}/images/{suite}/Dockerfile",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let label = format!("LABEL {}=\"{}\"", KEYS_LABEL.0, KEYS_LABEL.1);
            assert!(dockerfile.contains(&label), "{suite} lacks {label}");
        }
    }

    #[test]
    fn the_cpu_accounting_drop_in_unpacks_at_its_path() {
        use std::io::Read;
        let tar = cpu_accounting_files().unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let entries: Vec<(String, String)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().display().to_string();
                let mut text = String::new();
                e.read_to_string(&mut text).unwrap();
                (path, text)
            })
            .collect();
        assert_eq!(
            entries,
            [
                ("etc/systemd/system.conf.d".to_owned(), String::new()),
                (
                    "etc/systemd/system.conf.d/footloose-cpu.conf".to_owned(),
                    "[Manager]\nDefaultCPUAccounting=yes\n".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn key_delivery_follows_the_image_label() {
        let env = HashMap::from([("io.footloose.keys".to_owned(), "env".to_owned())]);
        assert_eq!(KeyDelivery::of_image(&env), KeyDelivery::Environment);
        assert_eq!(KeyDelivery::of_image(&HashMap::new()), KeyDelivery::Copy);
        let vars = keys_env("PRIVATE\n", "ssh-ed25519 AAAA\n");
        assert_eq!(
            vars,
            [
                "FOOTLOOSE_HOST_KEY=PRIVATE",
                "FOOTLOOSE_AUTHORIZED_KEY=ssh-ed25519 AAAA"
            ]
        );
    }
}
