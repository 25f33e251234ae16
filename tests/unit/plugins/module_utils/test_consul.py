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
    assert s['gossip'] == {'enabled': True, 'verify_incoming': False, 'verify_outgoing': True, 'stage': 2,
                           'stage_name': 'encrypt_verify_outgoing on'}
    assert s['tls'] == {'verify_incoming': False, 'verify_outgoing': True, 'verify_server_hostname': True,
                        'ca_file': '/etc/consul.d/tls/ca.pem', 'cert_file': '/etc/consul.d/tls/node1.pem',
                        'https_cert_file': '/etc/consul.d/tls/node1.pem', 'https_port': 8501, 'http_port': 8500,
                        'stage': 2, 'stage_name': 'verify_outgoing and verify_server_hostname on', 'files_stage': 2,
                        'auto_encrypt': False, 'auto_encrypt_allow_tls': False}
    assert s['data_dir'] == '/var/lib/consul'


def test_nested_layout_of_consul_1_12_and_later():
    s = c.normalize_self(fixture('agent_self_1.12.json'))
    assert s['config_layout'] == '1.12+'
    assert s['server'] is False
    assert s['gossip'] == {'enabled': True, 'verify_incoming': True, 'verify_outgoing': True, 'stage': 3,
                           'stage_name': 'encrypted, both verify flags on'}
    assert s['tls']['verify_incoming'] and s['tls']['verify_server_hostname']
    assert s['tls']['cert_file'] == '/etc/consul.d/client.pem'
    assert s['tls']['https_cert_file'] == '/etc/consul.d/https.pem'
    assert s['tls']['stage'] == 3


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
def test_gossip_stage_read_from_the_agent(encrypted, vin, vout, stage):
    data = fixture('agent_self_1.8.json')
    data['Stats']['serf_lan']['encrypted'] = str(encrypted).lower()
    data['DebugConfig'].update(EncryptVerifyIncoming=vin, EncryptVerifyOutgoing=vout)
    assert c.normalize_self(data)['gossip']['stage'] == stage
    assert c.stage_of('gossip', {'encrypt': encrypted, 'verify_incoming': vin, 'verify_outgoing': vout}) == stage


@pytest.mark.parametrize('part', c.PARTS)
def test_each_stage_read_back_from_its_own_flags(part):
    # the table is one model: what a stage writes is what reading it back finds
    for stage, flags in c.STAGES[part].items():
        assert c.stage_of(part, flags) == stage


def test_gossip_settings_come_from_the_table():
    assert [c.gossip_settings(s) for s in (1, 2, 3)] == [
        {'encrypt_verify_incoming': False, 'encrypt_verify_outgoing': False},
        {'encrypt_verify_incoming': False, 'encrypt_verify_outgoing': True},
        {'encrypt_verify_incoming': True, 'encrypt_verify_outgoing': True}]
    with pytest.raises(c.ConsulError, match='gossip stage must be 1, 2 or 3'):
        c.gossip_settings(0)


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


def fake_open_url(monkeypatch, refuse=()):
    """Record every open_url call; answer the leader address, or refuse URLs with the given prefixes."""
    calls = []

    class Resp:
        def read(self):
            return b'"10.0.0.1:8300"'

    def fake(url, **kwargs):
        calls.append((url, kwargs))
        if url.startswith(tuple(refuse)):
            raise c.URLError('connection refused')
        return Resp()

    monkeypatch.setattr(c, 'open_url', fake)
    return calls


def test_client_sends_token_and_ca(monkeypatch):
    calls = fake_open_url(monkeypatch)
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


@pytest.mark.parametrize('cert, vin, vout, vsh, stage', [
    ('', True, True, True, 0),
    ('/c.pem', False, False, False, 1),
    ('/c.pem', True, False, False, 1),   # incoming alone is no stage: outgoing comes first
    ('/c.pem', False, True, False, 1),   # outgoing without hostname checks is not stage 2
    ('/c.pem', False, True, True, 2),
    ('/c.pem', True, True, True, 3),
])
def test_tls_stage_read_from_the_agent(cert, vin, vout, vsh, stage):
    data = fixture('agent_self_1.8.json')
    data['DebugConfig'].update(CertFile=cert, VerifyIncoming=vin, VerifyIncomingRPC=False, VerifyOutgoing=vout,
                               VerifyServerHostname=vsh)
    assert c.normalize_self(data)['tls']['stage'] == stage


