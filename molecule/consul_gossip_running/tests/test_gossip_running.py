"""Verify the running-cluster gossip migration on the real cluster."""

import os
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3']


@pytest.fixture(scope='module')
def hosts():
    return {n: testinfra.get_host('podman://' + n) for n in NODES}


def test_gossip_encrypted_with_both_verify_flags(host):
    me = labcheck.consul_get(host, '/v1/agent/self')
    assert me['Stats']['serf_lan']['encrypted'] == 'true'
    assert me['DebugConfig']['EncryptVerifyIncoming'] is True
    assert me['DebugConfig']['EncryptVerifyOutgoing'] is True


def test_every_member_alive_from_every_node(host):
    members = labcheck.consul_get(host, '/v1/agent/members')
    assert sorted((m['Name'], m['Status']) for m in members) == [(n, 1) for n in NODES]


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


def test_kv_data_intact(hosts):
    entries = labcheck.consul_get(hosts['node2'], '/v1/kv/keyfleet/?recurse=true')
    import base64
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
