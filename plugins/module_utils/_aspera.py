# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""IBM Aspera HSTS client: askmscli (keystores, secrets), asconfigurator and aspera.conf.

Private to this collection: the interface may change without notice.

Secrets go to askmscli on stdin only, never in argv. asconfigurator is only ever given
settings that are not secret, or AS_NULL to remove one: a plain-text secret already in
aspera.conf is read from the XML file, never passed back on a command line.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET

ASPERA_BIN = '/opt/aspera/bin'
ASPERA_CONF = '/opt/aspera/etc/aspera.conf'

# askmscli categories. The Redis master key is named redis-primary-key from 4.4 on; both
# are accepted and the one the installed askmscli knows is used (the vendor renamed it in HSTS 4.4).
CATEGORIES = ('ssear', 'redis-master-key', 'redis-primary-key', 'redis-password')
REDIS_MASTER_KEY_NAMES = ('redis-master-key', 'redis-primary-key')
# Per-user category; the others are shared and copied into every keystore by askmscli -i.
USER_CATEGORIES = ('ssear',)
# Categories whose secret encrypts data at rest: a new value leaves what the old one encrypted unreadable.
IRREVERSIBLE = {
    'ssear': 'the files this user uploaded with content protection (encrypted at rest with the old secret)',
    'redis-master-key': 'the access-key secrets and dynamic token keys encrypted with the old master key',
    'redis-primary-key': 'the access-key secrets and dynamic token keys encrypted with the old primary key',
}

# asconfigurator parameter -> path under a node's <default>, a <user> or a <group> element.
SETTINGS = {
    'transfer_encryption_content_protection_secret': 'transfer/encryption/content_protection_secret',
    'token_encryption_key': 'authorization/token/encryption_key',
    'token_dynamic_key': 'authorization/token/dynamic_key',
    'token_life_seconds': 'authorization/token/life_seconds',
}
SECRET_SETTINGS = ('transfer_encryption_content_protection_secret', 'token_encryption_key')
LEVELS = ('node', 'user', 'group')
AS_NULL = 'AS_NULL'

_HASH_LINE = re.compile(r'^\s*v(\d+):\s*\(SHA-512\)\s*([0-9A-Fa-f]{128})\s*$')
_NO_RECORDS = re.compile(r'No records found', re.I)


class AsperaError(Exception):
    pass


def sha512(value):
    return hashlib.sha512(value.encode('utf-8')).hexdigest()


def parse_secret_hashes(output):
    """Versions and SHA-512 hashes from ``askmscli -H``: [(version, hash)], oldest first.

    ``[]`` when askmscli says no records are found. Raises AsperaError on output it does not
    know, so a changed askmscli is noticed instead of taken for "not set".
    """
    found = []
    for line in output.splitlines():
        m = _HASH_LINE.match(line)
        if m:
            found.append((int(m.group(1)), m.group(2).lower()))
    if found:
        return sorted(found)
    if _NO_RECORDS.search(output):
        return []
    raise AsperaError('askmscli -H printed something this module does not know: %r' % output.strip()[:200])


def secret_state(hashes, value):
    """'absent', 'same' or 'different': the current (newest) version of a secret against ``value``.

    askmscli reports the SHA-512 of the stored secret (DISA STIG checks for 4.2). Unverified
    whether every version hashes the bare value: a hash that matches no form we know counts as
    'different', and the caller decides (set again, or refuse for irreversible keys).
    """
    if not hashes:
        return 'absent'
    return 'same' if hashes[-1][1] == sha512(value) else 'different'


class Askmscli(object):
    """askmscli through a ``run(argv, data=None) -> (rc, stdout, stderr)`` callable
    (AnsibleModule.run_command with binary_data, or a fake in tests)."""

    def __init__(self, run, binary=ASPERA_BIN + '/askmscli'):
        self.run = run
        self.binary = binary

    def _call(self, args, data=None):
        rc, out, err = self.run([self.binary] + list(args), data=data)
        if rc != 0:
            # Never echo stdin: it is the secret.
            raise AsperaError('%s %s failed (rc=%s): %s' % (self.binary, ' '.join(args), rc, (err or out).strip()))
        return out

    def secret_hashes(self, category, user=None):
        args = (['-u', user] if user else []) + ['-H', category]
        rc, out, err = self.run([self.binary] + args, data=None)
        text = (out or '') + (err or '')
        if rc != 0 and not _NO_RECORDS.search(text):
            raise AsperaError('%s %s failed (rc=%s): %s' % (self.binary, ' '.join(args), rc, text.strip()))
        return parse_secret_hashes(text)

    def set_secret(self, category, value, user=None):
        if category not in CATEGORIES:
            raise AsperaError('unknown askmscli category %r (one of %s)' % (category, ', '.join(CATEGORIES)))
        self._call((['-u', user] if user else []) + ['-s', category], data=value)

    def init_keystore(self, user):
        self._call(['-i', '-u', user])

    def set_stash_password(self, password):
        self._call(['-P-'], data=password)