@pytest.mark.parametrize('text, version, layout', [
    ('Consul v1.8.7\nRevision \nProtocol 2 spoken by default', (1, 8, 7), 'flat'),
    ('Consul v1.11.11', (1, 11, 11), 'flat'),
    ('1.12.0', (1, 12, 0), 'stanza'),
    ('Consul v1.20.1\nRevision 920cc7c6\nBuild Date 2024-10-29T19:04:05Z', (1, 20, 1), 'stanza'),
])
def test_version_and_layout(text, version, layout):
    assert c.parse_version(text) == version
    assert c.tls_layout(text) == layout


def test_version_that_is_not_one():
    with pytest.raises(c.ConsulError, match='cannot find a Consul version'):
        c.parse_version('command not found')


FILES = ('/etc/consul.d/tls/consul-agent-ca.pem', '/etc/consul.d/tls/consul-agent.pem',
         '/etc/consul.d/tls/consul-agent-key.pem')


@pytest.mark.parametrize('stage, outgoing, incoming', [(1, False, False), (2, True, False), (3, True, True)])
def test_tls_settings_flat_keys_before_1_12(stage, outgoing, incoming):
    s = c.tls_settings('1.8.7', stage, *FILES, https_port=8501)
    assert s == {'ca_file': FILES[0], 'cert_file': FILES[1], 'key_file': FILES[2],
                 'verify_incoming': incoming, 'verify_outgoing': outgoing, 'verify_server_hostname': outgoing,
                 'ports': {'https': 8501}}


@pytest.mark.parametrize('stage, outgoing, incoming', [(1, False, False), (2, True, False), (3, True, True)])
def test_tls_settings_stanza_from_1_12(stage, outgoing, incoming):
    s = c.tls_settings('1.12.0', stage, *FILES)
    assert s == {'tls': {
        'defaults': {'ca_file': FILES[0], 'cert_file': FILES[1], 'key_file': FILES[2],
                     'verify_incoming': incoming, 'verify_outgoing': outgoing},
        'internal_rpc': {'verify_server_hostname': outgoing}}}
    # No flat TLS key that 1.12+ would warn about as deprecated.
    assert not set(s) & {'ca_file', 'cert_file', 'key_file', 'verify_incoming', 'verify_outgoing'}


def test_plain_http_goes_off_only_at_stage_3_and_only_with_https():
    assert c.tls_settings('1.8.7', 2, *FILES, https_port=8501, http_disabled=True)['ports'] == {'https': 8501}
    assert c.tls_settings('1.8.7', 3, *FILES, https_port=8501, http_disabled=True)['ports'] == {'https': 8501, 'http': -1}
    assert 'ports' not in c.tls_settings('1.8.7', 3, *FILES, https_port=0, http_disabled=True)
    with pytest.raises(c.ConsulError, match='TLS stage must be 1, 2 or 3'):
        c.tls_settings('1.8.7', 0, *FILES)


def test_health_names_the_tls_stage():
    client = FakeClient()
    client.agent_self = lambda: {'gossip': {'stage': 3}, 'tls': {'stage': 1}}
    assert c.health_problems(client, expect_tls_stage=2) == ['TLS stage is 1, expected 2']
    assert c.health_problems(client, expect_stage=3, expect_tls_stage=1) == []


def test_client_falls_back_to_the_next_url_and_sticks_to_it(monkeypatch):
    calls = fake_open_url(monkeypatch, refuse=['https:'])
    monkeypatch.setattr(c.os.path, 'exists', lambda p: True)
    client = c.client_from_params(dict(url=['https://127.0.0.1:8501', 'http://127.0.0.1:8500'], ca_path='/tls/ca.pem',
                                       client_cert='/tls/agent.pem', client_key='/tls/agent-key.pem'))
    assert client.leader() == '10.0.0.1:8300'
    assert [u for u, k in calls] == ['https://127.0.0.1:8501/v1/status/leader', 'http://127.0.0.1:8500/v1/status/leader']
    # CA and client certificate go to HTTPS only (open_url would load them for HTTP too).
    assert calls[0][1]['client_cert'] == '/tls/agent.pem' and calls[0][1]['ca_path'] == '/tls/ca.pem'
    assert 'client_cert' not in calls[1][1] and 'ca_path' not in calls[1][1]
    client.leader()
    assert calls[2][0].startswith('http://127.0.0.1:8500')


def test_client_reports_every_url_that_failed(monkeypatch):
    def refuse(url, **kwargs):
        raise c.URLError('connection refused')

    monkeypatch.setattr(c, 'open_url', refuse)
    with pytest.raises(c.ConsulError, match='8501/v1/agent/self: .*refused>; http://127.0.0.1:8500/v1/agent/self'):
        c.ConsulClient(['https://127.0.0.1:8501', 'http://127.0.0.1:8500']).agent_self()


