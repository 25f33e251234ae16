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
import re
import time
import uuid

import pytest

from ansible.parsing.vault import VaultLib, VaultSecret
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import Escrow, EscrowError, KVEscrow, VaultCodec


# The escrow's write operations return (value, status); most promises here are about the value.
def _get(escrow, name, kind, **kwargs):
    return escrow.ensure(name, kind, **kwargs)[0]


def _put(escrow, name, kind, value, **kwargs):
    return escrow.ensure(name, kind, value=value, **kwargs)[0]


def _pending(escrow, *args, **kwargs):
    return escrow.pending(*args, **kwargs)[0]


def _promote(escrow, *args, **kwargs):
    return escrow.promote(*args, **kwargs)[0]


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
    first = _get(backend.open(), 'gossip', 'gossip_key')
    assert len(base64.b64decode(first)) == 32
    assert _get(backend.open(), 'gossip', 'gossip_key') == first
    assert backend.open().read('gossip', 'gossip_key') == first
    assert _get(backend.open(), 'other', 'gossip_key') != first


def test_no_plain_text_at_rest(backend):
    value = _get(backend.open(), 'redis', 'password', length=24)
    pem = _put(backend.open(), 'ca', 'pem', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n')
    rest = backend.at_rest()
    assert rest and value.encode() not in rest and b'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC' not in rest
    assert backend.open().read('ca', 'pem') == pem


def test_a_wrong_credential_is_a_clear_error_and_writes_nothing(backend):
    value = _get(backend.open(), 'k', 'key256')
    with pytest.raises(EscrowError, match='wrong vault password|permission denied|may not use the escrow path'):
        denied = backend.open_denied()
        denied.probe()
        _get(denied, 'k', 'key256')
    with pytest.raises(EscrowError, match='wrong vault password|permission denied'):
        _get(backend.open_denied(), 'new', 'key256')
    assert _get(backend.open(), 'k', 'key256') == value and backend.open().read('new', 'key256') is None


def test_kind_mismatch_is_refused(backend):
    _get(backend.open(), 'k', 'password')
    with pytest.raises(EscrowError, match="is of kind 'password', not 'gossip_key'"):
        _get(backend.open(), 'k', 'gossip_key')


def _worker(backend, queue):
    queue.put(_get(backend.open(), 'shared', 'gossip_key'))


def test_concurrent_callers_get_the_same_value(backend):
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_worker, args=(backend, queue)) for dummy in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    values = [queue.get(timeout=5) for dummy in procs]
    assert len(set(values)) == 1
    assert _get(backend.open(), 'shared', 'gossip_key') == values[0]


def test_rotation_happens_once_per_generation_and_keeps_the_old_key(backend):
    first = _get(backend.open(), 'g', 'gossip_key')
    rotated = _get(backend.open(), 'g', 'gossip_key', generation='2026-11')
    assert rotated != first
    # The same generation again: the same key, no second rotation.
    assert _get(backend.open(), 'g', 'gossip_key', generation='2026-11') == rotated
    assert _get(backend.open(), 'g', 'gossip_key') == rotated
    assert [p['value'] for p in backend.raw('g')['previous']] == [first]
    third = _get(backend.open(), 'g', 'gossip_key', generation='2027-05')
    assert third not in (first, rotated)
    assert [p.get('generation') for p in backend.raw('g')['previous']] == [None, '2026-11']
    assert backend.raw('g')['generation'] == '2027-05'
    assert backend.open().history('g', 'gossip_key') == [third, rotated, first]


