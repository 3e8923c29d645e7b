#!/usr/bin/env bash
# A "remote" Docker engine on this host: a second dockerd in a network
# namespace of its own, reached over tcp through a veth pair, so that its
# 127.0.0.1 is not ours, and an sshd in the same namespace to reach it over
# ssh. For footloose's remote-engine tests.
#
#   remote-docker.sh start NAME N   starts both; prints
#                                   DOCKER_HOST=tcp://10.250.N.2:2375 and
#                                   SSH_ENGINE=ssh://root@10.250.N.2/.../docker.sock
#                                   (root logs in with the keys in
#                                   /tmp/fl-engine-NAME/authorized_keys; the
#                                   host key is ssh_host_ed25519_key.pub there;
#                                   sshd also listens on the namespace's own
#                                   127.0.0.1, which only a jump through
#                                   10.250.N.2 reaches)
#   remote-docker.sh start NAME N tls
#                                   the same over TLS only: the engine listens
#                                   on tcp://10.250.N.2:2376 with --tlsverify;
#                                   prints DOCKER_HOST=tcp://10.250.N.2:2376 and
#                                   DOCKER_CERT_PATH=/tmp/fl-engine-NAME/tls/client
#                                   (key.pem, cert.pem, ca.pem of a CA made
#                                   for this engine)
#   remote-docker.sh stop NAME      stops it and removes everything it made
#
# NAME is short ([a-z0-9], at most 8 characters), N in 1..250 picks the subnet
# 10.250.N.0/30. Needs root, iproute2, util-linux (nsenter), dockerd and
# OpenSSH's server.
# The engine is started with nsenter --net, not `ip netns exec`, which
# remounts /sys and would hide the host's cgroup mounts from dockerd.
set -euo pipefail

name=$2
netns=fl-$name
root=/tmp/fl-engine-$name
host_if=fl-$name-h
peer_if=fl-$name-p

start() {
  local n=$3 tls=${4:-}
  local host_ip=10.250.$n.1 engine_ip=10.250.$n.2
  local listen=(-H "tcp://$engine_ip:2375") endpoint="tcp://$engine_ip:2375" check=()
  stop >/dev/null 2>&1 || true
  mkdir -p "$root"
  ip netns add "$netns"
  ip link add "$host_if" type veth peer name "$peer_if"
  ip link set "$peer_if" netns "$netns"
  ip addr add "$host_ip/30" dev "$host_if"
  ip link set "$host_if" up
  ip -n "$netns" addr add "$engine_ip/30" dev "$peer_if"
  ip -n "$netns" link set "$peer_if" up
  ip -n "$netns" link set lo up
  if [ "$tls" = tls ]; then
    make_certs "$engine_ip"
    local certs=$root/tls
    listen=(--tlsverify --tlscacert "$certs/ca.pem" --tlscert "$certs/server-cert.pem"
      --tlskey "$certs/server-key.pem" -H "tcp://$engine_ip:2376")
    endpoint="tcp://$engine_ip:2376"
    check=(--tlsverify --tlscacert "$certs/client/ca.pem" --tlscert "$certs/client/cert.pem"
      --tlskey "$certs/client/key.pem")
  fi
  nohup nsenter --net="/run/netns/$netns" dockerd \
    --data-root "$root/data" --exec-root "$root/exec" \
    --pidfile "$root/dockerd.pid" \
    -H "unix://$root/docker.sock" "${listen[@]}" \
    --bip 172.29.$n.1/24 >"$root/dockerd.log" 2>&1 &
  start_sshd "$engine_ip"
  for _ in $(seq 1 60); do
    if docker -H "$endpoint" "${check[@]}" info >/dev/null 2>&1; then
      echo "DOCKER_HOST=$endpoint"
      echo "SSH_ENGINE=ssh://root@$engine_ip$root/docker.sock"
      [ "$tls" = tls ] && echo "DOCKER_CERT_PATH=$root/tls/client"
      return 0
    fi
    sleep 0.5
  done
  echo "the engine did not start; its log:" >&2
  tail -20 "$root/dockerd.log" >&2
  return 1
}

# An sshd for root on the engine's address (and on the namespace's loopback,
# for jumps through it), with keys of the test's own.
start_sshd() {
  mkdir -p /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$root/ssh_host_ed25519_key"
  touch "$root/authorized_keys"
  cat >"$root/sshd_config" <<EOF
ListenAddress $1
ListenAddress 127.0.0.1
HostKey $root/ssh_host_ed25519_key
AuthorizedKeysFile $root/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
PidFile $root/sshd.pid
EOF
  nsenter --net="/run/netns/$netns" /usr/sbin/sshd -f "$root/sshd_config" -E "$root/sshd.log"
}

# A CA of this engine's own, the engine's certificate for its address, and a
# client's key and certificate, laid out as DOCKER_CERT_PATH wants them.
make_certs() {
  local dir=$root/tls
  mkdir -p "$dir/client"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fl-test-ca \
      -keyout ca-key.pem -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout server-key.pem -out server.csr
    printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$1" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
      -days 2 -extfile server.ext -out server-cert.pem
    openssl req -newkey rsa:2048 -nodes -subj /CN=fl-test-client -keyout client/key.pem \
      -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
      -days 2 -extfile client.ext -out client/cert.pem
    cp ca.pem client/ca.pem
  ) >/dev/null 2>&1
}

stop() {
  if [ -f "$root/sshd.pid" ]; then
    kill "$(cat "$root/sshd.pid")" 2>/dev/null || true
  fi
  if [ -f "$root/dockerd.pid" ]; then
    local pid
    pid=$(cat "$root/dockerd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  ip link del "$host_if" 2>/dev/null || true
  ip netns del "$netns" 2>/dev/null || true
  # Containers' mounts under the data root go with their namespaces.
  umount -R "$root" 2>/dev/null || true
  rm -rf "$root"
}

case ${1:-} in
  start) start "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 start NAME N | stop NAME" >&2; exit 2 ;;
esac
