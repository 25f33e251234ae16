# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: aspera_paths
author: keyfleet maintainers (@keyfleet)
short_description: Every path of an IBM Aspera HSTS installation, as the Aspera modules take them
version_added: 1.0.0
description:
  - The commands and files of an installation at the input directory, in the vendor's layout (C(bin/askmscli),
    C(bin/asconfigurator), C(bin/asnodeadmin), C(etc/aspera.conf), C(etc/redis/aspera_31415.conf),
    C(etc/askms.stash)), with keyfleet's records (C(.keyfleet-stash), C(.keyfleet-token-switch)) under C(etc) - the
    layout the Aspera modules use for what they are not given, so a role and its modules never disagree.
  - Paths in O(given) replace the layout's.
  - C(module_args) gives, for each Aspera module, only the path options that are not where the module takes them under
    its C(install_dir), for C(module_defaults).
options:
  _input:
    description: Where HSTS is installed.
    type: path
    required: true
  given:
    description:
      - Paths an operator set; a missing, empty or V(null) one is not set.
      - Keys C(askmscli), C(asconfigurator), C(asnodeadmin), C(aspera_conf), C(redis_conf), C(stash_file), C(marker),
        C(token_switch), C(bin_dir) (the tools' directory) and C(state_dir) (keyfleet's records).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Encrypt an access key with the installation's asnodeadmin
  ansible.builtin.command:
    argv: ["{{ (aspera_install_dir | keyfleet.encryption.aspera_paths).asnodeadmin }}", --encrypt-access-key, --access-key, AK1]
  changed_when: true
"""

RETURN = r"""
_value:
  description:
    - C(install_dir), C(bin_dir), C(state_dir), C(askmscli), C(asconfigurator), C(asnodeadmin), C(aspera_conf),
      C(redis_conf), C(stash_file), C(marker), C(token_switch), and C(module_args) (module name to the path options
      to give it).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import AsperaError, layout


def aspera_paths(install_dir, given=None):
    if not install_dir or not str(install_dir).startswith('/'):
        raise AnsibleFilterError('aspera_paths: the installation directory must be an absolute path, not %r' % (install_dir,))
    try:
        return layout(str(install_dir), given)
    except AsperaError as e:
        raise AnsibleFilterError('aspera_paths: %s' % e)


class FilterModule:
    def filters(self):
        return {'aspera_paths': aspera_paths}
