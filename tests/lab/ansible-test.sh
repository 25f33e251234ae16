#!/usr/bin/env bash
# ansible-test sanity|units on a copy of this checkout under ansible_collections/keyfleet/encryption.
#   tests/lab/ansible-test.sh [--core VERSION] sanity|units [ansible-test options]
# --core 2.17|2.18|2.20|2.21 runs the ansible-test of that line's venv (tests/lab/versions.sh deps), on a copy
# of its own (.build/sanity-VERSION), so the lines can run beside each other; without it, the main .venv (2.19).
# ansible-test downloads get-pip from a host that is not reachable here: give it a local
# stand-in (shared/ENVIRONMENT.md) under the name of the version it asks for.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
venv=$top/.venv copy=$top/.build/sanity
if [ "${1:-}" = --core ]; then
  [ "$2" = 2.19 ] || venv=$top/.build/venv-$2 copy=$top/.build/sanity-$2
  shift 2
fi
[ -x "$venv/bin/ansible-test" ] || { echo "no ansible-test in $venv: run tests/lab/versions.sh deps" >&2; exit 2; }
dest="$copy/ansible_collections/keyfleet/encryption"
export PATH="$venv/bin:$PATH"

cache=~/.ansible/test/cache
mkdir -p "$cache"
# The pip each line's ansible-test bootstraps (2.17: 23.1.2, 2.18 and 2.19: 24.2, 2.20: 25.2): read from its source.
req=$(ls "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py)
pips=$(sed -n '/def get_venv_packages/,/^def /p' "$req" | grep -oE "pip='[0-9.]+'" | grep -oE '[0-9.]+' | sort -u)
[ -n "$pips" ] || { echo "cannot find the pip version ansible-test asks for in $req" >&2; exit 2; }
for v in $pips; do
  v=${v//./_}
  cat > "$cache/get_pip_$v.py.tmp" <<'PY'
import subprocess, sys
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
PY
  # Replaced whole: another line's run may be reading it.
  mv "$cache/get_pip_$v.py.tmp" "$cache/get_pip_$v.py"
done

rm -rf "$dest" && mkdir -p "$dest"
# Exactly what git would ship: tracked files plus new, not ignored ones.
(cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents -a {} "$dest/")
# Collections this one uses in its docs (community.hashi_vault's doc fragments): ansible-test finds them only
# beside it, as after `ansible-galaxy collection install -p`. They come from the `ansible` package of the line.
site=$("$venv/bin/python" -c 'import ansible_collections.community.hashi_vault as m; print(list(m.__path__)[0])')
mkdir -p "$dest/../../community" && ln -sfn "$site" "$dest/../../community/hashi_vault"
cd "$dest"
git init -q && git add -A >/dev/null   # ansible-test lists files through git
py=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case "${1:-}" in
  sanity) ansible-test sanity --venv --python "$py" "${@:2}" ;;
  units)  ansible-test units --venv --python "$py" "${@:2}" ;;
  *) echo "usage: $0 [--core VERSION] sanity|units" >&2; exit 2 ;;
esac
