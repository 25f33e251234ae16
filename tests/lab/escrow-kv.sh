#!/usr/bin/env bash
# The escrow against a real OpenBao server (tests/lab/openbao.py), on the controller, no hosts:
#  - the backend contract tests (tests/unit/plugins/plugin_utils/test_escrow_contract.py) for the file and KV backends;
#  - the connection and auth options (AppRole, VAULT_* variables, the token file) and each way they fail, no credential shown;
#  - two ansible-playbook processes with separate home directories racing to generate the same secrets
#    (escrow_secret tasks), and racing to store two different PEMs under one name with keep_stored (one wins,
#    both use it; a different PEM without keep_stored is then refused);
#  - a check-mode run of every escrow_secret operation: the KV metadata (versions, update times) stays the same;
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

# Every secret under the escrow path with its KV version, update time and versions (the metadata a write changes).
kv_metadata() {
  python3 - "$env_json" <<'PY'
import json, sys
import hvac
from hvac import exceptions
env = json.load(open(sys.argv[1]))
kv = hvac.Client(url=env['url'], verify=env['ca_cert'], token=env['root_token']).secrets.kv.v2
found, folders = {}, ['keyfleet/']
while folders:
    folder = folders.pop()
    try:
        keys = kv.list_secrets(path=folder, mount_point='secret')['data']['keys']
    except exceptions.InvalidPath:
        keys = []
    for key in keys:
        if key.endswith('/'):
            folders.append(folder + key)
            continue
        meta = kv.read_secret_metadata(path=folder + key, mount_point='secret')['data']
        found[folder + key] = dict((k, meta[k]) for k in ('current_version', 'updated_time', 'versions'))
print(json.dumps(found, indent=1, sort_keys=True))
PY
}
# Start two controllers at once (separate home directories): $1 the playbook; each waits for the other before its
# escrow tasks (it touches $out/ready, then waits for $work/go).
race() {
  rm -f "$work/go"
  for who in a b; do
    rm -rf "$work/$who/out" && mkdir -p "$work/$who/home" "$work/$who/out"
    HOME=$work/$who/home ansible-playbook "$1" -e out="$work/$who/out" -e go="$work/go" >"$work/$who/log" 2>&1 &
  done
  for _ in $(seq 600); do [ -e "$work/a/out/ready" ] && [ -e "$work/b/out/ready" ] && break; sleep 0.1; done
  touch "$work/go"
  wait
  for who in a b; do grep -q 'failed=0' "$work/$who/log" || { cat "$work/$who/log"; exit 1; }; done
}

echo "=== two controllers race to generate the same secrets ($(date -u +%T))"
cat > "$work/race.yml" <<'YML'
- name: Generate the race secrets
  hosts: localhost
  gather_facts: false
  vars:
    race_names: "{{ range(8) | map('string') | map('regex_replace', '^', 'race') | list }}"
  tasks:
    - name: Ready
      ansible.builtin.file:
        path: "{{ out }}/ready"
        state: touch
        mode: "0600"

    - name: Wait for the other controller
      ansible.builtin.wait_for:
        path: "{{ go }}"
        timeout: 60

    - name: Escrow each secret (generated once, by whichever controller is first)
      keyfleet.encryption.escrow_secret:
        name: "{{ item }}"
        kind: gossip_key
      loop: "{{ race_names }}"
      no_log: true
      register: race_escrow

    - name: Write each secret's value and status where the test can compare them
      ansible.builtin.copy:
        dest: "{{ out }}/{{ item.item }}"
        content: "{{ item.value }}"
        mode: "0600"
      loop: "{{ race_escrow.results }}"
      no_log: true

    - name: Write the statuses
      ansible.builtin.copy:
        dest: "{{ out }}/statuses"
        content: "{{ race_escrow.results | map(attribute='status') | join(' ') }}"
        mode: "0600"

    - name: The lookup reads what the task returned
      ansible.builtin.assert:
        that: lookup('keyfleet.encryption.escrow', item.item, kind='gossip_key') == item.value
        quiet: true
      loop: "{{ race_escrow.results }}"
      no_log: true
