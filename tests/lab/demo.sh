#!/usr/bin/env bash
# `make demo`: an unencrypted Consul cluster in the lab (3 servers and a client agent),
# taken to gossip encryption and full TLS while running, in three rolling restarts per
# agent (the one upshift); prints per node what was found, changed and restarted.
set -euo pipefail
cd "$(dirname "$0")/../.."
s=consul_encrypt_running
p=keyfleet.encryption.consul_encrypt_running_cluster
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== building the lab: 4 containers, an unencrypted Consul cluster (3 servers, 1 client) with data"
inv=$(tests/lab/lab.sh cluster $s)
export ANSIBLE_VAULT_PASSWORD_FILE=$PWD/tests/lab/vault-password KEYFLEET_ESCROW_FILE=$out/escrow.vault
echo "== plan (check mode)"
ansible-playbook -i "$inv" --check "$p" | grep -E '"msg": "node' | sed 's/.*"msg": "//; s/"$//; s/\\n/ /g'
echo "== migration: gossip encryption and TLS, three restarts per agent"
ansible-playbook -i "$inv" "$p" | grep -E '"msg": "node.*found|PLAY RECAP|changed=' | sed 's/.*"msg": "//; s/"$//; s/\\n/ /g'
echo "== re-run (must change nothing)"
ansible-playbook -i "$inv" "$p" | grep -E 'changed=' 
echo "== the lab stays up: molecule login -s $s -h node1; remove it with: molecule destroy -s $s"