def test_storing_is_create_only_the_first_value_wins(backend):
    e = backend.open()
    assert e.read('ca', 'pem') is None and e.history('ca', 'pem') == []
    assert e.ensure('ca', 'pem', value='PEM-1') == ('PEM-1', 'stored')
    assert e.ensure('ca', 'pem', value='PEM-1') == ('PEM-1', 'present')
    with pytest.raises(EscrowError, match="'ca' already holds another value, and the first value stored wins"):
        e.ensure('ca', 'pem', value='PEM-2')
    # a candidate made for this run loses to the value held, which is returned
    assert e.ensure('ca', 'pem', value='PEM-2', keep_stored=True) == ('PEM-1', 'present')
    assert e.read('ca', 'pem') == 'PEM-1' and backend.raw('ca')['previous'] == []
    # replaced only when the system runs with the new value, or a rotation is named; the old one is kept
    assert e.ensure('ca', 'pem', value='PEM-2', replace=True) == ('PEM-2', 'replaced')
    assert e.ensure('ca', 'pem', value='PEM-3', generation='R1') == ('PEM-3', 'rotated')
    assert [p['value'] for p in backend.raw('ca')['previous']] == ['PEM-1', 'PEM-2']
    assert e.ensure('t', 'text', value='line one\nline two\n') == ('line one\nline two\n', 'stored')
    assert backend.open().read('t', 'text') == 'line one\nline two\n'
    with pytest.raises(EscrowError, match='not generated by the escrow'):
        e.ensure('other', 'pem')
    with pytest.raises(EscrowError, match='non-empty string'):
        e.ensure('ca', 'pem', value='')


def test_check_mode_writes_nothing_and_says_what_it_would_do(backend):
    e = backend.open()
    value, status = e.ensure('new', 'gossip_key', write=False)
    assert status == 'would be generated' and value and e.read('new') is None
    assert e.ensure('held', 'text', value='T1') == ('T1', 'stored')
    assert e.ensure('held', 'text', value='T2', generation='R', write=False) == ('T2', 'would be rotated')
    assert e.ensure('held', 'text', value='T1', write=False) == ('T1', 'present')
    assert e.read('held') == 'T1' and backend.raw('held')['previous'] == []


def test_a_rotation_stays_pending_until_promoted(backend):
    old = _get(backend.open(), 'g', 'gossip_key')
    # check mode: a key to show, nothing stored
    dry = _pending(backend.open(), 'g', 'gossip_key', 'A', write=False)
    assert dry != old and 'pending' not in backend.raw('g')
    new = _pending(backend.open(), 'g', 'gossip_key', 'A')
    assert new != dry
    # every other run still reads the key in use; the same id resumes with the same new key
    assert _get(backend.open(), 'g', 'gossip_key') == old
    assert _pending(backend.open(), 'g', 'gossip_key', 'A') == new
    with pytest.raises(EscrowError, match="rotation 'A' of escrow secret 'g' is not finished"):
        _pending(backend.open(), 'g', 'gossip_key', 'B')
    assert _promote(backend.open(), 'g', 'gossip_key', 'A') == new
    assert _get(backend.open(), 'g', 'gossip_key') == new
    assert _promote(backend.open(), 'g', 'gossip_key', 'A') == new  # again: nothing to do
    assert [p['value'] for p in backend.raw('g')['previous']] == [old]
    with pytest.raises(EscrowError, match="has no pending rotation 'C'"):
        _promote(backend.open(), 'g', 'gossip_key', 'C')


def test_a_rotation_id_rotates_once_even_after_another_id(backend):
    _get(backend.open(), 'g', 'gossip_key')
    for rotation in ('A', 'B'):
        _pending(backend.open(), 'g', 'gossip_key', rotation)
        _promote(backend.open(), 'g', 'gossip_key', rotation)
    b = _get(backend.open(), 'g', 'gossip_key')
    with pytest.raises(EscrowError, match="rotation id 'A' of escrow secret 'g' was used before"):
        _pending(backend.open(), 'g', 'gossip_key', 'A')
    with pytest.raises(EscrowError, match="rotation id 'A' of escrow secret 'g' was used before"):
        _get(backend.open(), 'g', 'gossip_key', generation='A')
    assert _get(backend.open(), 'g', 'gossip_key') == b
    assert _pending(backend.open(), 'g', 'gossip_key', 'B') == b  # the current rotation: its key


def test_a_key_the_escrow_never_held_can_be_rotated_away_from(backend):
    new = _pending(backend.open(), 'given', 'gossip_key', 'A')
    with pytest.raises(EscrowError, match="holds only the pending rotation 'A'"):
        _get(backend.open(), 'given', 'gossip_key')
    assert _promote(backend.open(), 'given', 'gossip_key', 'A') == new
    assert _get(backend.open(), 'given', 'gossip_key') == new and backend.raw('given')['previous'] == []


