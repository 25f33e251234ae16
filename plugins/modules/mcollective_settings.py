#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mcollective_settings
short_description: Several C(key = value) settings of an MCollective server.cfg or client configuration in one call
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Sets each setting as one C(key = value) line, as C(ansible.builtin.lineinfile) would one at a time. The last line
    that sets a key is replaced (MCollective reads the file top down, so the last one wins), or the line is
    appended; a setting whose value is null is removed (every line that sets it).
  - Writes the file once, atomically, with its owner, group and mode set before the content goes in. Client
    configurations often hold middleware credentials.
  - A symbolic link is followed, as C(ansible.builtin.lineinfile) does. The file it points to is read and written,
    with the owner, group and mode asked for, and the link stays a link. A link whose target's directory is missing
    fails the task, and so does a link loop.
  - Comments and every other line stay as they are, and out of the diff, which shows only the lines of the settings
    that change (the rest of the file may hold middleware credentials).
extends_documentation_fragment:
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  path:
    description:
      - The configuration file. Created when missing, with its directory (C(0755)).
      - A symbolic link (see above) is not replaced by a file.
    type: path
    required: true
  settings:
    description: The settings, name to value; a null value removes the setting.
    type: dict
    required: true
  owner:
    description: Owner of the file, a name or a uid.
    type: str
    default: root
  group:
    description: Group of the file, a name or a gid. Defaults to the owner's primary group.
    type: str
  mode:
    description: Mode of the file, as an octal string.
    type: str
    default: '0640'
  read:
    description:
      - Settings whose values, as the file sets them before the task, are returned in RV(current). An entry that ends
        in C(.) stands for every setting under it (V(plugin.aes.)).
      - A file that does not exist fails the task when O(read) is given - there is nothing to read.
      - Read only what holds no secret - the configuration's middleware passwords would be in the task's result.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: aes_security in server.cfg
  keyfleet.encryption.mcollective_settings:
    path: /etc/mcollective/server.cfg
    settings:
      securityprovider: aes_security
      plugin.aes.serializer: yaml
      plugin.aes.insecure_learning: null

- name: Read the plugin.aes settings, change nothing
  keyfleet.encryption.mcollective_settings:
    path: /etc/mcollective/server.cfg
    settings: {}
    read: [securityprovider, plugin.aes.]
  check_mode: true
  register: server_cfg
"""

RETURN = r"""
changed_keys:
  description: The settings that were (or, in check mode, would be) set or removed.
  returned: always
  type: list
  elements: str
current:
  description: The values of the settings O(read) asks for, before the task (the last line that sets a key wins).
  returned: when O(read) is given
  type: dict
  sample: {securityprovider: aes_security, plugin.aes.serializer: marshal}
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._files import attrs_differ, owner_ids, set_attrs, write_private


def apply(lines, settings):
    """The lines with the settings applied, and the keys that changed."""
    lines, changed = list(lines), []
    for key, value in settings.items():
        pattern = re.compile(r'^\s*%s\s*=' % re.escape(key))
        at = [i for i, line in enumerate(lines) if pattern.match(line)]
        if value is None:
            if at:
                lines = [line for i, line in enumerate(lines) if i not in at]
                changed.append(key)
            continue
        line = '%s = %s' % (key, value)
        if not at:
            lines.append(line)
        elif lines[at[-1]] != line:
            lines[at[-1]] = line
        else:
            continue
        changed.append(key)
    return lines, changed


def current(lines, wanted):
    """The values the lines set for the wanted keys (an entry ending in '.' is a prefix); the last line wins."""
    found = {}
    for line in lines:
        m = re.match(r'^\s*([^=#;\s]+)\s*=\s*(.*?)\s*$', line)
        if m and any(m.group(1) == w or (w.endswith('.') and m.group(1).startswith(w)) for w in wanted):
            found[m.group(1)] = m.group(2)
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            settings=dict(type='dict', required=True),
            owner=dict(type='str', default='root'),
            group=dict(type='str'),
            mode=dict(type='str', default='0640'),
            read=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        uid, gid = owner_ids(p['owner'], p['group'])
        mode = int(p['mode'], 8)
    except (KeyError, ValueError) as e:
        module.fail_json(msg='owner, group or mode: %s' % e)
    settings = dict((k, None if v is None else str(v)) for k, v in p['settings'].items())
    try:
        with open(p['path']) as f:
            before = f.read()
    except FileNotFoundError:
        if p['read']:
            module.fail_json(msg='cannot read %s: no such file' % p['path'])
        before = None
    except (IOError, OSError) as e:
        module.fail_json(msg='cannot read %s: %s' % (p['path'], e))
    lines, changed_keys = apply((before or '').splitlines(), settings)
    after = '\n'.join(lines) + '\n' if lines else ''
    content_changed = before is None or bool(changed_keys)
    attrs_changed = not content_changed and attrs_differ(p['path'], uid, gid, mode)
    result = dict(changed=content_changed or attrs_changed, changed_keys=changed_keys)
    if p['read']:
        result['current'] = current((before or '').splitlines(), p['read'])
    if module._diff and content_changed:
        # only the lines of the settings that change: the rest of the file may hold middleware credentials
        touched = re.compile(r'^\s*(%s)\s*=' % '|'.join(re.escape(k) for k in changed_keys)) if changed_keys else None

        def shown(text):
            return ''.join(line + '\n' for line in text.splitlines() if touched and touched.match(line))
        result['diff'] = dict(before=shown(before or ''), after=shown(after), before_header=p['path'], after_header=p['path'])
    if not module.check_mode:
        try:
            if content_changed:
                parent = os.path.dirname(p['path'])
                if parent and not os.path.isdir(parent):  # as lineinfile's create: a client host without the package yet
                    os.makedirs(parent, 0o755)
                write_private(p['path'], after, mode, uid, gid)
            elif attrs_changed:
                set_attrs(p['path'], uid, gid, mode)
        except OSError as e:
            module.fail_json(msg='cannot write %s: %s' % (p['path'], e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
