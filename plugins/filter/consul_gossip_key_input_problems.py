# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_gossip_key_input_problems
author: keyfleet maintainers (@keyfleet)
short_description: Whether a given Consul gossip key is one, as a sentence naming consul_gossip_key
version_added: 1.0.0
description:
  - A gossip key is 32 random bytes in canonical base64 (44 characters ending in V(=)), as C(consul keygen) prints it.
  - Returns one sentence when the key is not one, naming C(consul_gossip_key) and never the value; an empty list when
    it is.
options:
  _input:
    description: The key given. A secret - the result never holds it.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check the gossip key given
  ansible.builtin.assert:
    that: consul_gossip_key | keyfleet.encryption.consul_gossip_key_input_problems == []
    fail_msg: "{{ consul_gossip_key | keyfleet.encryption.consul_gossip_key_input_problems | join(' ') }}"
"""

RETURN = r"""
_value:
  description: One sentence when the key is not a gossip key; empty when it is.
  type: list
  elements: str
"""

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import gossip_key_input_problems


class FilterModule:
    def filters(self):
        return {'consul_gossip_key_input_problems': gossip_key_input_problems}
