# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_gossip_problems
author: keyfleet maintainers (@keyfleet)
short_description: Whether a Consul agent runs, and would restart, with the escrowed gossip key
version_added: 1.0.0
description:
  - The agent encrypts with the primary key of its keyring (read through the API) whatever its C(encrypt) setting
    says, and a restarted agent loads C(serf/local.keyring) first. Either holding another primary key than the
    gossip key is a sentence in the list, naming what to set.
  - With O(rewrite_keyring) the stage replaces C(serf/local.keyring) before the restart, and nothing is named.
options:
  _input:
    description: The agent's read, the result of M(keyfleet.encryption.consul_agent_info).
    type: dict
    required: true
  key_fingerprint:
    description: The gossip key's fingerprint (RV(keyfleet.encryption.escrow_secret#module:fingerprint)).
    type: str
    required: true
  key_name:
    description: Where the key comes from, named in the sentence (V(consul_gossip_key), the escrow entry).
    type: str
    required: true
  data_dir:
    description: The agent's data directory, to name C(serf/local.keyring).
    type: str
    required: true
  rewrite_keyring:
    description: C(consul_gossip_rewrite_keyring).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Stop when the agent holds another primary key
  ansible.builtin.assert:
    that: consul_gossip_problems == []
    fail_msg: "{{ consul_gossip_problems | join(' ') }}"
  vars:
    consul_gossip_problems: >-
      {{ consul_info | keyfleet.encryption.consul_gossip_problems(escrowed.fingerprint, 'consul_gossip_key', '/var/lib/consul') }}
"""

RETURN = r"""
_value:
  description: One sentence per keyring holding another primary key; empty when none does.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import gossip_key_problems


def consul_gossip_problems(info, key_fingerprint, key_name, data_dir, rewrite_keyring=False):
    if not isinstance(info, dict) or 'reachable' not in info:
        raise AnsibleFilterError('consul_gossip_problems: the input must be the result of consul_agent_info')
    return gossip_key_problems(info, key_fingerprint, key_name, data_dir, bool(rewrite_keyring))


class FilterModule:
    def filters(self):
        return {'consul_gossip_problems': consul_gossip_problems}
