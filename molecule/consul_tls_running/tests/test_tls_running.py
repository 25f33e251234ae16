"""Verify the running-cluster TLS migration on the real cluster."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3', 'node4']  # node4 is a client agent
SERVERS = ['node1', 'node2', 'node3']
# The lab cluster runs in another datacenter and domain than Consul's defaults (molecule.yml), and the
# inventory does not say so: the certificates must carry the names read from the agents.
DC_DOMAIN = 'eu-west.lab.internal'


@pytest.fixture(scope='module')
def hosts():
    return labcheck.hosts(NODES)


def test_full_tls_as_the_agent_reports_it(host):
    labcheck.assert_tls_full(labcheck.consul_get(host, '/v1/agent/self'))


def test_files_owner_and_mode(host):
    labcheck.assert_tls_files(host)


def test_every_member_alive_from_every_node(host):
    labcheck.assert_members_alive(host, NODES)


def test_every_node_restarted_exactly_three_times(host):
    assert labcheck.restarts_since_prepare(host) == 3


@pytest.mark.parametrize('server', SERVERS)
def test_server_presents_its_names_and_requires_client_certificates(hosts, server):
    # Verified by Python's ssl against the CA file and the name server.eu-west.lab.internal.
    labcheck.assert_rpc_tls_enforced(hosts['node4'], server, DC_DOMAIN)
    assert 'localhost' in labcheck.rpc_probe(hosts['node4'], server, server_name='server.' + DC_DOMAIN)['names']


def test_client_certificate_cannot_pose_as_a_server(hosts):
    # verify_server_hostname's point: a client agent's certificate has no server name.
    assert sorted(labcheck.cert_names(hosts['node4'])) == ['DNS:client.' + DC_DOMAIN, 'DNS:localhost', 'IP:127.0.0.1']


def test_https_api_with_the_agent_certificate(host):
    assert labcheck.consul_get_tls(host, '/v1/status/leader')


def test_leader_and_catalog_never_lost_outside_restart_windows(hosts):
    windows, samples = labcheck.stop_watchers_and_collect(hosts)
    assert all(len(s) > 40 for s in samples.values())
    assert all(len(w) == 3 for w in windows.values())
    # The watchers saw the leader restart (else the exemption below would be untested).
    assert labcheck.leader_windows(samples, windows)
    assert labcheck.rpc_failure_samples(samples, windows, clients=['node4']) == []
    assert labcheck.partition_samples(samples, windows) == []


def test_client_restarts_before_the_servers_in_every_stage(hosts):
    labcheck.assert_clients_first(hosts, 'node4', SERVERS)


def test_kv_data_intact(hosts):
    labcheck.assert_kv_intact(hosts['node2'])


def test_ca_key_never_in_the_output_nor_on_a_node(hosts):
    ca_key = labcheck.escrow_secret('consul_tls_ca_eu-west_key')
    labcheck.assert_secrets_not_logged([ca_key], expect=('keyfleet-tls.json', 'ESTABLISH'))
    body = [line for line in ca_key.splitlines() if not line.startswith('-----')][0]
    for h in hosts.values():
        assert h.run('grep -rqF -- %s /etc /var/lib/consul /root /tmp', body).rc == 1


@pytest.fixture(scope='module')
def contradictions():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'contradictions.json')) as f:
        return json.load(f)


@pytest.mark.parametrize('case, message', [
    ('datacenter', 'the running agent is in datacenter "eu-west" with domain "lab.internal", but consul_datacenter is "dc1"'),
    ('data_dir', 'consul_data_dir is /opt/consul, but the agent runs with data_dir /var/lib/consul'),
    ('member_outside', 'members not among the hosts of this run (group consul): node4.'),
    ('new_cluster', 'node1 runs at tls stage 0 : this is a running cluster, and turning encryption fully on at once '
                    'would cut it apart. Use the running-cluster playbook instead.'),
])
def test_inventory_values_the_agents_contradict_stop_the_run(contradictions, case, message):
    assert message in ' '.join(contradictions['bad'][case].split())


def test_contradicting_runs_changed_no_host(contradictions):
    assert contradictions['rc'] == [2, 2, 2, 2]
    for out in contradictions['after']:
        assert out.count('No such file') == 2, out


def test_an_empty_escrow_does_not_make_a_new_ca_for_a_cluster_that_has_one():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'other-escrow.json')) as f:
        run = json.load(f)
    out = ' '.join(run['out'].split())
    assert run['rc'] == 2
    assert 'These agents already trust a CA: node1, node2, node3, node4' in out
    assert 'the escrow holds no consul_tls_ca_eu-west_cert' in out and 'No host was changed.' in out
    assert run['same_files'] and not run['ca_made']
