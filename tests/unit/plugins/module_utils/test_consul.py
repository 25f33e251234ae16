# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import json
import os

import pytest

from ansible_collections.keyfleet.encryption.plugins.module_utils import _consul as c

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
KEY = 'pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s='


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def test_flat_layout_of_consul_1_8():
    s = c.normalize_self(fixture('agent_self_1.8.json'))
    assert s['config_layout'] == '1.8-1.11'
    assert (s['node_name'], s['datacenter'], s['version'], s['server']) == ('node1', 'dc1', '1.8.7', True)
    assert s['gossip'] == {'enabled': True, 'verify_incoming': False, 'verify_outgoing': True, 'stage': 2}
    assert s['tls'] == {'verify_incoming': False, 'verify_outgoing': True, 'verify_server_hostname': True,
                        'ca_file': '/etc/consul.d/tls/ca.pem', 'cert_file': '/etc/consul.d/tls/node1.pem',
                        'https_cert_file': '/etc/consul.d/tls/node1.pem'}
    assert s['data_dir'] == '/var/lib/consul'


def test_nested_layout_of_consul_1_12_and_later():
    s = c.normalize_self(fixture('agent_self_1.12.json'))
    assert s['config_layout'] == '1.12+'
    assert s['server'] is False
    assert s['gossip'] == {'enabled': True, 'verify_incoming': True, 'verify_outgoing': True, 'stage': 3}
    assert s['tls']['verify_incoming'] and s['tls']['verify_server_hostname']
    assert s['tls']['cert_file'] == '/etc/consul.d/client.pem'
    assert s['tls']['https_cert_file'] == '/etc/consul.d/https.pem'


def test_unencrypted_agent_is_stage_0_whatever_its_flags_say():
    data = fixture('agent_self_1.8.json')
    data['Stats']['serf_lan']['encrypted'] = 'false'
    assert c.normalize_self(data)['gossip']['stage'] == 0


@pytest.mark.parametrize('encrypted, vin, vout, stage', [
    (False, True, True, 0),
    (True, False, False, 1),
    (True, True, False, 1),  # incoming-only is no stage of the migration: still needs outgoing
    (True, False, True, 2),
    (True, True, True, 3),
])
def test_gossip_stage(encrypted, vin, vout, stage):
    assert c.gossip_stage(encrypted, vin, vout) == stage
    if stage:
        assert c.GOSSIP_STAGES[stage][0] is True


def test_fingerprint_matches_the_jinja_hash_filter():
    assert c.key_fingerprint(KEY) == hashlib.sha256(KEY.encode()).hexdigest()[:16]


def test_keyring_never_returns_keys():
    other = 'HS5lJ+XuTlYKWaeGYyG+/A=='
    rings = c.normalize_keyring([{'WAN': False, 'Datacenter': 'dc1', 'Segment': '', 'NumNodes': 3,
                                  'Keys': {KEY: 3, other: 1}, 'PrimaryKeys': {KEY: 3}}])
    assert rings == [{'wan': False, 'datacenter': 'dc1', 'segment': '', 'num_nodes': 3,
                      'keys': {c.key_fingerprint(KEY): 3, c.key_fingerprint(other): 1},
                      'primary_keys': [c.key_fingerprint(KEY)]}]
    assert KEY not in json.dumps(rings)


def test_members_and_leader_name():
    members = c.normalize_members([
        {'Name': 'node1', 'Addr': '10.89.0.2', 'Status': 1, 'Tags': {'role': 'consul'}},
        {'Name': 'node2', 'Addr': '10.89.0.3', 'Status': 4, 'Tags': {'role': 'consul'}},
        {'Name': 'app1', 'Addr': '10.89.0.9', 'Status': 3, 'Tags': {'role': 'node'}},
    ])
    assert [(m['name'], m['status'], m['server']) for m in members] == [
        ('node1', 'alive', True), ('node2', 'failed', True), ('app1', 'left', False)]
    assert c.leader_name('10.89.0.3:8300', members) == 'node2'
    assert c.leader_name('', members) is None


