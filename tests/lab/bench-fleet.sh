#!/usr/bin/env bash
# `make bench-fleet` (docs/consul-benchmark.md): the running-cluster upshift
# (consul_encrypt_running_cluster: gossip and TLS, 3 restarts per agent) on fresh clusters of real
# Consul 1.8.7, with the standard containers.podman.podman connection (no pipelining):
#   - a pinned earlier commit (BENCH_BASE) and this checkout, on 3 servers + 2 clients;
#   - this checkout on 3 servers + each of BENCH_CLIENTS clients (default 2 6 12).
# Containers and cluster: tests/lab/bench-cluster.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
base=${BENCH_BASE:-204f25a}
work=$(mktemp -d)
# shellcheck source=tests/lab/bench-cluster.sh
. tests/lab/bench-cluster.sh
cleanup() {
  bench_rm
  git worktree remove --force "$work/base" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

git worktree add -q --detach "$work/base" "$base"
for c in base new; do mkdir -p "$work/coll-$c/ansible_collections/keyfleet"; done
ln -s "$work/base" "$work/coll-base/ansible_collections/keyfleet/encryption"
ln -s "$top" "$work/coll-new/ansible_collections/keyfleet/encryption"

cluster() {  # CLIENTS: a fresh unencrypted cluster of 3 servers and CLIENTS clients; prints its inventory
  local inv=$work/inventory-$1.yml
  ANSIBLE_COLLECTIONS_PATH=$work/coll-new bench_cluster "$1" "$inv"
  echo "$inv"
}

bench() {  # LABEL CLIENTS COLLECTION
  local inv; inv=$(KEYFLEET_ESCROW_FILE=$work/$1.vault cluster "$2")
  echo "### $1: 3 servers + $2 clients ($(date -u +%F), $(nproc) cores)"
  echo
  KEYFLEET_ESCROW_FILE=$work/$1.vault ANSIBLE_COLLECTIONS_PATH=$work/coll-$3 \
    python3 tests/lab/bench.py "$inv" "$work/$1.log" keyfleet.encryption.consul_encrypt_running_cluster "$work/$1.json"
  echo
}

bench "main@$base-2-clients" 2 base
for c in ${BENCH_CLIENTS:-2 6 12}; do bench "new-$c-clients" "$c" new; done
echo "### Comparison"
echo
runs=("$work"/main@*.json)
for c in ${BENCH_CLIENTS:-2 6 12}; do runs+=("$work/new-$c-clients.json"); done
python3 tests/lab/bench.py table "${runs[@]}"
