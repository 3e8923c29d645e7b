#!/usr/bin/env bash
# A two-member Incus cluster on this host, for footloose's Incus cluster
# tests: members `a` and `b` are two incusd of their own, each with its own
# INCUS_DIR, network namespace and mount namespace. The host's own incusd is
# only read from, to export an image (clustering it would change it for
# every other test).
#
#   incus-cluster.sh start NAME N [ALIAS [TARBALL [ROOTFS]]]
#       starts the cluster; with ALIAS, copies the image of that alias from
#       the host's incusd (export, import), or imports the image's files (a
#       unified tarball, or the metadata tarball and the rootfs) under
#       ALIAS. Writes and prints $root/env (root below):
#         ADDR=https://10.252.N.2:8443     a's API, over https
#         SERVER_CERT=...                  the cluster's certificate (self-
#                                          signed, for IP:10.252.N.2 and .3)
#         CLIENT_CERT=... CLIENT_KEY=...   a client the cluster trusts
#         SOCKET=$root/a/unix.socket       a's unix socket
#         INCUS_CONF=$root/client          an incus client configuration
#                                          whose default remote is the
#                                          cluster: INCUS_CONF=... incus list
#         SUBNET_A=10.253.N.0/24 SUBNET_B=10.254.N.0/24
#       and the time each step took, on stderr.
#   incus-cluster.sh stop NAME
#       stops both members and removes everything start made (also after a
#       start that failed half way).
#
# NAME is short ([a-z0-9], at most 8 characters), N in 1..250 picks the
# subnets; root is /var/lib/footloose-incus-cluster/NAME. Needs root,
# iproute2, util-linux (nsenter, unshare), openssl, incus, dnsmasq-base and
# btrfs-progs.
#
# The network: a namespace flc-NAME holds a bridge, the "switch", with three
# veth ports: the host (flc-NAME, 10.252.N.1/24), a (10.252.N.2) and b
# (10.252.N.3), each member in its namespace flc-NAME-a or -b. The switch is
# a namespace of its own, not a bridge on the host: the host's bridged
# traffic goes through its iptables (bridge-nf-call-iptables is 1 here) and
# Docker's FORWARD policy drops it.
#
# Instances: each member has a bridge flbr0 of its own in its namespace,
# 10.253.N.1/24 on a, 10.254.N.1/24 on b, with a dnsmasq of this script's
# for DHCP, and the default profile's eth0 is bridged to flbr0. These are
# unmanaged bridges: a managed network is one object across a cluster, and
# its ipv4.address is the same on every member (only
# bridge.external_interfaces, parent and bgp.*.nexthop may differ), so two
# members could not have subnets of their own that the host can route to.
# An instance gets an address only if it asks for one by DHCP (footloose
# pushes a systemd-networkd file for eth0 and enables networkd).
# A client on the host reaches an instance at its own address: the host
# has a route to each member's subnet via that member's address
# (10.253.N.0/24 via 10.252.N.2, 10.254.N.0/24 via 10.252.N.3), the
# members forward (net.ipv4.ip_forward=1 in their namespaces), and each
# member routes the other's subnet too, so instances reach each other.
# Nothing leaves for the outside: the host's FORWARD chain drops it.
#
# Each member's incusd runs in a mount namespace of its own with a fresh
# sysfs (else it sees the host's interfaces and refuses to create a bridge)
# and the host's cgroup mounts made again on it: `ip netns exec` alone
# remounts /sys and hides the cgroup mounts. INCUS_DIR moves its run, log
# and cache directories too, so nothing is shared with the host's incusd.
set -euo pipefail

incusd=/usr/libexec/incus/incusd
self=$(readlink -f "$0")
name=${2:-}
root=/var/lib/footloose-incus-cluster/$name
sw=flc-$name

last=$EPOCHREALTIME
lap() {
  local now=$EPOCHREALTIME
  awk -v a="$last" -v b="$now" -v s="$1" 'BEGIN { printf "%-28s %6.1f s\n", s, b - a }' >&2
  last=$now
}

# incus on a member's unix socket.
on() {
  local m=$1
  shift
  INCUS_DIR=$root/$m incus "$@"
}

# Whether a member's incusd answers, within 10 s.
answers() {
  timeout 10 env INCUS_DIR="$root/$1" incus info >/dev/null 2>&1
}

# incus on the host's own incusd, with a time limit: its unix socket accepts
# no one while a client that has connected sends nothing (incusd peeks at
# each new connection's first 8 bytes before accepting the next).
host_incus() {
  timeout 300 env -u INCUS_DIR -u INCUS_SOCKET incus "$@"
}

