# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller-side secret escrow: one Ansible Vault encrypted JSON file.

A secret is generated the first time it is asked for, written (encrypted) to the
escrow file, and only then handed out, so no host ever holds a secret that the
operator could lose. Later calls return the stored value unchanged.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import base64
import datetime
import fcntl
import json
import os
import secrets as _secrets
import string
import tempfile

FORMAT_VERSION = 1
DEFAULT_PASSWORD_CHARS = string.ascii_letters + string.digits
MIN_PASSWORD_LENGTH = 8


class EscrowError(Exception):
    """A problem the operator has to fix; the message says what and where."""


def _random_base64(nbytes):
    return base64.b64encode(_secrets.token_bytes(nbytes)).decode('ascii')


def _password(length, chars):
    return ''.join(_secrets.choice(chars) for dummy in range(length))


def generate(kind, length=None, chars=None):
    """Return a new secret of ``kind``; raise EscrowError for unknown kinds or bad parameters."""
    if kind in ('gossip_key', 'key256'):
        # Consul's `consul keygen` is 32 random bytes, base64: the same as a 256-bit key.
        return _random_base64(32)
    if kind == 'password':
        length = 32 if length is None else length
        chars = DEFAULT_PASSWORD_CHARS if not chars else chars
        if not isinstance(length, int) or length < MIN_PASSWORD_LENGTH:
            raise EscrowError('password length must be an integer of at least %d, got %r' % (MIN_PASSWORD_LENGTH, length))
        if len(set(chars)) < 10:
            raise EscrowError('password chars must offer at least 10 distinct characters')
        return _password(length, chars)
    raise EscrowError("unknown secret kind %r (known: gossip_key, key256, password)" % (kind,))


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


class Escrow:
    """The escrow file at ``path``.

    ``encrypt`` and ``decrypt`` turn bytes into Vault text and back; they come from the
    Vault secrets of the running play, so this class never sees a password.
    """

    def __init__(self, path, encrypt, decrypt):
        self.path = os.path.abspath(os.path.expanduser(path))
        self._encrypt = encrypt
        self._decrypt = decrypt

    # -- file handling -----------------------------------------------------
    def _lock(self):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
        # A separate lock file: the escrow file itself is replaced on every write,
        # so a lock on it would not serialize the forks that read-modify-write.
        fd = os.open(self.path + '.lock', os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def _load(self):
        if not os.path.exists(self.path):
            return {'version': FORMAT_VERSION, 'secrets': {}}
        with open(self.path, 'rb') as f:
            raw = f.read()
        if not raw.startswith(b'$ANSIBLE_VAULT;'):
            raise EscrowError('escrow file %s is not Ansible Vault encrypted; refusing to use or overwrite it' % self.path)
        try:
            plain = self._decrypt(raw)
        except Exception as e:  # the vault library raises several error types
            raise EscrowError('cannot decrypt escrow file %s with the vault secrets of this run (%s); '
                              'run with the vault password it was created with' % (self.path, e))
        try:
            data = json.loads(plain.decode('utf-8'))
        except ValueError as e:
            raise EscrowError('escrow file %s decrypts but is not escrow JSON: %s' % (self.path, e))
        if not isinstance(data, dict) or not isinstance(data.get('secrets'), dict):
            raise EscrowError('escrow file %s has no "secrets" mapping' % self.path)
        return data

    def _store(self, data):
        payload = self._encrypt(json.dumps(data, indent=1, sort_keys=True).encode('utf-8'))
        directory = os.path.dirname(self.path)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(self.path))
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, 'wb') as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def _locked(self, update):
        """Run ``update(data)`` under the lock; store the data if it says it changed it."""
        fd = self._lock()
        try:
            data = self._load()
            result, changed = update(data)
            if changed:
                self._store(data)
            return result
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # -- public interface --------------------------------------------------
    def get(self, name, kind, length=None, chars=None):
        """The secret ``name``; generated and stored first if the escrow does not hold it."""
        if not name or not isinstance(name, str):
            raise EscrowError('escrow secret names must be non-empty strings, got %r' % (name,))

        def update(data):
            entry = data['secrets'].get(name)
            if entry is not None:
                if entry.get('kind') != kind:
                    raise EscrowError('escrow secret %r is of kind %r, not %r; use another name or the same kind'
                                      % (name, entry.get('kind'), kind))
                return entry['value'], False
            data['secrets'][name] = {'kind': kind, 'value': generate(kind, length, chars),
                                     'created': _now(), 'previous': []}
            return data['secrets'][name]['value'], True

        return self._locked(update)