def _http_error(code, body=b'Permission denied'):
    import io
    return c.HTTPError('http://127.0.0.1:8500/v1/agent/self', code, 'Forbidden', {}, io.BytesIO(body))


@pytest.mark.parametrize('code', [401, 403])
def test_an_acl_refusal_is_an_answer_that_names_the_permission_not_a_stopped_agent(monkeypatch, code):
    def refuse(url, **kwargs):
        raise _http_error(code)

    monkeypatch.setattr(c, 'open_url', refuse)
    with pytest.raises(c.ConsulError) as e:
        c.ConsulClient('http://127.0.0.1:8500').agent_self()
    assert not isinstance(e.value, c.ConsulUnreachable)
    assert 'HTTP %d' % code in str(e.value) and 'consul_http_token' in str(e.value) and 'agent:read' in str(e.value)


def test_a_refused_certificate_is_an_answer_not_a_stopped_agent(monkeypatch):
    import ssl

    def answer(url, **kwargs):
        if url.startswith('https:'):
            raise c.URLError(ssl.SSLCertVerificationError(1, "IP address mismatch, certificate is not valid for '127.0.0.1'"))
        raise c.URLError(ConnectionRefusedError(111, 'Connection refused'))

    monkeypatch.setattr(c, 'open_url', answer)
    with pytest.raises(c.ConsulError, match='its certificate was refused') as e:
        c.ConsulClient(['https://127.0.0.1:8501', 'http://127.0.0.1:8500']).agent_self()
    assert not isinstance(e.value, c.ConsulUnreachable)


def test_nothing_answering_is_unreachable(monkeypatch):
    def refuse(url, **kwargs):
        raise c.URLError(ConnectionRefusedError(111, 'refused'))

    monkeypatch.setattr(c, 'open_url', refuse)
    with pytest.raises(c.ConsulUnreachable):
        c.ConsulClient(['https://127.0.0.1:8501', 'http://127.0.0.1:8500']).agent_self()


@pytest.mark.parametrize('content', ['null', '{"a": "b"}', '"one key"', '[1, 2]'])
def test_a_local_keyring_that_is_json_but_no_key_list_stops(tmp_path, content):
    p = tmp_path / 'local.keyring'
    p.write_text(content)
    with pytest.raises(c.ConsulError, match='not a JSON list of keys'):
        c.read_local_keyring(str(p))


def test_an_unreadable_local_keyring_stops_instead_of_counting_as_absent(tmp_path, monkeypatch):
    p = tmp_path / 'local.keyring'
    p.write_text(json.dumps([KEY]))
    real_open = open

    def eacces(path, *a, **kw):
        if str(path) == str(p):
            raise PermissionError(13, 'Permission denied', str(path))
        return real_open(path, *a, **kw)

    monkeypatch.setattr('builtins.open', eacces)
    with pytest.raises(c.ConsulError, match='cannot read .*local.keyring.*Permission denied'):
        c.read_local_keyring(str(p))


def test_domain_is_read_from_the_agent():
    data = fixture('agent_self_1.8.json')
    assert c.normalize_self(data)['domain'] == 'consul'
    data['DebugConfig']['DNSDomain'] = 'lab.internal.'
    assert c.normalize_self(data)['domain'] == 'lab.internal'


HEALTHY = {'Healthy': True, 'FailureTolerance': 1, 'Servers': [
    {'Name': n, 'Healthy': True, 'LastContact': '0s', 'LastTerm': 2, 'LastIndex': 40} for n in ('s1', 's2', 's3')]}


def test_raft_health_of_a_whole_cluster_has_no_problems():
    assert c.raft_problems(HEALTHY) == []


def test_a_server_alive_in_serf_but_behind_in_raft_is_named():
    health = json.loads(json.dumps(HEALTHY))
    health.update(Healthy=False, FailureTolerance=0)
    health['Servers'][1].update(Healthy=False, LastContact='9.2s', LastIndex=12)
    problems = c.raft_problems(health)
    assert problems[0].startswith('server s2 is not healthy in raft (last contact 9.2s')
    assert 'raft failure tolerance is 0' in problems[1]


def test_health_asks_raft_only_when_told_and_names_its_failure():
    client = FakeClient()
    client.autopilot_health = lambda: dict(HEALTHY, FailureTolerance=0)
    assert c.health_problems(client, expect_stage=3) == []
    assert c.health_problems(client, expect_stage=3, expect_raft=True) == [
        'raft failure tolerance is 0: one more server down would cost the quorum']


