#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_autolock
short_description: Docker Swarm autolock with the unlock key kept in the keyfleet escrow
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Turns autolock of a swarm's managers on or off, rotates the unlock key once per O(rotation_id), and unlocks
    a locked manager, talking to the Docker Engine API on the manager's unix socket.
  - The unlock key lives in the escrow on the controller (M(keyfleet.encryption.swarm_autolock)'s action plugin
    reads and writes it, see the C(keyfleet.encryption.escrow) lookup). The key is never in argv, output or diffs;
    only a fingerprint (the first 16 hex digits of its SHA-256) is returned.
  - A new or rotated key is stored in the escrow, the previous one kept as a previous value, before the task
    reports success. If the play stops in between, the next run reads the current key from the manager and
    escrows it.
  - A locked manager is unlocked with the escrowed key; if that fails, with the previous escrowed keys (Docker
    asks to keep the old key for a while after a rotation, for managers that were down during it). Managers that
    were all locked elect a leader only once enough of them are unlocked; the module waits for it (O(timeout)).
  - Autolock and rotation are swarm-wide settings. Change them from one manager at a time (C(run_once)); unlock
    every manager.
options:
  state:
    description:
      - V(present) turns autolock on (unlocking the manager first when it is locked).
      - V(absent) turns autolock off (unlocking it first). The escrow keeps the last key.
      - V(unlocked) only unlocks a locked manager and changes no setting. For every manager of a swarm.
    type: str
    choices: [present, absent, unlocked]
    default: present
  rotation_id:
    description:
      - Rotate the unlock key once for this id (a date, a ticket). The id is recorded in the swarm's spec labels
        (C(io.keyfleet.unlock-key-rotation)), so the same id never rotates twice, whichever controller runs.
      - Only with O(state=present); 1 to 63 letters, digits, C(.), C(_), C(:) or C(-).
    type: str
  docker_host:
    description: The manager's Docker Engine socket. Only V(unix://) sockets, so the key stays on the host.
    type: str
    default: unix:///var/run/docker.sock
  unlock_keys:
    description:
      - Internal, filled by the action plugin from the escrow (the current key first, then previous ones).
    type: list
    elements: str
    default: []
  escrow_name:
    description: Name of the secret in the escrow (kind V(text)). One per swarm.
    type: str
    default: swarm_unlock_key
  escrow_file:
    description:
      - The escrow file on the controller. Defaults to C(keyfleet_escrow_file), E(KEYFLEET_ESCROW_FILE), or
        C(~/.keyfleet/escrow.vault), as for the escrow lookup. The play needs a vault secret.
    type: path
  timeout:
    description: Seconds to wait for the engine and for a manager to become active after unlocking.
    type: int
    default: 60
requirements:
  - hvac (the Python library, on the controller) for an escrow in OpenBao / HashiCorp Vault (C(keyfleet_escrow_backend=kv)).
extends_documentation_fragment:
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is unlocked or updated; a locked manager reports what it would do.
  diff_mode:
    support: full
    details: The diff shows autolock and the key fingerprint, never the key.
notes:
  - An action plugin of the same name keeps the key in the escrow on the controller.
  - Requires an escrow vault secret in the play, like every keyfleet secret.
  - Losing every copy of the unlock key while all managers are locked loses the swarm (its raft data and TLS keys
    stay encrypted). Back up the escrow file and its vault password.
seealso:
  - name: Lock your swarm (Docker documentation)
    description: The docker CLI flow this module automates.
    link: https://docs.docker.com/engine/swarm/swarm_manager_locking/
"""

EXAMPLES = r"""
- name: Turn autolock on; the key goes to the escrow
  keyfleet.encryption.swarm_autolock:
    state: present
  run_once: true

- name: Unlock every manager after a reboot
  keyfleet.encryption.swarm_autolock:
    state: unlocked

- name: Rotate the unlock key once for the 2026-11 rotation
  keyfleet.encryption.swarm_autolock:
    state: present
    rotation_id: "2026-11"
  run_once: true
"""

RETURN = r"""
autolock:
  description: Whether autolock is on after the task (or would be, in check mode).
  returned: success
  type: bool
unlocked:
  description: Whether the manager was locked and the task unlocked it (or would, in check mode).
  returned: success
  type: bool
unlocked_with:
  description: Which escrowed key unlocked it. V(0) is the current one; higher numbers are previous keys.
  returned: when unlocked
  type: int
rotated:
  description: Whether the unlock key was rotated (or would be).
  returned: success
  type: bool
key_fingerprint:
  description: First 16 hex digits of the SHA-256 of the current unlock key, when autolock is on.
  returned: success
  type: str
