#!/bin/sh
# Turns a Debian root file system into a footloose machine image: systemd as
# PID 1, an ssh daemon, and nothing that makes no sense inside a container.
# Shared by every images/<name>/Dockerfile; runs as the image's only RUN step.
set -eu

packages="systemd systemd-sysv dbus libpam-systemd openssh-server python3 \
  iproute2 iputils-ping procps sudo ca-certificates curl"

# A base made by footloose with mmdebstrap already holds every package, so
# the archive is only asked when something is missing (official debian:*).
# shellcheck disable=SC2086
if ! dpkg-query -W $packages >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends $packages
fi
apt-get clean
rm -rf /var/lib/apt/lists/*

# Units that need hardware, a console or kernel tunables a container lacks,
# and units with nothing to do in a machine made from a finished image: no
# kernel modules, no journal to flush (it is volatile), users, /dev nodes and
# the linker cache made when the image was, no "first boot after an update"
# (every container would count as one). Masking a unit the release does not
# ship is harmless.
systemctl mask \
  getty.target getty@.service serial-getty@.service console-getty.service \
  systemd-firstboot.service systemd-udevd.service systemd-udev-trigger.service \
  systemd-udevd-control.socket systemd-udevd-kernel.socket \
  systemd-udev-settle.service systemd-hwdb-update.service \
  systemd-modules-load.service systemd-sysctl.service systemd-binfmt.service \
  proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount \
  dev-hugepages.mount dev-mqueue.mount sys-fs-fuse-connections.mount \
  sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
  systemd-remount-fs.service systemd-journald-audit.socket \
  systemd-pcrphase.service systemd-pcrphase-sysinit.service \
  systemd-pcrphase-initrd.service systemd-tpm2-setup.service \
  systemd-tpm2-setup-early.service systemd-ask-password-console.path \
  systemd-ask-password-wall.path systemd-repart.service \
  apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer \
  e2scrub_reap.service fstrim.timer \
  systemd-update-utmp.service systemd-update-utmp-runlevel.service \
  modprobe@.service systemd-journal-flush.service systemd-sysusers.service \
  systemd-tmpfiles-setup-dev.service systemd-tmpfiles-setup-dev-early.service \
  dpkg-db-backup.timer \
  ldconfig.service systemd-journal-catalog-update.service systemd-update-done.service \
  systemd-user-sessions.service

# No /run/nologin at boot, so nothing has to remove it for users other than
# root to log in (systemd-user-sessions, masked above, did that).
mkdir -p /etc/tmpfiles.d
ln -sf /dev/null /etc/tmpfiles.d/systemd-nologin.conf

# Generators that find nothing to do in a container (no fstab, disks,
# consoles, kernel command line or rc.local) are not run at each boot and
# daemon-reload. The SysV generator stays: packages may still ship only an
# init script.
mkdir -p /etc/systemd/system-generators
for generator in /lib/systemd/system-generators/*; do
  case ${generator##*/} in
    systemd-sysv-generator) ;;
    *) ln -sf /dev/null "/etc/systemd/system-generators/${generator##*/}" ;;
  esac
done

# systemd's per-user manager (user@.service, for `systemctl --user`) starts
# at a user's first login and costs more CPU than the login itself; it runs
# only in machines whose spec says `userManager: true`.
for unit in user@.service user-runtime-dir@.service; do
  mkdir -p "/etc/systemd/system/$unit.d"
  cat > "/etc/systemd/system/$unit.d/footloose.conf" <<'CONF'
[Unit]
ConditionPathExists=/run/footloose-user-manager
CONF
done

# What footloose passes in the container's environment, put in place before
# sshd starts: the machine's host key and the cluster's public key (so that
# nothing needs copying into the container), and the user manager switch.
cat > /usr/local/sbin/footloose-boot <<'SCRIPT'
#!/bin/sh
# Written by footloose's image set-up; see footloose-boot.service.
umask 077
if [ -n "${FOOTLOOSE_HOST_KEY:-}" ] && [ ! -s /etc/ssh/ssh_host_ed25519_key ]; then
  printf '%s\n' "$FOOTLOOSE_HOST_KEY" > /etc/ssh/ssh_host_ed25519_key
fi
if [ -n "${FOOTLOOSE_AUTHORIZED_KEY:-}" ] && [ ! -s /root/.ssh/authorized_keys ]; then
  printf '%s\n' "$FOOTLOOSE_AUTHORIZED_KEY" > /root/.ssh/authorized_keys
fi
if [ "${FOOTLOOSE_USER_MANAGER:-}" = 1 ]; then
  : > /run/footloose-user-manager
fi
SCRIPT
chmod 0755 /usr/local/sbin/footloose-boot
cat > /etc/systemd/system/footloose-boot.service <<'CONF'
[Unit]
Description=Keys and settings footloose passes in the environment
DefaultDependencies=no
After=systemd-tmpfiles-setup.service
Before=ssh.service sysinit.target

[Service]
Type=oneshot
PassEnvironment=FOOTLOOSE_HOST_KEY FOOTLOOSE_AUTHORIZED_KEY FOOTLOOSE_USER_MANAGER
ExecStart=/usr/local/sbin/footloose-boot

[Install]
WantedBy=sysinit.target
CONF
systemctl enable footloose-boot.service

# Reboot like a VM: in a container without CAP_SYS_BOOT, systemd ends a
# reboot by exiting 0, as it ends a poweroff. Ending it with 129 instead
# lets the engine's restart policy (on-failure, set by footloose) start the
# same container again, disk, hostname and address kept; a poweroff still
# exits 0 and the machine stays stopped.
mkdir -p /etc/systemd/system/systemd-reboot.service.d
cat > /etc/systemd/system/systemd-reboot.service.d/footloose.conf <<'CONF'
[Unit]
SuccessAction=exit-force
SuccessActionExitStatus=129
CONF

# No update-motd scripts at each login (Debian's uname line); the static
# /etc/motd is still shown.
sed -i '/pam_motd.so[[:space:]]*motd=\/run\/motd.dynamic/d' /etc/pam.d/sshd

# Boot fast: machines are short-lived, so the journal stays in memory (no
# flush to disk on the boot's critical path), and sshd's configuration is
# not test-run before every start (footloose writes it once, here).
mkdir -p /etc/systemd/journald.conf.d /etc/systemd/system/ssh.service.d
cat > /etc/systemd/journald.conf.d/footloose.conf <<'CONF'
[Journal]
Storage=volatile
CONF
cat > /etc/systemd/system/ssh.service.d/footloose.conf <<'CONF'
[Service]
ExecStartPre=
CONF

# Every machine gets its own identity at boot: footloose writes a fresh host
# key before the container starts, and systemd makes a machine-id.
rm -f /etc/ssh/ssh_host_* /var/lib/dbus/machine-id
: > /etc/machine-id

mkdir -p /etc/ssh/sshd_config.d /root/.ssh
chmod 0700 /root/.ssh
cat > /etc/ssh/sshd_config.d/footloose.conf <<'CONF'
# Written by footloose: key-only logins with the key footloose injects.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxSessions 32
CONF
systemctl enable ssh.service
