#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_config
short_description: Write one Consul configuration fragment, validated, with secrets kept out of output
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Writes O(settings) and O(secret_settings) as one JSON file in the agent's configuration directory,
    atomically, only when its content differs.
  - Before the file is written (and in check mode too), runs C(consul validate) on a private copy of the
    whole configuration directory with the new file in it, so an agent is never left with a directory
    it cannot start from.
  - Values of O(secret_settings) never appear in the result or the diff; the diff shows them as
    C(********) and says whether they change.
  - Does not restart or reload the agent. The result says whether the content changed.
extends_documentation_fragment:
  - keyfleet.encryption.attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Secret values are masked.
options:
  path:
    description: The fragment file, in the agent's configuration directory.
    type: path
    required: true
  settings:
    description: Settings that may be shown in diffs.
    type: dict
    default: {}
  secret_settings:
    description: Settings whose values are never shown (for example C(encrypt)).
    type: dict
    default: {}
  config_dir:
    description: The directory the agent loads. Defaults to the directory of O(path).
    type: path
  validate:
    description: Run C(consul validate) on the directory with the new file before writing it.
    type: bool
    default: true
  validate_settings:
    description:
      - Settings the agent gets from elsewhere than its configuration directory, added for O(validate)
        only. For example the data directory for Debian's unit, which passes C(-data-dir)
        on the command line.
    type: dict
    default: {}
  consul_binary:
    description: The consul command used for O(validate).
    type: path
    default: consul
"""

EXAMPLES = r"""
- name: Gossip encryption, first stage of a running-cluster migration
  keyfleet.encryption.consul_config:
    path: /etc/consul.d/keyfleet-gossip.json
    settings:
      encrypt_verify_incoming: false
      encrypt_verify_outgoing: false
    secret_settings:
      encrypt: "{{ consul_gossip_key }}"
    owner: root
    group: consul
    mode: "0640"
  register: gossip_file
"""

RETURN = r"""
changed_keys:
  description: Names of the settings whose values change (added, changed or removed).
  returned: always
  type: list
  elements: str
  sample: [encrypt_verify_outgoing]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._files import write_private
from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_config import (
    ConfigError, changed_keys, masked, read_current, render, validate_dir)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            settings=dict(type='dict', default={}),
            secret_settings=dict(type='dict', default={}, no_log=True),
            config_dir=dict(type='path'),
            validate=dict(type='bool', default=True),
            validate_settings=dict(type='dict', default={}),
            consul_binary=dict(type='path', default='consul'),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    p = module.params
    path = p['path']
    secret_names = set(p['secret_settings'])
    overlap = secret_names & set(p['settings'])
    if overlap:
        module.fail_json(msg='settings and secret_settings both set %s' % ', '.join(sorted(overlap)))
    desired = dict(p['settings'], **p['secret_settings'])

    try:
        current = read_current(path)
    except ConfigError as e:
        module.fail_json(msg=str(e))
    before = current or {}
    keys = changed_keys(before, desired)
    content_changed = current is None or bool(keys)
    result = dict(changed=False, path=path, changed_keys=keys)
    if module._diff:
        result['diff'] = dict(before_header=path, after_header=path,
                              before=render(masked(before, secret_names)) if current is not None else '',
                              after=render(masked(desired, secret_names, before)))

    if content_changed:
        text = render(desired)
        config_dir = p['config_dir'] or os.path.dirname(path)
        if p['validate']:
            refused = validate_dir(module.run_command, module.get_bin_path(p['consul_binary'], required=True),
                                   config_dir, {os.path.basename(path): text}, p['validate_settings'])
            if refused:
                module.fail_json(msg='consul validate refused %s with the new %s: %s'
                                 % (config_dir, os.path.basename(path), refused))
        if not module.check_mode:
            # The temporary file gets the task's owner, group, mode and SELinux attributes before the rename,
            # so the secret is never readable by anybody else, not even for a moment.
            try:
                write_private(path, text, 0o600, None, None, prepare=lambda tmp: module.set_fs_attributes_if_different(
                    module.load_file_common_arguments(module.params, path=tmp), True))
            except OSError as e:
                module.fail_json(msg='cannot write %s: %s' % (path, e), **result)
        result['changed'] = True

    # A link is followed as write_private follows it: owner and mode are the file's, never the link's.
    file_args = module.load_file_common_arguments(p, path=os.path.realpath(path))
    if not module.check_mode or current is not None:
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