YML
race "$work/race.yml"
for who in a b; do rm "$work/$who/out/ready"; done
for who in a b; do { tr ' ' '\n' <"$work/$who/out/statuses"; echo; } >"$work/$who.statuses" && rm "$work/$who/out/statuses"; done
diff -r "$work/a/out" "$work/b/out"
[ "$(find "$work/a/out" -type f | wc -l)" = 8 ]
# Each secret was generated by one controller and found present by the other.
[ "$(cat "$work/a.statuses" "$work/b.statuses" | grep -c '^generated$')" = 8 ]
[ "$(cat "$work/a.statuses" "$work/b.statuses" | grep -c '^present$')" = 8 ]
if find "$work/a/home" "$work/b/home" -name "escrow.vault*" | grep -q .; then echo "a controller kept an escrow file"; exit 1; fi
echo "both controllers got the same 8 secrets ($(grep -c generated "$work/a.statuses") generated by a, $(grep -c generated "$work/b.statuses") by b)"

echo "=== connection and auth: the escrow's own options, community.hashi_vault's names ($(date -u +%T))"
# One read of race0 (generated above) with the connection given another way each time; $1 says how the run ends.
cat > "$work/read-race0.yml" <<'YML'
- name: Read one escrowed secret
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Compare it with what the race wrote
      ansible.builtin.assert:
        that: lookup('keyfleet.encryption.escrow', 'race0', kind='gossip_key') == lookup('ansible.builtin.file', expected)
        quiet: true
YML
token=$(field token) other_token=$(field other_token) secret_id=$(field secret_id) wrong_id=00000000-1111-2222-3333-444444444444
read_race0() {
  local expect=$1 log=$work/auth.log
  shift
  if env "$@" ansible-playbook -vvv "$work/read-race0.yml" -e expected="$work/a/out/race0" >"$log" 2>&1; then
    [ "$expect" = ok ] || { cat "$log"; echo "this read should have failed: $expect"; exit 1; }
  else
    [ "$expect" != ok ] || { cat "$log"; echo "this read failed"; exit 1; }
    grep -q -- "$expect" "$log" || { cat "$log"; echo "the failure does not say: $expect"; exit 1; }
  fi
  # Neither a token nor a secret id is in any line of the run, -vvv included.
  if grep -qF -e "$token" -e "$other_token" -e "$secret_id" -e "$wrong_id" "$log"; then
    echo "a credential is in the output of a read ($expect)"; exit 1
  fi
}
unset_all=(-u ANSIBLE_HASHI_VAULT_ADDR -u ANSIBLE_HASHI_VAULT_CA_CERT -u ANSIBLE_HASHI_VAULT_AUTH_METHOD
           -u ANSIBLE_HASHI_VAULT_ROLE_ID -u ANSIBLE_HASHI_VAULT_SECRET_ID)
read_race0 ok   # the AppRole, as every run above
# The Vault CLI's own variables only, as community.hashi_vault takes them: VAULT_ADDR, VAULT_CACERT, VAULT_TOKEN.
read_race0 ok "${unset_all[@]}" VAULT_ADDR="$ANSIBLE_HASHI_VAULT_ADDR" VAULT_CACERT="$ANSIBLE_HASHI_VAULT_CA_CERT" VAULT_TOKEN="$token"
# The token file a `bao login` leaves (~/.vault-token), auth method token by default.
mkdir -p "$work/tokenhome" && printf '%s\n' "$token" >"$work/tokenhome/.vault-token"
read_race0 ok "${unset_all[@]}" HOME="$work/tokenhome" ANSIBLE_HASHI_VAULT_ADDR="$ANSIBLE_HASHI_VAULT_ADDR" \
  ANSIBLE_HASHI_VAULT_CA_CERT="$ANSIBLE_HASHI_VAULT_CA_CERT"
# Fail closed, each with its sentence: a refused AppRole login, a token without the escrow's policy, one the server
# does not know, an auth method the escrow does not have, a server certificate not verified, a server that does not answer.
read_race0 'login with auth method approle was refused' ANSIBLE_HASHI_VAULT_SECRET_ID="$wrong_id"
read_race0 'the token may not use the escrow path' ANSIBLE_HASHI_VAULT_AUTH_METHOD=token ANSIBLE_HASHI_VAULT_TOKEN="$other_token"
read_race0 'permission denied (HTTP 403)' ANSIBLE_HASHI_VAULT_AUTH_METHOD=token ANSIBLE_HASHI_VAULT_TOKEN="$wrong_id"
read_race0 "auth method 'userpass' is not one the KV escrow supports: set ansible_hashi_vault_auth_method" \
  ANSIBLE_HASHI_VAULT_AUTH_METHOD=userpass