escrowed:
  description: Whether the escrow received a new key in this task.
  returned: success
  type: bool
summary:
  description:
    - One line for the play's log - autolock on or off, the key's fingerprint, rotated, escrowed now - or the
      task's message when it did not get as far as reading autolock. Added by the action plugin.
  returned: success
  type: str
  sample: autolock on, unlock key 3f2a9c0d1e2b4a5c (rotated), escrowed now
escrow_name:
  description: The escrow entry the unlock keys are read from and stored in (O(escrow_name)).
  returned: always
  type: str
  sample: swarm_unlock_key
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._swarm import (
    DEFAULT_HOST, ROTATION_LABEL, DockerError, SwarmClient, autolock_of, fingerprint, input_problems, plan, unlock_with,
    wait_for_leader)


def run(module, client):
    p = module.params
    keys = [k for k in p['unlock_keys'] if k]
    result = dict(changed=False, unlocked=False, rotated=False, escrowed=False)
    info = client.swarm_info()
    node_state = info.get('LocalNodeState')
    if node_state == 'locked':
        if not keys:
            module.fail_json(msg='the manager is locked and the escrow holds no unlock key under %r; unlock it '
                                 'with the key you kept (docker swarm unlock) and run again' % p['escrow_name'])
        result.update(changed=True, unlocked=True)
        if module.check_mode:
            result['msg'] = 'would unlock the manager with the escrowed key; settings are read after unlocking'
            return result
        result['unlocked_with'] = unlock_with(client, keys, wait=p['timeout'])
        if result['unlocked_with']:
            module.warn('the manager was unlocked with previous escrowed key %d, not the current one' % result['unlocked_with'])
        info = client.swarm_info()
        node_state = info.get('LocalNodeState')
    if node_state != 'active':
        module.fail_json(msg='this engine is not an active swarm member (LocalNodeState %r)' % node_state)
    if not info.get('ControlAvailable'):
        module.fail_json(msg='this engine is a swarm worker; autolock and its key belong to managers')

    swarm = wait_for_leader(client, p['timeout'])
    spec = swarm['Spec']
    before = autolock_of(spec)
    after = before
    if p['state'] != 'unlocked':
        want = p['state'] == 'present'
        set_autolock, rotate, label = plan(before, spec.get('Labels'), want, p['rotation_id'])
        after = want
        if set_autolock is not None or label is not None:
            result.update(changed=True, rotated=rotate)
            if not module.check_mode:
                spec.setdefault('EncryptionConfig', {})['AutoLockManagers'] = want
                if label is not None:
                    spec['Labels'] = dict(spec.get('Labels') or {}, **{ROTATION_LABEL: label})
                client.update(swarm['Version']['Index'], spec, rotate_unlock_key=rotate)
    result['autolock'] = after
    # In check mode a key that autolock or a rotation would make does not exist yet.
    new_key_pending = module.check_mode and (before != after or result['rotated'])

    current = ''
    if after and not new_key_pending:
        current = client.unlock_key()
    if current:
        result['key_fingerprint'] = fingerprint(current)
        if not keys or keys[0] != current:
            # The action plugin escrows it and removes it from the result before anyone sees it. A key
            # the escrow holds already goes back as its position: Ansible masks the values of no_log
            # arguments in a module's result, so the key itself would arrive as a placeholder.
            if current in keys:
                result['_keyfleet_unlock_key_index'] = keys.index(current)
            else:
                result['_keyfleet_unlock_key'] = current
            result['escrowed'] = True
    elif after:
        result['escrowed'] = new_key_pending
    if module._diff:
        result['diff'] = dict(
            before='autolock: %s\nkey: %s\n' % (before, fingerprint(keys[0]) if keys else 'not escrowed'),
            after='autolock: %s\nkey: %s\n' % (after, result.get('key_fingerprint', 'new key' if after else '-')))
    if result['escrowed']:
        result['changed'] = True
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='present', choices=['present', 'absent', 'unlocked']),
            rotation_id=dict(type='str'),
            docker_host=dict(type='str', default=DEFAULT_HOST),
            unlock_keys=dict(type='list', elements='str', default=[], no_log=True),
            escrow_name=dict(type='str', default='swarm_unlock_key'),
            escrow_file=dict(type='path'),
            timeout=dict(type='int', default=60),
        ),
        supports_check_mode=True,
    )
    problems = input_problems(module.params['state'], module.params['rotation_id'], prefix='')
    if problems:
        module.fail_json(msg=' '.join(problems), problems=problems)
    try:
        result = run(module, SwarmClient(module.params['docker_host'], timeout=module.params['timeout']))
    except DockerError as e:
        module.fail_json(msg=str(e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
