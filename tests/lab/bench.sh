#!/usr/bin/env bash
# `make bench`: for each running-cluster playbook, a fresh unencrypted lab cluster
# (3 servers and a client agent), the migration timed, the lab removed.
set -euo pipefail
cd "$(dirname "$0")/../.."
s=consul_gossip_running
out=$(mktemp -d)
trap 'molecule destroy -s $s >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
export ANSIBLE_VAULT_PASSWORD_FILE=$PWD/tests/lab/vault-password
for p in ${BENCH_PLAYBOOKS:-consul_gossip_running_cluster consul_tls_running_cluster consul_encrypt_running_cluster}; do
  inv=$(tests/lab/lab.sh cluster $s)
  export KEYFLEET_ESCROW_FILE=$out/$p.vault
  echo "$p on a running 3-server + 1-client Consul 1.8.7 cluster ($(date -u +%F), $(nproc) cores)"
  echo
  python3 tests/lab/bench.py "$inv" "$out/$p.log" "keyfleet.encryption.$p"
  echo
done
