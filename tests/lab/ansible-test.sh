#!/usr/bin/env bash
# ansible-test sanity|units on a copy of this checkout under ansible_collections/keyfleet/encryption.
# ansible-test downloads get-pip from a host that is not reachable here: give it a local
# stand-in (shared/ENVIRONMENT.md) under the name of the version it asks for.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dest="$top/.build/sanity/ansible_collections/keyfleet/encryption"
export PATH="$top/.venv/bin:$PATH"

cache=~/.ansible/test/cache
mkdir -p "$cache"
for v in 24_2 24_3 25_0 25_1; do
  cat > "$cache/get_pip_$v.py" <<'PY'
import subprocess, sys
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
PY
done

rm -rf "$dest" && mkdir -p "$dest"
# Exactly what git would ship: tracked files plus new, not ignored ones.
(cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents -a {} "$dest/")
# Collections this one uses in its docs (community.hashi_vault's doc fragments): ansible-test finds them only
# beside it, as after `ansible-galaxy collection install -p`. They come from the `ansible` package.
site=$("$top/.venv/bin/python" -c 'import ansible_collections.community.hashi_vault as m; print(list(m.__path__)[0])')
mkdir -p "$dest/../../community" && ln -sfn "$site" "$dest/../../community/hashi_vault"
cd "$dest"
git init -q && git add -A >/dev/null   # ansible-test lists files through git
py=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case "$1" in
  sanity) ansible-test sanity --venv --python "$py" "${@:2}" ;;
  units)  ansible-test units --venv --python "$py" "${@:2}" ;;
  *) echo "usage: $0 sanity|units" >&2; exit 2 ;;
esac
