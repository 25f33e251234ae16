"""Verify the running-cluster gossip migration on the real cluster."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3', 'node4']  # node4 is a client agent
SERVERS = ['node1', 'node2', 'node3']


@pytest.fixture(scope='module')
def hosts():
    return labcheck.hosts(NODES)


def test_gossip_encrypted_with_both_verify_flags(host):
    labcheck.assert_gossip_fully_encrypted(host)


def test_every_member_alive_from_every_node(host):
    labcheck.assert_members_alive(host, NODES)


def test_every_node_restarted_exactly_three_times(host):
    assert labcheck.restarts_since_prepare(host) == 3


def test_key_file_is_not_world_readable(host):
    f = host.file('/etc/consul.d/keyfleet-gossip.json')
    assert (f.user, f.group, f.mode) == ('root', 'consul', 0o640)


def test_agent_uses_the_escrowed_key(host):
    key = labcheck.escrow_secret('consul_gossip_key_dc1')
    assert host.file('/var/lib/consul/serf/local.keyring').content_string.count(key) == 1


def test_no_partition_seen_by_the_watchers(hosts):
    windows, samples = labcheck.stop_watchers_and_collect(hosts)
    # The watchers ran through the whole migration: at least 3 restarts x 3 nodes of samples.
    assert all(len(s) > 40 for s in samples.values())
    assert all(len(w) == 3 for w in windows.values())
    assert labcheck.partition_samples(samples, windows) == []


def test_client_restarts_before_the_servers_in_every_stage(hosts):
    labcheck.assert_clients_first(hosts, 'node4', SERVERS)


def test_kv_data_intact(hosts):
    labcheck.assert_kv_intact(hosts['node2'])


def test_key_never_in_the_output():
    labcheck.assert_secrets_not_logged([labcheck.escrow_secret('consul_gossip_key_dc1')],
                                       expect=('keyfleet-gossip.json', 'ESTABLISH', '+++ after'))