def module_askmscli(module, path):
    """An Askmscli for an AnsibleModule (secrets on stdin as given, no newline added); fails the
    module, naming the option, when ``path`` is not an executable."""
    import os
    if not os.access(path, os.X_OK):
        module.fail_json(msg='askmscli not found or not executable at %s (askmscli)' % path)

    def run(argv, data=None):
        return module.run_command(argv, data=data, binary_data=True)
    return Askmscli(run, path)


def asconfigurator_command(level, name, param, value):
    """The -x argument of asconfigurator for one setting at one level.

    Refuses values asconfigurator's syntax cannot carry (';' separates fields, ',' name and
    value; no escaping is documented) rather than writing something else than asked.
    """
    if param not in SETTINGS:
        raise AsperaError('unknown aspera.conf setting %r (one of %s)' % (param, ', '.join(sorted(SETTINGS))))
    if level not in LEVELS:
        raise AsperaError('level must be one of %s, got %r' % (', '.join(LEVELS), level))
    value = str(value).lower() if isinstance(value, bool) else str(value)
    for what, text in (('value', value), ('name', name or '')):
        if ';' in text or ',' in text or '\n' in text:
            raise AsperaError('the %s %r of %s cannot be written by asconfigurator (no ; , or newline)' % (what, text, param))
    if level == 'node':
        return 'set_node_data;%s,%s' % (param, value)
    if not name:
        raise AsperaError('a %s setting needs the %s name' % (level, level))
    return 'set_%s_data;%s_name,%s;%s,%s' % (level, level, name, param, value)


def _text(element, path):
    found = element.find(path)
    if found is None:
        return None
    return (found.text or '').strip()


def read_settings(xml_text, params=tuple(SETTINGS)):
    """Every occurrence of ``params`` in aspera.conf: [{level, name, param, value}].

    Node level is <CONF><default>; users and groups are under <aaa><realms><realm>.
    A setting present but empty counts as present (value '').
    """
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as e:
        raise AsperaError('aspera.conf is not valid XML: %s' % e)
    out = []
    scopes = [('node', None, root.find('default'))]
    for level, tag in (('user', 'users/user'), ('group', 'groups/group')):
        for el in root.findall('aaa/realms/realm/' + tag):
            scopes.append((level, _text(el, 'name'), el))
    for level, name, el in scopes:
        if el is None:
            continue
        for param in params:
            value = _text(el, SETTINGS[param])
            if value is not None:
                out.append(dict(level=level, name=name, param=param, value=value))
    return out


def keyed_fingerprint(value, key):
    """A fingerprint that says whether two secrets are the same, and nothing more: HMAC-SHA256 under a key
    kept in the escrow. A plain hash of a secret a person chose could be guessed offline from a log."""
    return 'hmac:' + hmac.new(key.encode('utf-8'), value.encode('utf-8'), hashlib.sha256).hexdigest()[:16]


def mask(entries, key=None):
    """Entries with secret values replaced by a keyed fingerprint (``key``), or by ``(set)`` without a key;
    safe to return and print."""
    masked = []
    for e in entries:
        e = dict(e)
        if e['param'] in SECRET_SETTINGS and e.get('value'):
            e['value'] = keyed_fingerprint(e['value'], key) if key else '(set)'
        masked.append(e)
    return masked


def content_protection_plan(xml_text, users, members, known_users):
    """Which secret each user must get in its keystore, before the plain-text ones are removed.

    The effective content-protection secret of a user is its own, else its group's, else the
    node's, as aspera.conf applies them. askmscli only keeps per-user secrets, so every user a
    plain-text secret applies to gets its own copy:
    - every user aspera.conf names with a secret of its own;
    - every member of a group that has one (``members``: group -> [users], from the host);
    - for a node-level secret, ``users`` (the transfer users the operator lists) and every user
      aspera.conf names.
    Returns (plan, errors): plan is {user: secret}; errors name users that do not exist
    (``known_users``) or that two of their groups give different secrets.
    """
    found = read_settings(xml_text, ('transfer_encryption_content_protection_secret',))
    own = dict((e['name'], e['value']) for e in found if e['level'] == 'user' and e['value'])
    by_group = dict((e['name'], e['value']) for e in found if e['level'] == 'group' and e['value'])
    node = [e['value'] for e in found if e['level'] == 'node' and e['value']]
    # read_settings has parsed it already: a parse error was raised there.
    named = [_text(el, 'name') for el in ET.fromstring(xml_text).findall('aaa/realms/realm/users/user')]
    candidates = set(users) | set(own) | set(n for n in named if n)
    for group in by_group:
        candidates |= set(members.get(group, []))
    plan, errors = {}, []
    for user in sorted(candidates):
        if user in own:
            plan[user] = own[user]
            continue
        from_groups = dict((g, by_group[g]) for g in by_group if user in members.get(g, []))
        if len(set(from_groups.values())) > 1:
            errors.append('user %s is in groups %s whose content_protection_secret differ: give the user '
                          'its own secret in aspera.conf first' % (user, ', '.join(sorted(from_groups))))
            continue
        if from_groups:
            plan[user] = list(from_groups.values())[0]
        elif node:
            plan[user] = node[0]
    for user in sorted(plan):
        if user not in known_users:
            errors.append('aspera.conf gives user %s a content_protection_secret, but there is no such user '
                          'on this host' % user)
    return dict((u, v) for u, v in plan.items() if u in known_users), errors


