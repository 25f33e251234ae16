#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: aspera_secret
short_description: Set an IBM Aspera askmscli secret (content protection, Redis master key, Redis password)
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Sets one secret of an askmscli category, giving it to C(askmscli -s) on standard input, never on the
    command line.
  - Idempotent through C(askmscli -H), which prints the SHA-512 of each stored version - when the newest
    one is the hash of O(secret), nothing is done. When C(-H) cannot tell (an askmscli without it), the
    secret is set and a warning says so.
  - C(ssear) is per user (O(user) is required); the other categories are shared and reach a user's
    keystore when it is initialised (M(keyfleet.encryption.aspera_keystore)).
  - A content-protection secret or Redis master key that is set to another value, or cannot be compared, is never
    replaced without O(allow_change).
extends_documentation_fragment:
  - keyfleet.encryption.aspera
  - keyfleet.encryption.aspera.action_group
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  category:
    description:
      - The askmscli category. The Redis master key is V(redis-master-key) up to HSTS 4.3 and
        V(redis-primary-key) from 4.4 on; give the one the installed askmscli knows.
    type: str
    required: true
    choices: [ssear, redis-master-key, redis-primary-key, redis-password]
  user:
    description: The transfer user, for V(ssear).
    type: str
  secret:
    description: The secret. Never logged or returned.
    type: str
    required: true
  allow_change:
    description:
      - Replace a V(ssear), V(redis-master-key) or V(redis-primary-key) secret that is set to another value, or that
        C(askmscli -H) cannot compare. Without it the module fails and changes nothing.
      - What is lost - V(ssear) the files the user uploaded with content protection under the old secret; the Redis
        master (primary) key the access-key secrets and dynamic token keys encrypted with the old key. Only with a
        copy of the old value (the escrow keeps it) can they be read again.
      - V(redis-password) is not guarded; it can be changed at any time.
    type: bool
    default: false
  askmscli:
    description: The askmscli command. Unset, C(bin/askmscli) under O(install_dir).
    type: path
"""

EXAMPLES = r"""
- name: Content-protection secret of alice, from the escrow
  keyfleet.encryption.aspera_secret:
    category: ssear
    user: alice
    secret: "{{ lookup('keyfleet.encryption.escrow', 'aspera_ssear_' ~ inventory_hostname ~ '_alice') }}"
  no_log: true
"""

RETURN = r"""
before:
  description: V(absent), V(same), V(different), or V(unknown) when askmscli -H could not tell.
  returned: always
  type: str
  sample: absent
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import INSTALL_DIR_SPEC, AsperaError, install_paths
from ansible_collections.keyfleet.encryption.plugins.module_utils._askmscli import (
    CATEGORIES, IRREVERSIBLE, USER_CATEGORIES, module_askmscli, secret_state)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            category=dict(type='str', required=True, choices=list(CATEGORIES)),
            user=dict(type='str'),
            secret=dict(type='str', required=True, no_log=True),
            askmscli=dict(type='path'),
            allow_change=dict(type='bool', default=False),
            **INSTALL_DIR_SPEC
        ),
        required_if=[('category', 'ssear', ('user',))],
        supports_check_mode=True,
    )
    p = install_paths(module.params, askmscli='askmscli')
    cli = module_askmscli(module, p['askmscli'])
    if not p['secret']:
        module.fail_json(msg='secret is empty')
    user = p['user'] if p['category'] in USER_CATEGORIES else None
    try:
        try:
            before = secret_state(cli.secret_hashes(p['category'], user), p['secret'])
        except AsperaError as e:
            module.warn('askmscli -H cannot tell whether %s is set (%s): setting it' % (p['category'], e))
            before = 'unknown'
        if before == 'same':
            module.exit_json(changed=False, before=before)
        if before in ('different', 'unknown') and p['category'] in IRREVERSIBLE and not p['allow_change']:
            module.fail_json(
                msg='%s%s %s a different secret than the one given%s. Nothing was changed: a new %s would leave %s '
                    'unreadable. Use the secret it holds (escrow it), or allow_change to replace it. A host renamed in '
                    'the inventory: set aspera_escrow_prefix to its old escrow prefix (aspera_<old name>).'
                    % (p['category'], ' of %s' % user if user else '',
                       'holds' if before == 'different' else 'may hold',
                       '' if before == 'different' else ' (askmscli -H cannot tell)', p['category'],
                       IRREVERSIBLE[p['category']]),
                before=before)
        if not module.check_mode:
            cli.set_secret(p['category'], p['secret'], user)
            if before != 'unknown' and secret_state(cli.secret_hashes(p['category'], user), p['secret']) != 'same':
                module.fail_json(msg='askmscli accepted %s but -H does not report it as the newest version' % p['category'])
    except AsperaError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=True, before=before)


if __name__ == '__main__':
    main()
