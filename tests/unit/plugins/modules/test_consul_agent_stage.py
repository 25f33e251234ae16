# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import grp
import json
import os
import pwd
import stat

import pytest

from ansible_collections.keyfleet.encryption.plugins.module_utils import _consul as c
from ansible_collections.keyfleet.encryption.plugins.modules import consul_agent_stage

KEY = 'pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s='
OTHER = 'HS5lJ+XuTlYKWaeGYyG+/A4n3bJ8Y2kW1o4tQ7wq9Ts='


class Agent:
    """The agent as its API shows it: the stage it runs at moves only when systemctl restarts it."""

    def __init__(self, log, gossip=0, tls=0, data_dir=None, error=None):
        self.log, self.running, self.data_dir, self.error = log, {'gossip': gossip, 'tls': tls}, data_dir, error
        # auto_encrypt: the kind, the read mode (the module's tls_client_certs) and the auto_encrypt flags it runs with
        self.server, self.mode, self.flags = True, 'per_agent', {}

    def agent_self(self):
        if self.error:
            raise self.error
        tls = {'stage': self.running['tls'], 'files_stage': self.running['tls'], 'auto_encrypt': False,
               'auto_encrypt_allow_tls': False, 'verify_outgoing': False, 'verify_server_hostname': False, 'ca_file': ''}
        tls.update(self.flags)
        tls['stage'] = c.agent_tls_stage(tls, self.server, self.mode)
        return {'node_name': 'node1', 'server': self.server, 'data_dir': self.data_dir,
                'gossip': {'stage': self.running['gossip']}, 'tls': tls}

    def members(self):
        return [dict(name=name, address='10.0.0.%d' % i, status=status, server=True)
                for i, (name, status) in enumerate(self.members_seen, 1)]

    def leader(self):
        return '10.0.0.2:8300'


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """A config dir, fake `consul` (version, validate) and `systemctl` (records restarts), and a fake agent."""
    bin_dir, conf, log = tmp_path / 'bin', tmp_path / 'consul.d', tmp_path / 'log'
    bin_dir.mkdir()
    conf.mkdir()
    (conf / 'base.hcl').write_text('server = true\n')
    (bin_dir / 'consul').write_text(
        '#!/bin/sh\nif [ "$1" = version ]; then echo "Consul v1.8.7"; exit 0; fi\n'
        'echo validate >> %s\nif grep -q invalid "$2"/*; then echo "Config validation failed: bad"; exit 1; fi\n' % log)
    (bin_dir / 'systemctl').write_text('#!/bin/sh\necho "$@" >> %s\n' % log)
    for tool in ('consul', 'systemctl'):
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv('PATH', '%s:%s' % (bin_dir, os.environ['PATH']))
    agent = Agent(log)
    agent.members_seen = [('node1', 'alive'), ('node2', 'alive'), ('node3', 'left')]
    gates = []

    def wait_healthy(client, timeout, interval=0.25, expect_stage=None, expect_members=None,
                     expect_tls_stage=None, expect_raft=False):
        gates.append(dict(gossip=expect_stage, tls=expect_tls_stage, members=expect_members, raft=expect_raft))
        if agent.unhealthy:
            return 1.5, ['member node2 is failed']
        return 0.1, []

    restarts = []
    real_open = open

    def restart_now():
        # what systemctl restart does to the fake agent: it starts with the fragments on disk
        for part, name in (('gossip', 'keyfleet-gossip.json'), ('tls', 'keyfleet-tls.json')):
            path = conf / name
            if path.exists():
                with real_open(path) as f:
                    data = json.load(f)
                flags = {'encrypt': 'encrypt' in data, 'files': 'cert_file' in data,
                         'verify_outgoing': data.get('encrypt_verify_outgoing', data.get('verify_outgoing')),
                         'verify_incoming': data.get('encrypt_verify_incoming', data.get('verify_incoming'))}
                agent.running[part] = c.stage_of(part, flags)
                if part == 'tls':
                    auto = data.get('auto_encrypt', {})
                    agent.flags = {'auto_encrypt': bool(auto.get('tls')), 'auto_encrypt_allow_tls': bool(auto.get('allow_tls')),
                                   'verify_outgoing': bool(data.get('verify_outgoing')),
                                   'verify_server_hostname': bool(data.get('verify_server_hostname')),
                                   'ca_file': data.get('ca_file', '')}

    agent.unhealthy = False

    def client_from_params(params):
        agent.mode = params.get('tls_client_certs') or 'per_agent'
        return agent
    monkeypatch.setattr(consul_agent_stage, 'client_from_params', client_from_params)
    monkeypatch.setattr(consul_agent_stage, 'wait_healthy', wait_healthy)
    real_run = consul_agent_stage.AnsibleModule.run_command

    def run_command(self, args, **kwargs):
        if os.path.basename(args[0]) == 'systemctl':
            restarts.append(args[1:])
            restart_now()
        return real_run(self, args, **kwargs)
    monkeypatch.setattr(consul_agent_stage.AnsibleModule, 'run_command', run_command)

    certs = {}
    for name in ('ca', 'cert', 'key'):
        certs[name] = tmp_path / ('%s.pem' % name)
        certs[name].write_text('pem\n')
    args = dict(stage=1, parts=['gossip', 'tls'], gossip_key=KEY, config_dir=str(conf),
                gossip_config_file=str(conf / 'keyfleet-gossip.json'), tls_config_file=str(conf / 'keyfleet-tls.json'),
                tls_ca_file=str(certs['ca']), tls_cert_file=str(certs['cert']), tls_key_file=str(certs['key']),
                https_port=8501, members=['node1', 'node2'],
                owner=pwd.getpwuid(os.getuid()).pw_name, group=grp.getgrgid(os.getgid()).gr_name)
    return dict(agent=agent, gates=gates, restarts=restarts, args=args, conf=conf, log=log, tmp=tmp_path)