read_race0 'TLS verification failed' -u ANSIBLE_HASHI_VAULT_CA_CERT
read_race0 'cannot be reached' ANSIBLE_HASHI_VAULT_ADDR=https://127.0.0.1:1
echo "the escrow's options: AppRole, VAULT_* variables, the token file; refused login, 403, unknown method, TLS, down: each stops, no credential shown"

echo "=== two controllers store a different PEM under one name with keep_stored ($(date -u +%T))"
cat > "$work/pem-race.yml" <<'YML'
- name: Store this controller's CA key candidate, or take the one another controller stored first
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Make a candidate key (as the Consul CA does with community.crypto)
      community.crypto.openssl_privatekey_pipe:
        type: Ed25519
      no_log: true
      register: pem_candidate

    - name: Keep the candidate where the test can compare it
      ansible.builtin.copy:
        dest: "{{ out }}/candidate.pem"
        content: "{{ pem_candidate.privatekey }}"
        mode: "0600"
      no_log: true

    - name: Ready
      ansible.builtin.file:
        path: "{{ out }}/ready"
        state: touch
        mode: "0600"

    - name: Wait for the other controller
      ansible.builtin.wait_for:
        path: "{{ go }}"
        timeout: 60

    - name: Escrow the candidate; a key held already wins
      keyfleet.encryption.escrow_secret:
        name: race_ca_key
        kind: pem
        value: "{{ pem_candidate.privatekey }}"
        keep_stored: true
      no_log: true
      register: pem_escrow

    - name: Use what the escrow holds, never the candidate that lost
      ansible.builtin.copy:
        dest: "{{ out }}/used.pem"
        content: "{{ pem_escrow.value }}"
        mode: "0600"
      no_log: true

    - name: Say whether this controller's candidate lost
      ansible.builtin.copy:
        dest: "{{ out }}/kept_stored"
        content: "{{ pem_escrow.kept_stored }} {{ pem_escrow.status }}\n"
        mode: "0600"
YML
race "$work/pem-race.yml"
cat > "$work/read-pem.yml" <<'YML'
- name: Read the CA key the escrow holds
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write it out
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ lookup('keyfleet.encryption.escrow', 'race_ca_key', kind='pem') }}"
        mode: "0600"
      no_log: true
YML
ansible-playbook "$work/read-pem.yml" -e out="$work/held.pem" >/dev/null
cmp "$work/a/out/used.pem" "$work/b/out/used.pem"
cmp "$work/a/out/used.pem" "$work/held.pem"
if cmp -s "$work/a/out/candidate.pem" "$work/b/out/candidate.pem"; then echo "the two candidates are the same key"; exit 1; fi
# One controller stored its candidate; the other kept the stored one and used it.
kept=$(cat "$work/a/out/kept_stored" "$work/b/out/kept_stored" | sort | tr '\n' ,)
[ "$kept" = "False stored,True present," ] || { echo "keep_stored: $kept"; exit 1; }
for who in a b; do
  if grep -q False "$work/$who/out/kept_stored"; then winner=$who; else loser=$who; fi
done
cmp "$work/$winner/out/candidate.pem" "$work/held.pem"
if cmp -s "$work/$loser/out/candidate.pem" "$work/held.pem"; then echo "the losing candidate is escrowed"; exit 1; fi
# A different PEM without keep_stored is refused (create-only), and says so without showing a key.
cat > "$work/pem-again.yml" <<'YML'
- name: Store another CA key under a name held already
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Escrow another key without keep_stored
      keyfleet.encryption.escrow_secret:
        name: race_ca_key
        kind: pem
        value: "{{ lookup('ansible.builtin.file', candidate) }}"
      register: pem_again
      ignore_errors: true

    - name: It was refused, and the result holds no key
      ansible.builtin.assert:
        that:
          - pem_again is failed
          - "'already holds another value' in pem_again.msg"
          - "'nothing was written' in pem_again.msg"
          - pem_again.value is not defined
          - "'PRIVATE KEY' not in (pem_again | to_json)"
