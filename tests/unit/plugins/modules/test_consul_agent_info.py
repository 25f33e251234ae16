# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.keyfleet.encryption.plugins.module_utils import _consul as c
from ansible_collections.keyfleet.encryption.plugins.modules import consul_agent_info

CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


class Agent:
    def __init__(self, ca_file=None, running=True):
        self.ca_file, self.running = ca_file, running
        self.server, self.auto_encrypt = True, False

    def agent_self(self):
        if not self.running:
            raise c.ConsulUnreachable('connection refused')
        return {'node_name': 'node1', 'server': self.server, 'data_dir': None, 'gossip': {'enabled': False, 'stage': -1},
                'tls': {'ca_file': self.ca_file or '', 'stage': 1 if self.ca_file else 0, 'auto_encrypt': self.auto_encrypt}}

    def members(self):
        return [dict(name='node1', address='10.0.0.1', status='alive', server=True)]

    def leader(self):
        return '10.0.0.1:8300'


@pytest.fixture
def agent(monkeypatch):
    holder = Agent()
    monkeypatch.setattr(consul_agent_info, 'client_from_params', lambda params: holder)
    return holder


def test_the_ca_the_running_agent_names_not_the_default_path(agent, run_module, tmp_path):
    (tmp_path / 'theirs.pem').write_text(CA)
    (tmp_path / 'default.pem').write_text('not this')
    agent.ca_file = str(tmp_path / 'theirs.pem')
    result = run_module(consul_agent_info, dict(trusted_ca_file=str(tmp_path / 'default.pem')))
    assert result['trusted_ca_pem'] == CA and result['leader_name'] == 'node1'


def test_no_ca_file_means_no_ca_only_where_nothing_is_named(agent, run_module, tmp_path):
    assert run_module(consul_agent_info, dict(trusted_ca_file=str(tmp_path / 'none.pem')))['trusted_ca_pem'] == ''
    agent.running = False  # an agent not running yet: its missing default file is no CA
    assert run_module(consul_agent_info, dict(trusted_ca_file=str(tmp_path / 'none.pem')))['trusted_ca_pem'] == ''
    agent.running, agent.ca_file = True, str(tmp_path / 'gone.pem')  # named but missing: never "no CA"
    result = run_module(consul_agent_info, dict(trusted_ca_file=str(tmp_path / 'none.pem')))
    assert result['failed'] and 'gone.pem' in result['msg']


def test_an_unreadable_ca_file_stops_the_read(agent, run_module, tmp_path):
    # a directory fails to read as a file without a permission would (root reads any file)
    agent.ca_file = str(tmp_path)
    result = run_module(consul_agent_info, dict(trusted_ca_file=str(tmp_path / 'default.pem')))
    assert result['failed'] and 'cannot read the CA file' in result['msg']


def test_unset_connection_options_come_from_the_consul_cli_environment(monkeypatch, run_module):
    seen = {}

    def capture(params):
        seen.update(params)
        seen['client'] = c.client_from_params(params)
        return Agent()
    monkeypatch.setattr(consul_agent_info, 'client_from_params', capture)
    monkeypatch.setenv('CONSUL_HTTP_ADDR', 'consul.example:8501')
    monkeypatch.setenv('CONSUL_HTTP_SSL', 'true')
    monkeypatch.setenv('CONSUL_HTTP_TOKEN', 'from-env')
    monkeypatch.setenv('CONSUL_CACERT', '/etc/consul.d/ca.pem')
    run_module(consul_agent_info, {})
    assert seen['client'].urls == ['https://consul.example:8501']
    assert seen['token'] == 'from-env' and seen['ca_path'] == '/etc/consul.d/ca.pem'
    seen.clear()
    run_module(consul_agent_info, dict(url=['http://127.0.0.1:8500'], token='given'))  # options win over the environment
    assert seen['client'].urls == ['http://127.0.0.1:8500'] and seen['token'] == 'given'


def test_inventory_values_the_agent_contradicts_are_problems_not_failures(agent, run_module):
    assert run_module(consul_agent_info, {})['problems'] == []
    result = run_module(consul_agent_info, dict(node_name='node1.example.com'))
    assert not result.get('failed') and result['problems'] == [
        'the running agent\'s node name is "node1", but consul_node_name is "node1.example.com". Correct or remove it '
        '(unset, the agent\'s node name is used).']
    agent.running = False  # nothing to contradict
    assert run_module(consul_agent_info, dict(node_name='x'))['problems'] == []


def test_a_read_without_the_keyring_never_queries_it(monkeypatch, run_module):
    class Encrypting(Agent):
        calls = []

        def agent_self(self):
            return dict(Agent.agent_self(self), gossip={'enabled': True, 'stage': 3})

        def keyring(self):
            self.calls.append('keyring')
            return []
    agent = Encrypting()
    monkeypatch.setattr(consul_agent_info, 'client_from_params', lambda params: agent)
    result = run_module(consul_agent_info, dict(keyring=False))
    assert agent.calls == [] and 'keyring' not in result and 'keyring_error' not in result
    assert run_module(consul_agent_info, {})['keyring'] == [] and agent.calls == ['keyring']


def test_an_agent_that_times_out_is_never_taken_as_stopped(monkeypatch, run_module):
    # A new-cluster run lets a stopped agent through; a slow, running one must stop the run instead.
    class Slow(Agent):
        def agent_self(self):
            raise c.ConsulUnreachable('GET http://127.0.0.1:8500/v1/agent/self: timed out', transient=True)
    monkeypatch.setattr(consul_agent_info, 'client_from_params', lambda params: Slow())
    result = run_module(consul_agent_info, {})
    assert result['failed'] and 'did not answer in time' in result['msg'] and not result['reachable']


def test_a_stopped_agent_is_not_reachable_and_no_failure(agent, run_module):
    agent.running = False
    result = run_module(consul_agent_info, {})
    assert not result.get('failed') and result['reachable'] is False and 'connection refused' in result['error']


def test_an_auto_encrypt_client_serves_none_of_ours(agent, run_module, monkeypatch):
    read = []
    monkeypatch.setattr(consul_agent_info, 'served_certificate', lambda client: read.append(1) or 'PEM')
    agent.server, agent.auto_encrypt = False, True
    result = run_module(consul_agent_info, dict(served_certificate=True))
    # null, not '': a rotation plan skips it; a server whose read is missing is never skipped.
    assert 'served_certificate_pem' in result and result['served_certificate_pem'] is None and read == []
    agent.server = True  # a server reads as ever
    assert run_module(consul_agent_info, dict(served_certificate=True))['served_certificate_pem'] == 'PEM'
