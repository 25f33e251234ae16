"""Verify a new cluster that formed with full TLS (HTTPS only), and the bad-input runs before it."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3', 'node4', 'node5']
SERVERS = ['node1', 'node2', 'node3']
# node4: a client with its own certificate file; node5: a client on auto_encrypt (its certificate from the servers)
AUTO = 'node5'
WITH_FILES = [n for n in NODES if n != AUTO]


def is_auto(host):
    return labcheck.node_name(host) == AUTO


def get(host):
    """How the tests read an agent's API: HTTPS with its certificate, or plain HTTP on an auto_encrypt client."""
    return labcheck.consul_get if is_auto(host) else labcheck.consul_get_tls


@pytest.fixture(scope='module')
def hosts():
    return labcheck.hosts(NODES)


@pytest.fixture(scope='module')
def evidence():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'bad-input.json')) as f:
        return json.load(f)


@pytest.mark.parametrize('case, message', [
    ('ca_mismatch', 'the CA key does not match the CA certificate (consul_tls_ca_key and consul_tls_ca_cert'),
    ('ca_expired', 'the CA certificate expired on'),
    ('node_name', 'the node name "node_1" (consul_node_name)'),
    ('auto_servers', 'consul_tls_client_certs is auto_encrypt on node5, whose certificates the servers sign: set it to '
                     'auto_encrypt on every server too (node1, node2, node3)'),
])
def test_bad_input_is_named(evidence, case, message):
    assert message in ' '.join(evidence['bad'][case].split())


def test_bad_input_changed_no_host(evidence):
    assert evidence['rc'] == [2, 2, 2, 2]
    # No TLS directory or settings file, and no agent started, on any node; nothing escrowed.
    for out in evidence['after']:
        assert 'tls' not in out and out.strip().endswith('inactive'), out
    assert evidence['escrow_made'] is False


def test_full_tls_as_the_agent_reports_it(host):
    me = get(host)(host, '/v1/agent/self')['DebugConfig']
    if is_auto(host):
        # Its certificate from the servers, in memory: no file; verifies the servers; its API asks for no certificate.
        assert (me['AutoEncryptTLS'], me['CertFile'], me['VerifyOutgoing'], me['VerifyServerHostname'],
                me['VerifyIncoming']) == (True, '', True, True, False)
        assert me['CAFile'] == labcheck.TLS_DIR + '/consul-agent-ca.pem'
        return
    labcheck.assert_tls_full({'DebugConfig': me})
    # Every server signs auto_encrypt clients' certificates (which turns Connect on); node4 does not ask.
    assert me['AutoEncryptAllowTLS'] is (labcheck.node_name(host) in SERVERS)
    assert me['AutoEncryptTLS'] is False


def test_an_auto_encrypt_client_reads_through_servers_that_want_client_certificates(hosts):
    # Every read below is an RPC to a server with verify_incoming on: the client presents the certificate it got.
    assert labcheck.consul_get(hosts[AUTO], '/v1/status/leader')
    assert sorted(n['Node'] for n in labcheck.consul_get(hosts[AUTO], '/v1/catalog/nodes')) == NODES
    # Its API: plain HTTP on localhost only, no HTTPS port (it would serve the Connect CA's certificate).
    assert hosts[AUTO].run('python3 -c "import socket; socket.create_connection((\'127.0.0.1\', 8501), 2)"').rc == 1


def test_https_only(host):
    if is_auto(host):
        return  # plain HTTP on localhost: the test above
    me = labcheck.consul_get_tls(host, '/v1/agent/self')
    assert me['DebugConfig']['HTTPPort'] == -1 and me['DebugConfig']['HTTPSPort'] == 8501
    assert host.run('python3 -c "import socket; socket.create_connection((\'127.0.0.1\', 8500), 2)"').rc == 1


def test_started_once_and_enabled(host):
    # Full TLS from the very first start: never a plain start to restart from.
    assert labcheck.consul_starts(host)[1] == 1
    assert host.service('consul').is_enabled


def test_every_member_alive_from_every_node(host):
    labcheck.assert_members_alive(host, NODES, get=get(host))
    assert get(host)(host, '/v1/status/leader')


def test_files_owner_and_mode(host):
    if is_auto(host):
        # The CA it verifies the servers with, and no key or certificate of its own.
        assert host.file(labcheck.TLS_DIR + '/consul-agent-ca.pem').mode == 0o644
        assert not host.file(labcheck.TLS_DIR + '/consul-agent.pem').exists
        assert not host.file(labcheck.TLS_DIR + '/consul-agent-key.pem').exists
        return
    labcheck.assert_tls_files(host)


def test_agents_got_the_escrowed_ca(host):
    ca = labcheck.escrow_secret('consul_tls_ca_dc1_cert')
    assert host.file(labcheck.TLS_DIR + '/consul-agent-ca.pem').content_string.strip() == ca.strip()


@pytest.mark.parametrize('server', SERVERS)
def test_server_presents_its_names_and_requires_client_certificates(hosts, server):
    labcheck.assert_rpc_tls_enforced(hosts['node4'], server)


@pytest.mark.parametrize('node, names', [
    ('node1', ['DNS:localhost', 'DNS:node1.server.dc1.consul', 'DNS:server.dc1.consul', 'IP:127.0.0.1']),
    ('node4', ['DNS:client.dc1.consul', 'DNS:localhost', 'IP:127.0.0.1']),
])
def test_certificate_names(hosts, node, names):
    assert sorted(labcheck.cert_names(hosts[node])) == names


def test_ca_key_never_in_the_output_nor_on_a_node(hosts):
    ca_key = labcheck.escrow_secret('consul_tls_ca_dc1_key')
    labcheck.assert_secrets_not_logged([ca_key], expect=('keyfleet-tls.json', 'ESTABLISH'))
    body = [line for line in ca_key.splitlines() if not line.startswith('-----')][0]
    for h in hosts.values():
        assert h.run('grep -rqF -- %s /etc /var/lib/consul /root /tmp', body).rc == 1


def test_posture_certificates_and_the_ca_against_the_escrow():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'posture-converged', 'posture.json')) as f:
        report = json.load(f)
    rows = dict(((r['host'], r['check']), r) for r in report['rows'])
    assert rows[(AUTO, 'certificate')]['status'] == 'ok' and 'auto_encrypt' in rows[(AUTO, 'certificate')]['detail']
    for node in NODES:
        assert rows[(node, 'tls stage')]['status'] == 'ok'
        cert = rows[(node, 'certificate')]
        if node != AUTO:
            assert cert['status'] == 'ok' and ' expires in 36' in cert['detail'], cert  # 365 days, issued today
        assert rows[(node, 'CA')]['status'] == 'ok' and 'the escrowed CA' in rows[(node, 'CA')]['detail']
        assert rows[(node, 'gossip stage')]['status'] == 'todo'  # TLS only here
    assert report['summary']['error'] == 0 and report['summary']['missing'] == 0


def test_posture_certificates_due_for_renewal():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'posture-renew', 'posture.json')) as f:
        report = json.load(f)
    rows = dict(((r['host'], r['check']), r) for r in report['rows'])
    for node in WITH_FILES:
        cert = rows[(node, 'certificate')]
        assert cert['status'] == 'todo' and cert['detail'].endswith(' - renew it'), cert
        assert rows[(node, 'CA')]['status'] == 'ok'
    assert report['summary']['error'] == 0
