# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_gossip_source_problems
author: keyfleet maintainers (@keyfleet)
short_description: Whether the gossip key of a run can be told before it is escrowed
version_added: 1.0.0
description:
  - Before the escrow is written, what was read must name one key, or none. A server that encrypts but cannot read
    its keyring (HTTP 403) never counts as "no key"; servers of the run that disagree on the primary key, or an agent
    that encrypts while no key is given, escrowed or readable from a server of the run, are named.
options:
  _input:
    description: The agent's read, the result of M(keyfleet.encryption.consul_agent_info).
    type: dict
    required: true
  run_keyrings:
    description: The keyrings (RV(keyfleet.encryption.consul_agent_info#module:keyring)) every agent of the run read.
    type: list
    elements: dict
    required: true
  given:
    description: Whether C(consul_gossip_key) is set.
    type: bool
    required: true
  escrowed:
    description: Whether the escrow holds O(escrow_name).
    type: bool
    required: true
  escrow_name:
    description: The escrow entry of the gossip key (C(consul_gossip_escrow_name)).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Stop unless the cluster's key can be told
  ansible.builtin.assert:
    that: consul_source_problems == []
    fail_msg: "{{ consul_source_problems | join(' ') }}"
  vars:
    consul_source_problems: >-
      {{ consul_info | keyfleet.encryption.consul_gossip_source_problems(
           ansible_play_hosts | map('extract', hostvars, ['consul_info', 'keyring']) | map('default', []) | flatten,
           false, false, 'consul_gossip_key_dc1') }}
"""

RETURN = r"""
_value:
  description: One sentence per rule broken; empty when the key can be told.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import gossip_source_problems, lan_primary_keys


def consul_gossip_source_problems(info, run_keyrings, given, escrowed, escrow_name):
    if not isinstance(info, dict) or 'reachable' not in info:
        raise AnsibleFilterError('consul_gossip_source_problems: the input must be the result of consul_agent_info')
    return gossip_source_problems(info, lan_primary_keys(run_keyrings), bool(given), bool(escrowed), escrow_name)


class FilterModule:
    def filters(self):
        return {'consul_gossip_source_problems': consul_gossip_source_problems}
