"""Verify auto_encrypt through the running-cluster upshift: the fewest restarts, each kind's settings, real RPC."""

import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['ae1', 'ae2', 'ae3', 'ae4', 'ae5']
SERVERS = ['ae1', 'ae2', 'ae3']
# ae4 on auto_encrypt from the start; ae5 with a certificate file until side_effect moved it.
CLIENTS = ['ae4', 'ae5']


@pytest.fixture(scope='module')
def hosts():
    return labcheck.hosts(NODES)


@pytest.fixture(scope='module')
def windows(hosts):
    return dict((n, labcheck.consul_starts(h)[0]) for n, h in hosts.items())


@pytest.mark.parametrize('node, restarts', [
    ('ae1', 3), ('ae2', 3), ('ae3', 3),
    ('ae4', 1),   # auto_encrypt from plain: once, at stage 2
    ('ae5', 4),   # three stages with its own certificate, then once more to auto_encrypt
])
def test_restarts(hosts, node, restarts):
    assert labcheck.restarts_since_prepare(hosts[node]) == restarts


def test_the_auto_encrypt_client_switched_once_every_server_signs_and_before_any_server_wants_its_certificate(windows):
    # Its one restart came after every server's first (allow_tls, certificate files) and before any server's second.
    (stop, start), = windows['ae4'][-1:]
    assert all(windows[s][-3][1] < stop for s in SERVERS), windows
    assert all(start < windows[s][-2][0] for s in SERVERS), windows


def test_ae5_moved_alone(windows):
    # side_effect restarted ae5 only: its last restart came after every other agent's last.
    last = windows['ae5'][-1][0]
    assert all(windows[n][-1][1] < last for n in NODES if n != 'ae5'), windows


@pytest.mark.parametrize('node', SERVERS)
def test_servers_full_tls_and_sign_for_clients(hosts, node):
    me = labcheck.consul_get(hosts[node], '/v1/agent/self')
    labcheck.assert_tls_full(me)
    assert me['DebugConfig']['AutoEncryptAllowTLS'] is True and me['DebugConfig']['ConnectEnabled'] is True


@pytest.mark.parametrize('node', CLIENTS)
def test_clients_get_their_certificate_from_the_servers(hosts, node):
    d = labcheck.consul_get(hosts[node], '/v1/agent/self')['DebugConfig']
    assert (d['AutoEncryptTLS'], d['CertFile'], d['VerifyOutgoing'], d['VerifyServerHostname'], d['VerifyIncoming']) == (
        True, '', True, True, False)
    # The CA that signed the servers' certificates, and no key or certificate of its own (ae5's old ones removed).
    assert d['CAFile'] == labcheck.TLS_DIR + '/consul-agent-ca.pem'
    for name in ('consul-agent.pem', 'consul-agent-key.pem'):
        assert not hosts[node].file('%s/%s' % (labcheck.TLS_DIR, name)).exists, name
    # No HTTPS port: it would serve the Connect CA's certificate.
    assert d['HTTPSPort'] < 1


@pytest.mark.parametrize('node', CLIENTS)
def test_reads_through_each_client_reach_servers_that_want_client_certificates(hosts, node):
    assert labcheck.consul_get(hosts[node], '/v1/status/leader')
    assert sorted(n['Node'] for n in labcheck.consul_get(hosts[node], '/v1/catalog/nodes')) == NODES
    labcheck.assert_kv_intact(hosts[node])
    labcheck.assert_members_alive(hosts[node], NODES)


@pytest.mark.parametrize('server', ['ae2', 'ae3'])
def test_servers_refuse_rpc_without_a_certificate(hosts, server):
    # From ae1, a server with a certificate file: TLS with it is accepted, without one refused, plain closed.
    labcheck.assert_rpc_tls_enforced(hosts['ae1'], server)


def recap(run):
    return dict((h, int(c)) for h, c in re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', run, re.M))


@pytest.fixture(scope='module')
def runs():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'switch.json')) as f:
        return json.load(f)


def test_the_switch_run_and_a_second_that_changes_nothing(runs):
    switch, again, rotate, rotate_again = runs
    assert recap(switch)['ae5'] > 0, switch
    for run in (again, rotate_again):
        changed = recap(run)
        assert set(NODES) <= set(changed) and set(changed[n] for n in NODES) == {0}, run


def test_the_ca_rotation_moved_auto_encrypt_clients_by_trust_alone(hosts, runs):
    # Every agent trusts B alone, the escrow's CA now; A is in the escrow's history. No agent restarted for it
    # (test_restarts counts every start since prepare).
    assert recap(runs[2])['ae4'] > 0, runs[2]
    entry = labcheck.escrow_entry('consul_tls_ca_dc1_cert')
    b, a = labcheck.pem_certs(entry['value']), [labcheck.pem_certs(p['value']) for p in entry['previous']]
    assert len(a) == 1 and a[0] != b
    for node in NODES:
        assert labcheck.pem_certs(hosts[node].file(labcheck.TLS_DIR + '/consul-agent-ca.pem').content_string) == b, node


def test_clients_called_servers_stop_the_run_before_any_change():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'wrong-kind.json')) as f:
        run = json.load(f)
    out = ' '.join(run['out'].split())
    assert run['rc'] == 2
    for client in CLIENTS:
        assert '%s: the running agent is a client, but consul_server is true' % client in out, out[-2000:]
    assert all(a.count('No such file') == 2 for a in run['after']), run['after']
    assert not run['escrow_made']
