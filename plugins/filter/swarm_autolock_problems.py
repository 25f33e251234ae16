# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: swarm_autolock_problems
author: keyfleet maintainers (@keyfleet)
short_description: What the playbook keyfleet.encryption.swarm_autolock refuses before any manager changes
version_added: 1.0.0
description:
  - Checks the state and rotation id a run asks for - C(state) V(present) or V(absent); a C(rotation_id), when set,
    only with V(present), and 1 to 63 letters, digits, C(.), C(_), C(:) or C(-) (it is a swarm spec label). Returns one
    sentence per problem, naming the playbook's variable (C(swarm_autolock_state), C(swarm_autolock_rotation_id)).
  - The module keyfleet.encryption.swarm_autolock checks its options by the same rule.
options:
  _input:
    description: C(state) and C(rotation_id) (empty for none).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the input
  ansible.builtin.assert:
    that: problems == []
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ {'state': 'present', 'rotation_id': '2026-11'} | keyfleet.encryption.swarm_autolock_problems }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the variable to change.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._swarm import input_problems


def swarm_autolock_problems(facts):
    if not isinstance(facts, dict):
        raise AnsibleFilterError('swarm_autolock_problems: the input must be a dict, not %s' % type(facts).__name__)
    rotation_id = facts.get('rotation_id')
    return input_problems(facts.get('state'), None if rotation_id in (None, '') else str(rotation_id))


class FilterModule:
    def filters(self):
        return {'swarm_autolock_problems': swarm_autolock_problems}
