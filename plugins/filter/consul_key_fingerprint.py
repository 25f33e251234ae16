# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_key_fingerprint
author: keyfleet maintainers (@keyfleet)
short_description: The fingerprint a Consul gossip key is named by
version_added: 1.0.0
description:
  - The first 16 hex digits of the SHA-256 of the base64 key - the fingerprint
    M(keyfleet.encryption.consul_agent_info) gives keyring keys by and
    M(keyfleet.encryption.escrow_secret) returns. One function computes all three.
  - An empty key gives an empty string.
options:
  _input:
    description: The gossip key (base64). A secret - the fingerprint is not.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The escrowed key's fingerprint
  ansible.builtin.debug:
    msg: "{{ lookup('keyfleet.encryption.escrow', 'consul_gossip_key_dc1', missing='empty') | keyfleet.encryption.consul_key_fingerprint }}"
"""

RETURN = r"""
_value:
  description: 16 hex digits, or an empty string for an empty key.
  type: str
"""

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import key_fingerprint


def consul_key_fingerprint(key):
    return key_fingerprint(str(key)) if key else ''


class FilterModule:
    def filters(self):
        return {'consul_key_fingerprint': consul_key_fingerprint}
