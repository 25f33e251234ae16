# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: mcollective_aes_key_problems
author: keyfleet maintainers (@keyfleet)
short_description: Which callers' public keys the MCollective CA refuses to certify, as sentences
version_added: 1.0.0
description:
  - Checks the public keys the role keyfleet.encryption.mcollective_aes read from the hosts before the CA certifies
    them, and returns one sentence per problem, naming the host and the caller id. An empty list means every key
    can be certified.
  - A host is not trusted to send a public key. Its content must be exactly one PEM C(PUBLIC KEY) or C(RSA PUBLIC KEY)
    block of an RSA key of at least 2048 bits; a private key, a certificate, a signing request, an EC or DSA key, a
    short RSA key, several blocks or anything else is refused. The sentences show of the content only its PEM label
    and the key's type and size.
  - A caller id must match C([\w.-]+) (ASCII, as aes_security reads it from the certificate) and have at most 64
    characters. One caller id given with two different keys is refused.
  - Needs the Python library cryptography on the controller.
options:
  _input:
    description: The callers, each a list of the caller id, the public key PEM as base64 (the C(content) of
      ansible.builtin.slurp) and the host it was read from.
    type: list
    elements: list
    required: true
"""

EXAMPLES = r"""
- name: Stop unless every caller's key can be certified
  ansible.builtin.assert:
    that: problems == []
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: "{{ [['alice', alice_public_key.content, 'client1.example.com']] | keyfleet.encryption.mcollective_aes_key_problems }}"
"""

RETURN = r"""
_value:
  description: One sentence per refused caller or key, naming the host and the caller id; empty when all are good.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._mcollective_ca import MCollectiveCAError, key_problems


def mcollective_aes_key_problems(entries):
    if not isinstance(entries, list):
        raise AnsibleFilterError('mcollective_aes_key_problems: the input must be a list of [caller id, base64 public key, host], '
                                 'not %s' % type(entries).__name__)
    try:
        return key_problems(entries)
    except MCollectiveCAError as e:
        raise AnsibleFilterError('mcollective_aes_key_problems: %s' % e)


class FilterModule:
    def filters(self):
        return {'mcollective_aes_key_problems': mcollective_aes_key_problems}
