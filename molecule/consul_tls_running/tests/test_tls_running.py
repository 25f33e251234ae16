"""Verify the running-cluster TLS migration on the real cluster, and the CA rotation after it."""

import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3', 'node4', 'node5']  # node4 and node5 are client agents
SERVERS = ['node1', 'node2', 'node3']
CLIENTS = ['node4', 'node5']
OUT = os.environ['MOLECULE_EPHEMERAL_DIRECTORY']
# The lab cluster runs in another datacenter and domain than Consul's defaults (molecule.yml), and the
# inventory does not say so: the certificates must carry the names read from the agents.
DC_DOMAIN = 'eu-west.lab.internal'
# journald stamps a line when it receives it: on a loaded controller the "Stopping consul.service" line can trail
# the agent's shutdown (seen once: a catalog call answered 500 by an agent stopping, 0.4 ms before the stamp). The
# failure checks start each restart window this much earlier.
JOURNAL_LAG = 0.5


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


@pytest.mark.parametrize('client', CLIENTS)
def test_client_certificate_cannot_pose_as_a_server(hosts, client):
    # verify_server_hostname's point: a client agent's certificate has no server name.
    assert sorted(labcheck.cert_names(hosts[client])) == ['DNS:client.' + DC_DOMAIN, 'DNS:localhost', 'IP:127.0.0.1']


def test_https_api_with_the_agent_certificate(host):
    assert labcheck.consul_get_tls(host, '/v1/status/leader')


@pytest.fixture(scope='module')
def watched(hosts):
    """Both watchers stopped: restart windows, the plain HTTP samples (since prepare) and the HTTPS ones
    (since side_effect, before the rotation), by node."""
    windows, samples = labcheck.stop_watchers_and_collect(hosts)
    https = labcheck.stop_watcher_and_collect(hosts, 'keyfleet-watch-https', '/var/log/keyfleet-watch-https.jsonl')
    return windows, samples, https


def test_leader_and_catalog_never_lost_outside_restart_windows(watched):
    windows, samples, https = watched
    assert all(len(s) > 40 for s in samples.values())
    assert all(len(w) == 3 for w in windows.values())
    # The watchers saw the leader restart (else the exemption below would be untested).
    assert labcheck.leader_windows(samples, windows)
    windows = dict((n, [(a - JOURNAL_LAG, b) for a, b in w]) for n, w in windows.items())
    for kind in (samples, https):
        assert labcheck.rpc_failure_samples(kind, windows, clients=CLIENTS) == []
        assert labcheck.partition_samples(kind, windows) == []


@pytest.mark.parametrize('client', CLIENTS)
def test_client_restarts_before_the_servers_in_every_stage(hosts, client):
    labcheck.assert_clients_first(hosts, client, SERVERS)


def test_kv_data_intact(hosts):
    labcheck.assert_kv_intact(hosts['node2'])


def test_ca_key_never_in_the_output_nor_on_a_node(hosts):
    # Both: the rotation's CA B (current) and A (previous); the rotation runs logged to the same file.
    entry = labcheck.escrow_entry('consul_tls_ca_eu-west_key')
    ca_keys = [entry['value']] + [p['value'] for p in entry['previous']]
    assert len(ca_keys) == 2
    labcheck.assert_secrets_not_logged(ca_keys, expect=('keyfleet-tls.json', 'ESTABLISH', 'consul_tls_ca_rotate'))
    for ca_key in ca_keys:
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
    ('member_outside', 'members not among the hosts of this run (group consul): node4, node5.'),
    ('new_cluster', 'node1 runs at tls stage 0 : this is a running cluster, and turning encryption fully on at once '
                    'would cut it apart. Use the running-cluster playbook instead.'),
])
def test_inventory_values_the_agents_contradict_stop_the_run(contradictions, case, message):
    assert message in ' '.join(contradictions['bad'][case].split())


def test_contradicting_runs_changed_no_host(contradictions):
    assert contradictions['rc'] == [2, 2, 2, 2]
    assert len(contradictions['after']) == len(NODES)
    for out in contradictions['after']:
        assert out.count('No such file') == 2, out


def test_an_empty_escrow_does_not_make_a_new_ca_for_a_cluster_that_has_one():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'other-escrow.json')) as f:
        run = json.load(f)
    out = ' '.join(run['out'].split())
    assert run['rc'] == 2
    assert 'These agents already trust a CA: node1, node2, node3, node4, node5' in out
    assert 'the escrow holds no consul_tls_ca_eu-west_cert' in out and 'No host was changed.' in out
    assert run['same_files'] and not run['ca_made']


# -- the CA rotation (side_effect: rotate_runs.py) ----------------------------------------------------

@pytest.fixture(scope='module')
def rotation():
    with open(os.path.join(OUT, 'rotation.json')) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def cas(rotation):
    """CA A (the escrow's before the rotation) and B (the escrow's now), by name."""
    return {'A': rotation['ca_a'], 'B': labcheck.escrow_secret('consul_tls_ca_eu-west_cert')}


def summary(rotation, cas, when):
    return dict((n, labcheck.tls_state_summary(s, cas)) for n, s in rotation['states'][when].items())


