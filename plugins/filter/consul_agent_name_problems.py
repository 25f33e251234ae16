# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_agent_name_problems
author: keyfleet maintainers (@keyfleet)
short_description: Whether a Consul node name, datacenter and domain can name an agent certificate
version_added: 1.0.0
description:
  - Server certificates are issued for C(<node>.server.<datacenter>.<domain>). The node name and the datacenter must be
    one DNS label each, the domain a DNS name - ASCII letters, digits and V(-), 1-63 characters a label, not starting or
    ending with V(-).
  - The same name rule M(keyfleet.encryption.consul_tls_files) applies to every name of a certificate; this filter lets
    the preflight apply it before any host changes.
  - Returns one sentence per value that cannot, naming its variable (C(consul_node_name), C(consul_datacenter),
    C(consul_domain)); an empty list when all can.
options:
  _input:
    description: The node name.
    type: str
    required: true
  datacenter:
    description: The datacenter.
    type: str
    required: true
  domain:
    description: The domain (a trailing dot is ignored).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Check that the names can be DNS labels
  ansible.builtin.assert:
    that: names_problems == []
    fail_msg: "{{ names_problems | join(' ') }}"
  vars:
    names_problems: "{{ 'node1' | keyfleet.encryption.consul_agent_name_problems('dc1', 'consul') }}"
"""

RETURN = r"""
_value:
  description: One sentence per value that cannot name a certificate; empty when all can.
  type: list
  elements: str
"""

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import agent_name_problems


class FilterModule:
    def filters(self):
        return {'consul_agent_name_problems': agent_name_problems}
