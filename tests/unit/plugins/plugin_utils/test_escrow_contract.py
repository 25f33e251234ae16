# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every escrow backend promises, run against each: the Ansible Vault file, and the KV v2 engine of a
real OpenBao server (tests/lab/escrow-kv.sh starts one and sets KEYFLEET_TEST_BAO to its env.json; without it
the KV half is skipped, as under ansible-test units)."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import uuid

import pytest

from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import Escrow, EscrowError, KVEscrow, VaultCodec

BAO = os.environ.get('KEYFLEET_TEST_BAO')


def _bao():
    with open(BAO) as f:
        return json.load(f)


def _kv_client(token):
    import hvac
    env = _bao()
    return hvac.Client(url=env['url'], verify=env['ca_cert'], token=token)


class FileBackend:
    def __init__(self, tmp_path):
        self.path = str(tmp_path / 'escrow.vault')

    def open(self, password=b'right'):
        return Escrow(self.path, VaultCodec([('default', VaultSecret(password))]))

    def open_denied(self):
        return self.open(b'wrong')

    def at_rest(self):
        with open(self.path, 'rb') as f:
            return f.read()

    def raw(self, name):
        return json.loads(VaultLib([('default', VaultSecret(b'right'))]).decrypt(self.at_rest()))['secrets'][name]


class KVBackend:
    def __init__(self, dummy):
        self.prefix = 'keyfleet/test-%s' % uuid.uuid4().hex  # inside the escrow policy's path

    def open(self, token=None):
        return KVEscrow(_kv_client(token or _bao()['token']), 'secret', self.prefix)

    def open_denied(self):
        return self.open(_bao()['other_token'])

    def at_rest(self):
        data = b''
        for top, dummy, files in os.walk(_bao()['storage']):
            for name in files:
                with open(os.path.join(top, name), 'rb') as f:
                    data += f.read()
        return data

    def raw(self, name):
        found = _kv_client(_bao()['root_token']).secrets.kv.v2.read_secret_version(
            path='%s/%s' % (self.prefix, name), mount_point='secret', raise_on_deleted_version=True)
        return found['data']['data']


@pytest.fixture(params=['file', 'kv'])
def backend(request, tmp_path):
    if request.param == 'kv' and not BAO:
        pytest.skip('no OpenBao server (tests/lab/escrow-kv.sh runs these against one)')
    return {'file': FileBackend, 'kv': KVBackend}[request.param](tmp_path)


def test_generated_once_then_reused(backend):
    first = backend.open().get('gossip', 'gossip_key')
    assert len(base64.b64decode(first)) == 32
    assert backend.open().get('gossip', 'gossip_key') == first
    assert backend.open().read('gossip', 'gossip_key') == first
    assert backend.open().get('other', 'gossip_key') != first


def test_no_plain_text_at_rest(backend):
    value = backend.open().get('redis', 'password', length=24)
    pem = backend.open().put('ca', 'pem', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n')
    rest = backend.at_rest()
    assert rest and value.encode() not in rest and b'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC' not in rest
    assert backend.open().read('ca', 'pem') == pem


def test_a_wrong_credential_is_a_clear_error_and_writes_nothing(backend):
    value = backend.open().get('k', 'key256')
    with pytest.raises(EscrowError, match='wrong vault password|permission denied|may not use the escrow path'):
        denied = backend.open_denied()
        denied.probe()
        denied.get('k', 'key256')
    with pytest.raises(EscrowError, match='wrong vault password|permission denied'):
        backend.open_denied().get('new', 'key256')
    assert backend.open().get('k', 'key256') == value and backend.open().read('new', 'key256') is None


def test_kind_mismatch_is_refused(backend):
    backend.open().get('k', 'password')
    with pytest.raises(EscrowError, match="is of kind 'password', not 'gossip_key'"):
        backend.open().get('k', 'gossip_key')


def _worker(backend, queue):
    queue.put(backend.open().get('shared', 'gossip_key'))


def test_concurrent_callers_get_the_same_value(backend):
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_worker, args=(backend, queue)) for dummy in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    values = [queue.get(timeout=5) for dummy in procs]
    assert len(set(values)) == 1
    assert backend.open().get('shared', 'gossip_key') == values[0]


