# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The swarm_autolock playbook's input rule and its summary line (module_utils/_swarm.py)."""

from __future__ import annotations

from ansible_collections.keyfleet.encryption.plugins.filter.swarm_autolock_problems import swarm_autolock_problems
from ansible_collections.keyfleet.encryption.plugins.module_utils import _swarm


def test_good_input():
    assert swarm_autolock_problems({'state': 'present', 'rotation_id': ''}) == []
    assert swarm_autolock_problems({'state': 'present', 'rotation_id': '2026-11'}) == []
    assert swarm_autolock_problems({'state': 'present', 'rotation_id': 202611}) == []
    assert swarm_autolock_problems({'state': 'absent', 'rotation_id': ''}) == []


def test_state_and_rotation_id_name_the_playbook_variables():
    assert swarm_autolock_problems({'state': 'locked', 'rotation_id': ''}) == [
        'swarm_autolock_state must be present or absent (got locked)']
    # the playbook has no state=unlocked: the module's unlocking runs on every manager anyway
    assert swarm_autolock_problems({'state': 'unlocked', 'rotation_id': ''}) != []
    bad = swarm_autolock_problems({'state': 'absent', 'rotation_id': 'r1'})
    assert len(bad) == 1 and bad[0].startswith('swarm_autolock_rotation_id, when set, needs swarm_autolock_state=present')
    assert swarm_autolock_problems({'state': 'present', 'rotation_id': 'r 1'}) != []
    assert swarm_autolock_problems({'state': 'present', 'rotation_id': 'x' * 64}) != []
    assert swarm_autolock_problems({'state': 'present', 'rotation_id': 'x' * 63}) == []


def test_the_module_names_its_options():
    assert _swarm.input_problems('unlocked', None, prefix='') == []
    bad = _swarm.input_problems('absent', 'r1', prefix='')
    assert 'rotation_id is only for state=present' in bad[0] and 'swarm_autolock_' not in bad[0]


def test_summary_line():
    assert _swarm.summary({'autolock': True, 'key_fingerprint': 'f1', 'rotated': True, 'escrowed': True}) == \
        'autolock on, unlock key f1 (rotated), escrowed now'
    assert _swarm.summary({'autolock': False, 'rotated': False, 'escrowed': False}) == 'autolock off'
    assert _swarm.summary({'autolock': True, 'rotated': False, 'escrowed': False}) == 'autolock on'
    assert _swarm.summary({'msg': 'would unlock'}) == 'would unlock'
