#!/usr/bin/env bash
# Times the hello_http role both ways, with the same ansible-core:
#   molecule test   (molecule/default: docker driver, footloose/debian12)
#   cargo test      (tests/role.rs on debian12, the test already built)
# Run it from anywhere: bash examples/ansible/compare-molecule.sh
#
# Needs Docker, python3 with venv, hyperfine (`apt-get install hyperfine`)
# and the image footloose/debian12 (`footloose image build debian12`, or
# run the footloose test once). Molecule, its docker driver and Ansible go
# in a virtualenv, MOLECULE_VENV (default /tmp/mol-venv), made when
# missing; its bin/ comes first on PATH for both sides, so footloose's
# Playbook runs the same ansible-playbook as Molecule.
#
#   RUNS=5 (counted runs each, after one warm-up run)
#   ANSIBLE_CORE=2.19.14 (the ansible-core both sides use; 2.19 is the
#     newest one for Python 3.11; the `ansible` bundle brings the
#     community.docker and ansible.posix collections the driver needs,
#     without reaching Ansible Galaxy)
#   EXPORT=file.md (hyperfine's Markdown table, besides its text output)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
venv=${MOLECULE_VENV:-/tmp/mol-venv}
runs=${RUNS:-5}
core=${ANSIBLE_CORE:-2.19.14}
test_name=hello_http_converges_idempotently_and_serves::debian12

for tool in docker hyperfine python3 cargo; do
    command -v "$tool" >/dev/null || { echo "compare-molecule: $tool is missing" >&2; exit 1; }
done
docker image inspect footloose/debian12 >/dev/null 2>&1 || {
    echo "compare-molecule: no image footloose/debian12; build it with \`footloose image build debian12\`" >&2
    exit 1
}

if [ ! -x "$venv/bin/molecule" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q molecule 'molecule-plugins[docker]' "ansible-core==$core" ansible
fi
export PATH="$venv/bin:$PATH"

cd "$here"
# Build first: only the run of the built test is timed.
cargo test -q -p footloose-example-ansible --test role --no-run

echo "== versions"
python3 --version
"$venv/bin/pip" list 2>/dev/null | grep -E '^(molecule|molecule-plugins|ansible|ansible-core|docker) '
ansible-playbook --version | head -1
docker version --format 'Docker {{.Server.Version}}'

json=$(mktemp)
trap 'rm -f "$json"' EXIT
hyperfine_args=(--runs "$runs" --warmup 1 --export-json "$json")
[ -n "${EXPORT:-}" ] && hyperfine_args+=(--export-markdown "$EXPORT")
hyperfine "${hyperfine_args[@]}" \
    -n 'molecule test' 'molecule test' \
    -n 'cargo test (footloose)' \
    "cargo test -q -p footloose-example-ansible --test role -- --exact $test_name"

# hyperfine prints means; the medians, which noise moves less:
python3 - "$json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']}: median {r['median']:.1f} s, "
          f"{r['min']:.1f} .. {r['max']:.1f} s over {len(r['times'])} runs, "
          f"CPU {r['user'] + r['system']:.1f} s a run (mean user + sys of its processes)")
PY

# Molecule's destroy removes its container; say so if one is left.
left=$(docker ps -aq --filter name=mol-hello-http-web0)
if [ -n "$left" ]; then
    echo "compare-molecule: Molecule left mol-hello-http-web0 behind: docker rm -f $left" >&2
    exit 1
fi
