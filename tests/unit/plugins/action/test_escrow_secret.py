# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""keyfleet.encryption.escrow_secret, the one task that writes the escrow: driven as Ansible runs an action plugin
(ActionBase.run included), with a real vault secret and the escrow lookup found through the plugin loader."""

from __future__ import annotations

import base64
import hashlib
import json
from types import SimpleNamespace

import pytest

from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret
from ansible.playbook.play_context import PlayContext
from ansible.template import Templar

from ansible_collections.keyfleet.encryption.plugins.action import escrow_secret as action
from ansible_collections.keyfleet.encryption.plugins.plugin_utils import _escrow
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import open_escrow

PW = (('default', VaultSecret(b'pw')),)
PEM1 = '-----BEGIN PRIVATE KEY-----\nfirst-candidate-MC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n'
PEM2 = '-----BEGIN PRIVATE KEY-----\nsecond-candidate-MC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n'
TEXT1 = 'hand-set-secret-one-7f3a9c'
TEXT2 = 'hand-set-secret-two-0b81de'


pytestmark = pytest.mark.usefixtures('collection_loader')


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """No test may reach the real ~/.keyfleet/escrow.vault, nor run as a job of AWX."""
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.delenv('AWX_ISOLATED_DATA_DIR', raising=False)
    monkeypatch.delenv('KEYFLEET_ESCROW_FILE', raising=False)
    monkeypatch.delenv('KEYFLEET_ESCROW_BACKEND', raising=False)


class Task:
    action = 'keyfleet.encryption.escrow_secret'
    async_val = 0

    def __init__(self, args, check_mode, no_log):
        self.args, self.check_mode, self.no_log = args, check_mode, no_log


def loader_with(secrets):
    loader = DataLoader()
    loader.set_vault_secrets(list(secrets))
    return loader


def escrow_secret(path, check_mode=False, no_log=True, play_no_log=False, task_vars=None, secrets=PW, **args):
    """The result of one escrow_secret task with ``args``; the escrow file is ``path`` (keyfleet_escrow_file)."""
    task_vars = dict({'keyfleet_escrow_file': str(path)} if path else {}, **(task_vars or {}))
    loader = loader_with(secrets)
    play_context = PlayContext()
    play_context.no_log = play_no_log
    plugin = action.ActionModule(Task(args, check_mode, no_log), SimpleNamespace(_shell=SimpleNamespace(tmpdir=None)),
                                 play_context, loader, Templar(loader=loader, variables=task_vars), None)
    return plugin.run(task_vars=task_vars)


def history(path, name, kind):
    return open_escrow(loader_with(PW), str(path)).history(name, kind)


def entry(path, name):
    return open_escrow(loader_with(PW), str(path)).entry(name)


def content(path):
    """The escrow file's bytes, None when there is none."""
    return path.read_bytes() if path.exists() else None


def files(directory):
    return sorted(str(p.relative_to(directory)) for p in directory.rglob('*'))


def fingerprint(value):
    return hashlib.sha256(value.encode()).hexdigest()[:16]


@pytest.fixture
def path(tmp_path):
    return tmp_path / 'escrow' / 'e.vault'


def test_generated_once_then_present(path):
    first = escrow_secret(path, name='gossip', kind='gossip_key')
    assert (first['changed'], first['status'], first['kept_stored']) == (True, 'generated', False)
    assert len(base64.b64decode(first['value'])) == 32 and first['fingerprint'] == fingerprint(first['value'])
    assert first['escrow'] == 'escrow file %s' % path and first['name'] == 'gossip'
    again = escrow_secret(path, name='gossip', kind='gossip_key')
    assert (again['changed'], again['status'], again['value'], again['fingerprint']) == \
        (False, 'present', first['value'], first['fingerprint'])
    assert history(path, 'gossip', 'gossip_key') == [first['value']]


