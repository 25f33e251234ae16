# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A variable in a systemd service's environment: drop-ins, environment files, and what a unit and its running
process hold. Used by env_master_key for master keys that can never change once data is encrypted with them
(Resilio Connect's RESILIO_MPASSWD and RESILIO_KEY): this code reads what a unit already sets so a caller can
refuse a change.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import re

_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


class SystemdEnvError(Exception):
    pass


def check_name(name):
    if not _NAME.match(name or ''):
        raise SystemdEnvError('%r is not a valid environment variable name' % (name,))


def check_value(value):
    if not value:
        raise SystemdEnvError('the value is empty')
    if '\n' in value or '\r' in value or '\0' in value:
        raise SystemdEnvError('the value holds a newline or NUL, which a systemd environment setting cannot carry')


def dropin_assignment(name, value):
    """One Environment= line for a unit file. Inside double quotes systemd takes \\\\ and \\" as
    escapes, and % starts a specifier in every unit setting, so it is doubled."""
    check_name(name)
    check_value(value)
    escaped = value.replace('\\', '\\\\').replace('"', '\\"').replace('%', '%%')
    return 'Environment="%s=%s"\n' % (name, escaped)


def render_dropin(name, value):
    return ('# Managed by keyfleet.encryption: the master key of this service. Never change it:\n'
            '# data encrypted with it becomes unreadable.\n[Service]\n' + dropin_assignment(name, value))


def _words(text):
    """Split an Environment= value as systemd does: whitespace-separated words, double or single
    quotes around a word, backslash escapes inside double quotes."""
    words, i, n = [], 0, len(text)
    while i < n:
        while i < n and text[i] in ' \t':
            i += 1
        if i >= n:
            break
        cur, quote = [], None
        while i < n:
            c = text[i]
            if quote:
                if c == quote:
                    quote = None
                elif c == '\\' and quote == '"' and i + 1 < n:
                    i += 1
                    cur.append(text[i])
                else:
                    cur.append(c)
            elif c in '"\'':
                quote = c
            elif c in ' \t':
                break
            elif c == '\\' and i + 1 < n:
                i += 1
                cur.append(text[i])
            else:
                cur.append(c)
            i += 1
        if quote:
            raise SystemdEnvError('unbalanced quotes in an Environment= setting')
        words.append(''.join(cur))
    return words


def dropin_environment(text):
    """Variables the Environment= lines of a unit file or drop-in set (the last one wins)."""
    env = {}
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        if line.startswith('['):
            section = line
            continue
        if section != '[Service]' or not line.startswith('Environment='):
            continue
        value = line[len('Environment='):]
        if not value:
            env.clear()  # an empty assignment resets the list
            continue
        for word in _words(value.replace('%%', '\0')):
            key, sep, val = word.partition('=')
            if sep:
                env[key] = val.replace('\0', '%')
    return env


def dropin_environment_files(text):
    """Paths the EnvironmentFile= lines of a unit file or drop-in name: one path a line, a leading - makes it optional."""
    paths, section = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith('['):
            section = line
        elif section == '[Service]' and line.startswith('EnvironmentFile='):
            value = line[len('EnvironmentFile='):].strip()
            if not value:
                paths = []  # an empty assignment resets the list
            else:
                paths.append(value[1:] if value.startswith('-') else value)
    return paths


def environment_file(text):
    """Variables an EnvironmentFile= sets: KEY=VALUE lines, # or ; comments, optional quotes."""
    env = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        key, sep, val = line.partition('=')
        key = key.strip()
        if key.startswith('export '):
            key = key[len('export '):].strip()
        if not sep or not _NAME.match(key):
            continue
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = re.sub(r'\\(.)', r'\1', val[1:-1])
        elif len(val) >= 2 and val[0] == val[-1] == "'":
            val = val[1:-1]
        env[key] = val
    return env


def render_environment_file(name, value):
    check_name(name)
    check_value(value)
    return '# Managed by keyfleet.encryption: never change this value.\n%s="%s"\n' % (
        name, value.replace('\\', '\\\\').replace('"', '\\"'))


# -- where a unit's environment comes from -------------------------------------------------------

def upsert_environment_file(text, name, value):
    """``text`` (an EnvironmentFile) with ``name`` set to ``value``: its line replaced in place (every
    other line kept), or appended."""
    line = render_environment_file(name, value).splitlines()[1] + '\n'
    out, done = [], False
    for raw in text.splitlines(True):
        key = raw.strip().partition('=')[0].strip()
        if key.startswith('export '):
            key = key[len('export '):].strip()
        if key == name and not raw.lstrip().startswith(('#', ';')):
            if not done:
                out.append(line)
                done = True
            continue
        out.append(raw if raw.endswith('\n') else raw + '\n')
    if not done:
        if not out:
            out.append('# Managed by keyfleet.encryption: never change %s.\n' % name)
        out.append(line)
    return ''.join(out)


def parse_show(text):
    """``systemctl show -p ...`` output: {property: value}; a property given several times keeps every
    value, newline-separated."""
    props = {}
    for line in text.splitlines():
        key, sep, value = line.partition('=')
        if sep:
            props[key] = props[key] + '\n' + value if key in props else value
    return props


def show_environment_files(value):
    """Paths of ``EnvironmentFiles=`` as systemctl shows them: ``/path (ignore_errors=no)``, one per line."""
    return [re.sub(r'\s+\(ignore_errors=\w+\)$', '', line.strip()) for line in (value or '').splitlines() if line.strip()]


def process_environment(pid, proc='/proc'):
    """The environment a running process started with (/proc/PID/environ), or None when it is gone.
    Permission denied is not "gone": it stops the caller, whose guard would otherwise be off."""
    try:
        with open('%s/%d/environ' % (proc, int(pid)), 'rb') as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    except (IOError, OSError) as e:
        raise SystemdEnvError('cannot read the environment of process %s: %s' % (pid, e))
    env = {}
    for item in data.split(b'\0'):
        key, sep, value = item.partition(b'=')
        if sep:
            env[key.decode('utf-8', 'surrogateescape')] = value.decode('utf-8', 'surrogateescape')
    return env


def configured_value(name, sources):
    """The value a unit gets for ``name`` from ``sources``: [(kind, path, text)] in systemd's order, where
    kind is 'unit' (the unit file or a drop-in, Environment= lines) or 'envfile'. Values from environment
    files override Environment= ones, whatever the order. Returns (value, path) or (None, None)."""
    found = {'unit': (None, None), 'envfile': (None, None)}
    for kind, path, text in sources:
        if text is None:
            continue
        env = dropin_environment(text) if kind == 'unit' else environment_file(text)
        if name in env:
            found[kind] = (env[name], path)
    return found['envfile'] if found['envfile'][0] is not None else found['unit']
