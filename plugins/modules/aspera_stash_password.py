#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: aspera_stash_password
short_description: Set the IBM Aspera askmscli stash password once, and never change it by accident
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Sets the stash password with C(askmscli -P-) (on standard input), then initialises again the keystore of
    every user in O(reinit_users) and of every user whose keystore already exists, as the vendor asks,
    so their secrets are encrypted with the keystore key.
  - The vendor does not support changing or rotating a stash password, and once it is set, deleting the
    stash file makes every keystore record unreadable. So the module records a salted PBKDF2 hash of the
    password it set (O(marker), 0600 root) and refuses a different password, changing nothing,
    unless O(allow_reset). The marker, not the stash file (whose path the vendor does not document), decides
    whether the password is set already.
  - A stash file that keyfleet did not set is refused unless O(adopt).
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
  password:
    description: The stash password (from the escrow). Never logged or returned.
    type: str
    required: true
  stash_file:
    description:
      - Where askmscli keeps the stash. Not documented by the vendor; check your installation.
      - Used only to refuse a stash that keyfleet did not set (see O(adopt)) and to move it aside on O(allow_reset).
        Whether the password is set already is decided by O(marker), so a wrong path never sets it again.
      - Unset, C(etc/askms.stash) under O(install_dir).
    type: path
  marker:
    description:
      - keyfleet's record of the password it set (a salted PBKDF2-SHA256 hash).
      - Unset, C(etc/.keyfleet-stash) under O(install_dir).
    type: path
  reinit_users:
    description: Users whose keystore is initialised again after the password is set (with asperadaemon).
    type: list
    elements: str
    default: []
  adopt:
    description:
      - A stash password was set outside keyfleet. Give it as O(password); askmscli must accept it again
        (the same password), then the marker is written. Nothing else changes.
    type: bool
    default: false
  allow_reset:
    description:
      - B(Destroys access to every secret in the keystores.) Sets a different stash password - the stash file,
        C(rootkeystore.db) and every user's C(localkeystore.db) are moved aside (same directory, suffix
        C(.keyfleet-reset-<time>), readable again only together with the moved stash file), the new password
        is set and the keystores are initialised empty. Every secret must then be set again (run the playbook
        once more; content-protection secrets from the escrow).
    type: bool
    default: false
  askmscli:
    description: The askmscli command. Unset, C(bin/askmscli) under O(install_dir).
    type: path
"""

EXAMPLES = r"""
- name: Stash password, once
  keyfleet.encryption.aspera_stash_password:
    password: "{{ lookup('keyfleet.encryption.escrow', 'aspera_stash_' ~ inventory_hostname, kind='password') }}"
    reinit_users: "{{ aspera_transfer_users + ['asperadaemon'] }}"
  no_log: true
"""

RETURN = r"""
state:
  description: V(set) (set now), V(same) (already set to this password), V(adopted), V(reset).
  returned: success
  type: str
reinitialised:
  description: Users whose keystore was initialised again.
  returned: success
  type: list
  elements: str
moved_aside:
  description: Files moved aside by O(allow_reset).
  returned: when reset
  type: list
  elements: str
