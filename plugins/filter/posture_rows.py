# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: posture_rows
author: keyfleet maintainers (@keyfleet)
short_description: Where one host of one system stands, as rows of the fleet posture report
version_added: 1.0.0
description:
  - Turns what a role's C(posture) entry point read from a host (check-mode results of the collection's modules)
    into rows C({system, host, check, status, detail}) for the playbook keyfleet.encryption.posture.
  - Status V(ok) is done; V(todo), the migration has not got there yet; V(missing), the host uses a secret the
    escrow does not hold; V(error), a read failed or the host contradicts the escrow. A failed read is never
    taken for "not migrated".
  - The input holds no secret - escrowed values come as fingerprints or yes/no, and the modules compare keys.
requirements:
  - cryptography (the Python library, on the controller; ansible-core installs it) for O(system=consul), whose certificate
    dates and CA fingerprints it reads.
options:
  _input:
    description: What the role read, keyed as the role's posture entry point sets it.
    type: dict
    required: true
  system:
    description: The system the facts are of.
    type: str
    required: true
    choices: [consul, aspera, resilio, mcollective, swarm]
  host:
    description: The host's inventory name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Note where this host stands
  ansible.builtin.set_fact:
    keyfleet_posture_swarm: "{{ {'info': info, 'key': key, 'escrow_fp': fp} | keyfleet.encryption.posture_rows('swarm', inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: The rows, one per check.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._posture import rows_for


def posture_rows(facts, system, host):
    try:
        return rows_for(system, host, facts)
    except (ValueError, KeyError, TypeError) as e:
        raise AnsibleFilterError('keyfleet.encryption.posture_rows(%s, %s): %s' % (system, host, e))


class FilterModule:
    def filters(self):
        return {'posture_rows': posture_rows}