def rotated(node, s):
    """Where every agent must end: B's certificate in the file and on its ports, B alone in its CA file."""
    return s == {'cert': 'B', 'ca': ['B'], 'https': 'B', 'rpc': 'B' if node in SERVERS else ''}


def run_changed(run):
    """changed= of each host in a run's PLAY RECAP."""
    return dict((h, int(c)) for h, c in re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', run['recap'], re.M))


def test_escrow_holds_ca_b_and_keeps_a(cas):
    assert labcheck.pem_certs(cas['A']) != labcheck.pem_certs(cas['B'])
    cert = labcheck.escrow_entry('consul_tls_ca_eu-west_cert')
    assert labcheck.pem_certs(cert['value']) == labcheck.pem_certs(cas['B'])
    assert labcheck.pem_certs(cas['A']) in [labcheck.pem_certs(p['value']) for p in cert['previous']]
    # The escrowed key is B's.
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(labcheck.escrow_secret('consul_tls_ca_eu-west_key').encode(), None)
    pub = x509.load_pem_x509_certificate(cas['B'].encode()).public_key()
    raw = (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert key.public_key().public_bytes(*raw) == pub.public_bytes(*raw)


def test_every_agent_serves_b_and_trusts_b_alone(host, cas):
    # Read now, by the verifier, not from the evidence: 8501 (and 8300 on a server) serve B's certificate
    # and the CA file holds exactly one certificate, B.
    name = labcheck.node_name(host)
    now = labcheck.tls_state_summary(labcheck.node_tls_state(host), cas)
    assert rotated(name, now), now


@pytest.mark.parametrize('server', SERVERS)
def test_a_certificate_of_ca_a_is_refused_by_every_server(hosts, server):
    # node4's own key with the certificate A signed for it before the rotation.
    old = labcheck.tls_client_probe(hosts['node4'], server, cert='/root/cert-a.pem')
    assert not old['accepted'] and old['pem'], old
    assert 'UNKNOWN_CA' in old['error'] or 'BAD_CERTIFICATE' in old['error'], old
    # (node4's current certificate, B's, is accepted: test_server_presents_its_names_and_requires_client_certificates.)


def test_the_rotation_restarted_no_agent(rotation):
    for when in ('killed', 'second', 'third'):
        for node, s in rotation['states'][when].items():
            assert s['starts'] == rotation['states']['before'][node]['starts'], (when, node)


def test_the_first_run_was_killed_mid_way(rotation, cas):
    first = rotation['runs'][0]
    assert sorted(rotation['pollers_running']) == NODES
    assert first['rc'] == -9 and first['trigger'], first['tail']
    states = summary(rotation, cas, 'killed')
    # Mixed: some agent holds B's certificate, not every agent has finished; and every CA file still trusts
    # both CAs (the bundle went everywhere before the first new certificate).
    assert any(s['cert'] == 'B' for s in states.values()), states
    assert not all(rotated(n, s) for n, s in states.items()), states
    assert all(sorted(s['ca']) == ['A', 'B'] for s in states.values()), states


def test_the_second_run_finished_the_rotation(rotation, cas):
    second = rotation['runs'][1]
    assert second['rc'] == 0, second['tail']
    states = summary(rotation, cas, 'second')
    assert all(rotated(n, s) for n, s in states.items()), states
    # It reloaded the agents (a killed run resumed, not skipped).
    assert all(s['reloads'] > rotation['states']['killed'][n]['reloads']
               for n, s in rotation['states']['second'].items())


def test_the_third_run_changed_nothing(rotation):
    third = rotation['runs'][2]
    assert third['rc'] == 0, third['tail']
    changed = run_changed(third)
    assert set(NODES) <= set(changed) and set(changed.values()) == {0}, third['recap']
    for node, s in rotation['states']['third'].items():
        before = rotation['states']['second'][node]
        assert (s['reloads'], s['hangups']) == (before['reloads'], before['hangups']), node


def test_every_rotation_step_reloaded_every_agent(rotation):
    # Three steps, each one reload per agent (the killed run's reloads included).
    for node, s in rotation['states']['third'].items():
        assert s['reloads'] - rotation['states']['before'][node]['reloads'] >= 3, node
        assert s['hangups'] - rotation['states']['before'][node]['hangups'] >= 3, node


def test_leader_and_catalog_never_lost_during_the_rotation(watched, rotation):
    dummy, samples, https = watched
    t0, t1 = rotation['runs'][0]['t0'], rotation['runs'][2]['t1']
    leaders = set()
    for kind, step in ((samples, 0.5), (https, 0.25)):
        for node, ss in kind.items():
            during = [s for s in ss if t0 <= s['t'] <= t1]
            # The watcher ran all along, at its pace.
            assert len(during) > 0.5 * (t1 - t0) / step, (node, len(during))
            times = [t0] + [s['t'] for s in during] + [t1]
            assert max(b - a for a, b in zip(times, times[1:])) < 3, node
            bad = [s for s in during if not (s['ok'] and s['leader'] and s['catalog'])]
            assert bad == [], (node, bad[:3])
            leaders |= set(s['leader'] for s in during)
    assert len(leaders) == 1, leaders
