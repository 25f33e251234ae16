#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: escrow_copy
short_description: Copy every escrowed secret, with its history and rotation generations, into another escrow
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Copies each secret of the O(source) escrow into the O(dest) escrow as it is - its value, its previous values,
    its rotation generation and a pending rotation - and reads each one back from O(dest) to verify it.
  - For the migration from the escrow file into OpenBao / HashiCorp Vault KV, and for an offline backup of the KV
    escrow to an Ansible Vault encrypted file.
  - A secret O(dest) already holds with the same content is left as it is, so a copy that stopped half-way
    resumes. One it holds with other content is never overwritten; the task fails and names it.
  - Runs on the controller (an action plugin); the secrets go nowhere else and are never in its result.
  - O(source) and O(dest) take the options of the C(keyfleet.encryption.escrow) lookup (backend, file, kv_path,
    engine_mount_point); the connection and auth options (server, token or AppRole) come from the play's
    C(ansible_hashi_vault_*) variables and environment, as for the lookup.
options:
  source:
    description: "Options of the escrow to copy from, for example V({backend: file, file: ~/.keyfleet/escrow.vault})."
    type: dict
    required: true
  dest:
    description: "Options of the escrow to copy into, for example V({backend: kv, kv_path: keyfleet})."
    type: dict
    required: true
requirements:
  - hvac (the Python library, on the controller) when O(source) or O(dest) is an escrow in OpenBao / HashiCorp Vault (V(backend=kv)).
extends_documentation_fragment:
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
    details: Lists what would be copied and writes nothing.
  diff_mode:
    support: none
  platform:
    description: Target OS and families that can be operated on.
    platforms: posix
    support: full
    details: Runs on the controller.
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
notes:
  - The vault password of the run encrypts a new O(dest) file; an existing one keeps the vault id it was created with.
seealso:
  - plugin: keyfleet.encryption.escrow
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Move the escrow file of this controller into OpenBao
  keyfleet.encryption.escrow_copy:
    source: {backend: file, file: ~/.keyfleet/escrow.vault}
    dest: {backend: kv}

- name: Export the KV escrow to an encrypted file for an offline backup
  keyfleet.encryption.escrow_copy:
    source: {backend: kv}
    dest: {backend: file, file: /backup/keyfleet-escrow.vault}
"""

RETURN = r"""
copied:
  description: Names of the secrets written to O(dest) (in check mode, that would be written).
  type: list
  elements: str
  returned: always
present:
  description: Names O(dest) already held with the same content.
  type: list
  elements: str
  returned: always
verified:
  description: How many secrets were read back from O(dest) and found identical to O(source).
  type: int
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(source=dict(type='dict', required=True),
                                              dest=dict(type='dict', required=True)),
                           supports_check_mode=True)
    module.fail_json(msg='keyfleet.encryption.escrow_copy runs on the controller through its action plugin')


if __name__ == '__main__':
    main()
