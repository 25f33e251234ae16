"""Verify a new cluster that formed with gossip encryption from its first start."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3']


def test_gossip_encrypted_with_both_verify_flags(host):
    labcheck.assert_gossip_fully_encrypted(host)


def test_all_three_members_alive(host):
    labcheck.assert_members_alive(host, NODES)


def test_a_leader_is_elected(host):
    assert labcheck.consul_get(host, '/v1/status/leader')


def test_started_once_and_enabled(host):
    # Encrypted from the very first start: never an unencrypted start to restart from.
    assert labcheck.consul_starts(host)[1] == 1
    assert host.service('consul').is_enabled


def test_keyring_holds_only_the_escrowed_key(host):
    keyring = labcheck.consul_get(host, '/v1/operator/keyring')
    key = labcheck.escrow_secret('consul_gossip_key_dc1')
    for ring in keyring:
        assert list(ring['Keys']) == [key]


def test_key_file_is_not_world_readable(host):
    f = host.file('/etc/consul.d/keyfleet-gossip.json')
    assert (f.user, f.group, f.mode) == ('root', 'consul', 0o640)
