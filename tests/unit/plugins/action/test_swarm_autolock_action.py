# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret
from ansible.plugins.action import ActionBase

from ansible_collections.keyfleet.encryption.plugins.action import swarm_autolock as action
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import open_escrow

KEY1 = 'SWMKEY-1-' + 'A' * 43
KEY2 = 'SWMKEY-1-' + 'B' * 43


pytestmark = pytest.mark.usefixtures('collection_loader')


class Task:
    def __init__(self, args, check_mode=False):
        self.args = args
        self.check_mode = check_mode


class Templar:
    @staticmethod
    def template(value):
        return value


@pytest.fixture
def escrow_path(tmp_path):
    return str(tmp_path / 'escrow.vault')


@pytest.fixture
def loader():
    loader = DataLoader()
    loader.set_vault_secrets([('default', VaultSecret(b'pw'))])
    return loader


def run(loader, escrow_path, module_result, args=None, check_mode=False, monkeypatch=None):
    """Run the action plugin with the module replaced by a function of the arguments it gets."""
    plugin = action.ActionModule.__new__(action.ActionModule)
    plugin._task = Task(dict(args or {}, escrow_file=escrow_path), check_mode)
    plugin._loader = loader
    plugin._templar = Templar()
    seen = {}

    def execute(module_name, module_args, task_vars):
        seen.update(module_args)
        return module_result(module_args)

    plugin._execute_module = execute
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})
    return plugin.run(task_vars={}), seen


def stored(loader, escrow_path):
    return open_escrow(loader, escrow_path).history('swarm_unlock_key', 'text')


def escrowed(loader, escrow_path, *keys):
    """The escrow as earlier runs of the action left it: each key the swarm made replaced the one before."""
    for key in keys:
        open_escrow(loader, escrow_path).ensure('swarm_unlock_key', 'text', value=key, replace=True)


def test_new_key_is_escrowed_and_removed_from_the_result(loader, escrow_path, monkeypatch):
    result, seen = run(loader, escrow_path, lambda a: {'changed': True, '_keyfleet_unlock_key': KEY1}, monkeypatch=monkeypatch)
    assert seen['unlock_keys'] == []
    assert stored(loader, escrow_path) == [KEY1]
    assert KEY1 not in json.dumps(result) and not result.get('failed')


def test_escrowed_keys_go_to_the_module_newest_first(loader, escrow_path, monkeypatch):
    escrowed(loader, escrow_path, KEY1, KEY2)
    result, seen = run(loader, escrow_path, lambda a: {'changed': False}, monkeypatch=monkeypatch)
    assert seen['unlock_keys'] == [KEY2, KEY1]


def test_a_previous_key_returned_by_position_becomes_current(loader, escrow_path, monkeypatch):
    escrowed(loader, escrow_path, KEY1, KEY2)
    result, seen = run(loader, escrow_path, lambda a: {'changed': True, '_keyfleet_unlock_key_index': 1},
                       monkeypatch=monkeypatch)
    assert stored(loader, escrow_path)[0] == KEY1 and not result.get('failed')


def test_a_masked_placeholder_is_never_escrowed(loader, escrow_path, monkeypatch):
    result, seen = run(loader, escrow_path,
                       lambda a: {'changed': True, '_keyfleet_unlock_key': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'},
                       monkeypatch=monkeypatch)
    assert result['failed'] and 'not a swarm unlock key' in result['msg']
    assert stored(loader, escrow_path) == []


def test_check_mode_stores_nothing(loader, escrow_path, monkeypatch):
    result, seen = run(loader, escrow_path, lambda a: {'changed': True, '_keyfleet_unlock_key': KEY1},
                       check_mode=True, monkeypatch=monkeypatch)
    assert stored(loader, escrow_path) == [] and 'would store' in result['msg']


def test_a_failed_module_stores_nothing(loader, escrow_path, monkeypatch):
    result, seen = run(loader, escrow_path, lambda a: {'failed': True, 'msg': 'x', '_keyfleet_unlock_key': KEY1},
                       monkeypatch=monkeypatch)
    assert stored(loader, escrow_path) == [] and KEY1 not in json.dumps(result)


def test_unlock_keys_cannot_be_given(loader, escrow_path, monkeypatch):
    result, seen = run(loader, escrow_path, lambda a: {}, args={'unlock_keys': [KEY1]}, monkeypatch=monkeypatch)
    assert result['failed'] and 'comes from the escrow' in result['msg'] and not seen


def test_no_vault_secret_fails_before_the_module_runs(escrow_path, monkeypatch):
    result, seen = run(DataLoader(), escrow_path, lambda a: {}, monkeypatch=monkeypatch)
    assert result['failed'] and 'no vault secret' in result['msg'] and not seen


def test_a_rotation_keeps_the_old_key_as_previous(loader, escrow_path, monkeypatch):
    escrowed(loader, escrow_path, KEY1)
    result, seen = run(loader, escrow_path, lambda a: {'changed': True, '_keyfleet_unlock_key': KEY2}, monkeypatch=monkeypatch)
    assert seen['unlock_keys'] == [KEY1] and result['changed'] and not result.get('failed')
    assert stored(loader, escrow_path) == [KEY2, KEY1]
    assert KEY1 not in json.dumps(result) and KEY2 not in json.dumps(result)


def test_the_key_held_already_is_not_stored_again(loader, escrow_path, monkeypatch):
    escrowed(loader, escrow_path, KEY1)
    before = open(escrow_path, 'rb').read()
    result, seen = run(loader, escrow_path, lambda a: {'changed': False, '_keyfleet_unlock_key': KEY1}, monkeypatch=monkeypatch)
    assert not result['changed'] and not result.get('failed') and stored(loader, escrow_path) == [KEY1]
    assert open(escrow_path, 'rb').read() == before


def test_a_key_the_swarm_has_and_the_escrow_not_is_adopted_and_reported_changed(loader, escrow_path, monkeypatch):
    # autolock was on before the escrow: the module changes nothing on the swarm, the escrow is written
    result, seen = run(loader, escrow_path, lambda a: {'changed': False, '_keyfleet_unlock_key': KEY1}, monkeypatch=monkeypatch)
    assert result['changed'] and stored(loader, escrow_path) == [KEY1]


def test_check_mode_leaves_an_existing_escrow_as_it_is(loader, escrow_path, monkeypatch):
    escrowed(loader, escrow_path, KEY1)
    before = open(escrow_path, 'rb').read()
    result, seen = run(loader, escrow_path, lambda a: {'changed': True, '_keyfleet_unlock_key': KEY2},
                       check_mode=True, monkeypatch=monkeypatch)
    assert 'would store' in result['msg'] and KEY2 not in json.dumps(result)
    assert open(escrow_path, 'rb').read() == before and stored(loader, escrow_path) == [KEY1]


def test_a_wrong_vault_password_fails_before_the_module_runs(loader, escrow_path, monkeypatch):
    escrowed(loader, escrow_path, KEY1)
    before = open(escrow_path, 'rb').read()
    other = DataLoader()
    other.set_vault_secrets([('default', VaultSecret(b'other'))])
    result, seen = run(other, escrow_path, lambda a: {'changed': True, '_keyfleet_unlock_key': KEY2}, monkeypatch=monkeypatch)
    assert result['failed'] and 'cannot decrypt escrow file' in result['msg'] and not seen
    assert open(escrow_path, 'rb').read() == before
