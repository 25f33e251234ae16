# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_tls_client_certs_problems
author: keyfleet maintainers (@keyfleet)
short_description: Whether each agent of a run can get its TLS certificate as C(consul_tls_client_certs) says
version_added: 1.0.0
description:
  - The rules of C(consul_tls_client_certs) across the agents of one run, as sentences naming the variable to change;
    an empty list means none is broken.
  - A client with V(auto_encrypt) needs every server with V(auto_encrypt) too (the servers sign its certificate).
  - A client that runs C(auto_encrypt.tls) is not moved back to a certificate file.
  - V(auto_encrypt) needs Consul 1.5.2 or later.
options:
  _input:
    description:
      - One entry per agent of the run, with the keys C(name) (inventory name), C(server) (bool), C(tls_client_certs),
        C(state) (RV(keyfleet.encryption.consul_agent_info#module:state) of the running agent, or null) and C(version)
        (RV(keyfleet.encryption.consul_agent_info#module:binary_version), or an empty string).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop unless every agent can get its certificate as set
  ansible.builtin.assert:
    that: agents | keyfleet.encryption.consul_tls_client_certs_problems == []
    fail_msg: "{{ agents | keyfleet.encryption.consul_tls_client_certs_problems | join(' ') }}"
  vars:
    agents:
      - {name: node1, server: true, tls_client_certs: auto_encrypt, state: null, version: 1.8.7}
      - {name: node4, server: false, tls_client_certs: auto_encrypt, state: null, version: 1.8.7}
"""

RETURN = r"""
_value:
  description: One sentence per rule broken; empty when none is.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import tls_client_certs_problems


def consul_tls_client_certs_problems(agents):
    if not isinstance(agents, list) or not all(isinstance(a, dict) and {'name', 'server', 'tls_client_certs'} <= set(a)
                                               for a in agents):
        raise AnsibleFilterError('consul_tls_client_certs_problems: the input must be a list of agents with name, server '
                                 'and tls_client_certs')
    # ansible-core before 2.19 renders a boolean nested in a mapping as text ("False").
    return tls_client_certs_problems([dict(a, server=boolean(a['server'], strict=False)) for a in agents])


class FilterModule:
    def filters(self):
        return {'consul_tls_client_certs_problems': consul_tls_client_certs_problems}
