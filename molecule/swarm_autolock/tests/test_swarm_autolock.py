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


def changed(out):
    return int(re.search(r'^swarm1\s+: ok=\d+\s+changed=(\d+)', out, re.M).group(1))


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
    assert life['key_shapes'] == [True, True]


def test_restart_locks_the_manager(life):
    assert life['states']['restarted'] == 'locked'


def test_check_mode_plans_and_changes_nothing(life):
    check = life['runs']['check']
    assert check['rc'] == 0
    assert 'would unlock the manager with the escrowed key' in check['out']
    assert life['states']['check'] == 'locked'


def test_unlocked_from_the_escrow(life):
    unlock = life['runs']['unlock']
    assert unlock['rc'] == 0 and changed(unlock['out']) == 1
    assert '"unlocked_with": 0' in unlock['out']
    assert life['states']['unlocked'] == 'active'


def test_second_run_changes_nothing(life):
    assert life['runs']['again']['rc'] == 0 and changed(life['runs']['again']['out']) == 0


def test_rotation_once_per_id(life):
    rotate, again = life['runs']['rotate'], life['runs']['rotate_again']
    assert rotate['rc'] == 0 and '"rotated": true' in rotate['out'] and '"escrowed": true' in rotate['out']
    assert life['rotated_differs']
    assert again['rc'] == 0 and changed(again['out']) == 0


def test_old_key_is_useless_after_rotation(life):
    assert life['old_key_rc'] != 0
    assert 'invalid key' in life['old_key_err']
    assert life['states']['old_key'] == 'locked'


def test_missing_escrow_entry_is_refused(life):
    run = life['runs']['no_entry']
    assert run['rc'] != 0
    assert "the escrow holds no unlock key under 'other_swarm'" in run['out']
    assert life['states']['no_entry'] == 'locked'


def test_rotated_key_unlocks(life):
    assert life['runs']['unlock_rotated']['rc'] == 0
    assert life['states']['unlocked_rotated'] == 'active'


def test_autolock_off_survives_a_restart_unlocked(life):
    assert life['runs']['off']['rc'] == 0 and '"autolock": false' in life['runs']['off']['out']
    assert life['states']['off'] == 'active'
    assert life['last_is_rotated']  # the escrow keeps the last key


def test_escrow_keeps_every_key():
    entry = labcheck.escrow_entry('swarm_unlock_key')
    assert entry['kind'] == 'text'
    assert len(entry['previous']) == 1  # converge's key, replaced by the rotation
    assert entry['previous'][0]['value'] != entry['value']


def test_no_key_in_any_output(life):
    assert life['keys_in_output'] == [False, False]
    entry = labcheck.escrow_entry('swarm_unlock_key')
    labcheck.assert_secrets_not_logged([entry['value']] + [p['value'] for p in entry['previous']])


def test_escrow_file_private():
    assert os.stat(os.environ['KEYFLEET_ESCROW_FILE']).st_mode & 0o777 == 0o600