YML
before=$(kv_metadata)
ansible-playbook "$work/pem-again.yml" -e candidate="$work/$loser/out/candidate.pem" >"$work/pem-again.log" 2>&1 \
  || { cat "$work/pem-again.log"; exit 1; }
grep -q 'already holds another value' "$work/pem-again.log"
if grep -q 'PRIVATE KEY' "$work/pem-again.log"; then echo "the refusal showed a key"; exit 1; fi
[ "$before" = "$(kv_metadata)" ]
ansible-playbook "$work/read-pem.yml" -e out="$work/held-after.pem" >/dev/null
cmp "$work/held.pem" "$work/held-after.pem"
echo "one PEM won ($winner's), both controllers used it, the escrow holds it, another PEM was refused"

echo "=== check mode generates, stores, rotates and promotes nothing in KV ($(date -u +%T))"
cat > "$work/plan.yml" <<'YML'
- name: A pending rotation to promote later
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start rotation P1 of race3
      keyfleet.encryption.escrow_secret:
        name: race3
        kind: gossip_key
        generation: P1
        pending: true
YML
ansible-playbook "$work/plan.yml" >/dev/null
cat > "$work/check.yml" <<'YML'
- name: Everything escrow_secret does, in check mode
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Each operation
      keyfleet.encryption.escrow_secret: "{{ item.args }}"
      loop:
        - {status: would be generated, args: {name: check_new, kind: gossip_key}}
        - {status: would be generated, args: {name: check/nested, kind: password, length: 20}}
        - {status: would be stored, args: {name: check_pem, kind: pem, value: "-----BEGIN CERTIFICATE-----\nY\n"}}
        - {status: would be rotated, args: {name: race0, kind: gossip_key, generation: G1}}
        - {status: would be rotated, args: {name: race1, kind: gossip_key, generation: G1, value: "{{ 'k' * 44 }}"}}
        - {status: would be pending, args: {name: race2, kind: gossip_key, generation: P1, pending: true}}
        - {status: would be promoted, args: {name: race3, kind: gossip_key, generation: P1, promote: true}}
        - {status: would be replaced, args: {name: race_ca_key, kind: pem, value: "-----BEGIN PRIVATE KEY-----\nZ\n", replace: true}}
        - {status: present, args: {name: race4, kind: gossip_key}}
      loop_control:
        label: "{{ item.args.name }}"
      no_log: true
      register: planned

    - name: Each says what it would do, and the lookup still finds nothing new
      ansible.builtin.assert:
        that:
          - planned.results | map(attribute='status') | list == planned.results | map(attribute='item.status') | list
          - planned.results | map(attribute='value') | select | list | length == planned.results | length
          - planned.results | rejectattr('status', 'eq', 'present') | map(attribute='changed') | unique == [true]
          - lookup('keyfleet.encryption.escrow', 'check_new', missing='empty') == ''
          - lookup('keyfleet.encryption.escrow', 'check_pem', missing='empty') == ''
YML
before=$(kv_metadata)
grep -q '"keyfleet/race_ca_key"' <<<"$before" && grep -q '"keyfleet/race7"' <<<"$before"
ansible-playbook --check "$work/check.yml" >"$work/check.log" 2>&1 || { cat "$work/check.log"; exit 1; }
grep -q 'changed=1 ' "$work/check.log"
after=$(kv_metadata)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); echo "check mode changed the KV escrow"; exit 1; }
echo "check mode: $(grep -c '"current_version"' <<<"$after") KV secrets, versions and update times as before"

echo "=== migration: file -> KV -> file, values and history compared ($(date -u +%T))"
src=$work/src.vault back=$work/back.vault
KEYFLEET_ESCROW_BACKEND=file KEYFLEET_ESCROW_FILE=$src ansible-playbook /dev/stdin >/dev/null <<'YML'
- name: Fill a file escrow with history, generations and a pending rotation
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Make the secrets
      keyfleet.encryption.escrow_secret: "{{ item }}"
      loop:
        - {name: mig_gossip, kind: gossip_key}
        - {name: mig_gossip, kind: gossip_key, generation: "2026-11"}
        - {name: mig_ca, kind: pem, value: "-----BEGIN CERTIFICATE-----\nX\n"}
        - {name: mig_redis, kind: password, length: 20}
        - {name: mig_token, kind: key256, generation: R1, pending: true}
      loop_control:
        label: "{{ item.name }}"
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
