# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: injected_fact_problems
author: keyfleet maintainers (@keyfleet)
short_description: Refuse facts a host returned under the name of a variable the run decides with
version_added: 1.0.0
description:
  - A module's result may carry C(ansible_facts), which Ansible sets as variables of that host, above the inventory
    and the role (INJECT_FACTS_AS_VARS). A compromised host can so override a variable for every run_once decision
    made with its variables - which CA signs, where the escrow is written, which callers exist.
  - Takes each host's fact names and returns one sentence per host that holds a name starting with one of the
    prefixes (or with C(ansible_) and one of them). An empty list means none.
options:
  _input:
    description: Each host's fact names, host to list (or to its C(ansible_facts)).
    type: dict
    required: true
  prefixes:
    description: The variable name prefixes the run decides with, such as C(keyfleet_) or C(mcollective_aes_).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Stop when a host returned facts named as the run's variables
  ansible.builtin.assert:
    that: problems == []
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    facts_by_host: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'ansible_facts') | map('list'))) }}"
    problems: "{{ facts_by_host | keyfleet.encryption.injected_fact_problems(['keyfleet_', 'mcollective_aes_']) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: One sentence per host whose facts hold such a name, naming the host and the facts.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._facts import injected_fact_problems as _problems


def injected_fact_problems(facts_by_host, prefixes):
    try:
        return _problems(facts_by_host, prefixes)
    except TypeError as e:
        raise AnsibleFilterError('injected_fact_problems: %s' % e)


class FilterModule:
    def filters(self):
        return {'injected_fact_problems': injected_fact_problems}