def content_protection_sources(xml_text):
    """Every plain-text content-protection secret of aspera.conf under its own name: ``node``,
    ``group_<name>`` or ``user_<name>``. Each is escrowed before aspera.conf loses it, whether or not a
    listed user takes it: a node default nobody listed inherits has no other copy afterwards."""
    found = read_settings(xml_text, ('transfer_encryption_content_protection_secret',))
    return dict(('node' if e['level'] == 'node' else '%s_%s' % (e['level'], e['name']), e['value'])
                for e in found if e['value'])


# -- Redis (asperaredisd) ------------------------------------------------------

class RedisReplyError(AsperaError):
    """Redis answered with an error (-ERR, -WRONGPASS, -NOAUTH ...)."""


class Redis(object):
    """A minimal RESP client, so a password goes over the socket and never into argv
    (redis-cli -a would show it in the process list)."""

    def __init__(self, host='127.0.0.1', port=31415, timeout=5.0):
        import socket
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except (OSError, IOError) as e:
            raise AsperaError('Redis at %s:%s is not reachable: %s' % (host, port, e))
        self.reader = self.sock.makefile('rb')

    def close(self):
        try:
            self.reader.close()
            self.sock.close()
        except (OSError, IOError):
            pass

    def command(self, *args):
        parts = [a if isinstance(a, bytes) else str(a).encode('utf-8') for a in args]
        msg = b'*%d\r\n' % len(parts) + b''.join(b'$%d\r\n%s\r\n' % (len(p), p) for p in parts)
        self.sock.sendall(msg)
        return self._reply()

    def _reply(self):
        line = self.reader.readline()
        if not line.endswith(b'\r\n'):
            raise AsperaError('Redis closed the connection')
        kind, rest = line[:1], line[1:-2]
        if kind == b'+':
            return rest.decode('utf-8', 'replace')
        if kind == b'-':
            raise RedisReplyError(rest.decode('utf-8', 'replace'))
        if kind == b':':
            return int(rest)
        if kind == b'$':
            n = int(rest)
            if n < 0:
                return None
            data = self.reader.read(n + 2)
            return data[:-2]
        if kind == b'*':
            n = int(rest)
            return None if n < 0 else [self._reply() for dummy in range(n)]
        raise AsperaError('Redis sent a reply this client does not know: %r' % line[:40])


def redis_config_args(line):
    """Split one redis.conf line as Redis does (sdssplitargs): "double quotes" with \\n, \\xHH ...
    escapes, 'single quotes' with \\' only, and bare words. Returns a list of bytes."""
    escapes = {'n': b'\n', 'r': b'\r', 't': b'\t', 'b': b'\b', 'a': b'\a'}
    args, i, n = [], 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return args
        cur, quote = bytearray(), None
        while i < n:
            c = line[i]
            if quote == '"':
                if c == '\\' and i + 3 < n and line[i + 1] == 'x' and all(
                        h in '0123456789abcdefABCDEF' for h in line[i + 2:i + 4]):
                    cur += bytes([int(line[i + 2:i + 4], 16)])
                    i += 3
                elif c == '\\' and i + 1 < n:
                    i += 1
                    cur += escapes.get(line[i], line[i].encode('utf-8'))
                elif c == '"':
                    if i + 1 < n and not line[i + 1].isspace():
                        raise AsperaError('unbalanced quotes in Redis configuration line')
                    quote = 'done'
                else:
                    cur += c.encode('utf-8')
            elif quote == "'":
                if c == '\\' and i + 1 < n and line[i + 1] == "'":
                    i += 1
                    cur += b"'"
                elif c == "'":
                    if i + 1 < n and not line[i + 1].isspace():
                        raise AsperaError('unbalanced quotes in Redis configuration line')
                    quote = 'done'
                else:
                    cur += c.encode('utf-8')
            elif c.isspace():
                break
            elif c in '"\'' and not cur:
                quote = c
            else:
                cur += c.encode('utf-8')
            i += 1
            if quote == 'done':
                break
        if quote in ('"', "'"):
            raise AsperaError('unbalanced quotes in Redis configuration line')
        args.append(bytes(cur))


def persisted_requirepass(conf_text):
    """The requirepass a Redis configuration file sets (the last one wins), as bytes, or None."""
    value = None
    for line in conf_text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        args = redis_config_args(stripped)
        if args and args[0].lower() == b'requirepass':
            value = args[1] if len(args) > 1 else b''
    return value
