#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_agent_info
short_description: Read a Consul agent's encryption state through its HTTP API
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Reads C(/v1/agent/self), C(/v1/agent/members), C(/v1/status/leader) and C(/v1/operator/keyring) of the
    agent on the managed host and returns a normalized encryption state, the same for Consul 1.8-1.11
    (flat C(DebugConfig)) and 1.12+ (C(StaticRuntimeConfig) and C(TLS.InternalRPC)).
  - Gossip keys are never returned, only their fingerprints (the first 16 hex digits of the SHA-256 of the
    base64 key, as C(key | hash('sha256'))) so the result is safe to log.
  - Also reads C(<data_dir>/serf/local.keyring), which decides the key a restarted agent uses whatever the
    C(encrypt) setting says. This works while the agent is stopped.
  - An agent that does not answer (connection refused, no such host) is not an error. RV(reachable) is V(false) and
    RV(error) says why, so callers can tell a stopped agent from a broken one.
  - A read that times out or is reset is tried 3 times, 1 second apart; if it still fails the task fails, as the
    agent may be running (a slow agent is never taken for a stopped or new one).
  - An agent that answers but cannot be read fails the task - an HTTP error such as 401/403 (the message names the
    ACL permission the token needs) or a certificate the client refuses - so it is never taken for a stopped agent.
  - A C(serf/local.keyring) that exists but cannot be read (permission denied) fails the task.
extends_documentation_fragment:
  - keyfleet.encryption.consul
  - keyfleet.encryption.consul.action_group
  - keyfleet.encryption.attributes.info