def test_names_and_whole_entries_copy_into_another_escrow(backend, tmp_path):
    src = backend.open()
    _get(src, 'a', 'gossip_key')
    _get(src, 'a', 'gossip_key', generation='2026-11')
    _put(src, 'ca/key', 'pem', 'PEM')
    _pending(src, 'b', 'key256', 'R1')
    assert src.names() == ['a', 'b', 'ca/key']
    other = tmp_path / 'other'
    other.mkdir()
    dst = FileBackend(other).open()
    for name in src.names():
        assert dst.adopt(name, src.entry(name)) is True
        assert dst.adopt(name, src.entry(name)) is False  # a copy that stopped half-way resumes
    assert [dst.entry(n) for n in dst.names()] == [src.entry(n) for n in src.names()]
    assert dst.history('a', 'gossip_key') == src.history('a', 'gossip_key')
    _put(src, 'ca/key', 'pem', 'PEM-2', replace=True)
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
    value = _get(kv.open(), 'k', 'key256')
    root = _kv_client(_bao()['root_token']).secrets.kv.v2
    root.delete_latest_version_of_secret(path='%s/k' % kv.prefix, mount_point='secret')
    with pytest.raises(EscrowError, match=r"newest one \(1\) was deleted. It is not taken as new: restore it"):
        _get(kv.open(), 'k', 'key256')
    root.undelete_secret_versions(path='%s/k' % kv.prefix, versions=[1], mount_point='secret')
    assert _get(kv.open(), 'k', 'key256') == value


def test_kv_data_written_by_something_else_is_refused_not_overwritten(kv):
    root = _kv_client(_bao()['root_token']).secrets.kv.v2
    root.create_or_update_secret(path='%s/k' % kv.prefix, secret={'password': 'hunter2'}, mount_point='secret')
    with pytest.raises(EscrowError, match='is not an escrow entry'):
        _get(kv.open(), 'k', 'key256')
    assert kv.raw('k') == {'password': 'hunter2'}


def test_kv_every_value_is_a_kv_version_kept(kv):
    first = _get(kv.open(), 'g', 'gossip_key')
    second = _get(kv.open(), 'g', 'gossip_key', generation='2026-12')
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


# -- the mount and its settings (issue 25, cases 2 and 7) --------------------
@pytest.fixture
def mount(kv):
    """``make(version, config, read_config)``: a KV mount of its own (made with the root token) and a KVEscrow on it
    with a token that has the escrow policy there (docs/escrow.md), with or without read on ``<mount>/config``."""
    import hvac
    root = _kv_client(_bao()['root_token'])
    made = []

    def make(version='2', config=None, read_config=True):
        name = 'kvtest-%s' % uuid.uuid4().hex[:12]
        root.sys.enable_secrets_engine('kv', path=name, options={'version': version} if version else None)
        made.append(name)
        for dummy in range(100):  # a new KV v2 mount upgrades itself first, and refuses requests until it is done
            try:
                if version == '2':
                    root.secrets.kv.v2.configure(mount_point=name, **config) if config else \
                        root.secrets.kv.v2.read_configuration(mount_point=name)
                break
            except hvac.exceptions.InvalidRequest as e:
                if 'Upgrading' not in str(e):
                    raise
                time.sleep(0.1)
        policy = ('path "%(m)s/data/keyfleet/*" { capabilities = ["create", "read", "update"] }\n'
                  'path "%(m)s/metadata/keyfleet/*" { capabilities = ["read", "list"] }\n'
                  'path "%(m)s/metadata/keyfleet" { capabilities = ["list"] }\n' % dict(m=name))
        if read_config:
            policy += 'path "%s/config" { capabilities = ["read"] }\n' % name
        root.sys.create_or_update_policy(name, policy)
        token = root.auth.token.create(policies=[name], ttl='1h')['auth']['client_token']
        return KVEscrow(_kv_client(token), name, 'keyfleet')
    yield make
    for name in made:
        root.sys.disable_secrets_engine(name)
        root.sys.delete_policy(name)