"""

import binascii
import hashlib
import hmac
import os
import pwd
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import INSTALL_DIR_SPEC, AsperaError, install_paths
from ansible_collections.keyfleet.encryption.plugins.module_utils._askmscli import module_askmscli
from ansible_collections.keyfleet.encryption.plugins.module_utils._files import write_private

ITERATIONS = 200000
PENDING = 'keystores-not-yet-initialised'


def make_marker(password, salt=None):
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, ITERATIONS)
    return 'pbkdf2-sha256$%d$%s$%s\n' % (ITERATIONS, binascii.hexlify(salt).decode(), binascii.hexlify(digest).decode())


def marker_matches(text, password):
    try:
        scheme, iterations, salt, digest = text.strip().splitlines()[0].split('$')
        salt = binascii.unhexlify(salt)
        iterations = int(iterations)
    except ValueError:
        raise AsperaError('the stash marker is not in the form keyfleet writes')
    if scheme != 'pbkdf2-sha256':
        raise AsperaError('the stash marker uses an unknown scheme %r' % scheme)
    mine = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations)
    return hmac.compare_digest(binascii.hexlify(mine).decode(), digest)


def local_keystores():
    """{user: path} of every local keystore on the host: each must be initialised again after a stash change."""
    out = {}
    for entry in pwd.getpwall():
        path = os.path.join(entry.pw_dir, '.aspera', 'localkeystore.db')
        if os.path.exists(path):
            out.setdefault(entry.pw_name, path)
    return out


def users_to_reinit(listed):
    return list(listed) + [u for u in local_keystores() if u not in listed]


def reinit(cli, users, marker, password):
    """Initialise the keystores, then record that none is left to do."""
    for user in users:
        cli.init_keystore(user)
    write_private(marker, make_marker(password))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            password=dict(type='str', required=True, no_log=True),
            stash_file=dict(type='path'),
            marker=dict(type='path'),
            reinit_users=dict(type='list', elements='str', default=[]),
            adopt=dict(type='bool', default=False),
            allow_reset=dict(type='bool', default=False),
            askmscli=dict(type='path'),
            **INSTALL_DIR_SPEC
        ),
        supports_check_mode=True,
    )
    p = install_paths(module.params, askmscli='askmscli', stash_file='stash_file', marker='marker')
    cli = module_askmscli(module, p['askmscli'])
    if len(p['password']) < 8:
        module.fail_json(msg='password: a stash password needs at least 8 characters')
    for user in p['reinit_users']:
        try:
            pwd.getpwnam(user)
        except KeyError:
            module.fail_json(msg='reinit_users: no such user on this host: %s' % user)
    stashed, marked = os.path.exists(p['stash_file']), os.path.exists(p['marker'])
    result = dict(changed=False, reinitialised=[])
    try:
        # keyfleet's own marker decides, not the stash file: its path is not documented by the vendor, and a
        # wrong one must never make every run set the password again (and initialise every keystore anew).
        if marked:
            with open(p['marker']) as f:
                text = f.read()
            if marker_matches(text, p['password']):
                if PENDING not in text:
                    module.exit_json(state='same', **result)
                # A run stopped after setting the password and before every keystore was initialised again.
                users = users_to_reinit(p['reinit_users'])
                result.update(changed=True, state='same', reinitialised=users)
                if not module.check_mode:
                    reinit(cli, users, p['marker'], p['password'])
                module.exit_json(**result)
            if not p['allow_reset']:
                module.fail_json(msg='a different stash password is already set on this host and askmscli cannot change '
                                     'it; nothing was changed. Use the escrowed one, or allow_reset (it makes every '
                                     'keystore secret unreadable)')
            state = 'reset'
        elif stashed:
            if not p['adopt']:
                module.fail_json(msg='%s exists but keyfleet did not set it, so it cannot tell whether the password '
                                     'is the same; nothing was changed. Give that password with adopt (it is checked '
                                     'by askmscli), or allow_reset' % p['stash_file'])
            state = 'adopted'
        else:
            state = 'set'
        result.update(changed=True, state=state)
        if module.check_mode:
            module.exit_json(**result)
        if state == 'adopted':
            cli.set_stash_password(p['password'])  # askmscli refuses another password than the one set
            write_private(p['marker'], make_marker(p['password']))
            module.exit_json(**result)
        if state == 'reset':
            suffix = '.keyfleet-reset-%d' % int(time.time())
            moved = [p['stash_file'], os.path.join(os.path.dirname(p['stash_file']), 'rootkeystore.db')]
            moved += list(local_keystores().values())
            result['moved_aside'] = []
            for path in moved:
                if os.path.exists(path):
                    os.rename(path, path + suffix)
                    result['moved_aside'].append(path + suffix)
            module.warn('stash password reset: every secret of the root and user keystores is gone; set them again. '
                        'The old keystores and stash are kept as *%s' % suffix)
        users = users_to_reinit(p['reinit_users'])
        cli.set_stash_password(p['password'])
        # The marker is written right after askmscli took the password, so a re-run knows it is set,
        # and says the keystores still have to be initialised until they all are.
        write_private(p['marker'], make_marker(p['password']) + PENDING + '\n')
        reinit(cli, users, p['marker'], p['password'])
        result['reinitialised'] = users
    except AsperaError as e:
        module.fail_json(msg=str(e), **result)
    except OSError as e:  # the marker: askmscli may have taken the password already, so say where the run stopped
        module.fail_json(msg='cannot write the marker %s: %s. Run again once it can be written.' % (p['marker'], e), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
