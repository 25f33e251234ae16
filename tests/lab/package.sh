#!/usr/bin/env bash
# The release as users get it: the changelog is lint-clean and CHANGELOG.md is what its fragments and
# changelogs/changelog.yaml generate; the tarball ships only what the allow-list names (no lab doubles,
# no molecule, no caches, no vault password) with the licence; it builds from a venv with only ansible-core 2.17
# and distlib; it installs and its plugins document themselves; galaxy-importer (Galaxy's and Automation Hub's
# import check) passes on it with no error and only the known warnings of docs/galaxy-import.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "=== changelog: lint, CHANGELOG.md generated from changelogs/"
antsibull-changelog lint
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
cp CHANGELOG.md "$work/CHANGELOG.md.committed"
antsibull-changelog generate
if ! diff -u "$work/CHANGELOG.md.committed" CHANGELOG.md; then
  cp "$work/CHANGELOG.md.committed" CHANGELOG.md
  echo "CHANGELOG.md is not what antsibull-changelog generates: run antsibull-changelog generate" >&2
  exit 1
fi
rm -f changelogs/.plugin-cache.yaml

version=$(sed -n 's/^version: *//p' galaxy.yml)
grep -q "^## v${version//./\\\\.}" CHANGELOG.md || { echo "CHANGELOG.md has no section for galaxy.yml's version $version" >&2; exit 1; }
# Every plugin was added in a released version (no version_added ahead of galaxy.yml).
bad=$(grep -rhoE "^version_added: *['\"]?[0-9.]+" plugins | sed -E "s/.*: *['\"]?//" | sort -u | grep -vxF -f <(sed -n 's/^  \([0-9][0-9.]*\):$/\1/p' changelogs/changelog.yaml) || true)
[ -z "$bad" ] || { echo "version_added not released in changelogs/changelog.yaml: $bad" >&2; exit 1; }

# A venv of its own per tool, made once and again only when its pins change (a stamp file holds them).
tool_venv() {  # tool_venv DIR PACKAGE...
  local dir=$1; shift
  if [ "$(cat "$dir/.keyfleet-req" 2>/dev/null)" != "$*" ]; then
    rm -rf "$dir" && python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check "$@" >"$work/pip.log" 2>&1 || {
      cat "$work/pip.log"; echo "pip install $* into $dir failed" >&2; exit 1; }
    echo "$*" >"$dir/.keyfleet-req"
  fi
}

echo "=== tarball: ansible-galaxy collection build from a bare venv, then the allow-list"
# The build as documented: ansible-core of the oldest supported line and distlib (galaxy.yml's manifest), nothing
# else on PATH or in the environment, so a build need that only the lab's .venv meets fails here.
tool_venv .build/venv-build 'ansible-core>=2.17,<2.18' distlib
env -i PATH="$PWD/.build/venv-build/bin:/usr/bin:/bin" HOME="$work" LANG=C.UTF-8 \
  ansible-galaxy collection build --output-path "$work" . >/dev/null
tarball=$(ls "$work"/keyfleet-encryption-"$version".tar.gz)
tar tzf "$tarball" | grep -v '/$' | sort >"$work/files"
allowed='^(README\.md|CHANGELOG\.md|COPYING|MANIFEST\.json|FILES\.json'
allowed+='|changelogs/(changelog|config)\.yaml'
allowed+='|docs/[a-z0-9-]+\.md'
allowed+='|docs/docsite/(extra-docs|links)\.yml|docs/docsite/rst/[a-z0-9-]+\.rst'
allowed+='|meta/(runtime|execution-environment)\.yml|meta/ee-(requirements|bindep)\.txt'
allowed+='|plugins/(action|doc_fragments|filter|lookup|module_utils|modules|plugin_utils)/[a-z0-9_]+\.py'
allowed+='|playbooks/[a-z0-9_]+\.yml'
allowed+='|roles/[a-z0-9_]+/(defaults|handlers|meta|tasks|templates|vars)/[a-z0-9_.]+\.(yml|j2)'
allowed+='|roles/[a-z0-9_]+/README\.md)$'
if grep -vE "$allowed" "$work/files"; then
  echo "the tarball ships the files above, which the allow-list in tests/lab/package.sh does not name" >&2
  exit 1