def test_a_password_has_its_length_and_characters(path):
    result = escrow_secret(path, name='redis', kind='password', length=40, chars='abcdefghijkl')
    assert len(result['value']) == 40 and set(result['value']) <= set('abcdefghijkl')
    assert escrow_secret(path, name='redis', kind='password', length=12)['value'] == result['value']


def test_a_value_is_stored_create_only(path):
    stored = escrow_secret(path, name='ca', kind='pem', value=PEM1)
    assert (stored['changed'], stored['status'], stored['value']) == (True, 'stored', PEM1)
    same = escrow_secret(path, name='ca', kind='pem', value=PEM1)
    assert (same['changed'], same['status'], same['value']) == (False, 'present', PEM1)
    assert history(path, 'ca', 'pem') == [PEM1]


def test_a_different_value_is_refused_with_a_message_and_nothing_is_written(path, leaked):
    escrow_secret(path, name='ca', kind='pem', value=PEM1)
    before = content(path)
    refused = escrow_secret(path, name='ca', kind='pem', value=PEM2)
    assert refused['failed'] and 'already holds another value' in refused['msg'] and 'nothing was written' in refused['msg']
    assert 'escrow_secret' in refused['msg'] and 'generation' in refused['msg']
    assert not leaked(PEM1, refused) and not leaked(PEM2, refused) and 'value' not in refused
    assert content(path) == before and history(path, 'ca', 'pem') == [PEM1]
    # check mode plans the same refusal
    assert escrow_secret(path, check_mode=True, name='ca', kind='pem', value=PEM2)['failed']
    assert content(path) == before


def test_keep_stored_returns_the_held_value(path, leaked):
    # Nothing held: the candidate is stored, and was not overruled.
    first = escrow_secret(path, name='ca', kind='pem', value=PEM1, keep_stored=True)
    assert (first['status'], first['value'], first['kept_stored'], first['changed']) == ('stored', PEM1, False, True)
    before = content(path)
    # Another controller's candidate: the held one wins, is returned, and the result says so.
    second = escrow_secret(path, name='ca', kind='pem', value=PEM2, keep_stored=True)
    assert (second['status'], second['value'], second['kept_stored'], second['changed']) == ('present', PEM1, True, False)
    assert second['fingerprint'] == fingerprint(PEM1) and 'a value held already wins' in second['msg']
    assert not leaked(PEM2, dict(second, value=None))
    assert content(path) == before
    # The same candidate again is simply present.
    assert escrow_secret(path, name='ca', kind='pem', value=PEM1, keep_stored=True)['kept_stored'] is False


def test_replace_makes_the_value_current_and_keeps_the_old_one(path):
    escrow_secret(path, name='swarm', kind='text', value=TEXT1)
    replaced = escrow_secret(path, name='swarm', kind='text', value=TEXT2, replace=True)
    assert (replaced['changed'], replaced['status'], replaced['value']) == (True, 'replaced', TEXT2)
    assert history(path, 'swarm', 'text') == [TEXT2, TEXT1]
    same = escrow_secret(path, name='swarm', kind='text', value=TEXT2, replace=True)
    assert (same['changed'], same['status']) == (False, 'present')
    assert history(path, 'swarm', 'text') == [TEXT2, TEXT1]


def test_a_generation_rotates_once_and_a_used_one_is_refused(path):
    old = escrow_secret(path, name='k', kind='gossip_key')['value']
    a = escrow_secret(path, name='k', kind='gossip_key', generation='A')
    assert (a['changed'], a['status']) == (True, 'rotated') and a['value'] != old
    again = escrow_secret(path, name='k', kind='gossip_key', generation='A')
    assert (again['changed'], again['status'], again['value']) == (False, 'present', a['value'])
    b = escrow_secret(path, name='k', kind='gossip_key', generation='B')
    assert b['status'] == 'rotated' and b['value'] not in (old, a['value'])
    before = content(path)
    reused = escrow_secret(path, name='k', kind='gossip_key', generation='A')
    assert reused['failed'] and "rotation id 'A'" in reused['msg'] and 'rotates once' in reused['msg']
    assert content(path) == before
    assert history(path, 'k', 'gossip_key') == [b['value'], a['value'], old]
    # a rotation to a given value (the one a system runs with)
    given = escrow_secret(path, name='t', kind='text', value=TEXT1)['value']
    rotated = escrow_secret(path, name='t', kind='text', value=TEXT2, generation='2026-11')
    assert (rotated['status'], rotated['value']) == ('rotated', TEXT2)
    assert history(path, 't', 'text') == [TEXT2, given] and entry(path, 't')['generation'] == '2026-11'