def test_binary_version_or_its_failure():
    assert c.binary_version(lambda argv: (0, 'Consul v1.8.7\nRevision 64e4a7c0\n', ''), 'consul') == '1.8.7'
    with pytest.raises(c.ConsulError, match='consul version failed: boom'):
        c.binary_version(lambda argv: (1, '', 'boom\n'), 'consul')


def _flaky(monkeypatch, failures, error):
    """open_url failing ``failures`` times with ``error()``, then answering; the calls and the pauses made."""
    calls, pauses = [], []

    class Resp:
        def read(self):
            return b'"10.0.0.1:8300"'

    def answer(url, **kwargs):
        calls.append((kwargs.get('method'), url))
        if len(calls) <= failures:
            raise error()
        return Resp()

    monkeypatch.setattr(c, 'open_url', answer)
    client = c.ConsulClient('http://127.0.0.1:8500')
    client.sleep = pauses.append
    return client, calls, pauses


@pytest.mark.parametrize('error', [
    lambda: c.URLError(TimeoutError('timed out')),
    lambda: c.URLError(ConnectionResetError(104, 'Connection reset by peer')),
    lambda: TimeoutError('The read operation timed out'),
])
def test_a_read_that_times_out_or_is_reset_is_tried_again(monkeypatch, error):
    client, calls, pauses = _flaky(monkeypatch, 2, error)
    assert client.leader() == '10.0.0.1:8300'
    assert len(calls) == 3 and pauses == [c.READ_PAUSE] * 2


def test_a_timeout_of_a_python_before_3_10_is_tried_again(monkeypatch):
    # There socket.timeout is an OSError, not a TimeoutError: stand one in for it.
    class OldSocketTimeout(OSError):
        pass
    monkeypatch.setattr(c.socket, 'timeout', OldSocketTimeout)
    client, calls, pauses = _flaky(monkeypatch, 2, lambda: c.URLError(OldSocketTimeout('timed out')))
    assert client.leader() == '10.0.0.1:8300'
    assert len(calls) == 3


def test_a_read_that_keeps_timing_out_fails_as_before_after_the_last_try(monkeypatch):
    client, calls, pauses = _flaky(monkeypatch, 99, lambda: c.URLError(TimeoutError('timed out')))
    with pytest.raises(c.ConsulUnreachable, match='timed out'):
        client.leader()
    assert len(calls) == c.READ_TRIES and len(pauses) == c.READ_TRIES - 1


def test_a_keyring_query_that_times_out_on_a_slow_member_is_tried_again(monkeypatch):
    import io
    client, calls, pauses = _flaky(monkeypatch, 1, lambda: c.HTTPError(
        'http://127.0.0.1:8500/v1/operator/keyring', 500, 'Server Error', {},
        io.BytesIO(b'1 error occurred:\n\t* node2: timeout')))
    client.get('/v1/operator/keyring')
    assert len(calls) == 2 and len(pauses) == 1


@pytest.mark.parametrize('code, path', [(403, '/v1/operator/keyring'), (401, '/v1/agent/self'), (500, '/v1/agent/self')])
def test_refusals_and_other_errors_are_answers_read_once(monkeypatch, code, path):
    client, calls, pauses = _flaky(monkeypatch, 99, lambda: _http_error(code))
    with pytest.raises(c.ConsulError):
        client.get(path)
    assert len(calls) == 1 and pauses == []


def test_a_stopped_agent_is_read_once(monkeypatch):
    client, calls, pauses = _flaky(monkeypatch, 99, lambda: c.URLError(ConnectionRefusedError(111, 'refused')))
    with pytest.raises(c.ConsulUnreachable):
        client.leader()
    assert len(calls) == 1 and pauses == []


def test_a_write_is_never_repeated(monkeypatch):
    client, calls, pauses = _flaky(monkeypatch, 99, lambda: c.URLError(TimeoutError('timed out')))
    with pytest.raises(c.ConsulError):
        client.request('PUT', '/v1/operator/keyring', {'Key': 'x'})
    assert calls == [('PUT', 'http://127.0.0.1:8500/v1/operator/keyring')] and pauses == []


# --- auto_encrypt (consul_tls_client_certs), measured on 1.8.7: docs/consul-tls.md

def _auto_self(server, cert='', vout=False, vsh=False, auto_tls=False, allow_tls=False, vin=False, ca='/ca.pem'):
    data = fixture('agent_self_1.8.json')
    data['Config']['Server'] = server
    data['DebugConfig'].update(ServerMode=server, CertFile=cert, CAFile=ca, VerifyIncoming=vin, VerifyIncomingRPC=False,
                               VerifyOutgoing=vout, VerifyServerHostname=vsh, AutoEncryptTLS=auto_tls,
                               AutoEncryptAllowTLS=allow_tls)
    return data


