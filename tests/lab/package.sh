#!/usr/bin/env bash
# The release as users get it: the changelog is lint-clean and CHANGELOG.md is what its fragments and
# changelogs/changelog.yaml generate; the tarball ships only what the allow-list names (no lab doubles,
# no molecule, no caches, no vault password) with the licence; it installs and its plugins document themselves.
set -euo pipefail
cd "$(dirname "$0")/../.."
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

echo "=== tarball: ansible-galaxy collection build, then the allow-list"
ansible-galaxy collection build --output-path "$work" . >/dev/null
tarball=$(ls "$work"/keyfleet-encryption-"$version".tar.gz)
tar tzf "$tarball" | grep -v '/$' | sort >"$work/files"
allowed='^(README\.md|CHANGELOG\.md|COPYING|MANIFEST\.json|FILES\.json'
allowed+='|changelogs/(changelog|config)\.yaml'
allowed+='|docs/[a-z0-9-]+\.md'
allowed+='|meta/(runtime|execution-environment)\.yml|meta/ee-(requirements|bindep)\.txt'
allowed+='|plugins/(action|doc_fragments|filter|lookup|module_utils|modules|plugin_utils)/[a-z0-9_]+\.py'
allowed+='|playbooks/[a-z0-9_]+\.yml'
allowed+='|roles/[a-z0-9_]+/(defaults|handlers|meta|tasks|templates|vars)/[a-z0-9_.]+\.(yml|j2)'
allowed+='|roles/[a-z0-9_]+/README\.md)$'
if grep -vE "$allowed" "$work/files"; then
  echo "the tarball ships the files above, which the allow-list in tests/lab/package.sh does not name" >&2
  exit 1
fi
for must in COPYING README.md CHANGELOG.md meta/runtime.yml plugins/lookup/escrow.py; do
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
echo "package: passed"
