"""Verify the gossip key rotation on the real cluster."""

import json
import os
import re
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3']


@pytest.fixture(scope='module')
def evidence():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'rotate.json')) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def keys():
    entry = labcheck.escrow_entry('consul_gossip_key_dc1')
    assert entry['generation'] == 'r1' and len(entry['previous']) == 1
    return entry['value'], entry['previous'][0]['value']


@pytest.fixture(scope='module')
def hosts():
    return {n: testinfra.get_host('podman://' + n) for n in NODES}


def test_no_rotation_id_is_named(evidence):
    assert 'consul_gossip_rotation_id is not set' in evidence['no_id']


def test_stopped_before_use_when_a_node_cannot_store_the_key(evidence, keys):
    new, old = keys
    assert evidence['first']['rc'] != 0
    out = ' '.join(evidence['first']['out'].split())
    # Stopped by the install (a node reported failure) or by the NumNodes check before use.
    assert 'keyring API: POST' in out or 'not every node holds the key' in out
    # The old key stayed primary in every ring.
    assert evidence['primary_after_stop'] == [[old], [old]]


def test_completed_then_nothing_to_do(evidence):
    assert evidence['second']['rc'] == 0 and evidence['third']['rc'] == 0
    recap = re.findall(r'^node\d\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)', evidence['third']['out'], re.M)
    assert recap == [('0', '0')] * 3


def test_only_the_new_key_remains_and_is_primary(hosts, keys):
    new, old = keys
    rings = labcheck.consul_get(hosts['node2'], '/v1/operator/keyring')
    assert len(rings) == 2  # WAN and LAN
    for ring in rings:
        assert ring['Keys'] == {new: ring['NumNodes']} and ring['PrimaryKeys'] == {new: ring['NumNodes']}


def test_every_agent_persisted_only_the_new_key_and_its_settings_name_it(host, keys):
    new, old = keys
    assert json.loads(host.file('/var/lib/consul/serf/local.keyring').content_string) == [new]
    assert json.loads(host.file('/etc/consul.d/keyfleet-gossip.json').content_string)['encrypt'] == new


def test_no_restart_and_no_partition(hosts):
    windows, samples = labcheck.stop_watchers_and_collect(hosts)
    assert all(labcheck.restarts_since_prepare(h) == 0 for h in hosts.values())
    assert all(len(s) > 20 for s in samples.values())
    assert labcheck.partition_samples(samples, windows) == []
    labcheck.assert_members_alive(hosts['node1'], NODES)


def test_keys_never_in_the_output(keys):
    labcheck.assert_secrets_not_logged(list(keys), expect=('Encrypt with the new key',))