def test_each_stage_once_then_nothing(lab, run_module, leaked):
    results = []
    for stage in (1, 2, 3):
        args = dict(lab['args'], stage=stage)
        check, apply, again = (run_module(consul_agent_stage, args, check_mode=True), run_module(consul_agent_stage, args),
                               run_module(consul_agent_stage, args))
        assert check['changed'] and check['restart_needed'] and not check['restarted']
        assert apply['changed'] and apply['restarted'] and apply['target'] == {'gossip': stage, 'tls': stage}
        assert not again['changed'] and not again['restarted'] and again['found'] == {'gossip': stage, 'tls': stage}
        assert apply['leader'] == again['leader'] == 'node2'
        results += [check, apply, again]
    # one restart per stage, each after the cluster was whole (raft asked: a server), each gated at its stage
    assert lab['restarts'] == [['restart', 'consul']] * 3
    assert [(g['gossip'], g['tls'], g['raft']) for g in lab['gates']] == [
        (None, None, True), (1, 1, False), (None, None, True), (2, 2, False), (None, None, True), (3, 3, False)]
    gossip = json.loads((lab['conf'] / 'keyfleet-gossip.json').read_text())
    assert gossip == {'encrypt': KEY, 'encrypt_verify_incoming': True, 'encrypt_verify_outgoing': True}
    tls = json.loads((lab['conf'] / 'keyfleet-tls.json').read_text())
    assert tls['verify_incoming'] and tls['verify_server_hostname'] and tls['ports'] == {'https': 8501}
    for name in ('keyfleet-gossip.json', 'keyfleet-tls.json'):
        assert stat.S_IMODE(os.stat(str(lab['conf'] / name)).st_mode) == 0o640
    # the key is in no result and no diff, as the module wrote them (before Ansible's masking)
    assert not leaked(KEY, *results)
    assert '********' in results[1]['diff'][0]['after']


def test_check_mode_writes_restarts_and_waits_for_nothing(lab, run_module):
    result = run_module(consul_agent_stage, lab['args'], check_mode=True)
    assert result['changed_files'] == [lab['args']['gossip_config_file'], lab['args']['tls_config_file']]
    assert sorted(os.listdir(str(lab['conf']))) == ['base.hcl']
    assert lab['restarts'] == [] and lab['gates'] == []


def test_a_part_further_along_is_not_moved_back(lab, run_module):
    lab['agent'].running['gossip'] = 3
    result = run_module(consul_agent_stage, dict(lab['args'], stage=1))
    assert result['target'] == {'gossip': 3, 'tls': 1}
    assert json.loads((lab['conf'] / 'keyfleet-gossip.json').read_text())['encrypt_verify_incoming'] is True


def test_a_stopped_run_resumes_with_the_restart_it_missed(lab, run_module):
    run_module(consul_agent_stage, lab['args'], check_mode=False)
    lab['agent'].running.update(gossip=1, tls=1)
    written = dict(lab['args'], stage=2, restart=False)
    assert run_module(consul_agent_stage, written)['restart_needed']  # settings written, the agent not restarted
    assert len(lab['restarts']) == 1
    resumed = run_module(consul_agent_stage, dict(lab['args'], stage=2))
    assert resumed['changed_files'] == [] and resumed['restarted'] and len(lab['restarts']) == 2


