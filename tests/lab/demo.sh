#!/usr/bin/env bash
# `make demo`: an unencrypted 3-node Consul cluster in the lab, migrated to gossip
# encryption while running; prints per node what was found, changed and restarted.
set -euo pipefail
cd "$(dirname "$0")/../.."
s=consul_gossip_running
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== building the lab: 3 containers, an unencrypted Consul cluster with data"
inv=$(tests/lab/lab.sh cluster $s)
export ANSIBLE_VAULT_PASSWORD_FILE=$PWD/tests/lab/vault-password KEYFLEET_ESCROW_FILE=$out/escrow.vault
echo "== plan (check mode)"
ansible-playbook -i "$inv" --check keyfleet.encryption.consul_gossip_running_cluster | grep -E '"msg": "node' | sed 's/.*"msg": "//; s/"$//; s/\\n/ /g'
echo "== migration"
ansible-playbook -i "$inv" keyfleet.encryption.consul_gossip_running_cluster | grep -E '"msg": "node.*found|PLAY RECAP|changed=' | sed 's/.*"msg": "//; s/"$//; s/\\n/ /g'
echo "== re-run (must change nothing)"
ansible-playbook -i "$inv" keyfleet.encryption.consul_gossip_running_cluster | grep -E 'changed=' 
echo "== the lab stays up: molecule login -s $s -h node1; remove it with: molecule destroy -s $s"