def test_local_keyring(tmp_path):
    assert c.read_local_keyring(str(tmp_path / 'missing')) is None
    p = tmp_path / 'local.keyring'
    p.write_text(json.dumps([KEY]))
    assert c.read_local_keyring(str(p)) == [c.key_fingerprint(KEY)]
    p.write_text('not json')
    with pytest.raises(c.ConsulError):
        c.read_local_keyring(str(p))


class FakeClient:
    """Answers like an agent; each attribute can be set to an exception to raise."""

    def __init__(self, stage=3, leader='10.0.0.1:8300', members=None, catalog=True, self_error=None):
        self.stage, self._leader, self.catalog, self.self_error = stage, leader, catalog, self_error
        self._members = members if members is not None else [('node1', 1), ('node2', 1)]

    def agent_self(self):
        if self.self_error:
            raise c.ConsulError(self.self_error)
        return {'gossip': {'stage': self.stage}}

    def leader(self):
        return self._leader

    def catalog_nodes(self):
        if not self.catalog:
            raise c.ConsulError('No cluster leader')
        return []

    def members(self):
        return c.normalize_members([{'Name': n, 'Status': s, 'Tags': {}} for n, s in self._members])


def test_healthy_agent_has_no_problems():
    assert c.health_problems(FakeClient(), expect_stage=3, expect_members=['node1', 'node2']) == []


@pytest.mark.parametrize('client, expected', [
    (FakeClient(self_error='connection refused'), 'agent does not answer: connection refused'),
    (FakeClient(stage=2), 'gossip stage is 2, expected 3'),
    (FakeClient(leader=''), 'no leader known from this node'),
    (FakeClient(catalog=False), 'catalog read failed: No cluster leader'),
    (FakeClient(members=[('node1', 1), ('node2', 4)]), 'member node2 is failed'),
    (FakeClient(members=[('node1', 1)]), 'member node2 is missing'),
])
def test_each_unhealthy_condition_is_named(client, expected):
    assert expected in c.health_problems(client, expect_stage=3, expect_members=['node1', 'node2'])


def test_wait_polls_until_healthy_and_reports_the_time():
    client = FakeClient(leader='')
    now = [0.0]

    def sleep(s):
        now[0] += s
        if now[0] >= 1.0:
            client._leader = '10.0.0.1:8300'

    elapsed, problems = c.wait_healthy(client, timeout=10, interval=0.25, clock=lambda: now[0], sleep=sleep)
    assert (elapsed, problems) == (1.0, [])


def test_wait_gives_up_with_the_last_problems():
    now = [0.0]

    def sleep(s):
        now[0] += s

    elapsed, problems = c.wait_healthy(FakeClient(stage=1), timeout=2, interval=0.5, expect_stage=3,
                                       clock=lambda: now[0], sleep=sleep)
    assert elapsed == 2.0 and problems == ['gossip stage is 1, expected 3']


def test_client_sends_token_and_ca(monkeypatch):
    calls = []

    class Resp:
        def read(self):
            return b'"10.0.0.1:8300"'

    def fake_open_url(url, **kwargs):
        calls.append((url, kwargs))
        return Resp()

    monkeypatch.setattr(c, 'open_url', fake_open_url)
    client = c.client_from_params(dict(url='https://127.0.0.1:8501/', token='s3cret', ca_path='/etc/consul.d/ca.pem',
                                       validate_certs=True, timeout=3.0))
    assert client.leader() == '10.0.0.1:8300'
    url, kwargs = calls[0]
    assert url == 'https://127.0.0.1:8501/v1/status/leader'
    assert kwargs['headers']['X-Consul-Token'] == 's3cret'
    assert (kwargs['ca_path'], kwargs['validate_certs'], kwargs['timeout']) == ('/etc/consul.d/ca.pem', True, 3.0)


def test_http_errors_become_consul_errors(monkeypatch):
    def refuse(url, **kwargs):
        raise c.URLError('connection refused')

    monkeypatch.setattr(c, 'open_url', refuse)
    with pytest.raises(c.ConsulError, match='GET http://127.0.0.1:8500/v1/agent/self: .*connection refused'):
        c.ConsulClient('http://127.0.0.1:8500').agent_self()