@pytest.mark.parametrize('kwargs, per_agent, auto', [
    (dict(server=False), 0, 1),                                             # a plain client: nothing to do before stage 2
    (dict(server=False, cert='/c.pem', vout=True, vsh=True, vin=True), 3, 1),  # a certificate file: switches at stage 2
    (dict(server=False, vout=True, vsh=True, auto_tls=True), 0, 3),           # switched
    (dict(server=False, auto_tls=True), 0, 1),                              # auto_encrypt without the verify flags set
    (dict(server=False, vout=True, vsh=True, auto_tls=True, ca=''), 0, 1),  # no CA: it could not verify the servers
    (dict(server=True), 0, 0),
    (dict(server=True, cert='/s.pem', vout=True, vsh=True, vin=True), 3, 0),  # no allow_tls yet: below stage 1
    (dict(server=True, cert='/s.pem', allow_tls=True), 1, 1),
    (dict(server=True, cert='/s.pem', vout=True, vsh=True, vin=True, allow_tls=True), 3, 3),
])
def test_tls_stage_by_how_clients_get_certificates(kwargs, per_agent, auto):
    data = _auto_self(**kwargs)
    assert c.normalize_self(data)['tls']['stage'] == per_agent
    state = c.normalize_self(data, 'auto_encrypt')
    assert state['tls']['stage'] == auto and state['tls']['files_stage'] == per_agent
    assert state['tls']['stage_name']


def test_auto_encrypt_settings_by_kind_and_layout():
    server = c.tls_settings('1.8.7', 2, *FILES, https_port=8501, auto_encrypt='server')
    assert server['auto_encrypt'] == {'allow_tls': True} and server['cert_file'] == FILES[1]
    assert server['verify_outgoing'] and not server['verify_incoming']
    assert c.tls_settings('1.8.7', 1, *FILES, https_port=8501, auto_encrypt='client') is None
    for stage in (2, 3):
        client = c.tls_settings('1.8.7', stage, *FILES, https_port=8501, http_disabled=True, auto_encrypt='client')
        assert client == {'ca_file': FILES[0], 'verify_incoming': False, 'verify_outgoing': True,
                          'verify_server_hostname': True, 'auto_encrypt': {'tls': True}}
    stanza = c.tls_settings('1.12.0', 3, *FILES, auto_encrypt='client')
    assert stanza == {'tls': {'defaults': {'ca_file': FILES[0], 'verify_incoming': False, 'verify_outgoing': True},
                              'internal_rpc': {'verify_server_hostname': True}}, 'auto_encrypt': {'tls': True}}
    assert c.tls_settings('1.12.0', 3, *FILES, auto_encrypt='server')['auto_encrypt'] == {'allow_tls': True}


def _agent(name, server, mode, state=None, version=''):
    return dict(name=name, server=server, tls_client_certs=mode, state=state, version=version)


def test_tls_client_certs_rules():
    good = [_agent('s1', True, 'auto_encrypt'), _agent('c1', False, 'auto_encrypt'), _agent('c2', False, 'per_agent')]
    assert c.tls_client_certs_problems(good) == []
    # Clients on auto_encrypt need every server to sign for them.
    mixed = [_agent('s1', True, 'auto_encrypt'), _agent('s2', True, 'per_agent'), _agent('c1', False, 'auto_encrypt')]
    problems = c.tls_client_certs_problems(mixed)
    assert len(problems) == 1 and 'every server too (s2)' in problems[0] and 'consul_tls_client_certs' in problems[0]
    # Servers on auto_encrypt with per_agent clients only: allowed (the clients can switch later).
    assert c.tls_client_certs_problems([_agent('s1', True, 'auto_encrypt'), _agent('c1', False, 'per_agent')]) == []
    running_auto = c.normalize_self(_auto_self(server=False, vout=True, vsh=True, auto_tls=True))
    back = c.tls_client_certs_problems([_agent('c1', False, 'per_agent', running_auto)])
    assert len(back) == 1 and 'c1 runs auto_encrypt.tls' in back[0]
    old = c.tls_client_certs_problems([_agent('c1', False, 'auto_encrypt', version='Consul v1.5.1')])
    assert len(old) == 1 and '1.5.2 and later' in old[0]
    assert c.tls_client_certs_problems([_agent('c1', False, 'auto_encrypt', version='1.5.2')]) == []
    assert 'use per_agent or auto_encrypt' in c.tls_client_certs_problems([_agent('c1', False, 'auto')])[0]
