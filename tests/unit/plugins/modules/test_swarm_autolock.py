# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


import pytest

from ansible_collections.keyfleet.encryption.plugins.module_utils import _swarm
from ansible_collections.keyfleet.encryption.plugins.modules import swarm_autolock


class FakeEngine:
    """The Engine API calls the module makes, over one manager's state (swarmkit's behaviour:
    a new key when autolock goes on or on rotation, locked after a restart, 401 for a wrong key)."""

    def __init__(self, autolock=False, locked=False, role='manager'):
        self.autolock = autolock
        self.key = 'SWMKEY-1-first' if autolock else ''
        self.locked = locked
        self.role = role
        self.labels = {}
        self.version = 10
        self.updates = []
        self.made = 0

    def _new_key(self):
        self.made += 1
        self.key = 'SWMKEY-1-made%d' % self.made

    def swarm_info(self):
        if self.locked:
            return {'LocalNodeState': 'locked', 'ControlAvailable': False}
        return {'LocalNodeState': 'active', 'ControlAvailable': self.role == 'manager'}

    def inspect(self):
        assert not self.locked
        return {'Version': {'Index': self.version},
                'Spec': {'Labels': dict(self.labels), 'EncryptionConfig': {'AutoLockManagers': self.autolock}}}

    def unlock_key(self):
        return self.key if self.autolock else ''

    def update(self, version, spec, rotate_unlock_key=False):
        assert version == self.version
        self.updates.append((spec, rotate_unlock_key))
        self.version += 1
        want = spec['EncryptionConfig']['AutoLockManagers']
        if want and (not self.autolock or rotate_unlock_key):
            self._new_key()
        self.autolock = want
        self.labels = spec.get('Labels') or {}

    def unlock(self, key):
        if not self.locked:
            raise _swarm.DockerError('swarm is not locked', 409)
        if key != self.key:
            raise _swarm.DockerError('swarm could not be unlocked: invalid key provided', 401)
        self.locked = False


@pytest.fixture
def engine(monkeypatch):
    fake = FakeEngine()
    monkeypatch.setattr(swarm_autolock, 'SwarmClient', lambda host, timeout: fake)
    return fake


def args(**kw):
    return dict(dict(docker_host='unix:///run/test.sock'), **kw)


def test_autolock_on_four_passes_report_the_key_once(engine, four_pass):
    check, apply, check2, apply2 = four_pass(swarm_autolock, args())
    assert [r['changed'] for r in (check, apply, check2, apply2)] == [True, True, True, True]
    # the module alone never learns that the action plugin escrowed the key: give it back as the escrow would
    assert apply['_keyfleet_unlock_key'] == engine.key and apply['key_fingerprint'] == _swarm.fingerprint(engine.key)
    assert len(engine.updates) == 1 and check['escrowed'] and '_keyfleet_unlock_key' not in check


def test_escrowed_key_makes_it_idempotent(engine, four_pass, leaked):
    engine.autolock, engine.key = True, 'SWMKEY-1-first'
    results = four_pass(swarm_autolock, args(unlock_keys=['SWMKEY-1-first']))
    assert [r['changed'] for r in results] == [False] * 4
    assert all('_keyfleet_unlock_key' not in r and not leaked('SWMKEY-1-first', r) for r in results)
    assert engine.updates == []


def test_a_key_set_by_hand_is_escrowed_without_an_update(engine, run_module):
    engine.autolock, engine.key = True, 'SWMKEY-1-byhand'
    r = run_module(swarm_autolock, args())
    assert r['changed'] and r['escrowed'] and r['_keyfleet_unlock_key'] == 'SWMKEY-1-byhand' and engine.updates == []


def test_rotation_once_per_id(engine, run_module):
    engine.autolock, engine.key = True, 'SWMKEY-1-first'
    check = run_module(swarm_autolock, args(unlock_keys=['SWMKEY-1-first'], rotation_id='r1'), check_mode=True)
    assert check['changed'] and check['rotated'] and engine.updates == []
    r = run_module(swarm_autolock, args(unlock_keys=['SWMKEY-1-first'], rotation_id='r1'))
    assert r['rotated'] and r['_keyfleet_unlock_key'] == engine.key != 'SWMKEY-1-first'
    assert engine.updates[0][1] is True and engine.labels == {_swarm.ROTATION_LABEL: 'r1'}
    again = run_module(swarm_autolock, args(unlock_keys=[engine.key, 'SWMKEY-1-first'], rotation_id='r1'))
    assert not again['changed'] and len(engine.updates) == 1


def test_turning_autolock_on_with_a_rotation_id_records_it_without_a_second_key(engine, run_module):
    r = run_module(swarm_autolock, args(rotation_id='r1'))
    assert r['changed'] and not r['rotated'] and engine.made == 1
    assert engine.labels == {_swarm.ROTATION_LABEL: 'r1'}