def test_rotation_happens_once_per_generation_and_keeps_the_old_key(backend):
    first = backend.open().get('g', 'gossip_key')
    rotated = backend.open().get('g', 'gossip_key', generation='2026-11')
    assert rotated != first
    # The same generation again: the same key, no second rotation.
    assert backend.open().get('g', 'gossip_key', generation='2026-11') == rotated
    assert backend.open().get('g', 'gossip_key') == rotated
    assert [p['value'] for p in backend.raw('g')['previous']] == [first]
    third = backend.open().get('g', 'gossip_key', generation='2027-05')
    assert third not in (first, rotated)
    assert [p.get('generation') for p in backend.raw('g')['previous']] == [None, '2026-11']
    assert backend.raw('g')['generation'] == '2027-05'
    assert backend.open().history('g', 'gossip_key') == [third, rotated, first]


def test_stored_kind_is_put_read_and_replaced_keeping_the_old_value(backend):
    e = backend.open()
    assert e.read('ca', 'pem') is None and e.history('ca', 'pem') == []
    assert e.put('ca', 'pem', 'PEM-1') == 'PEM-1'
    assert e.put('ca', 'pem', 'PEM-1') == 'PEM-1'
    assert backend.raw('ca')['previous'] == []
    assert e.put('ca', 'pem', 'PEM-2') == 'PEM-2'
    assert e.read('ca', 'pem') == 'PEM-2'
    assert [p['value'] for p in backend.raw('ca')['previous']] == ['PEM-1']
    assert e.put('t', 'text', 'line one\nline two\n') == 'line one\nline two\n'
    assert backend.open().read('t', 'text') == 'line one\nline two\n'
    with pytest.raises(EscrowError, match='not generated by the escrow'):
        e.get('other', 'pem')
    with pytest.raises(EscrowError, match='non-empty string'):
        e.put('ca', 'pem', '')


def test_a_rotation_stays_pending_until_promoted(backend):
    old = backend.open().get('g', 'gossip_key')
    # check mode: a key to show, nothing stored
    dry = backend.open().pending('g', 'gossip_key', 'A', store=False)
    assert dry != old and 'pending' not in backend.raw('g')
    new = backend.open().pending('g', 'gossip_key', 'A')
    assert new != dry
    # every other run still reads the key in use; the same id resumes with the same new key
    assert backend.open().get('g', 'gossip_key') == old
    assert backend.open().pending('g', 'gossip_key', 'A') == new
    with pytest.raises(EscrowError, match="rotation 'A' of escrow secret 'g' is not finished"):
        backend.open().pending('g', 'gossip_key', 'B')
    assert backend.open().promote('g', 'gossip_key', 'A') == new
    assert backend.open().get('g', 'gossip_key') == new
    assert backend.open().promote('g', 'gossip_key', 'A') == new  # again: nothing to do
    assert [p['value'] for p in backend.raw('g')['previous']] == [old]
    with pytest.raises(EscrowError, match="has no pending rotation 'C'"):
        backend.open().promote('g', 'gossip_key', 'C')


def test_a_rotation_id_rotates_once_even_after_another_id(backend):
    backend.open().get('g', 'gossip_key')
    for rotation in ('A', 'B'):
        backend.open().pending('g', 'gossip_key', rotation)
        backend.open().promote('g', 'gossip_key', rotation)
    b = backend.open().get('g', 'gossip_key')
    with pytest.raises(EscrowError, match="rotation id 'A' of escrow secret 'g' was used before"):
        backend.open().pending('g', 'gossip_key', 'A')
    with pytest.raises(EscrowError, match="rotation id 'A' of escrow secret 'g' was used before"):
        backend.open().get('g', 'gossip_key', generation='A')
    assert backend.open().get('g', 'gossip_key') == b
    assert backend.open().pending('g', 'gossip_key', 'B') == b  # the current rotation: its key