def test_a_cluster_not_whole_stops_before_anything_is_written(lab, run_module):
    lab['agent'].running.update(gossip=0, tls=0)
    lab['agent'].unhealthy = True
    result = run_module(consul_agent_stage, lab['args'])
    assert result['failed'] and 'the cluster is not whole' in result['msg'] and 'node2 is failed' in result['msg']
    assert sorted(os.listdir(str(lab['conf']))) == ['base.hcl'] and lab['restarts'] == [] and not result['changed']


def test_an_agent_that_refuses_the_token_stops_before_anything_is_written(lab, run_module):
    lab['agent'].error = c.ConsulError('GET http://127.0.0.1:8500/v1/agent/self: HTTP 403 Permission denied')
    result = run_module(consul_agent_stage, lab['args'])
    assert result['failed'] and 'HTTP 403' in result['msg']
    assert sorted(os.listdir(str(lab['conf']))) == ['base.hcl'] and lab['restarts'] == []


def test_a_stopped_agent_is_started_at_the_stage_without_the_wait_before(lab, run_module):
    lab['agent'].error = c.ConsulUnreachable('connection refused')
    result = run_module(consul_agent_stage, dict(lab['args'], stage=3, health_before=False))
    assert result['found'] == {'gossip': -1, 'tls': -1} and result['restarted']


def test_an_agent_that_times_out_is_not_taken_as_stopped_and_nothing_is_written(lab, run_module):
    lab['agent'].error = c.ConsulUnreachable('GET http://127.0.0.1:8500/v1/agent/self: timed out', transient=True)
    result = run_module(consul_agent_stage, dict(lab['args'], stage=3, health_before=False))
    assert result['failed'] and 'did not answer in time' in result['msg']
    assert sorted(os.listdir(str(lab['conf']))) == ['base.hcl'] and lab['restarts'] == []


def test_consul_validate_refusal_writes_nothing(lab, run_module):
    result = run_module(consul_agent_stage, dict(lab['args'], tls_ca_file='/invalid/ca.pem'))
    assert result['failed'] and 'consul validate refused' in result['msg']
    assert sorted(os.listdir(str(lab['conf']))) == ['base.hcl'] and lab['restarts'] == []


def test_a_keyring_with_another_primary_key_stops_unless_rewritten(lab, run_module, leaked):
    serf = lab['tmp'] / 'data' / 'serf'
    serf.mkdir(parents=True)
    (serf / 'local.keyring').write_text(json.dumps([OTHER, KEY]))
    lab['agent'].data_dir = str(lab['tmp'] / 'data')
    args = dict(lab['args'], parts=['gossip'], consul_user=pwd.getpwuid(os.getuid()).pw_name)
    refused = run_module(consul_agent_stage, args)
    assert refused['failed'] and 'Consul would ignore the encrypt setting' in refused['msg'] and lab['restarts'] == []
    assert not leaked(OTHER, refused) and not leaked(KEY, refused)
    rewritten = run_module(consul_agent_stage, dict(args, rewrite_keyring=True))
    assert rewritten['restarted'] and json.loads((serf / 'local.keyring').read_text()) == [KEY]
    assert stat.S_IMODE(os.stat(str(serf / 'local.keyring')).st_mode) == 0o600


def test_an_unhealthy_agent_after_the_restart_fails_and_says_the_run_resumes(lab, run_module, monkeypatch):
    calls = []

    def wait(*a, **kw):
        calls.append(kw)
        return (0.1, []) if len(calls) == 1 else (120.0, ['gossip stage is 0, expected 1'])
    monkeypatch.setattr(consul_agent_stage, 'wait_healthy', wait)
    result = run_module(consul_agent_stage, lab['args'])
    assert result['failed'] and result['restarted'] and 'resumes' in result['msg']


def test_a_member_outside_the_run_stops_before_any_write(lab, run_module):
    lab['agent'].members_seen.append(('node4', 'alive'))
    result = run_module(consul_agent_stage, lab['args'])
    assert result['failed'] and 'members not among the hosts of this run (group consul): node4.' in result['msg']
    assert not os.path.exists(lab['args']['gossip_config_file']) and lab['restarts'] == []


# --- auto_encrypt (tls_client_certs=auto_encrypt): measured on 1.8.7, docs/consul-tls.md

def _tls_fragment(lab):
    path = lab['conf'] / 'keyfleet-tls.json'
    return json.loads(path.read_text()) if path.exists() else None


