# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_rotation_problems
author: keyfleet maintainers (@keyfleet)
short_description: Why a gossip key rotation cannot start from a Consul agent's read
version_added: 1.0.0
description:
  - A rotation through the keyring API needs every agent answering, fully encrypted (gossip stage 3), and every
    member in the run and alive (see P(keyfleet.encryption.consul_member_problems#filter), whose rule it applies with
    O(keyfleet.encryption.consul_member_problems#filter:alive=true)). Returns one sentence per rule broken.
options:
  _input:
    description: The agent's read, the result of M(keyfleet.encryption.consul_agent_info).
    type: dict
    required: true
  run_nodes:
    description: The node names the agents of this run report.
    type: list
    elements: str
    required: true
  group:
    description: The inventory group of the run (C(consul_hosts)), named in the sentence.
    type: str
    default: consul
"""

EXAMPLES = r"""
- name: Stop unless the rotation can start
  ansible.builtin.assert:
    that: consul_info | keyfleet.encryption.consul_rotation_problems(consul_nodes) == []
    fail_msg: "{{ consul_info | keyfleet.encryption.consul_rotation_problems(consul_nodes) | join(' ') }}"
"""

RETURN = r"""
_value:
  description: One sentence per rule broken; empty when the rotation can start.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import rotation_problems


def consul_rotation_problems(info, run_nodes, group='consul'):
    if not isinstance(info, dict) or 'reachable' not in info:
        raise AnsibleFilterError('consul_rotation_problems: the input must be the result of consul_agent_info')
    return rotation_problems(info, list(run_nodes or []), group)


class FilterModule:
    def filters(self):
        return {'consul_rotation_problems': consul_rotation_problems}