def test_pending_then_promote(path):
    old = escrow_secret(path, name='k', kind='gossip_key')['value']
    pending = escrow_secret(path, name='k', kind='gossip_key', generation='R1', pending=True)
    assert (pending['changed'], pending['status']) == (True, 'pending') and pending['value'] != old
    # Until promoted, every read and every plain task gets the value in use.
    assert history(path, 'k', 'gossip_key') == [old]
    assert escrow_secret(path, name='k', kind='gossip_key')['value'] == old
    resumed = escrow_secret(path, name='k', kind='gossip_key', generation='R1', pending=True)
    assert (resumed['changed'], resumed['status'], resumed['value']) == (False, 'present', pending['value'])
    other = escrow_secret(path, name='k', kind='gossip_key', generation='R2', pending=True)
    assert other['failed'] and "rotation 'R1'" in other['msg'] and 'not finished' in other['msg']
    promoted = escrow_secret(path, name='k', kind='gossip_key', generation='R1', promote=True)
    assert (promoted['changed'], promoted['status'], promoted['value']) == (True, 'promoted', pending['value'])
    assert history(path, 'k', 'gossip_key') == [pending['value'], old]
    done = escrow_secret(path, name='k', kind='gossip_key', generation='R1', promote=True)
    assert (done['changed'], done['status'], done['value']) == (False, 'present', pending['value'])
    nothing = escrow_secret(path, name='k', kind='gossip_key', generation='R3', promote=True)
    assert nothing['failed'] and "no pending rotation 'R3'" in nothing['msg']


def test_pending_with_a_candidate_value_first_one_wins(path):
    # A new CA (kind pem) is made by community.crypto, so the rotation stores a candidate; a resumed run's own
    # candidate loses to the pending one, and the current value stays what every read gets until promote.
    old = escrow_secret(path, name='ca', kind='pem', value=TEXT1)['value']
    first = escrow_secret(path, name='ca', kind='pem', generation='R1', pending=True, value=TEXT2)
    assert (first['changed'], first['status'], first['value'], first['kept_stored']) == (True, 'pending', TEXT2, False)
    assert history(path, 'ca', 'pem') == [old]
    again = escrow_secret(path, name='ca', kind='pem', generation='R1', pending=True, value=TEXT1 + 'x')
    assert (again['changed'], again['status'], again['value'], again['kept_stored']) == (False, 'present', TEXT2, True)
    checked = escrow_secret(path, name='ca2', kind='pem', generation='R1', pending=True, value=TEXT2, check_mode=True)
    assert (checked['changed'], checked['status']) == (True, 'would be pending') and entry(path, 'ca2') is None
    promoted = escrow_secret(path, name='ca', kind='pem', generation='R1', promote=True)
    assert promoted['value'] == TEXT2 and history(path, 'ca', 'pem') == [TEXT2, old]
    # A name that holds only a pending rotation has no current value: its history is empty, never an error.
    escrow_secret(path, name='rot', kind='text', generation='R1', pending=True, value='fp')
    assert history(path, 'rot', 'text') == []


