#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: aspera_config
short_description: Read, set or remove IBM Aspera settings in aspera.conf through asconfigurator
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Reads the node, user and group settings keyfleet manages from C(aspera.conf) (XML) and changes the ones
    that differ through C(asconfigurator -x), the vendor's tool, one call per setting.
  - Plain-text secrets (C(transfer_encryption_content_protection_secret), C(token_encryption_key)) can only be
    removed (V(AS_NULL)) - they belong in the keystore (M(keyfleet.encryption.aspera_secret)), and
    asconfigurator would carry them on its command line.
  - Secret values are never returned or shown in a diff. With O(fingerprint_key) a keyed fingerprint (HMAC-SHA256,
    16 hex digits) says whether two are the same; without it a secret shows as C((set)). A plain hash of a secret a
    person chose could be guessed offline from a log.
  - With O(backup), aspera.conf is copied once before the first change made under one O(backup_id), so a
    play that changes several settings leaves one backup and a run that changes nothing leaves none.
extends_documentation_fragment:
  - keyfleet.encryption.aspera
  - keyfleet.encryption.aspera.action_group
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Secret values are shown as fingerprints.
options:
  settings:
    description: Settings to make so.
    type: list
    elements: dict
    default: []
    suboptions:
      level:
        description: Where the setting lives.
        type: str
        choices: [node, user, group]
        default: node
      name:
        description: The user or group name, for O(settings[].level=user) and O(settings[].level=group).
        type: str
      param:
        description: The asconfigurator parameter.
        type: str
        required: true
        choices: [transfer_encryption_content_protection_secret, token_encryption_key, token_dynamic_key, token_life_seconds]
      value:
        description: The value; V(null) or V(AS_NULL) removes the setting.
        type: raw
  remove_everywhere:
    description: Parameters to remove at every level where aspera.conf has them (node, every user, every group).
    type: list
    elements: str
    default: []
    choices: [transfer_encryption_content_protection_secret, token_encryption_key, token_dynamic_key, token_life_seconds]
  conf:
    description:
      - The aspera.conf file. It is only read; asconfigurator writes it.
      - Unset, C(etc/aspera.conf) under O(install_dir).
    type: path
  asconfigurator:
    description: The asconfigurator command. Unset, C(bin/asconfigurator) under O(install_dir).
    type: path
  backup:
    description: Copy aspera.conf (mode 0600) before the first change made under O(backup_id).
    type: bool
    default: false
  backup_id:
    description: Names the backup, C(<conf>.keyfleet-<backup_id>); one per play run. Defaults to today's date.
    type: str
  fingerprint_key:
    description:
      - Key of the fingerprints of secret values in RV(found) and the diff (HMAC-SHA256). The roles take it from the
        escrow (C(keyfleet_fingerprint_key)), so fingerprints compare across runs but cannot be guessed from a log.
    type: str
"""

EXAMPLES = r"""
- name: Dynamic token encryption keys
  keyfleet.encryption.aspera_config:
    settings:
      - param: token_dynamic_key
        value: true
    backup: true
    backup_id: "{{ aspera_run_id }}"

- name: No plain-text content-protection secret left at node, user or group level
  keyfleet.encryption.aspera_config:
    remove_everywhere: [transfer_encryption_content_protection_secret]
"""

RETURN = r"""
found:
  description: Every managed setting in aspera.conf before the change, secret values as fingerprints.
  returned: always
  type: list
  elements: dict
  sample: [{level: user, name: alice, param: token_encryption_key, value: "hmac:3c9909afec25354d"}]
commands:
  description: The asconfigurator -x arguments run (or that would run in check mode). They never hold a secret.
  returned: always
  type: list
  elements: str
  sample: ["set_node_data;token_dynamic_key,true"]
backup_file:
  description: The backup made by this call, if any.
  returned: when a backup was made
  type: str
