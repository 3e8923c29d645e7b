#!/bin/sh
# The baseline footloose is measured against: what a shell script does to
# get COUNT machines with the `docker` CLI and OpenSSH, as fast as a script
# can. Every machine is started at once (parallel `docker run`, the keys
# bind-mounted so that nothing is copied in), then ssh is polled on every
# machine at once until `ssh … true` answers. Prints "NAME PORT" per machine.
#
# Usage: baseline.sh CLUSTER COUNT KEY-DIR CGROUP-MOUNT LABEL LABEL
set -eu
cluster=$1 count=$2 keys=$3 cgroup=$4 managed=$5 owner=$6
ssh_options="-i $keys/baseline-user -o BatchMode=yes -o IdentitiesOnly=yes
  -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$keys/baseline-known_hosts
  -o HostKeyAlias=baseline -o ConnectTimeout=2 -o LogLevel=ERROR"

pids=""
i=0
while [ "$i" -lt "$count" ]; do
  docker run -d --name "$cluster-node$i" --hostname "node$i" -t \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --cgroupns host -v "$cgroup" \
    -v "$keys/baseline-host:/etc/ssh/ssh_host_ed25519_key:ro" \
    -v "$keys/baseline-authorized_keys:/root/.ssh/authorized_keys:ro" \
    -p 127.0.0.1::22 --label "$managed" --label "$owner" \
    footloose/debian12 >/dev/null &
  pids="$pids $!"
  i=$((i + 1))
done
for pid in $pids; do wait "$pid"; done

# Poll every machine at once; each poller gives up after 60 s.
pids=""
i=0
while [ "$i" -lt "$count" ]; do
  (
    name="$cluster-node$i"
    port=$(docker port "$name" 22/tcp | head -n 1 | sed 's/.*://')
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
exit $status
