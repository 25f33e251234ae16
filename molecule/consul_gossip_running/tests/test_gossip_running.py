"""Verify the running-cluster gossip migration on the real cluster."""

import base64
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


def test_gossip_encrypted_with_both_verify_flags(host):
    labcheck.assert_gossip_fully_encrypted(host)


def test_every_member_alive_from_every_node(host):
    labcheck.assert_members_alive(host, NODES)


def test_every_node_restarted_exactly_three_times(host):
    before = int(host.file('/var/tmp/keyfleet-starts-before').content_string)
    assert labcheck.consul_starts(host)[1] - before == 3


def test_key_file_is_not_world_readable(host):
    f = host.file('/etc/consul.d/keyfleet-gossip.json')
    assert (f.user, f.group, f.mode) == ('root', 'consul', 0o640)


def test_agent_uses_the_escrowed_key(host):
    key = labcheck.escrow_secret('consul_gossip_key_dc1')
    assert host.file('/var/lib/consul/serf/local.keyring').content_string.count(key) == 1


def test_no_partition_seen_by_the_watchers(hosts):
    for h in hosts.values():
        h.run('systemctl stop keyfleet-watch')
    windows = dict((n, labcheck.consul_starts(h)[0]) for n, h in hosts.items())
    samples = dict((n, labcheck.watch_samples(h)) for n, h in hosts.items())
    # The watchers ran through the whole migration: at least 3 restarts x 3 nodes of samples.
    assert all(len(s) > 40 for s in samples.values())
    assert all(len(w) == 3 for w in windows.values())
    assert labcheck.partition_samples(samples, windows) == []


def test_client_restarts_before_the_servers_in_every_stage(hosts):
    windows = dict((n, labcheck.consul_starts(h)[0][-3:]) for n, h in hosts.items())
    for stage in range(3):
        client_stop = windows['node4'][stage][0]
        assert all(client_stop < windows[s][stage][0] for s in SERVERS), stage
        if stage:  # and only after every server finished the stage before
            assert all(client_stop > windows[s][stage - 1][1] for s in SERVERS), stage


def test_kv_data_intact(hosts):
    entries = labcheck.consul_get(hosts['node2'], '/v1/kv/keyfleet/?recurse=true')
    values = sorted(base64.b64decode(e['Value']).decode() for e in entries)
    assert values == sorted('value-%d' % i for i in range(20))


def test_key_never_in_the_output():
    key = labcheck.escrow_secret('consul_gossip_key_dc1')
    with open(os.environ['ANSIBLE_LOG_PATH']) as f:
        log = f.read()
    # The log really holds the -vvv --diff converge output ...
    assert 'keyfleet-gossip.json' in log and 'ESTABLISH' in log and '+++ after' in log
    # ... and not the key, nor its JSON-escaped form.
    assert key not in log and key.replace('/', '\\/') not in log
