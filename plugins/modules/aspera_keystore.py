#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: aspera_keystore
short_description: Initialise the askmscli keystores of many IBM Aspera users in one call
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Runs C(askmscli -i -u USER) for each user whose keystore (C(~USER/.aspera/localkeystore.db)) is
    missing or does not hold the newest version of every shared secret of the root keystore
    (compared through C(askmscli -H), which prints SHA-512 hashes, never the secrets).
  - Every user is checked to exist before any keystore is touched.
  - One call handles any number of users, which is much faster than a task per user
    (see C(docs/aspera.md) for the measurement).
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
  users:
    description: Transfer users, and C(asperadaemon) for the node service.
    type: list
    elements: str
    required: true
  force:
    description: Initialise every keystore, for example after the stash password was set.
    type: bool
    default: false
  shared_categories:
    description: The shared categories a keystore must hold the newest version of.
    type: list
    elements: str
    default: [redis-master-key, redis-password]
  askmscli:
    description: The askmscli command. Unset, C(bin/askmscli) under O(install_dir).
    type: path
"""

EXAMPLES = r"""
- name: Keystores of the transfer users and of asperadaemon
  keyfleet.encryption.aspera_keystore:
    users: "{{ aspera_transfer_users + ['asperadaemon'] }}"
"""

RETURN = r"""
changed_users:
  description: Users whose keystore was (or in check mode would be) initialised.
  returned: always
  type: list
  elements: str
  sample: [alice, asperadaemon]
"""

import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import INSTALL_DIR_SPEC, AsperaError, install_paths
from ansible_collections.keyfleet.encryption.plugins.module_utils._askmscli import module_askmscli


def stale_users(cli, users, homes, shared, force):
    """Users whose keystore must be initialised: missing, forced, or behind the root keystore."""
    root = dict((c, cli.secret_hashes(c)) for c in shared)
    root = dict((c, h[-1][1]) for c, h in root.items() if h)
    out = []
    for user in users:
        if force or not os.path.exists(os.path.join(homes[user], '.aspera', 'localkeystore.db')):
            out.append(user)
            continue
        for category, newest in root.items():
            mine = cli.secret_hashes(category, user)
            if not mine or mine[-1][1] != newest:
                out.append(user)
                break
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            users=dict(type='list', elements='str', required=True),
            force=dict(type='bool', default=False),
            shared_categories=dict(type='list', elements='str', default=['redis-master-key', 'redis-password']),
            askmscli=dict(type='path'),
            **INSTALL_DIR_SPEC
        ),
        supports_check_mode=True,
    )
    p = install_paths(module.params, askmscli='askmscli')
    cli = module_askmscli(module, p['askmscli'])
    users, homes, unknown = [], {}, []
    for user in p['users']:
        try:
            homes[user] = pwd.getpwnam(user).pw_dir
        except KeyError:
            unknown.append(user)
        if user not in users:
            users.append(user)
    if unknown:
        module.fail_json(msg='users: no such user on this host: %s' % ', '.join(unknown))
    try:
        todo = stale_users(cli, users, homes, p['shared_categories'], p['force'])
        if not module.check_mode:
            for user in todo:
                cli.init_keystore(user)
    except AsperaError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=bool(todo), changed_users=todo)


if __name__ == '__main__':
    main()
