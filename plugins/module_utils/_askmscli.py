# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""IBM Aspera askmscli: keystores and secrets. Secrets go to askmscli on stdin only, never in argv.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import ASPERA_DIR, LAYOUT, AsperaError

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

_HASH_LINE = re.compile(r'^\s*v(\d+):\s*\(SHA-512\)\s*([0-9A-Fa-f]{128})\s*$')
_NO_RECORDS = re.compile(r'No records found', re.I)


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

    def __init__(self, run, binary=ASPERA_DIR + '/' + LAYOUT['askmscli']):
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