@pytest.mark.parametrize('version', ['1', None])
def test_kv_a_mount_that_is_not_kv_version_2_is_refused(mount, version):
    # The escrow's policy (written for KV v2 paths) is granted on a KV v1 mount: the capabilities alone pass.
    escrow = mount(version)
    with pytest.raises(EscrowError, match=r"'kvtest-\w+' is a KV version 1 engine.*no check-and-set.*"
                                          r"keyfleet_escrow_engine_mount_point.*bao secrets enable -path=.* -version=2 kv"
                                          r".*bao kv enable-versioning"):
        escrow.probe()


def test_kv_a_mount_point_that_is_no_mount_is_refused(kv):
    root = _bao()['root_token']
    with pytest.raises(EscrowError, match=r"'secret/keyfleet' is not the mount point of a secrets engine: it is inside "
                                          r"the engine mounted at 'secret'.*keyfleet_escrow_engine_mount_point"):
        KVEscrow(_kv_client(root), 'secret/keyfleet', kv.prefix).probe()
    with pytest.raises(EscrowError, match=r"no secrets engine is mounted at 'nosuch'.*keyfleet_escrow_engine_mount_point"):
        KVEscrow(_kv_client(root), 'nosuch', kv.prefix).probe()


def test_kv_the_lab_mount_and_policy_raise_no_warning(kv):
    assert kv.open().probe() == []


def test_kv_settings_that_drop_kv_versions_are_warned_by_name(mount):
    warnings = mount(config=dict(max_versions=2, delete_version_after='768h')).probe()
    assert len(warnings) == 2, warnings
    assert any(re.search(r"delete_version_after=768h0m0s.*deleted 768h0m0s after it is written, the newest one "
                         r"included.*stops.*bao kv undelete", w) for w in warnings), warnings
    assert any(re.search(r"max_versions=2.*keeps only the 2 newest KV versions.*values are not lost.*"
                         r"bao kv rollback", w) for w in warnings), warnings
    assert mount(config=dict(max_versions=3)).probe() == []  # the version before the last rotation is kept


def test_kv_a_config_that_cannot_be_read_is_a_warning_not_a_failure(mount):
    warnings = mount(read_config=False).probe()
    assert len(warnings) == 1 and re.search(r'could not read the settings of the KV engine \(kvtest-\w+/config: '
                                            r'max_versions, delete_version_after\).*read on "kvtest-\w+/config"',
                                            warnings[0]), warnings


def _entry(value):
    return {'kind': 'key256', 'value': value, 'created': '2026-01-01T00:00:00Z', 'previous': []}


def test_kv_a_destroyed_newest_version_is_told_from_a_deleted_one(kv):
    root = _kv_client(_bao()['root_token']).secrets.kv.v2
    path = '%s/k' % kv.prefix
    for value in ('v1', 'v2'):
        root.create_or_update_secret(path=path, secret=_entry(value), mount_point='secret')
    root.delete_latest_version_of_secret(path=path, mount_point='secret')
    with pytest.raises(EscrowError, match=r"newest one \(2\) was deleted\. It is not taken as new: restore it "
                                          r'\("bao kv undelete -mount=secret -versions=2 %s"\)' % path) as deleted:
        kv.open().read('k')
    assert 'destroyed' not in str(deleted.value)
    root.destroy_secret_versions(path=path, versions=[2], mount_point='secret')
    with pytest.raises(EscrowError, match=r"newest one \(2\) was destroyed: its data is gone for good, and undelete "
                                          r"cannot bring it back\. It is not taken as new.*Version 1 is not destroyed"
                                          r".*bao kv rollback -mount=secret -version=1 %s.*escrow_export" % path) as gone:
        kv.open().entry('k')
    assert 'bao kv undelete' not in str(gone.value)
    root.destroy_secret_versions(path=path, versions=[1], mount_point='secret')
    with pytest.raises(EscrowError, match=r"was destroyed.*no earlier version to roll back to.*escrow_export"):
        kv.open().adopt('k', _entry('v3'))


def test_kv_a_name_with_metadata_but_no_version_is_not_stored_yet(kv):
    # `bao kv metadata put -max-versions=...` before the first write: settings, no data.
    root = _kv_client(_bao()['root_token']).secrets.kv.v2
    root.update_metadata(path='%s/k' % kv.prefix, max_versions=20, mount_point='secret')
    assert kv.open().read('k') is None
    assert kv.open().adopt('k', _entry('v1')) is True and kv.open().read('k') == 'v1'