options:
  data_dir:
    description:
      - Data directory of the agent, to find C(serf/local.keyring).
      - Defaults to the data directory the running agent reports. A value that contradicts the running agent
        fails, naming C(consul_data_dir). Needed only to read C(serf/local.keyring) while the agent is stopped.
    type: path
  consul_binary:
    description:
      - The consul command. When set, RV(binary_version) is the version it reports, which is the version
        the agent runs after its next restart (and the one to write its configuration for).
    type: path
  gossip_key:
    description:
      - Also return the primary gossip key of the agent's LAN ring in RV(gossip_primary_key), so a key the cluster
        already runs with is escrowed (adopted) instead of a new one made. The token needs C(operator:read).
      - The key is a secret - set C(no_log) on the task. A keyring that cannot be read (HTTP 403, gossip off, a
        rotation half done) fails the task; it is never taken as "no key".
    type: bool
    default: false
    version_added: 1.0.0
  keyring:
    description:
      - Read the keyring (RV(keyring)). Its read is a query to every member, which a member that has just restarted
        may answer late; V(false) for a read that needs only the state, the members and the leader.
    type: bool
    default: true
    version_added: 1.0.0
  datacenter:
    description:
      - The datacenter the inventory says the agent is in (C(consul_datacenter)). A value the running agent
        contradicts is named in RV(problems); unset, nothing is compared.
    type: str
    version_added: 1.0.0
  domain:
    description:
      - The DNS domain the inventory gives (C(consul_domain)), compared with the running agent's like O(datacenter).
        A trailing dot does not count.
    type: str
    version_added: 1.0.0
  node_name:
    description:
      - The node name the inventory gives (C(consul_node_name)), compared with the running agent's like O(datacenter).
    type: str
    version_added: 1.0.0
  server:
    description:
      - Whether the inventory says the agent is a server (C(consul_server)), compared with the running agent's answer
        like O(datacenter); a contradiction is named in RV(problems). Its certificate would otherwise carry the wrong
        kind of names.
    type: bool
    version_added: 1.0.0
  served_certificate:
    description:
      - Also return the certificate the agent serves on its HTTPS API (the first HTTPS URL of O(url)), read from the
        TLS handshake, in RV(served_certificate_pem) - what the agent uses now, which after a file change is known
        only once it reloaded. Not verified on the agent; the controller judges it (a CA rotation's gates).
      - An agent that answers but whose certificate cannot be read fails the task.
      - Not read from a client that runs C(auto_encrypt.tls), which serves the Connect CA's certificate, not one of
        the controller's.
    type: bool
    default: false
    version_added: 1.0.0
  trusted_ca_file:
    description:
      - When set, RV(trusted_ca_pem) holds the CA certificates the agent trusts, so one call reads both the state
        and the CA (a run must never make a new CA for agents that trust another).
      - The file read is the C(ca_file) the running agent reports; this path only when the agent does not answer.
      - A file the agent names that cannot be read stops the module; a missing O(trusted_ca_file) of an agent that
        does not answer is no CA.
    type: path
"""

EXAMPLES = r"""
- name: Read the agent's state
  keyfleet.encryption.consul_agent_info:
    data_dir: /var/lib/consul
  register: consul_info

- name: Show the gossip stage
  ansible.builtin.debug:
    msg: "{{ consul_info.state.gossip.stage if consul_info.reachable else 'agent down' }}"
"""

RETURN = r"""
reachable:
  description: Whether the agent answered.
  returned: always
  type: bool
error:
  description: Why the agent could not be read.
  returned: when RV(reachable) is false
  type: str
state:
  description: Normalized encryption state of the agent.
  returned: when RV(reachable) is true
  type: dict
  contains:
    node_name: {description: Node name., type: str}
    datacenter: {description: Datacenter., type: str}
    version: {description: Consul version., type: str}
    server: {description: Whether the agent is a server., type: bool}
    data_dir: {description: Data directory., type: str}
    domain: {description: DNS domain (C(domain) setting) without a trailing dot., type: str}
    config_layout: {description: "V(1.8-1.11) or V(1.12+).", type: str}
    gossip:
      description: Gossip encryption.
      type: dict
      contains:
        enabled: {description: Gossip is encrypted (C(serf_lan.encrypted)), type: bool}
        verify_incoming: {description: C(encrypt_verify_incoming)., type: bool}
        verify_outgoing: {description: C(encrypt_verify_outgoing)., type: bool}
        stage:
          description: >-
            Migration stage. 0 unencrypted, 1 key with both verify flags off, 2 verify_outgoing on,
            3 both verify flags on.
          type: int
    tls:
      description: TLS settings of internal RPC.
      type: dict
      contains:
        verify_incoming: {description: verify_incoming., type: bool}
        verify_outgoing: {description: verify_outgoing., type: bool}
        verify_server_hostname: {description: verify_server_hostname., type: bool}
        ca_file: {description: CA file., type: str}
        cert_file: {description: Certificate file., type: str}
        https_cert_file: {description: Certificate file of the HTTPS API., type: str}
        https_port: {description: HTTPS port of the API (0 when off)., type: int}
        http_port: {description: Plain HTTP port of the API (-1 when off)., type: int}
        stage:
          description: >-
            Migration stage. 0 no certificate, 1 certificate with the verify flags off,
            2 verify_outgoing and verify_server_hostname on, 3 verify_incoming on as well.
          type: int
  sample:
    node_name: node1
    datacenter: dc1
    version: 1.8.7
    server: true
    data_dir: /var/lib/consul
    domain: consul
    config_layout: 1.8-1.11
    gossip: {enabled: true, verify_incoming: true, verify_outgoing: true, stage: 3}
    tls: {verify_incoming: false, verify_outgoing: false, verify_server_hostname: false,
          ca_file: '', cert_file: '', https_cert_file: '', https_port: 0, http_port: 8500, stage: 0}
members:
  description: Members as this agent sees them.
  returned: when RV(reachable) is true
  type: list
  elements: dict
  sample: [{name: node1, address: 10.89.0.2, status: alive, status_code: 1, server: true}]
leader:
  description: Leader address (C(ip:port)); empty when this agent knows no leader.
  returned: when RV(reachable) is true
  type: str
leader_name:
  description: Member name of the leader, when it can be matched.
  returned: when RV(reachable) is true
  type: str
keyring:
  description: Rings with key fingerprints, key counts and primary keys; empty when gossip is not encrypted.
  returned: when RV(reachable) is true and O(keyring) is true
  type: list
  elements: dict
  sample: [{wan: false, datacenter: dc1, segment: '', num_nodes: 3, keys: {0a1b2c3d4e5f6a7b: 3},
            primary_keys: [0a1b2c3d4e5f6a7b]}]
keyring_error:
  description: Why the keyring could not be read (for example gossip encryption off).
  returned: when the keyring could not be read
  type: str
binary_version:
  description: Version of O(consul_binary), for example V(1.8.7).
  returned: when O(consul_binary) is set
  type: str
trusted_ca_pem:
  description: The text of the CA file the agent trusts (certificates are public); empty when it trusts none.
  returned: when O(trusted_ca_file) is set
  type: str
served_certificate_pem:
  description: The certificate the agent serves on its HTTPS API (public), PEM.
  returned: when O(served_certificate) is true and the agent answers; null on a client that runs C(auto_encrypt.tls)
  type: str
  version_added: 1.0.0
gossip_primary_key:
  description: The primary gossip key of the LAN ring (a secret). Only with O(gossip_key) and gossip encryption on.
  returned: when O(gossip_key) is true and gossip is encrypted
  type: str
problems:
  description:
    - Inventory values the running agent contradicts (O(datacenter), O(domain), O(node_name)), one sentence each,
      naming the variable to correct. Empty when the agent agrees or does not answer.
  returned: always
  type: list
  elements: str
  version_added: 1.0.0
local_keyring:
  description: Fingerprints of the keys in C(serf/local.keyring); null when the file does not exist.
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import (
    COMMON_ARGUMENT_SPEC, ConsulError, ConsulUnreachable, client_from_params, binary_version, contradiction_problems,
    leader_name, read_local_keyring, served_certificate)


MAX_CA_FILE = 256 * 1024


def read_trusted_ca(module, result):
    """The CA file the agent trusts: the running agent's ca_file (none: no CA), else trusted_ca_file."""
    path = result['state']['tls']['ca_file'] if result['reachable'] else module.params['trusted_ca_file']
    if not path:
        return ''
    try:
        # A CA file is a few kilobytes: one far larger is refused, never parsed (its text goes to the controller).
        if os.path.getsize(path) > MAX_CA_FILE:
            module.fail_json(msg='the CA file %s is larger than %d bytes: no CA file is; look at it' % (path, MAX_CA_FILE), **result)
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        if not result['reachable']:  # an agent not running yet may have no files at all
            return ''
        module.fail_json(msg='the agent trusts %s, which does not exist' % path, **result)
    except (IOError, OSError, UnicodeDecodeError) as e:  # unreadable is never "no CA": a new CA would split the cluster
        module.fail_json(msg='cannot read the CA file %s: %s' % (path, e), **result)


def main():
    argument_spec = dict(COMMON_ARGUMENT_SPEC, data_dir=dict(type='path'), consul_binary=dict(type='path'),
                         trusted_ca_file=dict(type='path'), gossip_key=dict(type='bool', default=False),
                         datacenter=dict(type='str'), domain=dict(type='str'), node_name=dict(type='str'), server=dict(type='bool'),
                         keyring=dict(type='bool', default=True), served_certificate=dict(type='bool', default=False))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    client = client_from_params(module.params)
    result = dict(changed=False, reachable=False, problems=[])

    data_dir = module.params['data_dir']
    try:
        state = client.agent_self()
    except ConsulUnreachable as e:
        if e.transient:  # timed out or reset after every try: it may well run, so never "not running" (or new)
            module.fail_json(msg='the agent did not answer in time, so whether it runs cannot be told: %s. Run again '
                                 'once it answers (a slow agent is never taken as a stopped one).' % e, **result)
        result['error'] = str(e)
    except ConsulError as e:  # it answers but cannot be read (ACL, certificate): never "not running"
        module.fail_json(msg='the agent answers but cannot be read: %s' % e, **result)
    else:
        result.update(reachable=True, state=state, problems=contradiction_problems(
            state, module.params['datacenter'], module.params['domain'], module.params['node_name'], module.params['server']))
        if data_dir and os.path.realpath(data_dir) != os.path.realpath(state['data_dir'] or data_dir):
            module.fail_json(msg='consul_data_dir is %s, but the agent runs with data_dir %s. Set consul_data_dir to %s '
                                 'or leave it unset (the running agent\'s is used).'
                                 % (data_dir, state['data_dir'], state['data_dir']), **result)
        data_dir = state['data_dir'] or data_dir
        try:
            result['members'] = client.members()
            result['leader'] = client.leader()
            result['leader_name'] = leader_name(result['leader'], result['members'])
        except ConsulError as e:
            module.fail_json(msg='agent answered /v1/agent/self but not the next query: %s' % e, **result)
        try:
            if module.params['keyring']:
                result['keyring'] = client.keyring() if state['gossip']['enabled'] else []
        except ConsulError as e:
            result['keyring'] = []
            result['keyring_error'] = str(e)
        if module.params['gossip_key'] and state['gossip']['enabled']:
            try:
                result['gossip_primary_key'] = client.primary_gossip_key()
            except ConsulError as e:  # never "no key": a new one would split the cluster
                module.fail_json(msg='cannot read the gossip key this agent runs with, to escrow it: %s. Give the token '
                                     'operator:read, or set consul_gossip_key to the key in use.' % e, **result)

    # An auto_encrypt client serves no certificate of the controller's: its own, from the servers, is in its memory.
    if module.params['served_certificate'] and result['reachable'] and state['tls']['auto_encrypt'] and not state['server']:
        result['served_certificate_pem'] = None
    elif module.params['served_certificate'] and result['reachable']:
        try:
            result['served_certificate_pem'] = served_certificate(client)
        except ConsulError as e:
            module.fail_json(msg=str(e), **result)

    if module.params['consul_binary']:
        binary = module.get_bin_path(module.params['consul_binary'], required=True)
        try:
            result['binary_version'] = binary_version(module.run_command, binary)
        except ConsulError as e:
            module.fail_json(msg=str(e), **result)

    if module.params['trusted_ca_file']:
        result['trusted_ca_pem'] = read_trusted_ca(module, result)

    try:
        result['local_keyring'] = read_local_keyring(os.path.join(data_dir, 'serf', 'local.keyring')) if data_dir else None
    except ConsulError as e:
        module.fail_json(msg=str(e), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