# (what the escrow holds before, the task's arguments, the status a real run would have)
CHECK_MODE = {
    'generate, no escrow yet': ([], dict(name='n', kind='key256'), 'generated'),
    'generate beside others': ([dict(name='o', kind='key256')], dict(name='n', kind='key256'), 'generated'),
    'store, no escrow yet': ([], dict(name='n', kind='pem', value=PEM1), 'stored'),
    'store beside others': ([dict(name='o', kind='key256')], dict(name='n', kind='pem', value=PEM1), 'stored'),
    'replace': ([dict(name='n', kind='text', value=TEXT1)], dict(name='n', kind='text', value=TEXT2, replace=True), 'replaced'),
    'rotate': ([dict(name='n', kind='key256')], dict(name='n', kind='key256', generation='A'), 'rotated'),
    'rotate to a value': ([dict(name='n', kind='text', value=TEXT1)], dict(name='n', kind='text', value=TEXT2, generation='A'),
                          'rotated'),
    'pending, no escrow yet': ([], dict(name='n', kind='gossip_key', generation='A', pending=True), 'pending'),
    'pending': ([dict(name='n', kind='gossip_key')], dict(name='n', kind='gossip_key', generation='A', pending=True), 'pending'),
    'promote': ([dict(name='n', kind='gossip_key'), dict(name='n', kind='gossip_key', generation='A', pending=True)],
                dict(name='n', kind='gossip_key', generation='A', promote=True), 'promoted'),
}


@pytest.mark.parametrize('case', list(CHECK_MODE))
def test_check_mode_writes_nothing_and_says_what_it_would_do(tmp_path, path, case):
    before_tasks, args, status = CHECK_MODE[case]
    for task in before_tasks:
        assert not escrow_secret(path, **task).get('failed')
    before, listing = content(path), files(tmp_path)
    planned = escrow_secret(path, check_mode=True, **args)
    assert (planned['status'], planned['changed']) == ('would be ' + status, True) and not planned.get('failed')
    assert planned['value'] and planned['fingerprint'] == fingerprint(planned['value'])  # the plan can go on with it
    assert content(path) == before and files(tmp_path) == listing  # same bytes, or still no file (nor directory, lock)
    assert (before is None) == (case.endswith('no escrow yet'))
    # the real run afterwards does it (nothing of the plan was kept)
    done = escrow_secret(path, **args)
    assert (done['status'], done['changed']) == (status, True)
    if status in ('stored', 'replaced', 'promoted') or 'value' in args:
        assert done['value'] == planned['value']


def test_check_mode_of_a_secret_held_already_is_present(path):
    value = escrow_secret(path, name='n', kind='key256')['value']
    before = content(path)
    for args in (dict(), dict(value=value), dict(generation=None)):
        held = escrow_secret(path, check_mode=True, name='n', kind='key256', **args)
        assert (held['status'], held['changed'], held['value']) == ('present', False, value)
    assert content(path) == before


# Every kind of result, on an escrow prepared as for a real run: (tasks before, the task).
RESULTS = {
    'generated': ([], dict(name='n', kind='password', length=24)),
    'stored': ([], dict(name='n', kind='text', value=TEXT1)),
    'present': ([dict(name='n', kind='text', value=TEXT1)], dict(name='n', kind='text', value=TEXT1)),
    'kept_stored': ([dict(name='n', kind='text', value=TEXT1)], dict(name='n', kind='text', value=TEXT2, keep_stored=True)),
    'replaced': ([dict(name='n', kind='text', value=TEXT2)], dict(name='n', kind='text', value=TEXT1, replace=True)),
    'rotated': ([dict(name='n', kind='key256')], dict(name='n', kind='key256', generation='A')),
    'pending': ([dict(name='n', kind='key256')], dict(name='n', kind='key256', generation='A', pending=True)),
    'promoted': ([dict(name='n', kind='key256'), dict(name='n', kind='key256', generation='A', pending=True)],
                 dict(name='n', kind='key256', generation='A', promote=True)),
}


