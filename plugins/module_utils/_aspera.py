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
import re
import xml.etree.ElementTree as ET

ASPERA_BIN = '/opt/aspera/bin'
ASPERA_CONF = '/opt/aspera/etc/aspera.conf'

# askmscli categories. The Redis master key is named redis-primary-key from 4.4 on; both
# are accepted and the one the installed askmscli knows is used (VENDOR-FACTS).
CATEGORIES = ('ssear', 'redis-master-key', 'redis-primary-key', 'redis-password')
REDIS_MASTER_KEY_NAMES = ('redis-master-key', 'redis-primary-key')
# Per-user category; the others are shared and copied into every keystore by askmscli -i.
USER_CATEGORIES = ('ssear',)

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


def mask(entries):
    """Entries with secret values replaced by a fingerprint, safe to return and print."""
    masked = []
    for e in entries:
        e = dict(e)
        if e['param'] in SECRET_SETTINGS and e.get('value'):
            e['value'] = 'sha512:' + sha512(e['value'])[:16]
        masked.append(e)
    return masked