fi
musts=(COPYING README.md CHANGELOG.md meta/runtime.yml plugins/lookup/escrow.py)
for role in roles/*/; do musts+=("${role}README.md"); done
for must in "${musts[@]}"; do
  grep -qxF "$must" "$work/files" || { echo "the tarball lacks $must" >&2; exit 1; }
done
grep -q 'GNU GENERAL PUBLIC LICENSE' <(tar xzf "$tarball" -O COPYING) || { echo "COPYING is not the GPL" >&2; exit 1; }
# Nothing executable: the lab's doubles of vendor tools are the kind of file that must never ship.
if tar tvzf "$tarball" | grep -v '^d' | grep -E '^-..x|^-.....x|^-........x'; then
  echo "executable files in the tarball" >&2; exit 1
fi
echo "$(wc -l <"$work/files") files, $(du -k "$tarball" | cut -f1) KB"

echo "=== install from the tarball and read the docs of the installed copy"
# --no-deps: Galaxy is not reachable here; the dependencies come with the ansible package.
(export ANSIBLE_COLLECTIONS_PATH="$work/installed"
 ansible-galaxy collection install --no-deps -p "$work/installed" "$tarball" >/dev/null
 ansible-doc -t lookup keyfleet.encryption.escrow >/dev/null
 ansible-doc -t role keyfleet.encryption.consul >/dev/null
 ansible-doc -l keyfleet.encryption | grep -q '^keyfleet.encryption.consul_agent_stage ')
echo "=== galaxy-importer on the tarball, without the dependencies (as Galaxy and Automation Hub import it)"
# Pinned: a new ansible-lint or importer brings new rules, which must not fail CI unannounced.
tool_venv .build/venv-importer galaxy-importer==0.4.44 ansible-core==2.19.14 ansible-lint==26.10.1
# HOME and the working directory (importer_result.json) in the work directory: no collection of
# ~/.ansible/collections is found, and nothing is left behind.
(cd "$work" && env -i PATH="$top/.build/venv-importer/bin:/usr/bin:/bin" HOME="$work" LANG=C.UTF-8 \
  GALAXY_IMPORTER_CONFIG="$top/tests/lab/galaxy-importer.cfg" \
  python -m galaxy_importer.main "$tarball" >"$work/import.log" 2>&1) || {
  cat "$work/import.log"; echo "galaxy-importer failed on the tarball" >&2; exit 1; }
# The warnings a dependency-less import gives and why, one per line: a regex of the line, then the reason after
# " # ". docs/galaxy-import.md explains each. A known warning that no longer appears fails too: remove its line.
# None today.
known_warnings=$(cat <<'KNOWN'
KNOWN
)
grep -E '^ERROR' "$work/import.log" && { echo "galaxy-importer: the errors above" >&2; exit 1; }
grep -E '^WARNING' "$work/import.log" >"$work/import.warnings" || true
patterns=()
while IFS= read -r known; do
  [ -z "$known" ] && continue
  patterns+=("${known% # *}")
  grep -qE "${known% # *}" "$work/import.warnings" || { echo "galaxy-importer no longer warns: ${known% # *} (${known#* # }); remove it from known_warnings in $0 and docs/galaxy-import.md" >&2; exit 1; }
done <<<"$known_warnings"
unknown=$(cat "$work/import.warnings")
for pattern in "${patterns[@]}"; do unknown=$(grep -vE "$pattern" <<<"$unknown" || true); done
[ -z "$unknown" ] || { echo "$unknown"; echo "galaxy-importer: new warnings (above); fix them, or add them to known_warnings in $0 and docs/galaxy-import.md with the reason" >&2; exit 1; }
echo "galaxy-importer: no error, $(wc -l <"$work/import.warnings") known warning(s)"
echo "package: passed"
