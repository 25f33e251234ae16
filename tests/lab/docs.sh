#!/usr/bin/env bash
# The collection's docs as a docs site would show them: antsibull-docs lint-collection-docs (plugins and
# roles, semantic markup, references), then the site itself (sphinx-init and its build script) with no
# warning or error the collection causes. Warnings that only say the lab is offline (intersphinx inventories
# of docs.python.org or docs.ansible.com, and the labels and ansible-core variables the Ansible docs define) are reported
# but do not fail.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "=== antsibull-docs lint-collection-docs --plugin-docs"
# The dependencies (community.hashi_vault's doc fragments) sit in .venv inside this git checkout: without
# the ceiling, antsibull-docs takes them for part of the repository and copies only tracked files (none).
GIT_CEILING_DIRECTORIES="$top/.venv" antsibull-docs lint-collection-docs --plugin-docs \
  --validate-collection-refs dependent --disallow-unknown-collection-refs .

echo "=== docs site: antsibull-docs sphinx-init and its build"
mkdir -m 0755 "$work/site"
antsibull-docs sphinx-init --use-current --dest-dir "$work/site" keyfleet.encryption >/dev/null
# The generated build.sh, without -W so every warning is listed and judged below.
sed -i 's/ -W --keep-going//' "$work/site/build.sh"
(cd "$work/site" && bash ./build.sh) >"$work/build.log" 2>&1 || { cat "$work/build.log"; echo "docs site: the build failed" >&2; exit 1; }
# One finding per line: sphinx warnings, and antsibull's errors (a plugin or role whose docs do not parse).
grep -E 'WARNING|ERROR' "$work/build.log" >"$work/findings" || true
offline='intersphinx inventory|failed to reach any of the inventories'
# ansible-core's own environment variables (E(ANSIBLE_VAULT_PASSWORD_FILE)) are defined in the Ansible docs.
offline+="|'envvar' reference target not found: ANSIBLE_(VAULT|CONFIG)[A-Z_]*"
offline+="|undefined label: '(common_return_values|action_plugins|ansible_configuration_settings|[a-z_]*ansible[a-z_]*_intro|playbooks_[a-z_]*|[a-z_]+_plugins)'"
if grep -vE "$offline" "$work/findings"; then
  echo "docs site: the warnings above come from the collection's docs" >&2
  exit 1
fi
echo "docs site: built, $(find "$work/site/build/html/collections/keyfleet/encryption" -name "*.html" | wc -l) pages; $(grep -cE "$offline" "$work/findings" || true) warnings from the offline lab only"
