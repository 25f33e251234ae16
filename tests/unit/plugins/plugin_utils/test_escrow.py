# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import multiprocessing
import os
import stat

import pytest

from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import Escrow, EscrowError, generate


def make_escrow(path, password=b'right'):
    vault = VaultLib([('default', VaultSecret(password))])
    return Escrow(str(path), encrypt=lambda b: vault.encrypt(b, secret=VaultSecret(password)), decrypt=vault.decrypt)


def test_generated_once_then_reused(tmp_path):
    path = tmp_path / 'sub' / 'escrow.vault'
    first = make_escrow(path).get('gossip', 'gossip_key')
    assert len(base64.b64decode(first)) == 32
    assert make_escrow(path).get('gossip', 'gossip_key') == first
    assert make_escrow(path).get('other', 'gossip_key') != first


def test_file_is_vault_0600_and_never_plain(tmp_path):
    path = tmp_path / 'escrow.vault'
    value = make_escrow(path).get('redis', 'password', length=24)
    raw = path.read_bytes()
    assert raw.startswith(b'$ANSIBLE_VAULT;1.1;AES256')
    assert value.encode() not in raw
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) != 0 and not [p for p in os.listdir(tmp_path) if p.startswith('.')]


def test_wrong_vault_password_is_a_clear_error(tmp_path):
    path = tmp_path / 'escrow.vault'
    make_escrow(path).get('k', 'key256')
    with pytest.raises(EscrowError, match='cannot decrypt escrow file .* with the vault secrets of this run'):
        make_escrow(path, b'wrong').get('k', 'key256')


def test_plain_file_is_refused_not_overwritten(tmp_path):
    path = tmp_path / 'escrow.vault'
    path.write_text('{"secrets": {}}')
    with pytest.raises(EscrowError, match='not Ansible Vault encrypted'):
        make_escrow(path).get('k', 'key256')
    assert path.read_text() == '{"secrets": {}}'


def test_kind_mismatch_is_refused(tmp_path):
    e = make_escrow(tmp_path / 'escrow.vault')
    e.get('k', 'password')
    with pytest.raises(EscrowError, match="is of kind 'password', not 'gossip_key'"):
        e.get('k', 'gossip_key')


@pytest.mark.parametrize('kwargs, message', [
    (dict(kind='nope'), 'unknown secret kind'),
    (dict(kind='password', length=4), 'at least 8'),
    (dict(kind='password', chars='ab'), 'at least 10 distinct'),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(EscrowError, match=message):
        generate(**kwargs)


def test_password_uses_the_given_characters():
    value = generate('password', length=64, chars='0123456789')
    assert len(value) == 64 and set(value) <= set('0123456789')


def _worker(path, queue):
    queue.put(make_escrow(path).get('shared', 'gossip_key'))


def test_concurrent_callers_get_the_same_value(tmp_path):
    path = str(tmp_path / 'escrow.vault')
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_worker, args=(path, queue)) for dummy in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    values = [queue.get(timeout=5) for dummy in procs]
    assert len(set(values)) == 1
    assert make_escrow(path).get('shared', 'gossip_key') == values[0]
