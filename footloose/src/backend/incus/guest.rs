//! The machine's side of the guest contract that only Incus needs, put in
//! place through the file API before the first start:
//!
//! - `/etc/hostname`: Incus names the container's host after the instance
//!   (`<cluster>-<hostname>`); systemd sets the machine's own at boot from
//!   this file, as on a VM. (Docker sets it from the create request.)
//! - the network: footloose's images configure none (Docker does it for
//!   them), so `eth0` gets its address by DHCP from Incus's bridge,
//!   through systemd-networkd, enabled here. (It works because `/sys` is
//!   read-only: see `instances.rs`.)
//! - `/etc/resolv.conf`: the network's dnsmasq (Docker mounts its own
//!   file over it), which knows the machines by name; the image's own is
//!   whatever its build host had.
//! - reboots: footloose's images turn a reboot into PID 1 exiting with a
//!   code Docker's restart policy acts on ([`crate::guest::REBOOT_DROP_IN`]).
//!   Incus restarts a container that reboots by itself, so a later drop-in
//!   gives `systemd-reboot.service` its own action back.

use crate::archive::{self, Entry};

/// The network file, applied to every Ethernet interface (a machine on
/// several networks has one per network).
pub(super) const NETWORK_PATH: &str = "etc/systemd/network/50-footloose-eth0.network";
const NETWORK: &str = "[Match]\nName=eth*\n\n[Network]\nDHCP=ipv4\n";
/// Enables systemd-networkd as `systemctl enable` would.
const NETWORKD_WANTED: &str = "etc/systemd/system/multi-user.target.wants/systemd-networkd.service";
const NETWORKD_UNIT: &str = "/lib/systemd/system/systemd-networkd.service";
/// Sorts after footloose's reboot drop-in, and so wins.
const REBOOT_DROP_IN: &str = "etc/systemd/system/systemd-reboot.service.d/zz-footloose-incus.conf";
const REBOOT: &str = "[Unit]\nSuccessAction=reboot-force\n";

/// The files, as a tar archive to unpack at `/`; `resolver` is the
/// network's dnsmasq address and DNS domain.
pub(super) fn files(
    hostname: &str,
    resolver: Option<&(String, String)>,
) -> std::io::Result<Vec<u8>> {
    let hostname = format!("{hostname}\n");
    let resolv_conf = resolver
        .map(|(address, domain)| format!("nameserver {address}\nsearch {domain}\n"))
        .unwrap_or_default();
    let mut entries = vec![Entry::file("etc/hostname", 0o644, hostname.as_bytes())];
    if resolver.is_some() {
        entries.push(Entry::file(
            "etc/resolv.conf",
            0o644,
            resolv_conf.as_bytes(),
        ));
    }
    entries.extend([
        Entry::dir("etc/systemd/network", 0o755),
        Entry::file(NETWORK_PATH, 0o644, NETWORK.as_bytes()),
        Entry::dir("etc/systemd/system/multi-user.target.wants", 0o755),
        Entry::symlink(NETWORKD_WANTED, NETWORKD_UNIT),
        Entry::dir("etc/systemd/system/systemd-reboot.service.d", 0o755),
        Entry::file(REBOOT_DROP_IN, 0o644, REBOOT.as_bytes()),
    ]);
    archive::pack(&entries)
}
