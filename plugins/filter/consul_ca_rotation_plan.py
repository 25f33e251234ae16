# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: consul_ca_rotation_plan
author: keyfleet maintainers (@keyfleet)
short_description: Where a Consul CA rotation stands, and what stops it
version_added: 1.0.0
description:
  - Reads what every agent trusts (its CA file) and the certificate it serves, and says which steps of a rotation from
    the CA in use (A) to a new CA (B) are left - both CAs trusted, certificates from B, B alone trusted - and what
    stops the rotation before any host changes.
  - Every agent must trust A, A and B, or B alone, and nothing else; the whole cluster starts from one A, which must be
    one of O(old_cas). An agent that serves a certificate neither CA issued stops it, and so does an agent that trusts
    B alone while another still serves an A certificate.
options:
  _input:
    description: The CA file each host trusts, by inventory name (PEM text).
    type: dict
    required: true
  served:
    description: The certificate each host serves on its HTTPS API, by inventory name (PEM); null for an C(auto_encrypt)
      client, which serves none of ours and is judged on what it trusts alone.
    type: dict
    required: true
  old_cas:
    description: The CAs a rotation may start from (PEM texts), for example the escrow's CA and its previous ones.
    type: list
    elements: str
    required: true
  new_ca:
    description: The CA certificate rotated to (PEM).
    type: str
    required: true
  rotation_id:
    description: C(consul_tls_ca_rotation_id), for the messages.
    type: str
    default: the rotation
  not_new:
    description: CAs (PEM) the new CA must not be, for example the previous PKI's.
    type: list
    elements: str
    default: []
  recorded:
    description:
      - The fingerprint the escrow's record of the rotation holds as current (C(<escrow name>_rotation)). While it is not
        the new CA's, V(trust_new) is left even when every agent's files say the rotation is done (a run may have stopped
        before the last reload). Unset, the record is not asked.
    type: str
"""

EXAMPLES = r"""
- name: Where the rotation stands
  ansible.builtin.set_fact:
    consul_ca_plan: >-
      {{ trusted_by_host | keyfleet.encryption.consul_ca_rotation_plan(served_by_host, [old_ca_pem], new_ca_pem) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    problems:
      description: Sentences that stop the rotation, each naming the hosts or the variable; empty when it may go on.
      type: list
      elements: str
    steps:
      description: The steps left, in order, of V(trust_both), V(certificates), V(trust_new).
      type: list
      elements: str
    done:
      description: Every agent serves a certificate of the new CA and trusts it alone.
      type: bool
    old:
      description: SHA-256 fingerprint of the CA in use that the agents still trust; empty when none does.
      type: str
    old_pem:
      description: That CA's certificate (PEM); empty when no agent trusts it.
      type: str
    new:
      description: SHA-256 fingerprint of the new CA.
      type: str
    serving_new:
      description: Hosts that serve a certificate of the new CA.
      type: list
      elements: str
    all_serve_new:
      description: Whether every host that serves a certificate of ours serves one of the new CA (an C(auto_encrypt)
        client, whose served value is null, serves none of ours).
      type: bool
    trust:
      description: Hosts by what they trust, under V(old), V(both) and V(new).
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import ca_rotation_plan


def _texts(value, what, keep_null=False):
    if not isinstance(value, dict):
        raise AnsibleFilterError('consul_ca_rotation_plan: %s must map hosts to PEM text' % what)
    return dict((str(host), pem if isinstance(pem, str) or (keep_null and pem is None) else '') for host, pem in value.items())


def _pems(value):
    return [pem for pem in (value if isinstance(value, (list, tuple)) else [value]) if isinstance(pem, str)]


def consul_ca_rotation_plan(trusted, served, old_cas, new_ca, rotation_id='the rotation', not_new=(), recorded=None):
    return ca_rotation_plan(_texts(trusted, 'the input'), _texts(served, 'served', keep_null=True), _pems(old_cas),
                            new_ca if isinstance(new_ca, str) else '', str(rotation_id), _pems(not_new),
                            None if recorded is None else str(recorded))


class FilterModule:
    def filters(self):
        return {'consul_ca_rotation_plan': consul_ca_rotation_plan}
