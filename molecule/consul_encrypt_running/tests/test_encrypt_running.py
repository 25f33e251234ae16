"""Verify the one-upshift (gossip + TLS, three restarts) on the real cluster."""

import os
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3', 'node4']  # node4 is a client agent
SERVERS = ['node1', 'node2', 'node3']


@pytest.fixture(scope='module')
def hosts():
    return {n: testinfra.get_host('podman://' + n) for n in NODES}


def test_gossip_and_tls_fully_on(host):
    labcheck.assert_gossip_fully_encrypted(host)
    labcheck.assert_tls_full(labcheck.consul_get(host, '/v1/agent/self'))


def test_exactly_three_restarts_for_both(host):
    assert labcheck.restarts_since_prepare(host) == 3


def test_every_member_alive_from_every_node(host):
    labcheck.assert_members_alive(host, NODES)


def test_no_partition_and_no_rpc_loss_outside_restart_windows(hosts):
    windows, samples = labcheck.stop_watchers_and_collect(hosts)
    assert all(len(s) > 40 for s in samples.values())
    assert all(len(w) == 3 for w in windows.values())
    assert labcheck.partition_samples(samples, windows) == []
    assert labcheck.rpc_failure_samples(samples, windows, clients=['node4']) == []


def test_client_restarts_before_the_servers_in_every_stage(hosts):
    labcheck.assert_clients_first(hosts, 'node4', SERVERS)


def test_tls_enforced(hosts):
    labcheck.assert_rpc_tls_enforced(hosts['node4'], 'node1')


def test_kv_data_intact(hosts):
    labcheck.assert_kv_intact(hosts['node3'])


def test_secrets_never_in_the_output():
    labcheck.assert_secrets_not_logged([labcheck.escrow_secret('consul_gossip_key_dc1'),
                                        labcheck.escrow_secret('consul_tls_ca_dc1_key')],
                                       expect=('keyfleet-gossip.json', 'keyfleet-tls.json', 'ESTABLISH'))