def test_locked_manager_unlocked_with_the_escrowed_key(engine, run_module):
    engine.autolock, engine.key, engine.locked = True, 'SWMKEY-1-first', True
    check = run_module(swarm_autolock, args(state='unlocked', unlock_keys=['SWMKEY-1-first']), check_mode=True)
    assert check['changed'] and check['unlocked'] and engine.locked
    r = run_module(swarm_autolock, args(state='unlocked', unlock_keys=['SWMKEY-1-first']))
    assert r['changed'] and r['unlocked'] and r['unlocked_with'] == 0 and not engine.locked
    assert '_keyfleet_unlock_key' not in r and engine.updates == []


def test_previous_key_unlocks_with_a_warning(engine, run_module, monkeypatch):
    warnings = []
    monkeypatch.setattr(swarm_autolock.AnsibleModule, 'warn', lambda module, msg: warnings.append(msg))
    engine.autolock, engine.key, engine.locked = True, 'SWMKEY-1-old', True
    r = run_module(swarm_autolock, args(state='unlocked', unlock_keys=['SWMKEY-1-new', 'SWMKEY-1-old']))
    assert r['unlocked_with'] == 1 and warnings and 'previous escrowed key 1' in warnings[0]
    # the escrow's current key is not what the swarm runs with: the action plugin must make key 1 current.
    # As a position: Ansible would mask the key itself, a no_log argument's value, in the result.
    assert r['_keyfleet_unlock_key_index'] == 1 and '_keyfleet_unlock_key' not in r and r['escrowed']


def test_wrong_keys_fail_and_name_no_key(engine, run_module, leaked):
    engine.autolock, engine.key, engine.locked = True, 'SWMKEY-1-real', True
    r = run_module(swarm_autolock, args(unlock_keys=['SWMKEY-1-wrong']))
    assert r['failed'] and 'no escrowed unlock key unlocks this manager' in r['msg']
    assert not leaked('SWMKEY-1-wrong', r) and _swarm.fingerprint('SWMKEY-1-wrong') in r['msg']
    assert engine.locked


def test_locked_without_an_escrowed_key_fails(engine, run_module):
    engine.autolock, engine.key, engine.locked = True, 'SWMKEY-1-real', True
    r = run_module(swarm_autolock, args(escrow_name='dc2'))
    assert r['failed'] and "the escrow holds no unlock key under 'dc2'" in r['msg']


def test_autolock_off(engine, run_module):
    engine.autolock, engine.key = True, 'SWMKEY-1-first'
    r = run_module(swarm_autolock, args(state='absent', unlock_keys=['SWMKEY-1-first']))
    assert r['changed'] and r['autolock'] is False and not engine.autolock
    assert 'key_fingerprint' not in r and '_keyfleet_unlock_key' not in r
    assert not run_module(swarm_autolock, args(state='absent', unlock_keys=['SWMKEY-1-first']))['changed']


def test_worker_and_inactive_engines_are_refused(engine, run_module):
    engine.role = 'worker'
    assert 'swarm worker' in run_module(swarm_autolock, args())['msg']


def test_rotation_id_needs_state_present(engine, run_module):
    r = run_module(swarm_autolock, args(state='absent', rotation_id='r1'))
    assert r['failed'] and 'rotation_id is only for state=present' in r['msg']


def test_only_unix_sockets():
    with pytest.raises(_swarm.DockerError, match='must be a unix socket'):
        _swarm.SwarmClient('tcp://10.0.0.1:2375')


def test_diff_shows_fingerprints_only(engine, run_module):
    r = run_module(swarm_autolock, args())
    assert r['diff']['before'] == 'autolock: False\nkey: not escrowed\n'
    assert r['diff']['after'] == 'autolock: True\nkey: %s\n' % _swarm.fingerprint(engine.key)


class NoLeaderYet:
    """GET /swarm answers 503 (no leader) ``times`` times, as managers that were all locked do while they elect one."""

    def __init__(self, times, status=503):
        self.times, self.status, self.calls = times, status, 0

    def inspect(self):
        self.calls += 1
        if self.calls <= self.times:
            raise _swarm.DockerError('rpc error: The swarm does not have a leader.', self.status)
        return {'Spec': {}}


def test_the_leader_is_waited_for_after_an_unlock():
    now = [0.0]
    client = NoLeaderYet(3)
    assert _swarm.wait_for_leader(client, wait=10, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)) == {'Spec': {}}
    assert client.calls == 4


@pytest.mark.parametrize('client, message', [
    (NoLeaderYet(100), 'does not have a leader'),      # never one within the wait
    (NoLeaderYet(1, status=403), 'does not have a leader'),  # not a wait: raised at once
])
def test_no_leader_in_time_or_another_error_is_raised(client, message):
    now = [0.0]
    with pytest.raises(_swarm.DockerError, match=message):
        _swarm.wait_for_leader(client, wait=5, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert client.calls == (11 if client.times == 100 else 1)
