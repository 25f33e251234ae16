#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_agent_stage
short_description: Bring one Consul agent to a stage of gossip encryption and/or TLS, in one call
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Declarative, for one agent and one stage of a running-cluster migration (or stage 3 of a new cluster).
    In one call on the managed host it
  - reads the agent's stage of each part in O(parts) from its HTTP API. A part already further along is
    never moved back;
  - writes the settings of that stage (the collection's one stage table) into one fragment per part,
    with O(tls_client_certs=auto_encrypt) C(auto_encrypt.allow_tls) on a server, and on a client nothing at stage 1
    and its certificate from the servers from stage 2 on (no certificate file, no HTTPS port),
    atomically, owned by O(owner)/O(group), mode C(0640). The gossip key never appears in the result or the diff;
  - runs C(consul validate) on the whole configuration directory with the new fragments in it, before they
    are written;
  - before the agent goes down, waits until the cluster is whole from its view (O(health_before)), with raft
    healthy when the agent is a server;
  - restarts the agent (never a reload, as Consul reads these settings only at start) when a fragment changed or
    the running agent is not at the stage yet, and only then;
  - waits until the restarted agent is healthy at the stage, as M(keyfleet.encryption.consul_wait) does.
  - Playbooks keep the order across agents (clients in batches, servers one at a time, the leader last).
extends_documentation_fragment:
  - keyfleet.encryption.consul
  - keyfleet.encryption.consul.action_group
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be written and whether the agent would restart; writes, restarts and waits for nothing.
  diff_mode:
    support: full
    details: The gossip key is masked.
options:
  stage:
    description: The stage to bring the agent to, 1 to 3. See the stage table in C(docs/consul-gossip.md) and C(docs/consul-tls.md).
    type: int
    required: true
    choices: [1, 2, 3]
  parts:
    description: The parts that move together in this stage.
    type: list
    elements: str
    required: true
    choices: [gossip, tls]
  gossip_key:
    description: The gossip key (C(encrypt)). Required with O(parts=gossip). Never logged.
    type: str
  gossip_config_file:
    description: The gossip fragment. Required with O(parts=gossip).
    type: path
  rewrite_keyring:
    description:
      - Replace a C(serf/local.keyring) whose primary key is not O(gossip_key) with one holding only O(gossip_key).
        Without it such a keyring stops the module (Consul would ignore O(gossip_key)).
    type: bool
    default: false
  check_keyring:
    description:
      - Check C(serf/local.keyring) against O(gossip_key) (see O(rewrite_keyring)).
      - V(false) where the keyring API manages that file, as in a key rotation.
    type: bool
    default: true
  data_dir:
    description: The agent's data directory, for C(serf/local.keyring). Defaults to the one the running agent reports.
    type: path
  consul_user:
    description: Owner of C(serf/local.keyring) when it is rewritten.
    type: str
    default: consul
  tls_config_file:
    description: The TLS fragment. Required with O(parts=tls).
    type: path
  tls_ca_file:
    description: CA certificate the agent trusts. Required with O(parts=tls).
    type: path
  tls_cert_file:
    description: The agent's certificate. Required with O(parts=tls).
    type: path
  tls_key_file:
    description: The agent's private key. Required with O(parts=tls).
    type: path
  server:
    description:
      - Whether the agent is a server, for an agent that does not answer yet (a new cluster); a running agent's own
        answer wins. Needed with O(tls_client_certs=auto_encrypt), where servers and clients get different settings.
    type: bool
  https_port:
    description: HTTPS port of the API; 0 for none.
    type: int
    default: 0
  http_disabled:
    description: Turn plain HTTP off at stage 3, when O(https_port) is set.
    type: bool
    default: false
  config_dir:
    description: The directory the agent loads, validated as a whole.
    type: path
    required: true
  validate_settings:
    description: Settings the agent gets from its command line (Debian's unit passes C(-data-dir)), for C(consul validate) only.
    type: dict
    default: {}
  consul_binary:
    description: The consul command, for C(consul validate) and the version the settings are written for.
    type: path
    default: consul
  owner:
    description: Owner of the fragments.
    type: str
    default: root
  group:
    description: Group of the fragments (the agent reads them through it).
    type: str
    default: consul
  service:
    description: The agent's systemd unit.
    type: str
    default: consul
  restart:
    description: Restart the agent when needed, and wait at the health gate. V(false) only writes the fragments.
    type: bool
    default: true
  gate:
    description:
      - After a restart, wait until the agent is healthy at the stage.
      - V(false) where every agent starts at once (a new cluster). An agent would wait there for members not started
        yet, holding one of Ansible's forks, so a cluster of more agents than forks would never form.
        M(keyfleet.encryption.consul_wait) then gates them all.
    type: bool
    default: true
  health_before:
    description:
      - Before a restart, wait until every member is alive and a leader is known from this agent (and, on a server,
        raft is healthy with a failure tolerance of at least 1), so a second agent never goes down with the first.
      - V(false) for a new cluster, where nothing runs yet.
    type: bool
    default: true
  members:
    description:
      - Node names that must be alive members before the restart and at the gate.
      - Node names as the agents report them (C(state.node_name) of M(keyfleet.encryption.consul_agent_info)), not
        inventory names, which may differ (an inventory host V(c1.example.com) may be node V(c1)).
      - When set, a member this agent sees that is not in the list (and has not left) stops the module before
        anything is written; every member must go through every stage or it is cut off.
    type: list
    elements: str
    default: []
  wait_timeout:
    description: Seconds each health wait may take before the module fails.
    type: float
    default: 120
  interval:
    description: Seconds between two polls of a health wait.
    type: float
    default: 0.25
"""

EXAMPLES = r"""
- name: Gossip and TLS stage 2 on this agent
  keyfleet.encryption.consul_agent_stage:
    stage: 2
    parts: [gossip, tls]
    gossip_key: "{{ consul_gossip_key }}"
    gossip_config_file: /etc/consul.d/keyfleet-gossip.json
    tls_config_file: /etc/consul.d/keyfleet-tls.json
    tls_ca_file: /etc/consul.d/tls/consul-agent-ca.pem
    tls_cert_file: /etc/consul.d/tls/consul-agent.pem
    tls_key_file: /etc/consul.d/tls/consul-agent-key.pem
    https_port: 8501
    config_dir: /etc/consul.d
    # the node names the agents report, read before with consul_agent_info
    members: "{{ groups['consul'] | map('extract', hostvars, ['consul_info', 'state', 'node_name']) | list }}"
"""

RETURN = r"""
found:
  description: The stage of each part the agent ran at before this call (-1 when it did not answer).
  returned: always
  type: dict
  sample: {gossip: 1, tls: 1}
target:
  description: The stage of each part the agent is brought to (a part further along stays where it is).
  returned: always
  type: dict
  sample: {gossip: 2, tls: 2}
changed_files:
  description: Files written (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
removed_files:
  description:
    - On a client that runs C(auto_encrypt.tls) at the end of the call, its certificate and key files
      (O(tls_cert_file), O(tls_key_file)) from before the switch, removed (or, in check mode, that would be).
      Its certificate comes from the servers; the old key would be a secret left behind.
  returned: always
  type: list
  elements: str
changed_keys:
  description: For each fragment written, the names of the settings that change.
  returned: always
  type: dict
  sample: {/etc/consul.d/keyfleet-gossip.json: [encrypt_verify_outgoing]}
restart_needed:
  description: Whether the agent must restart to run at the target stage.
  returned: always
  type: bool
restarted:
  description: Whether the agent was restarted.
  returned: always
  type: bool
validated:
  description: Whether C(consul validate) accepted the directory (false when nothing changed, or in check mode before the TLS files exist).
  returned: always
  type: bool
gate_before_seconds:
  description: Seconds waited for the cluster to be whole before the restart (null when not waited).
  returned: always
  type: float
gate_seconds:
  description: Seconds the restarted agent took to pass the health gate (null when not restarted).
  returned: always
  type: float
leader:
  description:
    - The leader's node name as this agent sees it when the call ends (after the gate when it restarted); null when
      the agent does not answer or knows no leader. Playbooks order the next stage's restarts by it without reading
      every agent again.
  returned: always
  type: str
seconds:
  description: Seconds the whole call took on the managed host.
  returned: always
  type: float
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import (
    COMMON_ARGUMENT_SPEC, PARTS, ConsulError, ConsulUnreachable, client_from_params, gossip_settings, key_fingerprint,
    FINAL_STAGE, binary_version, leader_name, local_keyring_problem, member_problems, read_local_keyring, tls_settings,
    wait_healthy)
from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_config import (
    ConfigError, changed_keys, masked, read_current, render, validate_dir)
from ansible_collections.keyfleet.encryption.plugins.module_utils._files import attrs_differ, owner_ids, set_attrs, write_private

MODE = 0o640
REQUIRED = {
    'gossip': ('gossip_key', 'gossip_config_file'),
    'tls': ('tls_config_file', 'tls_ca_file', 'tls_cert_file', 'tls_key_file'),
}


class Fragment:
    """One part's settings file: what it holds, what it should hold, whether its owner and mode are right."""

    def __init__(self, path, desired, secret_names, uid, gid):
        self.path, self.desired, self.secret_names = path, desired, secret_names
        self.uid, self.gid = uid, gid
        self.current = read_current(path)
        self.keys = changed_keys(self.current or {}, desired)
        self.content_changed = self.current is None or bool(self.keys)
        self.attrs_changed = not self.content_changed and attrs_differ(path, uid, gid, MODE)

    @property
    def text(self):
        return render(self.desired)

    def diff(self):
        before = self.current or {}
        return dict(before_header=self.path, after_header=self.path,
                    before=render(masked(before, self.secret_names)) if self.current is not None else '',
                    after=render(masked(self.desired, self.secret_names, before)))

    def write(self):
        if self.content_changed:
            write_private(self.path, self.text, MODE, self.uid, self.gid)
        elif self.attrs_changed:
            set_attrs(self.path, self.uid, self.gid, MODE)


def ids(module, owner, group):
    try:
        return owner_ids(owner, group)
    except KeyError as e:
        module.fail_json(msg='no such user or group on the host: %s' % e)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            COMMON_ARGUMENT_SPEC,
            stage=dict(type='int', required=True, choices=[1, 2, 3]),
            parts=dict(type='list', elements='str', required=True, choices=list(PARTS)),
            gossip_key=dict(type='str', no_log=True),
            gossip_config_file=dict(type='path'),
            rewrite_keyring=dict(type='bool', default=False),
            check_keyring=dict(type='bool', default=True),
            data_dir=dict(type='path'),
            consul_user=dict(type='str', default='consul'),
            tls_config_file=dict(type='path'),
            tls_ca_file=dict(type='path'),
            tls_cert_file=dict(type='path'),
            tls_key_file=dict(type='path'),
            server=dict(type='bool'),
            https_port=dict(type='int', default=0),
            http_disabled=dict(type='bool', default=False),
            config_dir=dict(type='path', required=True),
            validate_settings=dict(type='dict', default={}),
            consul_binary=dict(type='path', default='consul'),
            owner=dict(type='str', default='root'),
            group=dict(type='str', default='consul'),
            service=dict(type='str', default='consul'),
            restart=dict(type='bool', default=True),
            gate=dict(type='bool', default=True),
            health_before=dict(type='bool', default=True),
            members=dict(type='list', elements='str', default=[]),
            wait_timeout=dict(type='float', default=120.0),
            interval=dict(type='float', default=0.25),
        ),
        supports_check_mode=True,
    )
    p = module.params
    start = time.monotonic()
    parts = [part for part in PARTS if part in p['parts']]
    missing = [name for part in parts for name in REQUIRED[part] if not p[name]]
    if missing:
        module.fail_json(msg='parts %s need %s' % (', '.join(parts), ', '.join(missing)))

    # What the agent runs with now. Only a stopped agent is "unknown" (-1): an answer that is an error
    # (ACL, certificate) stops here, before anything is written.
    client = client_from_params(p)
    try:
        state = client.agent_self()
    except ConsulUnreachable as e:
        if e.transient:  # timed out after every try: it may run, so its stage is not -1
            module.fail_json(msg='the agent did not answer in time, so its stage cannot be told: %s. Nothing was '
                                 'written; run again once it answers.' % e)
        state = None
    except ConsulError as e:
        module.fail_json(msg=str(e))
    found = dict((part, state[part]['stage'] if state else -1) for part in parts)
    if state and p['members']:
        try:
            problems = member_problems(client.members(), p['members'])
        except ConsulError as e:
            module.fail_json(msg='member list failed: %s' % e)
        if problems:
            module.fail_json(msg='%s: %s Nothing was written.' % (state['node_name'], ' '.join(problems)))
    target = dict((part, max(p['stage'], found[part])) for part in parts)
    server = state['server'] if state else p['server']
    auto = None
    if 'tls' in parts and p['tls_client_certs'] == 'auto_encrypt':
        if server is None:
            module.fail_json(msg='the agent does not answer, so it cannot tell whether it is a server; auto_encrypt '
                                 'settings differ for servers and clients: set server (consul_server).')
        auto = 'server' if server else 'client'
        if auto == 'server':
            # A server is below stage 1 until it runs with allow_tls, but its verify flags never go back: it
            # takes allow_tls at the stage its settings are at (one restart on a cluster that has TLS already).
            target['tls'] = max(p['stage'], state['tls']['files_stage'] if state else -1)
        elif p['stage'] >= 2:
            target['tls'] = FINAL_STAGE  # a client switches in one restart
    consul = module.get_bin_path(p['consul_binary'], required=True)
    uid, gid = ids(module, p['owner'], p['group'])

    fragments = []
    try:
        if 'gossip' in parts:
            fragments.append(Fragment(p['gossip_config_file'], dict(gossip_settings(target['gossip']), encrypt=p['gossip_key']),
                                      {'encrypt'}, uid, gid))
        if 'tls' in parts:
            settings = tls_settings(
                binary_version(module.run_command, consul), target['tls'], p['tls_ca_file'], p['tls_cert_file'],
                p['tls_key_file'], p['https_port'], p['http_disabled'], auto_encrypt=auto)
            # None: an auto_encrypt client before stage 2 keeps the fragment it has.
            if settings is not None and (auto != 'client' or p['stage'] >= 2):
                fragments.append(Fragment(p['tls_config_file'], settings, set(), uid, gid))
    except (ConfigError, ConsulError, OSError) as e:
        module.fail_json(msg=str(e))

    # serf/local.keyring wins over the encrypt setting at start: it must hold the key, or be rewritten.
    keyring_rewrite = None
    if 'gossip' in parts and p['check_keyring']:
        data_dir = p['data_dir'] or (state or {}).get('data_dir')
        if data_dir:
            keyring = os.path.join(data_dir, 'serf', 'local.keyring')
            try:
                prints = read_local_keyring(keyring)
            except ConsulError as e:
                module.fail_json(msg=str(e))
            problem = local_keyring_problem(keyring, prints, key_fingerprint(p['gossip_key']), 'gossip_key')
            if problem:
                if not p['rewrite_keyring']:
                    module.fail_json(msg=problem)
                keyring_rewrite = keyring

    changed_files = [f.path for f in fragments if f.content_changed or f.attrs_changed] + \
        ([keyring_rewrite] if keyring_rewrite else [])
    restart_needed = any(f.content_changed for f in fragments) or keyring_rewrite is not None or any(found[part] != target[part] for part in parts)
    result = dict(changed=bool(changed_files) or (restart_needed and p['restart']), found=found, target=target,
                  changed_files=changed_files, changed_keys=dict((f.path, f.keys) for f in fragments if f.content_changed),
                  restart_needed=restart_needed, restarted=False, validated=False, removed_files=[],
                  gate_before_seconds=None, gate_seconds=None, leader=None)
    if module._diff:
        result['diff'] = [f.diff() for f in fragments if f.content_changed]

    def finish():
        # An auto_encrypt client that runs with its certificate from the servers no longer needs its own: only then.
        if auto == 'client' and target['tls'] == FINAL_STAGE and (
                result['restarted'] or found['tls'] == FINAL_STAGE or (module.check_mode and restart_needed)):
            old = [path for path in (p['tls_cert_file'], p['tls_key_file']) if os.path.lexists(path)]
            if old and not module.check_mode:
                try:
                    for path in old:
                        os.unlink(path)
                except OSError as e:
                    fail('cannot remove %s, which this auto_encrypt client no longer uses: %s' % (path, e))
            result['removed_files'] = old
            result['changed'] = result['changed'] or bool(old)
        try:  # who leads now: the next stage restarts the leader last
            result['leader'] = leader_name(client.leader(), client.members())
        except ConsulError:
            result['leader'] = None
        result['seconds'] = round(time.monotonic() - start, 3)
        module.exit_json(**result)

    def fail(msg):
        result['seconds'] = round(time.monotonic() - start, 3)
        module.fail_json(msg=msg, **result)

    changed_text = dict((os.path.basename(f.path), f.text) for f in fragments if f.content_changed)
    # consul validate reads the certificate files: in check mode of a first run they do not exist yet.
    files_missing = 'tls' in parts and not all(os.path.exists(p[n]) for n in REQUIRED['tls'][1:2 if auto == 'client' else None])
    if changed_text and not (module.check_mode and files_missing):
        refused = validate_dir(module.run_command, consul, p['config_dir'], changed_text, p['validate_settings'])
        if refused:
            fail('consul validate refused %s with the new %s: %s' % (p['config_dir'], ', '.join(sorted(changed_text)), refused))
        result['validated'] = True

    if module.check_mode:
        finish()

    going_down = restart_needed and p['restart']
    if going_down and p['health_before'] and state is not None:
        # A member down since the last gate (a crash) stops here, before a second agent goes down with it.
        waited, problems = wait_healthy(client, p['wait_timeout'], p['interval'], expect_members=p['members'],
                                        expect_raft=state['server'])
        result['gate_before_seconds'] = waited
        if problems:
            result['changed'] = False  # the refusal comes before any write
            fail('%s: the cluster is not whole, so this agent does not go down; nothing was written. After %.1f s: %s'
                 % (state['node_name'], waited, '; '.join(problems)))

    try:
        for fragment in fragments:
            fragment.write()
        if keyring_rewrite:
            write_private(keyring_rewrite, json.dumps([p['gossip_key']]), 0o600, ids(module, p['consul_user'], p['group'])[0], gid)
    except OSError as e:
        fail('cannot write: %s' % e)

    if not going_down:
        finish()
    systemctl = module.get_bin_path('systemctl', required=True)
    rc, out, err = module.run_command([systemctl, 'restart', p['service']])
    if rc != 0:
        fail('systemctl restart %s failed: %s' % (p['service'], (out + err).strip()))
    result['restarted'] = True
    if not p['gate']:
        finish()
    waited, problems = wait_healthy(client, p['wait_timeout'], p['interval'],
                                    expect_stage=target.get('gossip'), expect_members=p['members'],
                                    expect_tls_stage=target.get('tls'))
    result['gate_seconds'] = waited
    if problems:
        fail('the agent is not healthy at stage %s %s after %.1f s: %s. Its settings stay; run again once it is '
             'healthy, and the run resumes here.' % (p['stage'], '+'.join(parts), waited, '; '.join(problems)))
    finish()


if __name__ == '__main__':
    main()
