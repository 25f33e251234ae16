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
    appended; a setting whose value is null is removed (every line that sets it). A name that ends in C(.) with a null
    value removes every setting under it (V(plugin.psk.)).
  - Writes the file once, atomically, with its owner, group and mode set before the content goes in. Client
    configurations often hold middleware credentials.
  - A symbolic link is followed, as C(ansible.builtin.lineinfile) does. The file it points to is read and written,
    with the owner, group and mode asked for, and the link stays a link. A link whose target's directory is missing
    fails the task, and so does a link loop.
  - Comments and every other line stay as they are, and out of the diff, which shows only the lines of the settings
    that change (the rest of the file may hold middleware credentials). The value of a secret setting that changes
    (C(plugin.psk) and the settings under it, a name with C(password) in it) shows in the diff as C(********).
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
    description:
      - The settings, name to value; a null value removes the setting.
      - A null value for a name that ends in C(.) removes every setting under it.
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
      - Read only what holds no secret - the configuration's middleware passwords would be in the task's result -
        unless the task sets C(no_log) and the value goes to the escrow.
    type: list
    elements: str
    default: []
  missing_ok:
    description:
      - With O(read), a file that does not exist returns an empty RV(current) instead of failing (a client host
        that has no configuration yet). Any other failure to read still fails the task.
    type: bool
    default: false
  present:
    description:
      - Settings whose names, never their values, are returned in RV(present_keys) when the file sets them; an
        entry that ends in C(.) stands for every setting under it. For a posture report of secrets still in a file.
      - A file that does not exist sets nothing.
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
path:
  description: The configuration file, as O(path) gave it.
  returned: always
  type: str
  sample: /etc/mcollective/server.cfg
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
present_keys:
  description: The settings of O(present) that the file sets, names only, in the order of the file.
  returned: when O(present) is given
  type: list
  elements: str
  sample: [plugin.psk]
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._files import attrs_differ, owner_ids, set_attrs, write_private


# Settings whose values never show in a diff: the psk provider's pre-shared key, and any password.
SECRET = re.compile(r'^(plugin\.psk(\..*)?|.*password.*)$', re.IGNORECASE)
LINE = re.compile(r'^\s*([^=#;\s]+)\s*=\s*(.*?)\s*$')


def _pattern(key):
    # A name ending in '.' with a null value stands for every setting under it.
    return re.compile(r'^\s*%s%s\s*=' % (re.escape(key), r'[^=#;\s]*' if key.endswith('.') else ''))


def apply(lines, settings):
    """The lines with the settings applied, and the keys that changed."""
    lines, changed = list(lines), []
    for key, value in settings.items():
        if key.endswith('.') and value is not None:
            raise ValueError('%s ends in ".": only a null value (remove every setting under it) is allowed' % key)
        pattern = _pattern(key)
        at = [i for i, line in enumerate(lines) if pattern.match(line)]
        if value is None:
            if at:
                # the names removed, so the diff shows their lines (a prefix stands for several)
                changed += [k for k in dict.fromkeys(LINE.match(lines[i]).group(1) for i in at) if k not in changed]
                lines = [line for i, line in enumerate(lines) if i not in at]
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


def masked(line):
    """A diff line, with the value of a secret setting replaced."""
    m = LINE.match(line)
    return '%s = ********' % m.group(1) if m and SECRET.match(m.group(1)) else line


def current(lines, wanted):
    """The values the lines set for the wanted keys (an entry ending in '.' is a prefix); the last line wins."""
    found = {}
    for line in lines:
        m = LINE.match(line)
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
            missing_ok=dict(type='bool', default=False),
            present=dict(type='list', elements='str', default=[]),
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
        with open(p['path'], encoding='utf-8') as f:
            before = f.read()
    except FileNotFoundError:
        if p['read'] and not p['missing_ok']:
            module.fail_json(msg='cannot read %s: no such file' % p['path'])
        before = None
    except UnicodeDecodeError:
        # Fail closed, and without the bytes (the file may hold a middleware password).
        module.fail_json(msg='cannot read %s: it is not UTF-8 text' % p['path'])
    except (IOError, OSError) as e:
        module.fail_json(msg='cannot read %s: %s' % (p['path'], e))
    try:
        lines, changed_keys = apply((before or '').splitlines(), settings)
    except ValueError as e:
        module.fail_json(msg='settings: %s' % e)
    after = '\n'.join(lines) + '\n' if lines else ''
    content_changed = before is None or bool(changed_keys)
    attrs_changed = not content_changed and attrs_differ(p['path'], uid, gid, mode)
    result = dict(changed=content_changed or attrs_changed, changed_keys=changed_keys, path=p['path'])
    if p['read']:
        result['current'] = current((before or '').splitlines(), p['read'])
    if p['present']:
        result['present_keys'] = list(current((before or '').splitlines(), p['present']))
    if module._diff and content_changed:
        # only the lines of the settings that change: the rest of the file may hold middleware credentials
        touched = re.compile(r'^\s*(%s)\s*=' % '|'.join(re.escape(k) for k in changed_keys)) if changed_keys else None

        def shown(text):
            return ''.join(masked(line) + '\n' for line in text.splitlines() if touched and touched.match(line))
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
