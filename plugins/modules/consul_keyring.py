#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_keyring
short_description: Install, use or remove a gossip key through Consul's keyring API
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Changes the gossip keyring of a running, encrypted cluster through C(/v1/operator/keyring) on the
    agent of the managed host; no restart. This is how a key changes once agents hold a
    C(serf/local.keyring), which makes them ignore the C(encrypt) setting.
  - O(state=installed) installs the key on every node (C(POST)).
  - O(state=primary) makes it the key every node encrypts with (C(PUT)), and only when every node of
    every ring already holds it (its count equals C(NumNodes)); otherwise it fails and changes nothing.
  - O(state=absent) removes it (C(DELETE)); a key that is primary anywhere is refused.
  - O(state=sole) removes every other key, the last step of a rotation; it fails unless O(key) is
    already primary in every ring.
  - The key never appears in the result, only its fingerprint (first 16 hex digits of its SHA-256).
extends_documentation_fragment:
  - keyfleet.encryption.consul
  - keyfleet.encryption.consul.action_group
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  key:
    description: The gossip key, 32 bytes in base64.
    type: str
    required: true
  state:
    description: What the key should be in every ring.
    type: str
    choices: [installed, primary, absent, sole]
    default: installed
  reinstall:
    description:
      - With O(state=installed), install the key even when every node already holds it. Each agent
        then writes its C(serf/local.keyring) again. Use it when an agent holds the key in memory but
        could not write that file (an earlier install failed there), because such an agent would lose
        the key at its next restart.
    type: bool
    default: false
    version_added: 1.0.0
  min_nodes:
    description:
      - The number of agents that must hold the key before it is used (O(state=primary)), and use it before the others
        are removed (O(state=sole)), in every LAN ring - the agents of the run. C(NumNodes) of a ring leaves out a
        failed member, so without this a partitioned node would be cut off.
      - V(0) trusts C(NumNodes) alone.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Install the new key everywhere
  keyfleet.encryption.consul_keyring:
    key: "{{ new_gossip_key }}"
    state: installed

- name: Encrypt with it (fails unless every node holds it)
  keyfleet.encryption.consul_keyring:
    key: "{{ new_gossip_key }}"
    state: primary

- name: Remove every other key
  keyfleet.encryption.consul_keyring:
    key: "{{ new_gossip_key }}"
    state: sole

- name: Remove the old key
  keyfleet.encryption.consul_keyring:
    key: "{{ old_gossip_key }}"
    state: absent
"""

RETURN = r"""
action:
  description: The keyring operation done (or, in check mode, that would be done); null when none was needed.
  returned: always
  type: str
  sample: use
removed:
  description: Fingerprints of the keys O(state=sole) removed (or would remove in check mode).
  returned: always
  type: list
  elements: str
fingerprint:
  description: Fingerprint of O(key).
  returned: always
  type: str
rings:
  description: The rings after the change, keys by fingerprint (see M(keyfleet.encryption.consul_agent_info)).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import (
    COMMON_ARGUMENT_SPEC, ConsulError, client_from_params, key_fingerprint, normalize_keyring)

METHODS = {'install': 'POST', 'use': 'PUT', 'remove': 'DELETE', 'remove_others': 'DELETE'}


def _ring_name(ring):
    return '%s %s%s' % (ring.get('Datacenter'), 'WAN' if ring.get('WAN') else 'LAN',
                        (' segment ' + ring['Segment']) if ring.get('Segment') else '')


def _short(rings_counts, what, min_nodes):
    """LAN rings where fewer than ``min_nodes`` nodes ``what`` the key: NumNodes leaves out a failed member,
    which would be cut off once the others move on without it."""
    return ['%s: %d of the %d agents of this run %s it (the ring counts %s nodes: a member is failed or missing)'
            % (_ring_name(r), n, min_nodes, what, r.get('NumNodes'))
            for r, n in rings_counts if not r.get('WAN') and n < min_nodes]


def plan(rings, key, state, reinstall=False, min_nodes=0):
    """(operation or None, error or None) that brings ``key`` to ``state`` in every ring.

    ``min_nodes``: the agents that must hold the key (primary: to use it; sole: to drop the others) in
    every LAN ring, whatever NumNodes says.
    """
    if not rings:
        return None, 'the keyring API lists no rings (is gossip encryption on?)'
    held = [(r, (r.get('Keys') or {}).get(key, 0)) for r in rings]
    held_everywhere = all(n == r.get('NumNodes') for r, n in held)
    primary = [(r, (r.get('PrimaryKeys') or {}).get(key, 0)) for r in rings]
    if state in ('primary', 'sole'):
        short = _short(held if state == 'primary' else primary, 'hold' if state == 'primary' else 'use', min_nodes)
        if short:
            what = 'used' if state == 'primary' else 'made the only one'
            return None, 'stopped before the key is %s: %s' % (what, '; '.join(short))
    if state == 'installed':
        return (None if held_everywhere and not reinstall else 'install'), None
    if state == 'primary':
        if all(n == r.get('NumNodes') for r, n in primary):
            return None, None
        if not held_everywhere:
            short = ', '.join('%s has it on %d of %s nodes' % (_ring_name(r), n, r.get('NumNodes'))
                              for r, n in held if n != r.get('NumNodes'))
            return None, 'not every node holds the key yet (%s); install it and try again' % short
        return 'use', None
    if state == 'sole':
        if not all(n == r.get('NumNodes') for r, n in primary):
            return None, 'the key is not primary on every node yet; make it primary first'
        others = sorted(set(k for r in rings for k in (r.get('Keys') or {}) if k != key))
        return (('remove_others', others) if others else None), None
    if not any(n for r, n in held):
        return None, None
    where = [_ring_name(r) for r, n in primary if n]
    if where:
        return None, 'the key is still primary in %s; make another key primary first' % ', '.join(where)
    return 'remove', None


def main():
    module = AnsibleModule(
        argument_spec=dict(COMMON_ARGUMENT_SPEC,
                           key=dict(type='str', required=True, no_log=True),
                           state=dict(type='str', default='installed',
                                      choices=['installed', 'primary', 'absent', 'sole']),
                           reinstall=dict(type='bool', default=False),
                           min_nodes=dict(type='int', default=0)),
        supports_check_mode=True,
    )
    key, state = module.params['key'], module.params['state']
    client = client_from_params(module.params)
    result = dict(changed=False, action=None, fingerprint=key_fingerprint(key), removed=[])
    try:
        rings = client.get('/v1/operator/keyring') or []
        action, error = plan(rings, key, state, module.params['reinstall'], module.params['min_nodes'])
        if error:
            module.fail_json(msg=error, rings=normalize_keyring(rings), **result)
        if action:
            action, keys = action if isinstance(action, tuple) else (action, [key])
            result.update(changed=True, action=action)
            if action == 'remove_others':
                result['removed'] = [key_fingerprint(k) for k in keys]
            if not module.check_mode:
                for k in keys:
                    client.request(METHODS[action], '/v1/operator/keyring', body={'Key': k})
                rings = client.get('/v1/operator/keyring') or []
    except ConsulError as e:
        module.fail_json(msg='keyring API: %s' % e, **result)
    module.exit_json(rings=normalize_keyring(rings), **result)


if __name__ == '__main__':
    main()
