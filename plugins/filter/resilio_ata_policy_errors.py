# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: resilio_ata_policy_errors
author: keyfleet maintainers (@keyfleet)
short_description: Every rule of the Resilio Connect ATA (agent-to-agent) token policy that settings break
version_added: 1.0.0
description:
  - Checks the policy the vendor documents for ATA tokens (Resilio Connect 3.6 and later) and returns one message per
    broken rule, each naming its variable (O(prefix) and the key) and the rule. An empty list means the policy is good.
  - Rules - token rotation at least 5 minutes; overlap at most 24 hours; lifetime more than twice the overlap
    (otherwise agents become unstable); mode V(compatibility) for an upgrade from before 3.6 and V(enforced) for a
    fresh installation, or V(disabled) only when C(disabled_confirmed) is true; unless disabled, agent profiles
    carry the tunnel ciphers C(DHE-PSK-AES128-GCM-SHA256;DHE-PSK-AES256-GCM-SHA384) (with only SRP agents do not
    connect to each other).
options:
  _input:
    description:
      - The policy - C(rotation_minutes), C(overlap_hours), C(lifetime_minutes), C(mode), C(tunnel_ciphers)
        (a list, or one string separated by C(;)) and C(disabled_confirmed).
    type: dict
    required: true
  install:
    description: V(upgrade) from a version before 3.6, or V(new) installation.
    type: str
    required: true
    choices: [upgrade, new]
  prefix:
    description: Put before each key to name the variable in messages.
    type: str
    default: resilio_ata_
"""

EXAMPLES = r"""
- name: The ATA token policy is valid
  ansible.builtin.assert:
    that: resilio_ata_errors | length == 0
    fail_msg: "{{ resilio_ata_errors | join('; ') }}"
  vars:
    resilio_ata_errors: "{{ {'rotation_minutes': 60, 'overlap_hours': 1, 'lifetime_minutes': 180, 'mode': 'enforced',
      'tunnel_ciphers': 'DHE-PSK-AES128-GCM-SHA256;DHE-PSK-AES256-GCM-SHA384'} | keyfleet.encryption.resilio_ata_policy_errors('new') }}"
"""

RETURN = r"""
_value:
  description: One message per broken rule, naming the variable.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._resilio import ata_policy_errors


def resilio_ata_policy_errors(policy, install, prefix='resilio_ata_'):
    if not isinstance(policy, dict):
        raise AnsibleFilterError('resilio_ata_policy_errors: the policy must be a dict, not %s' % type(policy).__name__)
    if install not in ('upgrade', 'new'):
        raise AnsibleFilterError('resilio_ata_policy_errors: install must be upgrade or new, not %r' % (install,))
    return ata_policy_errors(policy, install, prefix)


class FilterModule:
    def filters(self):
        return {'resilio_ata_policy_errors': resilio_ata_policy_errors}
