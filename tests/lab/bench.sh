#!/usr/bin/env bash
# `make bench`: a fresh unencrypted lab cluster, the gossip migration timed, the lab removed.
set -euo pipefail
cd "$(dirname "$0")/../.."
s=consul_gossip_running
out=$(mktemp -d)
trap 'molecule destroy -s $s >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
inv=$(tests/lab/lab.sh cluster $s)
export ANSIBLE_VAULT_PASSWORD_FILE=$PWD/tests/lab/vault-password KEYFLEET_ESCROW_FILE=$out/escrow.vault
echo "Gossip migration of a running 3-server Consul 1.8.7 cluster ($(date -u +%F), $(nproc) cores)"
python3 tests/lab/bench.py "$inv" "$out/ansible.log"
