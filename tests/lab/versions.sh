#!/usr/bin/env bash
# ansible-core 2.17 to 2.21, each tested. 2.19 is the main .venv; every other line has a venv of its own,
# .build/venv-<version>, from tests/lab/requirements-<version>.txt.
#
#   tests/lab/versions.sh deps                  the venvs (idempotent: a stamp per venv, as lab.sh's)
#   tests/lab/versions.sh checks [VERSION...]   ansible-test sanity and units on each (default: every line but 2.19)
#   tests/lab/versions.sh install VERSION       build the tarball, install it into .build/run-<version>/.build/coll
#   tests/lab/versions.sh scenario VERSION      molecule test -s consul_encrypt_running with that version and the tarball
#   tests/lab/versions.sh escrow VERSION        tests/lab/escrow-kv.sh with that version and the tarball
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
others=(2.17 2.18 2.20 2.21)
# 2.20 and later need Python 3.12; CI machines have it where this one does.
py312=${KEYFLEET_PY312:-/root/.pyenv/versions/3.12.1/bin/python}

log() { printf '[versions] %s\n' "$*" >&2; }

venv_of() {
  case $1 in
    2.19) printf '%s\n' "$top/.venv" ;;
    2.17 | 2.18 | 2.20 | 2.21) printf '%s\n' "$top/.build/venv-$1" ;;
    *) log "no ansible-core $1 here (2.17 to 2.21)"; exit 2 ;;
  esac
}

deps() {
  local v venv req py
  for v in "${others[@]}"; do
    venv=$(venv_of "$v") req="$here/requirements-$v.txt"
    case $v in 2.17 | 2.18) py=python3 ;; *) py=$py312 ;; esac
    if [ ! -x "$venv/bin/ansible-test" ] || ! cmp -s "$req" "$venv/.keyfleet-req"; then
      log "python venv $venv"
      "$py" -m venv "$venv"
      "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
      cp "$req" "$venv/.keyfleet-req"
    fi
  done
}

checks() {
  local v failed=0
  [ "$#" -gt 0 ] || set -- "${others[@]}"
  for v in "$@"; do
    for t in sanity units; do
      log "ansible-core $v: $t ($(date -u +%T))"
      "$here/ansible-test.sh" --core "$v" "$t" || { log "ansible-core $v: $t FAILED"; failed=1; }
    done
  done
  log "done ($(date -u +%T))"
  return "$failed"
}

# The tarball users install, not the checkout: a run directory whose .venv is the version's venv and whose
# .build/coll holds the installed collection, with the checkout's tests (the scripts find both through their own path).
install() {
  local v=$1 venv run
  venv=$(venv_of "$v") run="$top/.build/run-$v"
  rm -rf "$run" && mkdir -p "$run/.build/dist" "$run/.build/coll"
  (cd "$top" && "$venv/bin/ansible-galaxy" collection build --force --output-path "$run/.build/dist" >&2)
  # Its own collections path: with the checkout's (make exports ANSIBLE_COLLECTIONS_PATH) ansible-galaxy finds
  # keyfleet.encryption installed there already and installs nothing.
  ANSIBLE_COLLECTIONS_PATH="$run/.build/coll" "$venv/bin/ansible-galaxy" collection install --no-deps --force \
    -p "$run/.build/coll" "$run"/.build/dist/keyfleet-encryption-*.tar.gz >&2
  [ -f "$run/.build/coll/ansible_collections/keyfleet/encryption/MANIFEST.json" ] \
    || { echo "keyfleet.encryption was not installed from the tarball into $run/.build/coll" >&2; exit 1; }
  ln -sfn "$venv" "$run/.venv"
  # A repository of its own: molecule takes the git root for the project (and its .config/molecule), and drops
  # scenarios that git ignores - the checkout ignores .build/.
  git init -q "$run"
  # Exactly what git would ship of the tests (tracked files plus new, not ignored ones), the scenarios, and meta
  # (the execution environment definition escrow-kv.sh builds names meta/ee-requirements.txt by a relative path).
  (cd "$top" && git ls-files -z --cached --others --exclude-standard -- tests molecule .config meta \
    | xargs -0 -I{} cp --parents -a {} "$run/")
  printf '%s\n' "$run"
}

with_version() {  # VERSION COMMAND...: run COMMAND in the version's run directory with its venv and collection
  local v=$1 venv run; shift
  venv=$(venv_of "$v") run="$top/.build/run-$v"
  [ -d "$run/.build/coll/ansible_collections/keyfleet/encryption" ] || install "$v" >/dev/null
  cd "$run"
  PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$run/.build/coll" "$@"
}

case "${1:-}" in
  deps) deps ;;
  checks) shift; checks "$@" ;;
  install) install "$2" ;;
  scenario) with_version "$2" molecule test -s "${3:-consul_encrypt_running}" ;;
  # OpenBao on a port pair of its own (2.19's escrow-kv.sh takes 8270 and 8271), so the runs may overlap.
  escrow) case $2 in 2.17) port=8272 ;; 2.18) port=8274 ;; 2.20) port=8276 ;; *) port=8278 ;; esac
          KEYFLEET_TEST_BAO_PORT=$port with_version "$2" tests/lab/escrow-kv.sh ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