@pytest.mark.parametrize('check_mode', [False, True], ids=['run', 'check'])
@pytest.mark.parametrize('case', list(RESULTS))
def test_the_value_is_in_the_result_only_when_the_task_has_no_log(tmp_path, monkeypatch, case, check_mode, leaked):
    # Every secret made here is known, check mode's too (a value made for the plan only is never stored).
    made = []

    def generate(kind, length=None, chars=None):
        made.append('made-%d-for-%s-9d2e71c04b' % (len(made), kind))
        return made[-1]
    monkeypatch.setattr(_escrow, 'generate', generate)
    before_tasks, args = RESULTS[case]
    shown, hidden = tmp_path / 'shown.vault', tmp_path / 'hidden.vault'
    for escrow in (shown, hidden):
        for task in before_tasks:
            escrow_secret(escrow, **task)
    result = escrow_secret(shown, no_log=False, check_mode=check_mode, **args)
    secrets = made + [TEXT1, TEXT2]
    assert not result.get('failed') and 'value' not in result
    assert not [s for s in secrets if leaked(s, result) or s in json.dumps(result)]
    assert result['fingerprint'] in [fingerprint(s) for s in secrets]
    # With no_log: the value, and nowhere else in the result (the message names its fingerprint only).
    with_value = escrow_secret(hidden, no_log=True, check_mode=check_mode, **args)
    value = with_value.pop('value')
    assert value in made + [TEXT1, TEXT2] and with_value['fingerprint'] == fingerprint(value)
    assert with_value['fingerprint'] in with_value['msg']
    assert not [s for s in made + [TEXT1, TEXT2] if leaked(s, with_value)]
    # no_log on the play (the play context) is the same as on the task
    play = escrow_secret(tmp_path / 'play.vault', no_log=False, play_no_log=True, check_mode=check_mode, name='p', kind='key256')
    assert play['value'] == made[-1] and play['fingerprint'] == fingerprint(play['value'])


@pytest.mark.parametrize('args, message', [
    (dict(name='n', kind='key256', generation='A', pending=True, promote=True), 'two steps of a rotation'),
    (dict(name='n', kind='key256', pending=True), 'pending and promote need a generation'),
    (dict(name='n', kind='key256', promote=True), 'pending and promote need a generation'),
    (dict(name='n', kind='text', value=TEXT1, generation='A', promote=True), 'value cannot be given with promote'),
    (dict(name='n', kind='pem', generation='A', pending=True), 'not generated by the escrow: give the value'),
    (dict(name='n', kind='aes'), 'kind'),
    (dict(kind='key256'), 'missing required arguments: name'),
    (dict(name='n', kind='pem'), 'not generated by the escrow: give the value'),
    (dict(name='n', kind='text'), 'not generated by the escrow: give the value'),
    (dict(name='n', kind='password', length=4), 'at least 8'),
    (dict(name='n', kind='password', chars='abc'), 'at least 10 distinct'),
    (dict(name='n', kind='text', value=''), 'non-empty string'),
    (dict(name='n', kind='key256', escrow=dict(token='t')), 'escrow may set only backend, file'),
    (dict(name='n', kind='key256', length='many'), 'length'),
])
def test_invalid_options_fail_and_write_nothing(tmp_path, path, args, message, leaked):
    result = escrow_secret(path, **args)
    assert result['failed'] and message in result['msg'] and result['msg'].startswith('keyfleet.encryption.escrow_secret: ')
    assert not leaked(TEXT1, result) and files(tmp_path) == []


@pytest.mark.parametrize('option', ['read_only', 'store', 'missing', 'file', 'unlock_keys'])
def test_an_unknown_option_is_refused(tmp_path, path, option):
    with pytest.raises(AnsibleActionFail, match='Invalid options for keyfleet.encryption.escrow_secret: %s' % option):
        escrow_secret(path, name='n', kind='key256', **{option: 'x'})
    assert files(tmp_path) == []


def test_a_held_name_of_another_kind_is_refused(path):
    escrow_secret(path, name='n', kind='gossip_key')
    before = content(path)
    result = escrow_secret(path, name='n', kind='password')
    assert result['failed'] and "is of kind 'gossip_key', not 'password'" in result['msg'] and content(path) == before


