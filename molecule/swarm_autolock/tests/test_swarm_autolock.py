"""Verify Docker Swarm autolock against the real engine the scenario ran (tests/lab/swarm/dockerd.sh)."""

import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

OUT = os.environ['MOLECULE_EPHEMERAL_DIRECTORY']


def load(name):
    with open(os.path.join(OUT, name)) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def life():
    data = load('swarm-life.json')
    # ansible-core 2.19 prints a failed task on stderr
    data['runs'] = dict((name, {'rc': rc, 'out': out + '\n' + err}) for name, rc, out, err in data['runs'])
    return data


def changed(out, host='swarm1'):
    return int(re.search(r'^%s\s+: ok=\d+\s+changed=(\d+)' % host, out, re.M).group(1))


def total_changed(out):
    return sum(changed(out, h) for h in ('swarm1', 'swarm2', 'swarm3') if re.search(r'^%s\s+:' % h, out, re.M))


@pytest.mark.parametrize('case, message', [
    ('state', 'swarm_autolock_state must be present or absent (got locked)'),
    ('rotation', 'swarm_autolock_rotation_id, when set, needs swarm_autolock_state=present'),
    ('vault', 'no vault secret in this run'),
])
def test_bad_input_is_named_and_changes_nothing(case, message):
    bad = load('swarm-bad.json')
    assert message in ' '.join(bad[case].split())
    assert bad['autolock_after'] is False


def test_escrowed_key_has_the_engine_format(life):
    assert life['key_shapes'] == [True, True, True]


def test_restart_locks_every_manager(life):
    assert life['states']['restarted'] == ['locked'] * 3


def test_check_mode_plans_and_changes_nothing(life):
    check = life['runs']['check']
    assert check['rc'] == 0
    assert check['out'].count('would unlock the manager with the escrowed key') >= 3
    assert life['states']['check'] == ['locked'] * 3


def test_every_manager_unlocked_from_the_escrow(life):
    unlock = life['runs']['unlock']
    assert unlock['rc'] == 0 and [changed(unlock['out'], h) for h in ('swarm1', 'swarm2', 'swarm3')] == [1, 1, 1]
    assert unlock['out'].count('"unlocked_with": 0') == 3
    assert life['states']['unlocked'] == ['active'] * 3


def test_second_run_changes_nothing(life):
    assert life['runs']['again']['rc'] == 0 and total_changed(life['runs']['again']['out']) == 0


def test_rotation_once_per_id(life):
    rotate, again = life['runs']['rotate'], life['runs']['rotate_again']
    assert rotate['rc'] == 0 and '"rotated": true' in rotate['out'] and '"escrowed": true' in rotate['out']
    assert life['rotated_differs']
    assert again['rc'] == 0 and total_changed(again['out']) == 0


def test_a_manager_down_during_the_rotation_is_unlocked_with_the_previous_key(life):
    assert life['states']['m3_back'] == ['active', 'active', 'locked']
    run = life['runs']['unlock_previous']
    assert run['rc'] == 0 and '"unlocked_with": 1' in run['out']
    assert 'unlocked with previous escrowed key 1, not the current one' in ' '.join(run['out'].split())
    assert [changed(run['out'], h) for h in ('swarm1', 'swarm2', 'swarm3')] == [0, 0, 1]
    assert life['states']['m3_unlocked'] == ['active'] * 3
    again = life['runs']['previous_again']
    assert again['rc'] == 0 and total_changed(again['out']) == 0 and 'previous escrowed key' not in again['out']


def test_old_key_is_refused_once_every_manager_has_the_new_one(life):
    assert life['old_key_rc'] != 0
    assert 'invalid key' in life['old_key_err']
    assert life['states']['old_key'] == ['active', 'active', 'locked']
    run = life['runs']['unlock_rotated']
    assert run['rc'] == 0 and '"unlocked_with": 0' in run['out']
    assert life['states']['unlocked_rotated'] == ['active'] * 3


def test_missing_escrow_entry_is_refused(life):
    run = life['runs']['no_entry']
    assert run['rc'] != 0
    assert "the escrow holds no unlock key under 'other_swarm'" in run['out']
    assert life['states']['no_entry'] == ['active', 'locked', 'active']
    assert life['runs']['unlock_m2']['rc'] == 0


def test_a_manager_no_escrowed_key_unlocks_stops_the_play_and_the_others_are_unchanged(life):
    assert life['escrowed_key_rc'] != 0  # m1 needed the key rotated outside the escrow
    run = life['runs']['unknown_key']
    assert run['rc'] != 0
    assert 'no escrowed unlock key unlocks this manager (key 0' in ' '.join(run['out'].split())
    assert life['states']['unknown_key'] == ['locked', 'active', 'active']
    assert life['spec_unchanged']
    # The active managers reported the swarm's key, which the run escrowed: the next run unlocks m1 with it.
    assert life['cli_key_escrowed']
    recovered = life['runs']['recovered']
    assert recovered['rc'] == 0 and '"unlocked_with": 0' in recovered['out']
    assert life['states']['recovered'] == ['active'] * 3


def test_autolock_off_survives_a_restart_unlocked(life):
    assert life['runs']['off']['rc'] == 0 and '"autolock": false' in life['runs']['off']['out']
    assert life['states']['off'] == ['active'] * 3
    assert life['last_is_cli_key']  # the escrow keeps the last key


def test_escrow_keeps_every_key():
    entry = labcheck.escrow_entry('swarm_unlock_key')
    assert entry['kind'] == 'text'
    # converge's key, replaced by the rotation, replaced by the key rotated with the CLI
    assert len(entry['previous']) == 2
    assert len({p['value'] for p in entry['previous']} | {entry['value']}) == 3


def test_no_key_in_any_output(life):
    assert life['keys_in_output'] == [False, False, False]
    entry = labcheck.escrow_entry('swarm_unlock_key')
    labcheck.assert_secrets_not_logged([entry['value']] + [p['value'] for p in entry['previous']])


def test_escrow_file_private():
    assert os.stat(os.environ['KEYFLEET_ESCROW_FILE']).st_mode & 0o777 == 0o600


def test_posture_after_converge_autolock_on_and_the_key_escrowed():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'posture-converged', 'posture.json')) as f:
        report = json.load(f)
    rows = dict(((r['host'], r['check']), r['status']) for r in report['rows'])
    assert rows == dict(((h, c), 'ok') for h in ('swarm1', 'swarm2', 'swarm3') for c in ('autolock', 'unlock key')), report['rows']
    # The entry's name comes from the module's result, not a default repeated in the playbook.
    keys = [r['detail'] for r in report['rows'] if r['check'] == 'unlock key']
    assert all(d.startswith('the escrowed one (swarm_unlock_key, key ') for d in keys), keys
