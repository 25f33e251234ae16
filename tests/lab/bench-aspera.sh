#!/usr/bin/env bash
# `make bench-aspera`: askmscli keystore initialisation of 1,000 users (BENCH_USERS) with one
# aspera_keystore call against one task per user, in one run on one lab node (docs/aspera.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
s=aspera_new_install
out=$(mktemp -d)
trap 'molecule destroy -s $s >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
export ANSIBLE_VAULT_PASSWORD_FILE=$PWD/tests/lab/vault-password KEYFLEET_ESCROW_FILE=$out/escrow.vault
inv=$(tests/lab/lab.sh cluster $s)
echo "aspera_keystore: ${BENCH_USERS:-1000} users, one call against a loop ($(date -u +%F), $(nproc) cores)"
ansible-playbook -i "$inv" tests/lab/playbooks/aspera_bench.yml -e lab_bench_users="${BENCH_USERS:-1000}" \
  >"$out/bench.log" 2>&1 || { tail -n 40 "$out/bench.log"; exit 1; }
grep -o 'BENCH .*' "$out/bench.log" | tr -d '"'
