#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_wait
short_description: Wait until a Consul agent is healthy from its own point of view
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - The gate of every rolling restart in this collection. Polls the agent on the managed host, every
    O(interval) seconds with no fixed sleep, until all of these hold at once
  - The agent answers its HTTP API.
  - A leader is known from this node.
  - A catalog read through this node succeeds, so server RPC works and not only gossip.
  - Every member is alive from this node's view, and every name in O(members) is a member.
  - When O(gossip_stage) is set, the agent's own gossip flags are that stage.
  - When O(tls_stage) is set, the agent's own TLS settings are that stage.
  - Fails after O(wait_timeout) seconds with the conditions that still did not hold.
extends_documentation_fragment:
  - keyfleet.encryption.consul
  - keyfleet.encryption.consul.action_group
  - keyfleet.encryption.attributes.info
options:
  wait_timeout:
    description: Seconds to wait for the agent to become healthy.
    type: float
    default: 120
  interval:
    description: Seconds between two polls.
    type: float
    default: 0.25
  raft:
    description:
      - Also wait until every server is healthy in raft (C(/v1/operator/autopilot/health)) and, with 3 servers or
        more, the failure tolerance is at least 1. Serf can call a server alive while it is behind in raft.
      - Use it before a server goes down. The token needs C(operator:read).
    type: bool
    default: false
  members:
    description: Node names that must be alive members from this node's view.
    type: list
    elements: str
    default: []
  gossip_stage:
    description:
      - Gossip stage the agent must report. 0 unencrypted, 1 key with both verify flags off,
        2 verify_outgoing on, 3 both on.
    type: int
    choices: [0, 1, 2, 3]
  tls_stage:
    description:
      - TLS stage the agent must report. 0 no certificate, 1 certificate with the verify flags off,
        2 verify_outgoing and verify_server_hostname on, 3 verify_incoming on as well.
    type: int
    choices: [0, 1, 2, 3]
"""

EXAMPLES = r"""
- name: Wait until the restarted agent is back at gossip stage 2
  keyfleet.encryption.consul_wait:
    gossip_stage: 2
    members: "{{ groups['consul'] }}"
    wait_timeout: 120
"""

RETURN = r"""
elapsed:
  description: Seconds from the first poll until the agent was healthy (or until the timeout).
  returned: always
  type: float
  sample: 1.27
problems:
  description: Conditions that did not hold at the last poll; empty on success.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import (
    COMMON_ARGUMENT_SPEC, client_from_params, wait_healthy)


def main():
    argument_spec = dict(
        COMMON_ARGUMENT_SPEC,
        wait_timeout=dict(type='float', default=120.0),
        interval=dict(type='float', default=0.25),
        members=dict(type='list', elements='str', default=[]),
        gossip_stage=dict(type='int', choices=[0, 1, 2, 3]),
        tls_stage=dict(type='int', choices=[0, 1, 2, 3]),
        raft=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    elapsed, problems = wait_healthy(client_from_params(p), p['wait_timeout'], p['interval'],
                                     expect_stage=p['gossip_stage'], expect_members=p['members'],
                                     expect_tls_stage=p['tls_stage'], expect_raft=p['raft'])
    if problems:
        module.fail_json(msg='agent at %s not healthy after %.1f s: %s' % (' or '.join(p['url']), elapsed, '; '.join(problems)),
                         elapsed=elapsed, problems=problems)
    module.exit_json(changed=False, elapsed=elapsed, problems=[])


if __name__ == '__main__':
    main()