def test_auto_encrypt_client_switches_once_at_stage_2(lab, run_module):
    lab['agent'].server = False
    args = dict(lab['args'], parts=['tls'], tls_client_certs='auto_encrypt')
    first = run_module(consul_agent_stage, dict(args, stage=1))
    # Stage 1: nothing of its own to do (the servers take allow_tls first); no fragment, no restart.
    assert not first['changed'] and not first['restarted'] and first['found'] == first['target'] == {'tls': 1}
    assert _tls_fragment(lab) is None
    check = run_module(consul_agent_stage, dict(args, stage=2), check_mode=True)
    assert check['restart_needed'] and check['removed_files'] == [args['tls_cert_file'], args['tls_key_file']]
    assert os.path.exists(args['tls_key_file'])  # check mode removes nothing
    second = run_module(consul_agent_stage, dict(args, stage=2))
    assert second['restarted'] and second['target'] == {'tls': 3}
    # Its own certificate and key from before the switch are gone: the key would be a secret left behind.
    assert second['removed_files'] == [args['tls_cert_file'], args['tls_key_file']]
    assert not os.path.lexists(args['tls_cert_file']) and not os.path.lexists(args['tls_key_file'])
    fragment = _tls_fragment(lab)
    # Its certificate from the servers: no certificate file, no HTTPS port (it would serve the Connect CA's), and
    # verify_incoming off (no local tool could present the certificate it keeps in memory).
    assert fragment == {'ca_file': lab['args']['tls_ca_file'], 'verify_incoming': False, 'verify_outgoing': True,
                        'verify_server_hostname': True, 'auto_encrypt': {'tls': True}}
    third = run_module(consul_agent_stage, dict(args, stage=3))
    assert not third['changed'] and not third['restarted'] and third['found'] == {'tls': 3} and third['removed_files'] == []
    assert lab['restarts'] == [['restart', 'consul']]
    assert [g['tls'] for g in lab['gates'] if g['tls'] is not None] == [3]


def test_auto_encrypt_server_takes_allow_tls_with_its_files(lab, run_module):
    args = dict(lab['args'], parts=['tls'], tls_client_certs='auto_encrypt')
    for stage in (1, 2, 3):
        applied = run_module(consul_agent_stage, dict(args, stage=stage))
        assert applied['restarted'] and applied['target'] == {'tls': stage}
        assert _tls_fragment(lab)['auto_encrypt'] == {'allow_tls': True}
    assert not run_module(consul_agent_stage, dict(args, stage=3))['changed']
    assert len(lab['restarts']) == 3


def test_auto_encrypt_server_of_a_tls_cluster_restarts_once_and_keeps_its_verify_flags(lab, run_module):
    # A per-agent stage-3 server without allow_tls reads as below stage 1 in auto_encrypt mode.
    lab['agent'].running['tls'] = 3
    lab['agent'].flags = {'verify_outgoing': True, 'verify_server_hostname': True, 'ca_file': '/ca.pem'}
    args = dict(lab['args'], parts=['tls'], tls_client_certs='auto_encrypt')
    first = run_module(consul_agent_stage, dict(args, stage=1))
    assert first['found'] == {'tls': 0} and first['target'] == {'tls': 3} and first['restarted']
    fragment = _tls_fragment(lab)
    # Never back to stage 1's flags: the running cluster's verify_incoming stays on.
    assert fragment['verify_incoming'] and fragment['verify_outgoing'] and fragment['auto_encrypt'] == {'allow_tls': True}
    assert [g['tls'] for g in lab['gates'] if g['tls'] is not None] == [3]
    for stage in (2, 3):
        assert not run_module(consul_agent_stage, dict(args, stage=stage))['changed']
    assert lab['restarts'] == [['restart', 'consul']]


def test_auto_encrypt_needs_the_kind_of_an_agent_that_does_not_answer(lab, run_module):
    lab['agent'].error = c.ConsulUnreachable('connection refused')
    args = dict(lab['args'], parts=['tls'], tls_client_certs='auto_encrypt', stage=3, health_before=False, members=[])
    refused = run_module(consul_agent_stage, args)
    assert refused["failed"]
    assert 'set server (consul_server)' in refused['msg'] and _tls_fragment(lab) is None


def test_a_new_cluster_starts_without_the_gate(lab, run_module):
    # Every agent of a new cluster starts at once; waiting here for members not started yet would hold a fork.
    lab['agent'].error = c.ConsulUnreachable('connection refused')
    args = dict(lab['args'], stage=3, health_before=False, gate=False)
    applied = run_module(consul_agent_stage, args)
    assert applied['restarted'] and applied['gate_seconds'] is None and not applied.get('failed')
    assert lab['restarts'] == [['restart', 'consul']] and lab['gates'] == []


def test_gossip_alone(lab, run_module):
    # No TLS part: nothing of TLS is read or written (a gossip-only run once failed on a TLS key here).
    args = dict(lab['args'], parts=['gossip'], stage=1)
    for check_mode in (True, False):
        applied = run_module(consul_agent_stage, args, check_mode=check_mode)
        assert not applied.get('failed') and applied['target'] == {'gossip': 1}, applied
    assert applied['restarted'] and _tls_fragment(lab) is None