"""

import os
import datetime

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._files import write_private
from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import INSTALL_DIR_SPEC, AsperaError, install_paths
from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera_conf import (
    AS_NULL, SECRET_SETTINGS, SETTINGS, asconfigurator_command, mask, read_settings)


def _norm(value):
    if value is None:
        return AS_NULL
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def plan(found, settings, remove_everywhere):
    """The changes to make: [(level, name, param, value)] in a stable order, secrets only removed."""
    current = dict(((e['level'], e['name'], e['param']), e['value']) for e in found)
    wanted = []
    for s in settings:
        level, name = s.get('level') or 'node', s.get('name')
        if level != 'node' and not name:
            raise AsperaError('settings: %s needs a %s name' % (s['param'], level))
        value = _norm(s.get('value'))
        if s['param'] in SECRET_SETTINGS and value != AS_NULL:
            raise AsperaError('settings: %s can only be removed (AS_NULL); keep the secret in the keystore '
                              '(keyfleet.encryption.aspera_secret), not in aspera.conf' % s['param'])
        wanted.append((level, None if level == 'node' else name, s['param'], value))
    for e in found:
        if e['param'] in remove_everywhere:
            wanted.append((e['level'], e['name'], e['param'], AS_NULL))
    out = []
    for level, name, param, value in wanted:
        have = current.get((level, name, param))
        if (value == AS_NULL and have is None) or value == have:
            continue
        if (level, name, param, value) not in out:
            out.append((level, name, param, value))
    return out


def _line(level, name, param, value):
    where = level if level == 'node' else '%s %s' % (level, name)
    return '%s: %s = %s\n' % (where, param, value)


def render(entries, key=None):
    return ''.join(_line(e['level'], e['name'], e['param'], e['value']) for e in mask(entries, key))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type='list', elements='dict', default=[], options=dict(
                level=dict(type='str', choices=['node', 'user', 'group'], default='node'),
                name=dict(type='str'),
                param=dict(type='str', required=True, choices=sorted(SETTINGS)),
                value=dict(type='raw'),
            )),
            remove_everywhere=dict(type='list', elements='str', default=[], choices=sorted(SETTINGS)),
            conf=dict(type='path'),
            asconfigurator=dict(type='path'),
            backup=dict(type='bool', default=False),
            backup_id=dict(type='str'),
            fingerprint_key=dict(type='str', no_log=True),
            **INSTALL_DIR_SPEC
        ),
        supports_check_mode=True,
    )
    p = install_paths(module.params, conf='aspera_conf', asconfigurator='asconfigurator')
    conf = p['conf']
    if not os.path.isfile(conf):
        module.fail_json(msg='aspera.conf not found at %s (conf)' % conf)
    with open(conf) as f:
        text = f.read()
    try:
        found = read_settings(text)
        changes = plan(found, p['settings'], p['remove_everywhere'])
        commands = [asconfigurator_command(level, name, param, value) for level, name, param, value in changes]
    except AsperaError as e:
        module.fail_json(msg=str(e))
    key = p['fingerprint_key']
    result = dict(changed=bool(changes), found=mask(found, key), commands=commands)
    if module._diff:
        after = [e for e in found if not any((c[0], c[1], c[2]) == (e['level'], e['name'], e['param']) for c in changes)]
        after += [dict(level=c[0], name=c[1], param=c[2], value=c[3]) for c in changes if c[3] != AS_NULL]
        result['diff'] = dict(before_header=conf, after_header=conf, before=render(found, key), after=render(after, key))
    if not changes or module.check_mode:
        module.exit_json(**result)

    if not os.access(p['asconfigurator'], os.X_OK):
        module.fail_json(msg='asconfigurator not found or not executable at %s (asconfigurator)' % p['asconfigurator'], **result)
    if p['backup']:
        backup_id = p['backup_id'] or datetime.date.today().isoformat()
        backup = '%s.keyfleet-%s' % (conf, backup_id)
        if not os.path.exists(backup):
            # The copy may hold plain-text secrets: nobody but root reads it.
            try:
                with open(conf, 'rb') as src:
                    write_private(backup, src.read(), 0o600, None, None)
            except (IOError, OSError) as e:
                module.fail_json(msg='cannot back up %s to %s: %s; nothing was changed' % (conf, backup, e), **result)
            result['backup_file'] = backup
    for command in commands:
        rc, out, err = module.run_command([p['asconfigurator'], '-x', command])
        # asconfigurator prints "success" or "failure" on its first line.
        first = (out or '').strip().splitlines()[:1]
        if rc != 0 or first != ['success']:
            module.fail_json(msg='asconfigurator -x "%s" failed (rc=%s): %s' % (command, rc, (out + err).strip()), **result)
    with open(conf) as f:
        after = plan(read_settings(f.read()), p['settings'], p['remove_everywhere'])
    if after:
        module.fail_json(msg='asconfigurator reported success but aspera.conf still differs: %s'
                         % ', '.join('%s %s %s' % (c[0], c[1] or '', c[2]) for c in after), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
