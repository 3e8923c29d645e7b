#!/bin/sh
# Turns a root file system that holds systemd and an ssh daemon into a
# footloose machine image: systemd as PID 1, sshd reachable with the keys
# footloose passes, and nothing that makes no sense inside a container.
# Shared by every images/<name>/Dockerfile and by the images footloose
# adapts; runs after the Dockerfile installed what the image lacked. It
# installs nothing itself, and works on any distribution (Debian, Ubuntu,
# the Red Hat family, SUSE, Arch, ...): what differs is found, not assumed.
set -eu

say() { echo "footloose-setup: $*"; }
fail() { echo "footloose-setup: error: $*" >&2; exit 1; }

systemd=
for candidate in /usr/lib/systemd/systemd /lib/systemd/systemd; do
  [ -x "$candidate" ] && systemd=$candidate && break
done
[ -n "$systemd" ] || fail "no systemd (looked for /usr/lib/systemd/systemd, /lib/systemd/systemd)"
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] ||
  fail "no ssh daemon (sshd is not on PATH nor in /usr/sbin)"

# PID 1 is /sbin/init (the image's CMD), whatever provides it.
if [ ! -e /sbin/init ]; then
  ln -s "$systemd" /sbin/init
  say "linked /sbin/init to $systemd"
fi

# The ssh daemon's unit: ssh.service on Debian and Ubuntu, sshd.service
# elsewhere.
ssh_unit=
for unit in ssh.service sshd.service; do
  for dir in /lib/systemd/system /usr/lib/systemd/system; do
    if [ -e "$dir/$unit" ]; then ssh_unit=$unit; break 2; fi
  done
done
[ -n "$ssh_unit" ] || fail "no ssh.service or sshd.service unit (is the ssh daemon's package complete?)"
say "ssh daemon unit: $ssh_unit"

# A VM has no policy-rc.d: services a test installs start as they would.
rm -f /usr/sbin/policy-rc.d

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
  dpkg-db-backup.timer dnf-makecache.timer archlinux-keyring-wkd-sync.timer \
  systemd-oomd.service systemd-oomd.socket \
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
for generator in /lib/systemd/system-generators/* /usr/lib/systemd/system-generators/*; do
  [ -e "$generator" ] || continue
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
Before=ssh.service sshd.service sysinit.target

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
if [ -f /etc/pam.d/sshd ]; then
  sed -i '/pam_motd.so[[:space:]]*motd=\/run\/motd.dynamic/d' /etc/pam.d/sshd
fi

# A locked root account ('!' in /etc/shadow, as some images ship it) may
# not log in even with a key where sshd checks it without PAM.
if [ -f /etc/shadow ] && grep -q '^root:!' /etc/shadow; then
  sed -i 's/^root:![^:]*:/root:*:/' /etc/shadow
  say "unlocked root for key logins"
fi

# Boot fast: machines are short-lived, so the journal stays in memory (no
# flush to disk on the boot's critical path), and sshd's configuration is
# not test-run before every start (footloose writes it once, here).
mkdir -p /etc/systemd/journald.conf.d "/etc/systemd/system/$ssh_unit.d"
cat > /etc/systemd/journald.conf.d/footloose.conf <<'CONF'
[Journal]
Storage=volatile
CONF
cat > "/etc/systemd/system/$ssh_unit.d/footloose.conf" <<'CONF'
[Service]
ExecStartPre=
CONF

# The units that make every kind of host key at boot (Red Hat, SUSE, Arch)
# are skipped: footloose writes the one key sshd uses.
for unit in sshd-keygen@.service sshd-keygen.service sshdgenkeys.service; do
  mkdir -p "/etc/systemd/system/$unit.d"
  cat > "/etc/systemd/system/$unit.d/footloose.conf" <<'CONF'
[Unit]
ConditionPathExists=/run/footloose-generate-host-keys
CONF
done

# Every machine gets its own identity at boot: footloose writes a fresh host
# key before the container starts, and systemd makes a machine-id.
rm -f /etc/ssh/ssh_host_* /var/lib/dbus/machine-id
: > /etc/machine-id

mkdir -p /etc/ssh/sshd_config.d /root/.ssh
chmod 0700 /root/.ssh
# Releases whose sshd_config reads no drop-ins (Red Hat 8) read footloose's.
if [ -f /etc/ssh/sshd_config ] && ! grep -qi '^[[:space:]]*Include[[:space:]].*sshd_config.d' /etc/ssh/sshd_config; then
  sed -i '1i Include /etc/ssh/sshd_config.d/*.conf' /etc/ssh/sshd_config
  say "made sshd_config read /etc/ssh/sshd_config.d"
fi
cat > /etc/ssh/sshd_config.d/footloose.conf <<'CONF'
# Written by footloose: key-only logins with the key footloose injects.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxSessions 32
CONF
# Socket activation (Ubuntu 24.04's default) would hold port 22 beside
# the daemon: the daemon runs on its own, as footloose's images expect.
systemctl disable ssh.socket sshd.socket >/dev/null 2>&1 || true
systemctl enable "$ssh_unit"
say "set up: boot unit footloose-boot.service, $ssh_unit enabled, container units masked"
