#!/bin/sh
# The baseline of the `pool` suite: COUNT one-machine "tests" run JOBS at a
# time by `xargs -P`, as a test runner runs tests, each doing with the
# `docker` CLI and OpenSSH what a cluster test does, as fast as a script
# can: `docker run -d` of one machine as baseline.sh makes it (keys
# bind-mounted), `ssh … true` polled until it answers, `ssh … true` as the
# test's body, `docker rm -f`.
#
# Usage: baseline-suite.sh CLUSTER COUNT JOBS KEY-DIR CGROUP-MOUNT LABEL LABEL
#        baseline-suite.sh one CLUSTER KEY-DIR CGROUP-MOUNT LABEL LABEL I
set -eu

if [ "$1" = one ]; then
  cluster=$2 keys=$3 cgroup=$4 managed=$5 owner=$6 i=$7
  name="$cluster-t$i"
  ssh_options="-i $keys/baseline-user -o BatchMode=yes -o IdentitiesOnly=yes
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$keys/baseline-known_hosts
    -o HostKeyAlias=baseline -o ConnectTimeout=2 -o LogLevel=ERROR"
  docker run -d --name "$name" --hostname node0 -t \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --cgroupns host -v "$cgroup" \
    -v "$keys/baseline-host:/etc/ssh/ssh_host_ed25519_key:ro" \
    -v "$keys/baseline-authorized_keys:/root/.ssh/authorized_keys:ro" \
    -p 127.0.0.1::22 --label "$managed" --label "$owner" \
    footloose/debian12 >/dev/null
  port=$(docker port "$name" 22/tcp | head -n 1 | sed 's/.*://')
  tries=0
  # shellcheck disable=SC2086
  until ssh $ssh_options -p "$port" root@127.0.0.1 true 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 1200 ] || { echo "$name never answered ssh" >&2; exit 1; }
    sleep 0.05
  done
  # shellcheck disable=SC2086
  ssh $ssh_options -p "$port" root@127.0.0.1 true
  docker rm -f -v "$name" >/dev/null
  exit 0
fi

cluster=$1 count=$2 jobs=$3 keys=$4 cgroup=$5 managed=$6 owner=$7
seq 0 $((count - 1)) |
  xargs -P "$jobs" -I{} sh "$0" one "$cluster" "$keys" "$cgroup" "$managed" "$owner" {}
