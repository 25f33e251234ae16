# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: mcollective_aes_certificates
author: keyfleet maintainers (@keyfleet)
short_description: The MCollective aes_security caller certificates the controller's CA issues
version_added: 1.0.0
description:
  - Issues each caller (client or server) of the role keyfleet.encryption.mcollective_aes an X.509 certificate for
    the public key read from its host, signed by the CA on the controller.
  - The controller decides what a certificate says. The subject is exactly CN=<caller id> (aes_security reads the
    caller id from it), the issuer the CA's subject, basicConstraints CA:FALSE and key usage digitalSignature and
    keyEncipherment (both critical), the subject and authority key identifiers. The host contributes only its key.
  - Deterministic, so a re-run changes nothing. The serial is taken from SHA-256 over the CA's key, the caller id and
    the caller's key (159 bits), the validity is the CA's, and the signature RSA PKCS#1 v1.5 with SHA-256.
  - Fails with every sentence of P(keyfleet.encryption.mcollective_aes_ca_problems#filter) and
    P(keyfleet.encryption.mcollective_aes_key_problems#filter) when the CA or a key is refused.
  - Needs the Python library cryptography on the controller.
options:
  _input:
    description: The callers, each a list of the caller id, the public key PEM as base64 (the C(content) of
      ansible.builtin.slurp) and the host it was read from. A caller id given again with the same key is issued once.
    type: list
    elements: list
    required: true
  ca_cert:
    description: The CA certificate (PEM).
    type: str
    required: true
  ca_key:
    description: The CA private key (PEM, unencrypted).
    type: str
    required: true
  source:
    description:
      - The words for where the CA came from, in the messages. Empty names the variables C(mcollective_aes_ca_cert)
        and C(mcollective_aes_ca_key); an escrow name N names the escrow's N_cert and N_key.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Issue the callers' certificates on the controller
  ansible.builtin.set_fact:
    mcollective_aes_issued: "{{ callers | keyfleet.encryption.mcollective_aes_certificates(mcollective_aes_ca_cert, mcollective_aes_ca_key) }}"
  vars:
    callers: [['alice', alice_public_key.content, 'client1.example.com']]
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: A list of [caller id, certificate PEM], in the order of the input, one per caller id.
  type: list
  elements: list
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._mcollective_ca import MCollectiveCAError, certificates


def mcollective_aes_certificates(entries, ca_cert, ca_key, source=''):
    if not isinstance(entries, list):
        raise AnsibleFilterError('mcollective_aes_certificates: the input must be a list of [caller id, base64 public key, host], '
                                 'not %s' % type(entries).__name__)
    for what, value in (('ca_cert', ca_cert), ('ca_key', ca_key)):
        if not isinstance(value, str):
            raise AnsibleFilterError('mcollective_aes_certificates: %s must be PEM text, not %s' % (what, type(value).__name__))
    if not isinstance(source, str):
        raise AnsibleFilterError('mcollective_aes_certificates: source must be a string, not %s' % type(source).__name__)
    try:
        return certificates(entries, ca_cert, ca_key, source)
    except MCollectiveCAError as e:
        raise AnsibleFilterError('mcollective_aes_certificates: %s' % e)


class FilterModule:
    def filters(self):
        return {'mcollective_aes_certificates': mcollective_aes_certificates}