def test_a_wrong_vault_password_fails_and_never_rewrites_the_file(path):
    value = escrow_secret(path, name='n', kind='key256')['value']
    before = content(path)
    for args in (dict(name='n', kind='key256'), dict(name='other', kind='key256'), dict(name='n', kind='key256', generation='A')):
        result = escrow_secret(path, secrets=[('default', VaultSecret(b'wrong'))], **args)
        assert result['failed'] and 'cannot decrypt escrow file' in result['msg']
    assert content(path) == before and history(path, 'n', 'key256') == [value]
    assert 'no vault secret' in escrow_secret(path, secrets=[], name='n', kind='key256')['msg']


def test_the_escrow_option_names_the_file(tmp_path, path):
    other = tmp_path / 'other.vault'
    result = escrow_secret(path, name='n', kind='key256', escrow=dict(file=str(other)))
    assert result['escrow'] == 'escrow file %s' % other and other.exists() and not path.exists()


def test_a_relative_escrow_file_is_taken_from_the_playbook_directory(tmp_path, monkeypatch):
    play, one, two = tmp_path / 'play', tmp_path / 'one', tmp_path / 'two'
    for d in (play, one, two):
        d.mkdir()
    task_vars = dict(playbook_dir=str(play))
    monkeypatch.chdir(one)
    first = escrow_secret('vault/e.vault', task_vars=task_vars, name='n', kind='key256')
    monkeypatch.chdir(two)
    second = escrow_secret('vault/e.vault', task_vars=task_vars, name='n', kind='key256')
    by_option = escrow_secret(None, task_vars=task_vars, name='n', kind='key256', escrow=dict(file='vault/e.vault'))
    assert (first['status'], second['status'], by_option['status']) == ('generated', 'present', 'present')
    assert first['value'] == second['value'] == by_option['value']
    assert first['escrow'] == second['escrow'] == 'escrow file %s' % (play / 'vault' / 'e.vault')
    assert files(one) == files(two) == []
    refused = escrow_secret('e.vault', name='n', kind='key256')
    assert refused['failed'] and 'relative path and this run has no playbook directory' in refused['msg']
    assert files(two) == []


@pytest.mark.parametrize('job_vars, job_env', [
    ({'awx_job_id': 42}, {}),
    ({'tower_job_id': '7'}, {}),
    ({}, {'AWX_ISOLATED_DATA_DIR': '/runner/artifacts/1'}),
])
def test_a_job_of_awx_or_ansible_runner_may_not_create_a_file_escrow(tmp_path, path, monkeypatch, job_vars, job_env):
    for name, value in job_env.items():
        monkeypatch.setenv(name, value)
    for check_mode in (True, False):
        refused = escrow_secret(path, check_mode=check_mode, task_vars=dict(job_vars), name='n', kind='key256')
        assert refused['failed'] and 'throw-away environment: the escrow file' in refused['msg']
        assert 'would be created there' in refused['msg'] and 'keyfleet_escrow_backend=kv' in refused['msg']
    assert files(tmp_path) == []
    # On storage that outlives the job, said so, it is made; once it exists (a mounted volume) it is used.
    made = escrow_secret(path, task_vars=dict(job_vars, keyfleet_escrow_file_persistent=True), name='n', kind='key256')
    assert made['status'] == 'generated' and path.exists()
    assert escrow_secret(path, task_vars=dict(job_vars), name='n', kind='key256')['value'] == made['value']
    assert escrow_secret(path, task_vars=dict(job_vars), name='m', kind='key256')['status'] == 'generated'


def test_outside_a_job_a_new_file_escrow_is_made(path):
    assert escrow_secret(path, task_vars={'awx_job_id': '', 'tower_job_id': None}, name='n', kind='key256')['status'] == 'generated'
    assert path.exists() and oct(path.stat().st_mode & 0o777) == '0o600'
    assert oct(path.parent.stat().st_mode & 0o777) == '0o700'
