# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_member_problems
author: keyfleet maintainers (@keyfleet)
short_description: Consul members a run would cut off, as sentences naming what to change
version_added: 1.0.0
description:
  - Every member a Consul agent sees (and that has not left) must be a node of the run, or a stage would cut it off.
    Returns one sentence per rule broken; an empty list means every member goes through the run.
  - B(Node names are compared), never inventory names - each member's name with the node names the agents of the
    run report (C(state.node_name) of M(keyfleet.encryption.consul_agent_info)). An inventory host
    V(c1.example.com) that is node V(c1) in Consul is in the run.
  - With O(alive) (a key change through the keyring API, which counts live nodes only) every member must be alive
    and every node of the run a member.
  - The one rule, also applied by M(keyfleet.encryption.consul_agent_stage) before it writes anything.
options:
  _input:
    description:
      - Members as M(keyfleet.encryption.consul_agent_info) returns them (RV(keyfleet.encryption.consul_agent_info#module:members)),
        of one or several agents; or that module's whole result (no members when the agent did not answer).
    type: raw
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
  alive:
    description: Every member must also be alive, and every node of the run a member.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Stop unless every member is in this run
  ansible.builtin.assert:
    that: consul_member_problems == []
    fail_msg: "{{ consul_member_problems | join(' ') }}"
  vars:
    consul_member_problems: >-
      {{ consul_info | keyfleet.encryption.consul_member_problems(
           groups['consul'] | map('extract', hostvars, ['consul_info', 'state', 'node_name']) | list) }}
"""

RETURN = r"""
_value:
  description: One sentence per rule broken, naming the members and what to change; empty when none is.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import member_problems


def consul_member_problems(members, run_nodes, group='consul', alive=False):
    if isinstance(members, dict):  # consul_agent_info's result
        members = members.get('members') or []
    if not isinstance(members, list) or not all(isinstance(m, dict) and 'name' in m for m in members):
        raise AnsibleFilterError('consul_member_problems: the input must be the members consul_agent_info returns')
    return member_problems(members, list(run_nodes or []), group, bool(alive))


class FilterModule:
    def filters(self):
        return {'consul_member_problems': consul_member_problems}