start() {
  local n=$3 alias=${4:-} files=("${@:5}")
  [ "$n" -ge 1 ] && [ "$n" -le 250 ] || { echo "N: 1 to 250" >&2; exit 2; }
  local cmd
  for cmd in incus "$incusd" dnsmasq mkfs.btrfs openssl nsenter unshare ip; do
    command -v "$cmd" >/dev/null || { echo "missing: $cmd" >&2; exit 1; }
  done
  if [ -n "$alias" ] && [ ${#files[@]} -eq 0 ] && ! host_incus image info "$alias" >/dev/null; then
    echo "no image $alias on the host's incusd (or it does not answer)" >&2
    exit 1
  fi
  stop >/dev/null 2>&1 || true
  mkdir -p "$root/a" "$root/b" "$root/client/servercerts"

  # The switch, the host's port on it and the members' namespaces.
  ip netns add "$sw"
  ip -n "$sw" link add name sw0 type bridge
  ip -n "$sw" link set dev sw0 up
  ip link add name "$sw" type veth peer name p-host netns "$sw"
  ip -n "$sw" link set dev p-host master sw0 up
  ip addr add "10.252.$n.1/24" dev "$sw"
  ip link set dev "$sw" up
  local m octet subnet
  for m in a b; do
    [ $m = a ] && octet=2 subnet=253 || octet=3 subnet=254
    ip netns add "$sw-$m"
    ip -n "$sw" link add name p-$m type veth peer name uplink netns "$sw-$m"
    ip -n "$sw" link set dev p-$m master sw0 up
    ip -n "$sw-$m" link set dev lo up
    ip -n "$sw-$m" addr add "10.252.$n.$octet/24" dev uplink
    ip -n "$sw-$m" link set dev uplink up
    ip -n "$sw-$m" link add name flbr0 type bridge
    ip -n "$sw-$m" addr add "10.$subnet.$n.1/24" dev flbr0
    ip -n "$sw-$m" link set dev flbr0 up
    nsenter --net="/run/netns/$sw-$m" sysctl -qw net.ipv4.ip_forward=1
    nsenter --net="/run/netns/$sw-$m" dnsmasq --conf-file=/dev/null --port=0 \
      --user=root --group=root --bind-interfaces --interface=flbr0 --except-interface=lo \
      --dhcp-range="10.$subnet.$n.2,10.$subnet.$n.254,1h" \
      --dhcp-leasefile="$root/$m.leases" --pid-file="$root/$m.dnsmasq.pid"
    ip route add "10.$subnet.$n.0/24" via "10.252.$n.$octet"
  done
  ip -n "$sw-a" route add "10.254.$n.0/24" via "10.252.$n.3"
  ip -n "$sw-b" route add "10.253.$n.0/24" via "10.252.$n.2"
  lap "network"

  start_member a
  start_member b
  wait_member a
  wait_member b
  lap "both incusd answer"

  # a: pool, profile, API address and clustering in one preseed.
  on a admin init --preseed <<EOF
config:
  core.https_address: 10.252.$n.2:8443
storage_pools:
- name: default
  driver: btrfs
  config:
    size: 10GiB
profiles:
- name: default
  devices:
    root: {type: disk, path: /, pool: default}
    eth0: {type: nic, name: eth0, nictype: bridged, parent: flbr0}
cluster:
  server_name: a
  enabled: true
EOF
  lap "a initialised, clustered"

  local token
  token=$(on a cluster add b -q | tail -1)
  on b admin init --preseed <<EOF
cluster:
  enabled: true
  server_name: b
  server_address: 10.252.$n.3:8443
  cluster_address: 10.252.$n.2:8443
  cluster_token: $token
  member_config:
  - {entity: storage-pool, name: default, key: size, value: 10GiB}
EOF
  lap "b joined"

  # The cluster's certificate, made again for the members' addresses: the
  # one incusd makes names only its hostname and loopback, which a client
  # checking the address it connects to refuses. Then a client of the
  # host's, trusted by the cluster, and a client configuration that uses it.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -days 30 \
    -subj /CN=footloose-ci-cluster -addext "subjectAltName=IP:10.252.$n.2,IP:10.252.$n.3" \
    -addext extendedKeyUsage=serverAuth -addext basicConstraints=critical,CA:FALSE \
    -keyout "$root/cluster.key" -out "$root/cluster.crt" 2>/dev/null
  on a cluster update-certificate "$root/cluster.crt" "$root/cluster.key" >/dev/null
  cp "$root/cluster.crt" "$root/client/servercerts/cluster.crt"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -days 30 \
    -subj /CN=footloose-ci -keyout "$root/client/client.key" -out "$root/client/client.crt" \
    2>/dev/null
  on a config trust add-certificate "$root/client/client.crt" --name footloose-ci
  cat >"$root/client/config.yml" <<EOF
default-remote: cluster
remotes:
  cluster:
    addr: https://10.252.$n.2:8443
    protocol: incus
    auth_type: tls
EOF
  cat >"$root/env" <<EOF
ADDR=https://10.252.$n.2:8443
SERVER_CERT=$root/client/servercerts/cluster.crt
CLIENT_CERT=$root/client/client.crt
CLIENT_KEY=$root/client/client.key
SOCKET=$root/a/unix.socket
INCUS_CONF=$root/client
SUBNET_A=10.253.$n.0/24
SUBNET_B=10.254.$n.0/24
EOF
  INCUS_CONF=$root/client incus cluster list -f csv >/dev/null
  lap "certificates"

  if [ -n "$alias" ]; then
    if [ ${#files[@]} -gt 0 ]; then
      on a image import "${files[@]}" --alias "$alias" >/dev/null
    else
      # The host's incusd exports (one unified tarball or a pair, named by
      # fingerprint, meta-* first), a imports.
      mkdir -p "$root/image"
      host_incus image export "$alias" "$root/image/" >/dev/null
      local f
      for f in "$root"/image/meta-* "$root"/image/*; do
        [ -f "$f" ] && [[ " ${files[*]} " != *" $f "* ]] && files+=("$f")
      done
      on a image import "${files[@]}" --alias "$alias" >/dev/null
      rm -rf "$root/image"
    fi
    on a image info "$alias" >/dev/null
    lap "image $alias imported"
  fi
  cat "$root/env"
}

# A member's incusd, in its network namespace and a mount namespace of its
# own (made by `member`, below).
start_member() {
  nohup nsenter --net="/run/netns/$sw-$1" unshare -m --propagation private \
    "$self" member "$name" "$1" >"$root/$1.incusd.log" 2>&1 &
  echo $! >"$root/$1.incusd.pid"
}

wait_member() {
  for _ in $(seq 1 120); do
    answers "$1" && return 0
    kill -0 "$(cat "$root/$1.incusd.pid")" 2>/dev/null || break
    sleep 0.5
  done
  echo "member $1's incusd did not answer; its log:" >&2
  tail -20 "$root/$1.incusd.log" >&2
  exit 1
}

# Runs in the member's new mount namespace: a sysfs of its namespace, the
# mounts that were on the host's /sys made again on it (the cgroup
# hierarchies and the tmpfs that holds them, made writable to make their
# mount points), then incusd.
member() {
  local m=$3 mounts=() line src mnt type opts
  mapfile -t mounts < <(awk '$2 ~ "^/sys/"' /proc/self/mounts)
  mount -t sysfs sysfs /sys
  for line in "${mounts[@]}"; do
    read -r src mnt type opts _ <<<"$line"
    opts=${opts/#ro,/rw,}
    mkdir -p "$mnt"
    mount -t "$type" -o "$opts" "$src" "$mnt"
  done
  INCUS_DIR=$root/$m exec "$incusd" --group root
}

stop() {
  local m pid
  # Instances first, so that no container outlives its incusd.
  if answers a; then
    timeout 60 env INCUS_DIR="$root/a" incus stop --all --force 2>/dev/null || true
  fi
  lap "instances stopped"
  for m in b a; do
    answers $m && timeout 60 env INCUS_DIR="$root/$m" incus admin shutdown -t 30 || true
    if [ -f "$root/$m.incusd.pid" ]; then
      pid=$(cat "$root/$m.incusd.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    # Left over: an [lxc monitor] of this member's (its container with it)
    # and whatever runs in its namespace (dnsmasq, incusd's helpers).
    for pid in $(pgrep -f "^\[lxc monitor\] $root/$m/containers " || true); do
      pkill -9 -P "$pid" || true
      kill -9 "$pid" 2>/dev/null || true
    done
    for pid in $(ip netns pids "$sw-$m" 2>/dev/null || true); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$sw-$m" 2>/dev/null || true
    lap "member $m stopped"
  done
  ip link del "$sw" 2>/dev/null || true
  ip netns del "$sw" 2>/dev/null || true
  # The members' mounts went with their mount namespaces; anything else
  # under root, and the pools' loop devices, go now.
  awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r mnt; do umount -l "$mnt" || true; done
  for m in a b; do
    losetup -j "$root/$m/disks/default.img" 2>/dev/null | cut -d: -f1 |
      while read -r dev; do losetup -d "$dev" || true; done
  done
  rm -rf "$root"
  rmdir /var/lib/footloose-incus-cluster 2>/dev/null || true
  lap "removed"
}

usage="usage: $0 start NAME N [ALIAS [TARBALL [ROOTFS]]] | stop NAME"
case ${1:-}:$# in start:[3-6] | stop:2 | member:3) ;; *) echo "$usage" >&2; exit 2 ;; esac
# NAME makes paths that stop removes: nothing but [a-z0-9].
case $name in *[!a-z0-9]* | "" | ?????????*) echo "NAME: [a-z0-9], 1 to 8 characters" >&2; exit 2 ;; esac
case $1 in
  start) start "$@" ;;
  stop) stop ;;
  member) member "$@" ;;
esac
