# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: resilio_master_key_problems
author: keyfleet maintainers (@keyfleet)
short_description: What the Resilio Connect master key roles refuse before any host changes, as sentences
version_added: 1.0.0
description:
  - Checks one component's master key options (the roles keyfleet.encryption.resilio_mc and resilio_agent) and,
    for the Management Console, that its configuration keeps the name of the master password variable. Returns one
    sentence per problem, each naming the variable to change; an empty list means the input is good.
  - The key itself is never in a message.
options:
  _input:
    description:
      - C(component) (V(mc) or V(agent)), C(env), C(unit), C(method), C(environment_file), C(value) (the key given,
        or empty), C(allow_change); for the MC also C(config_file) and C(config_read), the result of
        C(ansible.builtin.slurp) of that file (no C(content) when it does not exist yet).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the master key options
  ansible.builtin.assert:
    that: problems == []
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: "{{ {'component': 'agent', 'env': 'RESILIO_KEY', 'unit': 'resilio-agent', 'method': 'dropin',
      'environment_file': '', 'value': ''} | keyfleet.encryption.resilio_master_key_problems }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the variable to change.
  type: list
  elements: str
"""

import base64
import json

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._resilio import master_key_problems, mc_config_problems


def resilio_master_key_problems(facts):
    if not isinstance(facts, dict):
        raise AnsibleFilterError('resilio_master_key_problems: the input must be a dict, not %s' % type(facts).__name__)
    prefix = 'resilio_%s_' % facts.get('component', 'mc')
    problems = master_key_problems(facts, prefix)
    read = facts.get('config_read') or {}
    if facts.get('config_file') and read.get('content') is not None:
        try:
            config = json.loads(base64.b64decode(read['content']).decode('utf-8'))
        except (ValueError, TypeError, UnicodeDecodeError):
            # The file holds other secrets: only its name in the message.
            return problems + ['%s is not JSON the Management Console could read (%sconfig_file). Nothing was changed.'
                               % (facts['config_file'], prefix)]
        problems += mc_config_problems(config, facts.get('env'), facts.get('allow_change'), facts['config_file'], prefix)
    return problems


class FilterModule:
    def filters(self):
        return {'resilio_master_key_problems': resilio_master_key_problems}
