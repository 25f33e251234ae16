"""Verify the one upshift (gossip encryption and full TLS in three restarts) on the real cluster."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3', 'node4', 'node5']  # node4 and node5 are client agents
CLIENTS = ['node4', 'node5']
SERVERS = ['node1', 'node2', 'node3']


@pytest.fixture(scope='module')
def hosts():
    return labcheck.hosts(NODES)


def test_gossip_encrypted_with_both_verify_flags(host):
    labcheck.assert_gossip_fully_encrypted(host)


def test_full_tls_as_the_agent_reports_it(host):
    labcheck.assert_tls_full(labcheck.consul_get(host, '/v1/agent/self'))


def test_every_node_restarted_exactly_three_times(host):
    # Both parts in three restarts: gossip then TLS one after the other would take six.
    assert labcheck.restarts_since_prepare(host) == 3


def test_every_member_alive_from_every_node(host):
    labcheck.assert_members_alive(host, NODES)


def test_files_owner_and_mode(host):
    labcheck.assert_tls_files(host)
    f = host.file('/etc/consul.d/keyfleet-gossip.json')
    assert (f.user, f.group, f.mode) == ('root', 'consul', 0o640)


def test_agent_uses_the_escrowed_gossip_key(host):
    key = labcheck.escrow_secret('consul_gossip_key_dc1')
    assert host.file('/var/lib/consul/serf/local.keyring').content_string.count(key) == 1


@pytest.mark.parametrize('server', SERVERS)
def test_server_presents_its_names_and_requires_client_certificates(hosts, server):
    labcheck.assert_rpc_tls_enforced(hosts['node5'], server)


def test_no_partition_and_rpc_kept_outside_restart_windows(hosts):
    windows, samples = labcheck.stop_watchers_and_collect(hosts)
    assert all(len(s) > 40 for s in samples.values())
    assert all(len(w) == 3 for w in windows.values())
    assert labcheck.partition_samples(samples, windows) == []
    assert labcheck.leader_windows(samples, windows)
    assert labcheck.rpc_failure_samples(samples, windows, clients=CLIENTS) == []


@pytest.mark.parametrize('client', CLIENTS)
def test_client_restarts_before_the_servers_in_every_stage(hosts, client):
    labcheck.assert_clients_first(hosts, client, SERVERS)


def test_acls_deny_without_a_token_and_the_playbooks_ran_with_the_documented_policy(host):
    # default-deny: an anonymous request is refused, so every read the playbooks made went through
    # lab_consul_keyfleet_token, which has only the rules docs/consul-acl.md lists.
    anonymous = host.run("python3 -c \"import urllib.request as u; u.urlopen('http://127.0.0.1:8500/v1/agent/self', timeout=5)\"")
    assert anonymous.rc != 0 and '403' in anonymous.stderr
    me = labcheck.consul_get(host, '/v1/agent/self')
    assert me['DebugConfig']['ACLsEnabled'] is True and me['DebugConfig']['ACLDefaultPolicy'] == 'deny'


def test_kv_data_intact(hosts):
    labcheck.assert_kv_intact(hosts['node2'])


def test_secrets_never_in_the_output():
    labcheck.assert_secrets_not_logged(
        [labcheck.escrow_secret('consul_gossip_key_dc1'), labcheck.escrow_secret('consul_tls_ca_dc1_key'),
         '0b7d2c44-5e9a-4f3b-8c21-7a6e5d4c3b2a'],  # consul_http_token
        expect=('keyfleet-gossip.json', 'keyfleet-tls.json', 'ESTABLISH', '+++ after'))


def test_a_token_the_agents_refuse_stops_both_playbooks_before_any_change():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'acl-refused.json')) as f:
        refused = json.load(f)
    # The running-cluster playbook and the new-cluster one: neither takes 403 for "not running".
    assert refused['rc'] == [2, 2]
    for out in refused['out']:
        text = ' '.join(out.split())
        assert 'the agent answers but cannot be read' in text and 'HTTP 403' in text
        assert 'give a token (consul_http_token) whose policy grants agent:read' in text
    for out in refused['after']:
        assert out.count('No such file') == 2, out
