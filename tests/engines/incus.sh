#!/usr/bin/env bash
# The Incus engine footloose's Incus tests run against, on a host without
# systemd: incusd is started by hand and initialised with a preseed.
#
#   incus.sh start    makes sure an Incus engine answers: starts incusd
#                     (its log in /tmp/incusd.log) if `incus info` fails,
#                     then, if the storage pool `default` or the network
#                     `incusbr0` is missing, creates what is missing with
#                     `incus admin init --preseed`. An engine that already
#                     has both is left alone.
#   incus.sh status   prints the server's version, the pool's driver and
#                     the bridge's address
#
# Installs nothing (.ci/run does): needs incus, dnsmasq-base and btrfs-progs
# (from bookworm-backports on Debian 12) and root. INCUS_DIR, if set, is
# honoured by incusd and incus alike.
#
# The bridge gets an explicit address: `incus admin init --minimal` fails
# here ("Failed to automatically find an unused IPv4 subnet"). The pool is a
# btrfs loop file Incus makes itself under $INCUS_DIR/disks (a `source:`
# pointing at a file on ext4 fails).
set -euo pipefail

incusd=/usr/libexec/incus/incusd
log=/tmp/incusd.log

check_installed() {
  local missing=()
  command -v incus >/dev/null || missing+=("incus (the client; package incus)")
  [ -x "$incusd" ] || missing+=("$incusd (package incus)")
  command -v dnsmasq >/dev/null || missing+=("dnsmasq (package dnsmasq-base, for the bridge)")
  command -v mkfs.btrfs >/dev/null || missing+=("mkfs.btrfs (package btrfs-progs, for the pool)")
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'missing: %s\n' "${missing[@]}" >&2
    echo "install them with: apt-get install -t bookworm-backports incus dnsmasq-base btrfs-progs" >&2
    exit 1
  fi
}

# Whether incusd answers; 124 if it runs but does not answer (its unix
# socket accepts no one while a client that has connected sends nothing:
# incusd peeks at each new connection's first 8 bytes before accepting the
# next).
answers() {
  timeout 10 incus info >/dev/null 2>&1
}

start() {
  check_installed
  local rc=0
  answers || rc=$?
  if [ $rc -eq 124 ]; then
    echo "incusd does not answer within 10 s: its API is stuck; not starting another" >&2
    exit 1
  elif [ $rc -ne 0 ]; then
    echo "starting incusd (log: $log)" >&2
    nohup "$incusd" --group root >"$log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 120); do
      answers && break
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "incusd exited; its log:" >&2
        tail -20 "$log" >&2
        exit 1
      fi
      sleep 0.5
    done
    if ! answers; then
      echo "incusd did not answer within 60 s; its log:" >&2
      tail -20 "$log" >&2
      exit 1
    fi
  fi
  # Only what is missing goes in the preseed: init refuses to create a pool
  # or network that exists. The default profile is updated, not recreated.
  local preseed=""
  if ! incus network show incusbr0 >/dev/null 2>&1; then
    preseed+="networks:
- name: incusbr0
  type: bridge
  config:
    ipv4.address: 10.221.7.1/24
    ipv4.nat: \"true\"
    ipv6.address: none
"
  fi
  if ! incus storage show default >/dev/null 2>&1; then
    preseed+="storage_pools:
- name: default
  driver: btrfs
  config:
    size: 20GiB
"
  fi
  if [ -n "$preseed" ]; then
    echo "initialising incus" >&2
    incus admin init --preseed <<EOF
$preseed
profiles:
- name: default
  devices:
    root:
      type: disk
      path: /
      pool: default
    eth0:
      type: nic
      name: eth0
      network: incusbr0
EOF
  fi
  status
}

status() {
  echo "version: $(incus version | sed -n 's/^Server version: //p')"
  echo "storage driver: $(incus storage show default | sed -n 's/^driver: //p')"
  echo "bridge address: $(incus network get incusbr0 ipv4.address)"
}

case ${1:-} in
  start) start ;;
  status) status ;;
  *) echo "usage: $0 start | status" >&2; exit 2 ;;
esac
