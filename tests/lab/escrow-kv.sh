#!/usr/bin/env bash
# The escrow against a real OpenBao server (tests/lab/openbao.py), on the controller, no hosts:
#  - the backend contract tests (tests/unit/plugins/plugin_utils/test_escrow_contract.py) for the file and KV backends;
#  - two ansible-playbook processes with separate home directories racing to generate the same secrets;
#  - the migration file -> KV -> file through the playbooks, values and history compared;
#  - ansible-builder create on meta/execution-environment.yml.
# The server is started and stopped here, on a port of its own.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export PATH="$top/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$top/.build/coll"
work=$(mktemp -d /tmp/keyfleet-escrow-kv.XXXXXX)
bao=$work/openbao
trap 'python3 tests/lab/openbao.py stop "$bao" || true; rm -rf "$work"' EXIT
env_json=$(python3 tests/lab/openbao.py start "$bao" "${KEYFLEET_TEST_BAO_PORT:-8270}")
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$env_json" "$1"; }

echo "=== escrow contract tests, file and KV ($(date -u +%T))"
KEYFLEET_TEST_BAO=$env_json PYTHONPATH="$top/.build/coll" python3 -m pytest -q -p no:cacheprovider \
  tests/unit/plugins/plugin_utils/test_escrow_contract.py

# What a controller of the KV escrow is given: the server, its CA, an AppRole (as an AWX credential injects).
ANSIBLE_HASHI_VAULT_ADDR=$(field url)
ANSIBLE_HASHI_VAULT_CA_CERT=$(field ca_cert)
ANSIBLE_HASHI_VAULT_ROLE_ID=$(field role_id)
ANSIBLE_HASHI_VAULT_SECRET_ID=$(field secret_id)
export KEYFLEET_ESCROW_BACKEND=kv ANSIBLE_HASHI_VAULT_AUTH_METHOD=approle ANSIBLE_HASHI_VAULT_ADDR ANSIBLE_HASHI_VAULT_CA_CERT
export ANSIBLE_HASHI_VAULT_ROLE_ID ANSIBLE_HASHI_VAULT_SECRET_ID ANSIBLE_VAULT_PASSWORD_FILE="$top/tests/lab/vault-password"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

echo "=== two controllers race to generate the same secrets ($(date -u +%T))"
cat > "$work/race.yml" <<'YML'
- name: Generate the race secrets
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write each secret's value where the test can compare it
      ansible.builtin.copy:
        dest: "{{ out }}/{{ item }}"
        content: "{{ lookup('keyfleet.encryption.escrow', item, kind='gossip_key') }}"
        mode: "0600"
      loop: "{{ range(8) | map('string') | map('regex_replace', '^', 'race') | list }}"
YML
for who in a b; do mkdir -p "$work/$who/home" "$work/$who/out"; done
for who in a b; do
  HOME=$work/$who/home ansible-playbook "$work/race.yml" -e out="$work/$who/out" >"$work/$who/log" 2>&1 &
done
wait
for who in a b; do grep -q 'failed=0' "$work/$who/log" || { cat "$work/$who/log"; exit 1; }; done
diff -r "$work/a/out" "$work/b/out"
[ "$(find "$work/a/out" -type f | wc -l)" = 8 ]
if find "$work/a/home" "$work/b/home" -name "escrow.vault*" | grep -q .; then echo "a controller kept an escrow file"; exit 1; fi
echo "both controllers got the same 8 secrets"

echo "=== migration: file -> KV -> file, values and history compared ($(date -u +%T))"
src=$work/src.vault back=$work/back.vault
KEYFLEET_ESCROW_BACKEND=file KEYFLEET_ESCROW_FILE=$src ansible-playbook /dev/stdin >/dev/null <<'YML'
- name: Fill a file escrow with history, generations and a pending rotation
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Make the secrets
      ansible.builtin.set_fact:
        made:
          - "{{ lookup('keyfleet.encryption.escrow', 'mig_gossip', kind='gossip_key') }}"
          - "{{ lookup('keyfleet.encryption.escrow', 'mig_gossip', kind='gossip_key', generation='2026-11') }}"
          - "{{ lookup('keyfleet.encryption.escrow', 'mig_ca', kind='pem', value='-----BEGIN CERTIFICATE-----\nX\n') }}"
          - "{{ lookup('keyfleet.encryption.escrow', 'mig_redis', kind='password', length=20) }}"
          - "{{ lookup('keyfleet.encryption.escrow', 'mig_token', kind='key256', generation='R1', pending=true) }}"
YML
# Check mode lists the copy and writes nothing: the real copy after it still copies all four.
ansible-playbook keyfleet.encryption.escrow_to_kv --check -e escrow_copy_file="$src" -e escrow_copy_kv_path=keyfleet/mig \
  | grep -q '4 copied, 0 already there, 0 verified'
ansible-playbook keyfleet.encryption.escrow_to_kv -e escrow_copy_file="$src" -e escrow_copy_kv_path=keyfleet/mig | tee "$work/to-kv.log"
grep -q '4 copied, 0 already there, 4 verified' "$work/to-kv.log"
ansible-playbook keyfleet.encryption.escrow_to_kv -e escrow_copy_file="$src" -e escrow_copy_kv_path=keyfleet/mig | grep -q '0 copied, 4 already there, 4 verified'
ansible-playbook keyfleet.encryption.escrow_export -e escrow_copy_file="$back" -e escrow_copy_kv_path=keyfleet/mig | grep -q '4 copied, 0 already there, 4 verified'
python3 - "$src" "$back" <<'PY'
import json, sys
from ansible.parsing.vault import VaultLib, VaultSecret
vault = VaultLib([('default', VaultSecret(open('tests/lab/vault-password', 'rb').read().strip()))])
a, b = (json.loads(vault.decrypt(open(p, 'rb').read()))['secrets'] for p in sys.argv[1:])
assert a == b and sorted(a) == ['mig_ca', 'mig_gossip', 'mig_redis', 'mig_token'], (sorted(a), sorted(b))
assert len(a['mig_gossip']['previous']) == 1 and a['mig_gossip']['generation'] == '2026-11'
assert 'pending' in a['mig_token']
print('file -> KV -> file: the same %d secrets, values, previous values, generations and pending rotations' % len(a))
PY

echo "=== execution environment: ansible-builder introspect and create ($(date -u +%T))"
ansible-builder introspect "$top/.build/coll" | tee "$work/introspect.txt"
grep -q "hvac .*from collection keyfleet.encryption" "$work/introspect.txt"
ansible-builder create -f tests/lab/execution-environment.yml -c "$work/ee" >/dev/null
grep -q hvac "$work/ee/_build/requirements.txt" && test -f "$work/ee/Containerfile"
echo "escrow-kv: all passed ($(date -u +%T))"
