# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_tls_settings
author: keyfleet maintainers (@keyfleet)
short_description: Consul agent TLS settings for one stage, in the layout the agent's version wants
version_added: 1.0.0
description:
  - Flat keys (C(ca_file), C(verify_incoming), ...) for Consul before 1.12, the C(tls) stanza
    (C(tls.defaults), C(tls.internal_rpc.verify_server_hostname)) from 1.12 on, where the flat keys are deprecated.
  - Stage 1 sets the files with every verify flag off, stage 2 turns on C(verify_outgoing) and
    C(verify_server_hostname), stage 3 turns on C(verify_incoming).
options:
  _input:
    description: The Consul version, as C(consul version) prints it or bare (V(1.8.7)).
    type: str
    required: true
  stage:
    description: TLS stage, 1 to 3.
    type: int
    required: true
  ca_file:
    description: CA certificate path on the agent.
    type: str
    required: true
  cert_file:
    description: Agent certificate path.
    type: str
    required: true
  key_file:
    description: Agent key path.
    type: str
    required: true
  https_port:
    description: HTTPS port of the API; 0 for none.
    type: int
    default: 0
  http_disabled:
    description: Turn plain HTTP off (C(ports.http = -1)) at stage 3, when O(https_port) is set.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Stage 2 settings for the agent's version
  ansible.builtin.set_fact:
    tls_settings: >-
      {{ '1.8.7' | keyfleet.encryption.consul_tls_settings(2, '/etc/consul.d/tls/consul-agent-ca.pem',
         '/etc/consul.d/tls/consul-agent.pem', '/etc/consul.d/tls/consul-agent-key.pem', https_port=8501) }}
"""

RETURN = r"""
_value:
  description: The settings, to write as a JSON file in the agent's config directory.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import ConsulError, tls_settings


def consul_tls_settings(version, stage, ca_file, cert_file, key_file, https_port=0, http_disabled=False):
    try:
        return tls_settings(version, int(stage), ca_file, cert_file, key_file, int(https_port or 0), bool(http_disabled))
    except (ConsulError, ValueError) as e:
        raise AnsibleFilterError('consul_tls_settings: %s' % e)


class FilterModule:
    def filters(self):
        return {'consul_tls_settings': consul_tls_settings}