def test_a_key_the_escrow_never_held_can_be_rotated_away_from(backend):
    new = backend.open().pending('given', 'gossip_key', 'A')
    with pytest.raises(EscrowError, match="holds only the pending rotation 'A'"):
        backend.open().get('given', 'gossip_key')
    assert backend.open().promote('given', 'gossip_key', 'A') == new
    assert backend.open().get('given', 'gossip_key') == new and backend.raw('given')['previous'] == []


def test_names_and_whole_entries_copy_into_another_escrow(backend, tmp_path):
    src = backend.open()
    src.get('a', 'gossip_key')
    src.get('a', 'gossip_key', generation='2026-11')
    src.put('ca/key', 'pem', 'PEM')
    src.pending('b', 'key256', 'R1')
    assert src.names() == ['a', 'b', 'ca/key']
    other = tmp_path / 'other'
    other.mkdir()
    dst = FileBackend(other).open()
    for name in src.names():
        assert dst.adopt(name, src.entry(name)) is True
        assert dst.adopt(name, src.entry(name)) is False  # a copy that stopped half-way resumes
    assert [dst.entry(n) for n in dst.names()] == [src.entry(n) for n in src.names()]
    assert dst.history('a', 'gossip_key') == src.history('a', 'gossip_key')
    src.put('ca/key', 'pem', 'PEM-2')
    with pytest.raises(EscrowError, match="'ca/key' is stored in both escrows with different values"):
        dst.adopt('ca/key', src.entry('ca/key'))
    assert dst.read('ca/key', 'pem') == 'PEM'


# -- what only the KV backend has -----------------------------------------
@pytest.fixture
def kv():
    if not BAO:
        pytest.skip('no OpenBao server (tests/lab/escrow-kv.sh runs these against one)')
    return KVBackend(None)


def test_kv_a_deleted_newest_version_is_not_taken_for_new(kv):
    value = kv.open().get('k', 'key256')
    root = _kv_client(_bao()['root_token']).secrets.kv.v2
    root.delete_latest_version_of_secret(path='%s/k' % kv.prefix, mount_point='secret')
    with pytest.raises(EscrowError, match=r"newest one \(1\) was deleted. It is not taken as new: restore it"):
        kv.open().get('k', 'key256')
    root.undelete_secret_versions(path='%s/k' % kv.prefix, versions=[1], mount_point='secret')
    assert kv.open().get('k', 'key256') == value


def test_kv_data_written_by_something_else_is_refused_not_overwritten(kv):
    root = _kv_client(_bao()['root_token']).secrets.kv.v2
    root.create_or_update_secret(path='%s/k' % kv.prefix, secret={'password': 'hunter2'}, mount_point='secret')
    with pytest.raises(EscrowError, match='is not an escrow entry'):
        kv.open().get('k', 'key256')
    assert kv.raw('k') == {'password': 'hunter2'}


def test_kv_every_value_is_a_kv_version_kept(kv):
    first = kv.open().get('g', 'gossip_key')
    second = kv.open().get('g', 'gossip_key', generation='2026-12')
    meta = _kv_client(_bao()['root_token']).secrets.kv.v2.read_secret_metadata(
        path='%s/g' % kv.prefix, mount_point='secret')['data']
    assert meta['current_version'] == 2
    assert not any(v['deletion_time'] or v['destroyed'] for v in meta['versions'].values())
    old = _kv_client(_bao()['root_token']).secrets.kv.v2.read_secret_version(
        path='%s/g' % kv.prefix, version=1, mount_point='secret', raise_on_deleted_version=True)['data']['data']
    assert old['value'] == first and kv.raw('g')['value'] == second


def test_kv_a_server_that_cannot_be_reached_is_a_clear_error(kv):
    import hvac
    env = _bao()
    down = KVEscrow(hvac.Client(url='https://127.0.0.1:1', verify=env['ca_cert'], token=env['token']), 'secret', kv.prefix)
    with pytest.raises(EscrowError, match=r'cannot be reached to read its seal status \(ConnectionError\)'):
        down.probe()
    untrusted = KVEscrow(hvac.Client(url=env['url'], verify=True, token=env['token']), 'secret', kv.prefix)
    with pytest.raises(EscrowError, match='TLS verification failed'):
        untrusted.probe()
