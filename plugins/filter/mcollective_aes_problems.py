# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: mcollective_aes_problems
author: keyfleet maintainers (@keyfleet)
short_description: What the MCollective aes_security role refuses before any host changes, as sentences
version_added: 1.0.0
description:
  - Checks one group of the rules of the role keyfleet.encryption.mcollective_aes and returns one sentence per broken
    rule, each naming the variable to change. An empty list means the input is good.
  - V(input) - the scenario (against C(scenarios), the role's table of each scenario's C(send), C(learn),
    C(shared)), the key size (at least 2048 bits), the serializer, the server keys, no C(ca_cert) (this
    role distributes bare RSA keys, which the plugin would check as CA-signed certificates), learning only with
    C(insecure_learning) (CVE-2014-3251), no Puppet keys with a shared server pair.
  - V(psych) - the yaml serializer only where Ruby's Psych is below 4 (C(rc), C(version), C(error) of the read).
  - V(host) - the client entries of one host (C(clients)) - names the plugin accepts, a user each, one
    configuration file each.
  - V(collective) - every host of the collective in the run, key names unique and plain (C(server_hosts),
    C(client_hosts), C(play_hosts), C(clients) by host, C(server_key_names) by host, C(shared), C(shared_key_name)).
  - V(puppet) - a server's Puppet keys exist, are named as the plugin accepts, and are RSA of at least 2048 bits
    (C(private_key), C(public_key), C(exists), C(type), C(bits)).
  - V(psk) - the psk provider's key, read in every configuration the migration switches (C(reads), the results of
    keyfleet.encryption.mcollective_settings), is one value, and every read succeeded. No message holds a value.
options:
  _input:
    description: What the check reads, as listed above.
    type: dict
    required: true
  check:
    description: The group of rules.
    type: str
    required: true
    choices: [input, psych, host, collective, puppet, psk]
  host:
    description: The host the facts are of, for the messages.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Check the input
  ansible.builtin.assert:
    that: problems == []
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: "{{ {'scenarios': mcollective_aes_scenarios, 'scenario': 'manual_unique', 'key_size': 4096, 'serializer': 'marshal', 'server_keys': 'generate'}
      | keyfleet.encryption.mcollective_aes_problems('input') }}"
"""

RETURN = r"""
_value:
  description: One sentence per broken rule, naming the variable to change.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._mcollective import problems


def mcollective_aes_problems(facts, check, host=''):
    if not isinstance(facts, dict):
        raise AnsibleFilterError('mcollective_aes_problems: the input must be a dict, not %s' % type(facts).__name__)
    try:
        return problems(check, host, facts)
    except ValueError as e:
        raise AnsibleFilterError('mcollective_aes_problems: %s' % e)


class FilterModule:
    def filters(self):
        return {'mcollective_aes_problems': mcollective_aes_problems}
