# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_trusted_ca_problems
author: keyfleet maintainers (@keyfleet)
short_description: Whether the CA of a run is the one the Consul agents already trust
version_added: 1.0.0
description:
  - Agents that already trust a CA must get certificates of that CA, never of a new one (an empty escrow, another
    escrow, a renamed datacenter), which would split a cluster that runs TLS. Returns one sentence naming the hosts,
    the SHA-256 fingerprints (of the DER, as C(openssl x509 -fingerprint -sha256) prints them) and what to set.
options:
  _input:
    description: The CA file each host trusts, by inventory name (PEM text; empty when it trusts none).
    type: dict
    required: true
  run_ca:
    description: The CA certificate of this run (PEM); empty when there is none yet and one would be made.
    type: str
    required: true
  ca_source:
    description: C(consul_tls_ca_source).
    type: str
    default: controller
  pki_mount_point:
    description: C(consul_tls_pki_mount_point).
    type: str
    default: pki
  ca_cert_given:
    description: Whether C(consul_tls_ca_cert) is set.
    type: bool
    default: false
  escrow_name:
    description: C(consul_tls_ca_escrow_name).
    type: str
    default: consul_tls_ca_dc1
"""

EXAMPLES = r"""
- name: Stop unless the CA of this run is the one the agents trust
  ansible.builtin.assert:
    that: consul_ca_problems == []
    fail_msg: "{{ consul_ca_problems | join(' ') }}"
  vars:
    consul_ca_problems: >-
      {{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, ['consul_info', 'trusted_ca_pem'])))
         | keyfleet.encryption.consul_trusted_ca_problems(lookup('file', 'ca.pem')) }}
"""

RETURN = r"""
_value:
  description: One sentence when the run's CA is not the trusted one; empty when it is, or no agent trusts a CA.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import trusted_ca_problems


def consul_trusted_ca_problems(trusted, run_ca, ca_source='controller', pki_mount_point='pki', ca_cert_given=False,
                               escrow_name='consul_tls_ca_dc1'):
    if not isinstance(trusted, dict):
        raise AnsibleFilterError('consul_trusted_ca_problems: the input must map hosts to the CA file they trust')
    trusted = dict((str(host), pem if isinstance(pem, str) else '') for host, pem in trusted.items())
    return trusted_ca_problems(trusted, run_ca or '', ca_source, pki_mount_point, bool(ca_cert_given), escrow_name)


class FilterModule:
    def filters(self):
        return {'consul_trusted_ca_problems': consul_trusted_ca_problems}
