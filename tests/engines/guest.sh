#!/usr/bin/env bash
# footloose's smoke suite in a cgroup-v2 Debian 12 guest under QEMU
# (software emulation: this host's /dev/kvm is nested and slow), against
# Docker, rootful Podman and rootless Podman, in that order.
#
#   guest.sh FOOTLOOSE_BIN SMOKE_BIN
#
# The guest's root file system is made once with mmdebstrap on the host
# (cached in $FOOTLOOSE_GUEST_DIR, default /var/tmp/fl-guest), the image
# footloose/debian12 travels in as a `docker save` tarball, the guest has no
# network, and it powers off when the suite is done. Prints the suite's
# lines; exits 0 when every engine passed. Needs root, mmdebstrap,
# e2fsprogs, Docker (for the image) and qemu-system-x86 (from
# bookworm-backports on Debian 12, whose own conflicts with qemu-utils).
set -euo pipefail

footloose=$(readlink -f "$1")
smoke=$(readlink -f "$2")
work=${FOOTLOOSE_GUEST_DIR:-/var/tmp/fl-guest}
timeout=${FOOTLOOSE_GUEST_TIMEOUT:-2700}
packages=linux-image-amd64,systemd-sysv,udev,apparmor,dbus,dbus-user-session,docker.io,podman,netavark,aardvark-dns,uidmap,slirp4netns,fuse-overlayfs,openssh-client,iproute2,procps,util-linux,ca-certificates,iptables,kmod
key=$(echo "$packages" | sha256sum | cut -c1-12)
rootfs=$work/rootfs-$key
mkdir -p "$work"
# One guest at a time per work directory: the payload goes into its cache.
exec 9>"$work/lock"
flock 9

if [ ! -e "$rootfs/vmlinuz" ]; then
  echo "guest: making the root file system (once) ..." >&2
  rm -rf "$rootfs" "$rootfs.new"
  mmdebstrap --variant=minbase --include="$packages" bookworm "$rootfs.new" \
    http://deb.debian.org/debian >"$work/mmdebstrap.log" 2>&1 \
    || { tail -20 "$work/mmdebstrap.log" >&2; exit 1; }
  mv "$rootfs.new" "$rootfs"
fi

# The payload: binaries, the image, the suite and the unit that runs it.
payload=$rootfs/opt/footloose
rm -rf "$payload" && mkdir -p "$payload"
cp "$footloose" "$payload/footloose"
cp "$smoke" "$payload/smoke"
docker save footloose/debian12 -o "$payload/debian12.tar"
chmod 0644 "$payload/debian12.tar" # the rootless user loads it too
cat >"$payload/run.sh" <<'GUEST'
#!/bin/sh
# Runs inside the guest: the smoke suite on each engine, then power off.
set -u
cd /opt/footloose
echo
echo "guest: cgroup $(stat -fc %T /sys/fs/cgroup), kernel $(uname -r)"
status=0
settle() { for _ in $(seq 1 600); do [ -S "$1" ] && return 0; sleep 0.5; done; return 1; }

# Docker.
systemctl start docker.service
docker load -i debian12.tar >/dev/null && echo "guest: docker has the image"
DOCKER_HOST=unix:///var/run/docker.sock ./smoke docker ./footloose || status=1
systemctl stop docker.service docker.socket containerd.service

# Rootful Podman.
printf '[network]\nnetwork_backend = "netavark"\n' >/etc/containers/containers.conf
podman load -i debian12.tar >/dev/null && echo "guest: podman has the image"
podman system service --time=0 unix:///run/podman/podman.sock &
rootful=$!
settle /run/podman/podman.sock
DOCKER_HOST=unix:///run/podman/podman.sock ./smoke podman ./footloose || status=1
kill $rootful

# Rootless Podman, as a user with a systemd user session (lingering).
useradd -m -s /bin/sh fl
uid=$(id -u fl)
loginctl enable-linger fl
settle /run/user/$uid/bus
as_fl() {
  runuser -u fl -- env XDG_RUNTIME_DIR=/run/user/$uid \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus "$@"
}
as_fl podman load -i /opt/footloose/debian12.tar >/dev/null && echo "guest: rootless podman has the image"
as_fl podman system service --time=0 unix:///run/user/$uid/podman.sock &
settle /run/user/$uid/podman.sock
DOCKER_HOST=unix:///run/user/$uid/podman.sock ./smoke podman-rootless ./footloose || status=1

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
echo "guest: booting (TCG; console in $console) ..." >&2
started=$(date +%s)
timeout "$timeout" qemu-system-x86_64 -accel tcg -m 6G -smp 2 \
  -kernel "$rootfs/vmlinuz" -initrd "$rootfs/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0" \
  -drive "file=$image,format=raw,if=virtio" -nic none \
  -nographic -no-reboot -serial "file:$console" -monitor none </dev/null >/dev/null 2>&1 || true
echo "guest: ran for $(( $(date +%s) - started ))s" >&2
rm -f "$image" "$payload/debian12.tar"
# The console carries the firmware's terminal resets: drop escape sequences.
clean() { tr -d '\r' <"$console" | sed -e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }
clean | grep -aE '^(guest:|ok |FAILED |smoke |  )' || true
clean | grep -aq '^guest: done, status 0'
