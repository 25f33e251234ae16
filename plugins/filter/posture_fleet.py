# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: posture_fleet
author: keyfleet maintainers (@keyfleet)
short_description: Every row of the fleet posture report, with an error row for each host that gave none
version_added: 1.0.0
description:
  - Gathers the rows each host's posture tasks left (P(keyfleet.encryption.posture_rows#filter)) in
    C(consul_posture_rows), C(aspera_posture_rows), C(resilio_master_key_run_posture_rows),
    C(mcollective_aes_run_posture_rows) and C(keyfleet_posture_swarm_rows).
  - Every host of the groups the playbook keyfleet.encryption.posture covers is in the result. A host without a row
    for its system - unreachable, or its posture tasks stopped (an escrow that cannot be read, a permission denied) -
    gets an V(error) row C(read) with the reason its play noted in C(keyfleet_posture_failures), never dropped.
options:
  _input:
    description: Each host's variables (C(groups['all'] | map('extract', hostvars))), with C(inventory_hostname).
    type: list
    elements: dict
    required: true
  expected:
    description: For each system (V(consul), V(aspera), V(resilio), V(mcollective), V(swarm)), the inventory hosts it covers.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The fleet's rows
  ansible.builtin.set_fact:
    rows: "{{ groups['all'] | map('extract', hostvars) | keyfleet.encryption.posture_fleet({'swarm': groups['swarm_managers']}) }}"
"""

RETURN = r"""
_value:
  description: The rows, C({system, host, check, status, detail}).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._posture import fleet_rows


def posture_fleet(hosts, expected):
    if not isinstance(expected, dict):
        raise AnsibleFilterError('keyfleet.encryption.posture_fleet: expected must be a dict of system to hosts')
    try:
        return fleet_rows(list(hosts), expected)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise AnsibleFilterError('keyfleet.encryption.posture_fleet: %s' % e)


class FilterModule:
    def filters(self):
        return {'posture_fleet': posture_fleet}
