# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: mcollective_aes_ca_problems
author: keyfleet maintainers (@keyfleet)
short_description: Why a CA cannot issue the MCollective aes_security caller certificates, as sentences
version_added: 1.0.0
description:
  - Checks the CA the role keyfleet.encryption.mcollective_aes issues caller certificates with, on the controller,
    and returns one sentence per problem, each naming where the CA came from. An empty list means the CA is good.
  - The certificate must be exactly one PEM certificate, a self-signed root (hosts verify with C(aes.ca_cert) alone)
    with basicConstraints CA:TRUE, keyCertSign if it has a key usage, a subject, valid now, and an RSA key of at least
    2048 bits (RSA PKCS#1 v1.5 signatures are deterministic, so a re-run issues byte-identical certificates).
  - The key must be the certificate's private key, as one unencrypted PEM block.
  - Needs the Python library cryptography on the controller.
options:
  _input:
    description:
      - A dict with C(cert) (the CA certificate, PEM), C(key) (its private key, PEM) and optionally C(source).
      - C(source) is the words for where the CA came from. Empty names the variables C(mcollective_aes_ca_cert) and
        C(mcollective_aes_ca_key); an escrow name N names the escrow's N_cert and N_key; a list of two strings is used as
        the words for the certificate and the key.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop unless the CA can issue the caller certificates
  ansible.builtin.assert:
    that: problems == []
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: "{{ {'cert': mcollective_aes_ca_cert, 'key': mcollective_aes_ca_key} | keyfleet.encryption.mcollective_aes_ca_problems }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem of the CA, naming where it came from; empty when the CA is good.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._mcollective_ca import MCollectiveCAError, ca_problems


def mcollective_aes_ca_problems(ca):
    if not isinstance(ca, dict):
        raise AnsibleFilterError('mcollective_aes_ca_problems: the input must be a dict with cert, key and source, not %s'
                                 % type(ca).__name__)
    unknown = sorted(str(k) for k in ca if k not in ('cert', 'key', 'source'))
    if unknown:
        raise AnsibleFilterError('mcollective_aes_ca_problems: unknown keys %s (it takes cert, key, source)' % ', '.join(unknown))
    try:
        return ca_problems(ca.get('cert'), ca.get('key'), ca.get('source'))
    except MCollectiveCAError as e:
        raise AnsibleFilterError('mcollective_aes_ca_problems: %s' % e)


class FilterModule:
    def filters(self):
        return {'mcollective_aes_ca_problems': mcollective_aes_ca_problems}
