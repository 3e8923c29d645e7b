#!/usr/bin/env bash
# footloose's smoke suite in a Debian 13 (trixie) guest under QEMU (software
# emulation: this host's /dev/kvm is nested and slow), against Docker,
# rootful Podman and rootless Podman, in that order: cgroup v2 with the
# systemd driver, AppArmor enforcing docker-default, systemd 257 -- the
# nearest Debian has to GitHub's ubuntu-24.04 runners.
#
#   guest.sh FOOTLOOSE_BIN SMOKE_BIN
#
# The guest's root file system is made once with mmdebstrap on the host
# (cached in $FOOTLOOSE_GUEST_DIR, default /var/tmp/fl-guest, keyed by the
# suite and the package list), the image footloose/debian12 travels in as a
# `docker save` tarball, the guest has no network, and it powers off when
# the suite is done. Prints what the guest runs (versions, cgroup driver,
# AppArmor and the label of a machine's PID 1 on each engine) and the
# suite's lines; exits 0 when every engine passed. Needs root, mmdebstrap,
# e2fsprogs, Docker (for the image) and qemu-system-x86 (from
# bookworm-backports on Debian 12, whose own conflicts with qemu-utils).
set -euo pipefail
prepared_from=$(date +%s)

footloose=$(readlink -f "$1")
smoke=$(readlink -f "$2")
work=${FOOTLOOSE_GUEST_DIR:-/var/tmp/fl-guest}
timeout=${FOOTLOOSE_GUEST_TIMEOUT:-2700}
suite=trixie
# docker-cli: trixie's docker.io is the engine only (the guest runs `docker
# load`); apparmor: apparmor_parser, which loads docker-default; passt:
# rootless Podman 5's network (pasta); nftables: netavark's firewall on
# trixie runs `nft`.
packages=linux-image-amd64,systemd-sysv,udev,apparmor,dbus,dbus-user-session,docker.io,docker-cli,podman,netavark,aardvark-dns,nftables,passt,uidmap,fuse-overlayfs,openssh-client,iproute2,procps,util-linux,ca-certificates,iptables,kmod
key=$(echo "$suite $packages" | sha256sum | cut -c1-12)
rootfs=$work/rootfs-$key
mkdir -p "$work"
# One guest at a time per work directory: the payload goes into its cache.
exec 9>"$work/lock"
flock 9

if [ ! -d "$rootfs" ]; then
  echo "guest: making the $suite root file system (once) ..." >&2
  # Root file systems of other package lists are not used again.
  rm -rf "$work"/rootfs-*
  mmdebstrap --variant=minbase --include="$packages" "$suite" "$rootfs.new" \
    http://deb.debian.org/debian >"$work/mmdebstrap.log" 2>&1 \
    || { tail -20 "$work/mmdebstrap.log" >&2; rm -rf "$rootfs.new"; exit 1; }
  mv "$rootfs.new" "$rootfs"
