#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: escrow_secret
short_description: Generate, store, rotate or promote one secret in the escrow - the only task that writes it
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - The escrow (an Ansible Vault file, or an OpenBao / HashiCorp Vault KV version 2 engine, as for the
    C(keyfleet.encryption.escrow) lookup) changes only through this task and M(keyfleet.encryption.escrow_copy).
    The lookup only reads.
  - Create-only. Without O(value) a name the escrow does not hold is generated; with O(value) it is stored. A name the
    escrow holds keeps its value - the first value stored wins. A different O(value) for a held name is refused, unless
    O(keep_stored) (the held value wins and is returned), O(replace) (the system runs with O(value) already), or
    O(generation) names a rotation.
  - A value that is replaced is kept in the escrow as a previous value; nothing is ever deleted.
  - Runs on the controller (an action plugin). Run it once per run (C(run_once)), before any host uses the secret.
  - The secret is in the result (RV(value)) only when the task has C(no_log) set; otherwise only its fingerprint.
    The diff and the message never hold it.
options:
  name:
    description: Name of the secret in the escrow.
    type: str
    required: true
  kind:
    description:
      - What the secret is. V(gossip_key) is 32 random bytes in base64, as C(consul keygen) makes; V(key256) a 256-bit
        key in base64; V(password) O(length) characters drawn from O(chars).
      - V(pem) (a key or certificate made with community.crypto) and V(text) (a secret that exists already, such as a
        plain-text secret moved out of a configuration file) are never generated - O(value) is required the first time.
      - A held name of another kind is refused, never returned as a secret of the wrong shape.
    type: str
    default: key256
    choices: [gossip_key, key256, password, pem, text]
  value:
    description:
      - The value to store, made elsewhere - a key a system already runs with (adopted rather than replaced), a CA
        key made by community.crypto, a plain-text secret being moved into the escrow.
      - Without it, a name the escrow does not hold is generated (kinds V(gossip_key), V(key256), V(password)).
    type: str
  keep_stored:
    description:
      - O(value) is a candidate made for this run, for example a key community.crypto just generated. When the escrow
        holds the name already (another controller stored first), the held value wins, is returned, and RV(kept_stored)
        is true - use RV(value), not the candidate.
    type: bool
    default: false
  replace:
    description:
      - The system already runs with O(value), which it made itself (a Docker swarm that rotated its unlock key). It
        becomes the current value, and the held one is kept as a previous value.
    type: bool
    default: false
  generation:
    description:
      - A rotation id chosen by the operator (a date, a ticket number). When the held secret was made for another
        generation (or none), O(value) or a new secret becomes current and the old one is kept as a previous value.
        The same generation later changes nothing, so a rotation happens once however often the play runs. A
        generation used before (A, B, then A again) is refused.
    type: str
  pending:
    description:
      - With O(generation), a rotation that stays pending until O(promote) - a new value is made (or O(value) is stored)
        and kept apart, while the lookup still returns the value in use. The same generation returns the same new value
        (a stopped rotation resumes); another generation is refused while one is pending.
      - O(value) is then this run's candidate (a new CA key community.crypto made; required for V(pem) and V(text)) -
        a pending value held already wins, is returned, and RV(kept_stored) is true, as with O(keep_stored).
    type: bool
    default: false
  promote:
    description: With O(generation), the pending rotation is done - its value becomes the current one (the old one is kept).
    type: bool
    default: false
  length:
    description: Length of a V(password). At least 8.
    type: int
    default: 32
  chars:
    description: Characters a V(password) is drawn from. At least 10 distinct ones.
    type: str
    default: ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789
  escrow:
    description:
      - Options of the C(keyfleet.encryption.escrow) lookup that say which escrow - V(backend), V(file),
        V(file_persistent), V(kv_path), V(engine_mount_point). Unset ones come from the play's variables and
        environment (C(keyfleet_escrow_file), C(keyfleet_escrow_backend), ...), as for the lookup.
      - The connection and auth of a KV escrow (server, token or AppRole) are the lookup's too, from the play's
        C(ansible_hashi_vault_*) variables and environment (docs/escrow.md).
    type: dict
    default: {}
requirements:
  - hvac (the Python library, on the controller) for an escrow in OpenBao / HashiCorp Vault (V(backend=kv) in O(escrow), or C(keyfleet_escrow_backend=kv)).
extends_documentation_fragment:
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
    details: Writes nothing; RV(status) says what would be done (C(would be generated), C(would be stored), ...).
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
  - A relative escrow file (the V(file) of O(escrow), or C(keyfleet_escrow_file)) is taken from the playbook's directory, as for the lookup.
seealso:
  - plugin: keyfleet.encryption.escrow
    plugin_type: lookup
  - module: keyfleet.encryption.escrow_copy
"""

EXAMPLES = r"""
- name: Escrow the Consul gossip key before any agent uses it (generated once)
  keyfleet.encryption.escrow_secret:
    name: consul_gossip_key_dc1
    kind: gossip_key
  run_once: true
  delegate_to: localhost
  no_log: true
  register: gossip_key

- name: Use it
  ansible.builtin.set_fact:
    consul_gossip_key: "{{ gossip_key.value }}"
  no_log: true

- name: Adopt the key a running cluster already uses
  keyfleet.encryption.escrow_secret:
    name: consul_gossip_key_dc1
    kind: gossip_key
    value: "{{ key_read_from_the_cluster }}"
  run_once: true
  delegate_to: localhost
  no_log: true

- name: Rotate a password once, for the generation "2026-11"
  keyfleet.encryption.escrow_secret:
    name: redis_password
    kind: password
    length: 40
    generation: "2026-11"
  run_once: true
  delegate_to: localhost
  no_log: true
"""

RETURN = r"""
status:
  description:
    - What was done - V(present) (held already, nothing written), V(generated), V(stored), V(rotated), V(replaced),
      V(pending), V(promoted); in check mode V(would be generated) and so on.
  type: str
  returned: success
fingerprint:
  description: The first 16 hex digits of the SHA-256 of the secret, to compare it with what hosts run without the value.
  type: str
  returned: success
value:
  description: The secret. Only when the task has C(no_log) set.
  type: str
  returned: success and no_log
kept_stored:
  description: With O(keep_stored), true when the escrow held another value, which was kept and returned.
  type: bool
  returned: success
escrow:
  description: Which escrow (the file, or the KV mount and path and server).
  type: str
  returned: success
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._escrow_args import ESCROW_SECRET_SPEC


def main():
    module = AnsibleModule(argument_spec=ESCROW_SECRET_SPEC, supports_check_mode=True)
    module.fail_json(msg='keyfleet.encryption.escrow_secret runs on the controller through its action plugin')


if __name__ == '__main__':
    main()
