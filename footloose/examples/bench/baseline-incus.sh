#!/bin/sh
# The Incus baseline footloose is measured against: what a shell script does
# to get one machine per PORT with the `incus` CLI and OpenSSH, as fast as a
# script can, each machine what footloose makes on Incus:
#
# - the same config: `raw.lxc` with /sys read-only (else systemd-networkd
#   waits for udev) and systemd's halt signal, the cluster as `user.*` keys
#   (footloose's own labels, so that footloose and the bench find them);
# - sshd reached as footloose reaches it: a `proxy` device from
#   127.0.0.1:PORT on the host to port 22 inside (the caller picks free
#   ports). No wait for DHCP, and nothing sent to the bridge's addresses;
# - the same files before the first start: /etc/hostname, a
#   systemd-networkd DHCP file and its enablement symlink, the host key and
#   authorized_keys (the image takes keys from the environment on Docker;
#   with Incus they are copied in, as footloose does). One recursive
#   `incus file push` per machine carries all of them.
#
# Every machine goes at once and on its own: `incus create` (config and
# device from stdin in one request), the push, `incus start`, then ssh is
# polled on that machine until `ssh … true` answers, with no barrier
# between machines. Prints "NAME PORT" per machine. Deleting is the
# caller's (`incus delete -f`, timed apart).
#
# Usage: baseline-incus.sh CLUSTER KEY-DIR PORT...
set -eu
cluster=$1 keys=$2
shift 2
ssh_options="-i $keys/baseline-user -o BatchMode=yes -o IdentitiesOnly=yes
  -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$keys/baseline-known_hosts
  -o HostKeyAlias=baseline -o ConnectTimeout=2 -o LogLevel=ERROR"
stage=$keys/incus-$cluster

pids=""
i=0
for port in "$@"; do
  (
    name="$cluster-node$i"
    dir="$stage/node$i"
    mkdir -p "$dir/etc/ssh" "$dir/etc/systemd/network" \
      "$dir/etc/systemd/system/multi-user.target.wants" "$dir/root/.ssh"
    chmod 0700 "$dir/root" "$dir/root/.ssh"
    echo "node$i" >"$dir/etc/hostname"
    printf '[Match]\nName=eth*\n\n[Network]\nDHCP=ipv4\n' \
      >"$dir/etc/systemd/network/50-baseline.network"
    ln -s /lib/systemd/system/systemd-networkd.service \
      "$dir/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
    cp "$keys/baseline-host" "$dir/etc/ssh/ssh_host_ed25519_key"
    cp "$keys/baseline-authorized_keys" "$dir/root/.ssh/authorized_keys"
    chmod 0600 "$dir/etc/ssh/ssh_host_ed25519_key" "$dir/root/.ssh/authorized_keys"

    printf '%s\n' \
      'config:' \
      '  raw.lxc: |-' \
      '    lxc.mount.auto = sys:ro' \
      '    lxc.signal.halt = SIGRTMIN+3' \
      '  user.footloose.managed: "true"' \
      "  user.footloose.cluster: $cluster" \
      'devices:' \
      '  ssh:' \
      '    type: proxy' \
      "    listen: tcp:127.0.0.1:$port" \
      '    connect: tcp:127.0.0.1:22' |
      incus create -q footloose/debian12 "$name" >/dev/null
    # Incus 6.0.4 sometimes fails a push to a stopped instance while
    # others are pushed to ("Failed getting instance SFTP connection: dial
    # unix /proc/self/fd/N/forkfile.sock: connect: no such file or
    # directory": its per-instance file helper, forkfile, is gone). A
    # script that meets it pushes again a second later (the push is
    # idempotent), at most 5 times, and says so on stderr.
    pushes=1
    until err=$(incus file push -q -r "$dir/etc" "$dir/root" "$name/" 2>&1); do
      case "$err" in *forkfile.sock*) ;; *) echo "$err" >&2; exit 1 ;; esac
      [ "$pushes" -lt 5 ] || { echo "$name: $err" >&2; exit 1; }
      echo "$name: push $pushes failed (forkfile.sock), pushing again" >&2
      pushes=$((pushes + 1))
      sleep 1
    done
    incus start "$name"

    # Gives up after 60 s.
    tries=0
    # shellcheck disable=SC2086
    until ssh $ssh_options -p "$port" root@127.0.0.1 true 2>/dev/null; do
      tries=$((tries + 1))
      [ "$tries" -lt 1200 ] || { echo "$name never answered ssh" >&2; exit 1; }
      sleep 0.05
    done
    echo "$name $port"
  ) &
  pids="$pids $!"
  i=$((i + 1))
done
status=0
for pid in $pids; do wait "$pid" || status=1; done
rm -rf "$stage"
exit $status