fi
kernel=$(ls "$rootfs"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$rootfs/boot/initrd.img-${kernel##*/vmlinuz-}

# The payload: binaries, the image, the suite and the unit that runs it.
payload=$rootfs/opt/footloose
rm -rf "$payload" && mkdir -p "$payload"
cp "$footloose" "$payload/footloose"
cp "$smoke" "$payload/smoke"
docker save footloose/debian12 -o "$payload/debian12.tar"
chmod 0644 "$payload/debian12.tar" # the rootless user loads it too
cat >"$payload/run.sh" <<'GUEST'
#!/bin/sh
# Runs inside the guest: what it runs on, the smoke suite on each engine,
# then power off.
set -u
cd /opt/footloose
echo
# When each phase ended, in seconds since the guest's kernel started: where
# the suite's time goes under emulation. (The image loads, 45 s each, were
# tried all at once: 198 s for the three, against 135 s one by one.)
mark() { echo "guest: at $(cut -d' ' -f1 /proc/uptime)s: $*"; }
mark "booted; slowest units: $(systemd-analyze blame 2>/dev/null | head -3 | tr -s ' \n' ' ')"
. /etc/os-release
echo "guest: $PRETTY_NAME ($(cat /etc/debian_version)), kernel $(uname -r), $(systemctl --version | head -1)"
echo "guest: cgroup $(stat -fc %T /sys/fs/cgroup), controllers $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "guest: apparmor enabled $(cat /sys/module/apparmor/parameters/enabled), LSMs $(cat /sys/kernel/security/lsm)"
# The guest has no network, but an interface with a default route, as a
# host with network has: pasta (rootless Podman) copies it into each
# machine's namespace and fails without one.
ip link add uplink type dummy && ip link set uplink up \
  && ip addr add 10.0.2.15/24 dev uplink && ip route add default via 10.0.2.2 \
  || echo "guest: cannot make the dummy uplink"
status=0
settle() { for _ in $(seq 1 600); do [ -S "$1" ] && return 0; sleep 0.5; done; return 1; }
# The AppArmor label of the first machine's PID 1 seen (systemd as PID 1
# of a PID namespace of its own), read from this side; /proc only, so
# that watching costs the suite next to nothing.
pid1_label() {
  for _ in $(seq 1 2400); do
    for pid in $(pgrep -x systemd); do
      nspid=$(grep '^NSpid:' "/proc/$pid/status" 2>/dev/null) || continue
      set -- $nspid
      [ $# -gt 2 ] && eval "[ \${$#} = 1 ]" || continue
      label=$(cat "/proc/$pid/attr/current" 2>/dev/null) || continue
      echo "guest: $engine machine $(nsenter -t "$pid" -u hostname 2>/dev/null): PID 1 (host PID $pid, $(readlink "/proc/$pid/exe")) runs under AppArmor $label"
      return 0
    done
    sleep 0.5
  done
  echo "guest: $engine: no machine's PID 1 seen"
}
# The engine as footloose sees it, through the Docker API on socket $2.
api() {
  echo "guest: $1 engine $(DOCKER_HOST=unix://$2 docker version --format '{{.Server.Version}} API {{.Server.APIVersion}}'), cgroup $(DOCKER_HOST=unix://$2 docker info --format 'v{{.CgroupVersion}} ({{.CgroupDriver}} driver), security options {{join .SecurityOptions " "}}')"
}

# Docker.
systemctl start docker.service
api docker /var/run/docker.sock
echo "guest: docker components $(docker version --format '{{range .Server.Components}}{{.Name}} {{.Version}}; {{end}}')"
docker load -i debian12.tar >/dev/null && echo "guest: docker has the image"
mark "docker has the image"
engine=docker
pid1_label &
watch=$!
DOCKER_HOST=unix:///var/run/docker.sock ./smoke docker ./footloose || status=1
mark "docker smoke suite done"
kill $watch 2>/dev/null
echo "guest: aa-status: $(aa-status 2>&1 | grep -E 'profiles are (loaded|in enforce mode)' | tr -s ' \n' ' ')"
echo "guest: aa-status: docker-default $(aa-status 2>&1 | sed -n '/in enforce mode/,/in complain mode/p' | grep -qx '[[:space:]]*docker-default' && echo enforced || echo 'not enforced')"
systemctl stop docker.service docker.socket containerd.service

# Rootful Podman.
printf '[network]\nnetwork_backend = "netavark"\n' >/etc/containers/containers.conf
echo "guest: $(podman --version), $(podman info --format 'cgroup {{.Host.CgroupsVersion}} ({{.Host.CgroupManager}} manager), runtime {{.Host.OCIRuntime.Name}}, network {{.Host.NetworkBackend}}, apparmor {{.Host.Security.AppArmorEnabled}}')"
podman load -q -i debian12.tar >/dev/null && echo "guest: podman has the image"
mark "podman has the image"
podman system service --time=0 unix:///run/podman/podman.sock &
rootful=$!
settle /run/podman/podman.sock
api podman /run/podman/podman.sock
engine=podman
pid1_label &
watch=$!
DOCKER_HOST=unix:///run/podman/podman.sock ./smoke podman ./footloose || status=1
mark "podman smoke suite done"
kill $watch 2>/dev/null
kill $rootful

# Rootless Podman, as a user with a systemd user session (lingering).
useradd -m -s /bin/sh fl
uid=$(id -u fl)
# Its subordinate ids, should useradd not have given it any.
grep -q '^fl:' /etc/subuid || usermod --add-subuids 100000-165535 fl
grep -q '^fl:' /etc/subgid || usermod --add-subgids 100000-165535 fl
echo "guest: fl's subuids $(grep '^fl:' /etc/subuid), subgids $(grep '^fl:' /etc/subgid)"
loginctl enable-linger fl
settle /run/user/$uid/bus
as_fl() {
  runuser -u fl -- env XDG_RUNTIME_DIR=/run/user/$uid \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus "$@"
}
echo "guest: rootless $(as_fl podman info --format 'cgroup {{.Host.CgroupsVersion}} ({{.Host.CgroupManager}} manager), runtime {{.Host.OCIRuntime.Name}}, network {{.Host.NetworkBackend}}, rootless network {{.Host.RootlessNetworkCmd}}, storage {{.Store.GraphDriverName}}' 2>&1)"
as_fl podman load -q -i /opt/footloose/debian12.tar >/dev/null && echo "guest: rootless podman has the image"
mark "rootless podman has the image"
as_fl podman system service --time=0 unix:///run/user/$uid/podman.sock &
settle /run/user/$uid/podman.sock
api podman-rootless /run/user/$uid/podman.sock
engine=podman-rootless
pid1_label &
watch=$!
DOCKER_HOST=unix:///run/user/$uid/podman.sock ./smoke podman-rootless ./footloose || status=1
mark "rootless podman smoke suite done"
kill $watch 2>/dev/null

echo "guest: done, status $status"
systemctl poweroff
GUEST
chmod +x "$payload/run.sh"
cat >"$rootfs/etc/systemd/system/footloose-smoke.service" <<'UNIT'
[Unit]
Description=footloose smoke suite
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/opt/footloose/run.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TimeoutStartSec=infinity
[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/footloose-smoke.service \
  "$rootfs/etc/systemd/system/multi-user.target.wants/footloose-smoke.service"
# No login prompt on the console the suite writes to.
ln -sf /dev/null "$rootfs/etc/systemd/system/serial-getty@ttyS0.service"
echo footloose-guest >"$rootfs/etc/hostname"

image=$work/guest.img
rm -f "$image"
mkfs.ext4 -q -F -L root -d "$rootfs" "$image" 10G
console=$work/console.log
echo "guest: host side ready after $(( $(date +%s) - prepared_from ))s; booting (TCG; console in $console) ..." >&2
started=$(date +%s)
timeout "$timeout" qemu-system-x86_64 -accel tcg -m 6G -smp 2 \
  -kernel "$kernel" -initrd "$initrd" \
  -append "root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0" \
  -drive "file=$image,format=raw,if=virtio" -nic none \
  -nographic -no-reboot -serial "file:$console" -monitor none </dev/null >/dev/null 2>&1 || true
echo "guest: ran for $(( $(date +%s) - started ))s" >&2
rm -f "$image" "$payload/debian12.tar"
# The console carries the firmware's terminal resets: drop escape sequences.
# Everything the suite wrote (from its first line to its last), so that a
# failure's whole message shows.
clean() { tr -d '\r' <"$console" | sed -e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }
clean | sed -n '/^guest: /,/^guest: done/p' || true
clean | grep -aq '^guest: done, status 0'
