#!/usr/bin/env bash
# The collection's docs as a docs site would show them: the guides of docs/*.md as pages of the site (generated into
# docs/docsite/rst/ by pandoc; a page that is not what its guide generates fails), antsibull-docs
# lint-collection-docs (plugins, roles and those pages, semantic markup, references), then the site itself
# (sphinx-init and its build script) with no warning or error the collection causes, a page for every guide and
# no link between them that leads nowhere. Warnings that only say the lab is offline (intersphinx inventories
# of docs.python.org or docs.ansible.com, and the labels and ansible-core variables the Ansible docs define) are reported
# but do not fail.
#
#   tests/lab/docs.sh            check
#   tests/lab/docs.sh --update   write docs/docsite/rst/ from docs/*.md first (after editing a guide)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
update=false
case "${1:-}" in --update) update=true ;; '') ;; *) echo "usage: $0 [--update]" >&2; exit 2 ;; esac

echo "=== guides: docs/*.md as pages of the docs site (docs/docsite/rst/)"
# pandoc from its PyPI wheel, pinned: another pandoc writes other RST, and every page would differ.
req='pypandoc_binary==1.17'
if [ "$(cat .build/venv-docs/.keyfleet-req 2>/dev/null)" != "$req" ]; then
  rm -rf .build/venv-docs && python3 -m venv .build/venv-docs
  .build/venv-docs/bin/pip install -q --disable-pip-version-check "$req" >"$work/pip.log" 2>&1 || {
    cat "$work/pip.log"; echo "pip install $req failed" >&2; exit 1; }
  echo "$req" >.build/venv-docs/.keyfleet-req
fi
pandoc=$(.build/venv-docs/bin/python -c 'import pypandoc; print(pypandoc.get_pandoc_path())')
# Links as the site needs them: another guide is its page (a sibling), a file of the repository outside docs/
# is on GitHub. No heading labels of pandoc's own
# (gfm-gfm_auto_identifiers: the site wants labels with the collection's prefix); Sphinx gives each heading its id,
# and the links to them are checked on the built pages below.
cat >"$work/site.lua" <<'LUA'
function Link(el)
  local t = el.target
  if t:match('^%a[%w+.-]*:') or t:match('^#') then return el end
  local guide, anchor = t:match('^([%w-]+)%.md(#?.*)$')
  if guide then
    el.target = guide .. '.html' .. anchor
  else
    el.target = 'https://github.com/keyfleet/encryption/blob/main/' .. (t:gsub('^%.%./', ''))
  end
  return el
end
-- A paragraph or table cell that begins with "- " is text in Markdown, a bullet list in RST: escape the dash.
local function unbullet(el)
  local first = el.content[1]
  if first and first.t == 'Str' and first.text:match('^[-+*]$') and el.content[2] and el.content[2].t == 'Space' then
    el.content[1] = pandoc.RawInline('rst', '\\' .. first.text)
  end
  return el
end
Plain, Para = unbullet, unbullet
-- Code Pygments cannot lex, shown as text: mermaid (no lexer), Consul's ACL policy HCL (its lexer is Terraform's).
local as_text = {mermaid = true, hcl = true}
function CodeBlock(el)
  if as_text[el.classes[1]] then el.classes = {'text'} end
  return el
end
LUA
mkdir "$work/rst"
for md in docs/*.md; do
  name=$(basename "$md" .md)
  { printf '..\n  Generated from %s by tests/lab/docs.sh --update (pandoc): edit the Markdown, not this page.\n\n' "$md"
    printf '.. _ansible_collections.keyfleet.encryption.docsite.%s:\n\n' "$name"
    "$pandoc" --from gfm-gfm_auto_identifiers --to rst --wrap=preserve --lua-filter "$work/site.lua" "$md"; } >"$work/rst/$name.rst"
done
if $update; then
  rm -rf docs/docsite/rst && cp -r "$work/rst" docs/docsite/rst
  echo "docs/docsite/rst/ written from docs/*.md"
elif ! diff -ru docs/docsite/rst "$work/rst" >"$work/rst.diff"; then
  cat "$work/rst.diff"
  echo "docs/docsite/rst/ is not what docs/*.md generate: run tests/lab/docs.sh --update and commit the pages" >&2
  exit 1
fi
# Every guide listed once in extra-docs.yml, and nothing else.
python3 - "$work/rst" <<'PY'
import os, sys, yaml
listed = [e if isinstance(e, str) else e['ref']
          for s in yaml.safe_load(open('docs/docsite/extra-docs.yml'))['sections'] for e in s['toctree']]
guides = sorted(n[:-4] for n in os.listdir(sys.argv[1]))
problems = ['docs/%s.md is not in docs/docsite/extra-docs.yml' % g for g in guides if g not in listed]
problems += ['docs/docsite/extra-docs.yml lists %s, which is no guide of docs/' % r for r in listed if r not in guides]
problems += ['docs/docsite/extra-docs.yml lists %s twice' % r for r in sorted(set(listed)) if listed.count(r) > 1]
sys.exit('\n'.join(problems) or None)
PY

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
# A page per guide, and every link from a guide to a page of the site leads to a page and an anchor that exist.
python3 - "$work/site/build/html/collections/keyfleet/encryption/docsite" "$work/rst" <<'PY'
import os, re, sys
pages, rst = sys.argv[1], sys.argv[2]
problems, ids = [], {}
for name in os.listdir(pages):
    if name.endswith('.html'):
        ids[name] = set(re.findall(r'\bid="([^"]+)"', open(os.path.join(pages, name)).read()))
for guide in sorted(n[:-4] for n in os.listdir(rst)):
    page = guide + '.html'
    if page not in ids:
        problems.append('docs/%s.md has no page on the site' % guide)
        continue
    for href in re.findall(r'href="([^"]+)"', open(os.path.join(pages, page)).read()):
        if re.match(r'[a-z][a-z0-9+.-]*:|\.\./|/', href) or '_static' in href:
            continue
        target, _, anchor = href.partition('#')
        target = target or page
        if target not in ids or (anchor and anchor not in ids[target]):
            problems.append('docs/%s.md links to %s, which is not on the site' % (guide, href))
sys.exit('\n'.join(problems) or None)
PY
echo "docs site: built, $(find "$work/site/build/html/collections/keyfleet/encryption" -name "*.html" | wc -l) pages; $(grep -cE "$offline" "$work/findings" || true) warnings from the offline lab only"
