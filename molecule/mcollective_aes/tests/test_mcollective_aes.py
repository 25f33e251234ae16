"""Verify MCollective aes_security keys and settings in every deployment scenario."""

import json
import os
import re
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

OUT = os.environ['MOLECULE_EPHEMERAL_DIRECTORY']
SERVERS = ['mco-server1', 'mco-server2']
NAMES = ['alice', 'bob', 'carol'] + SERVERS


def load(name):
    with open(os.path.join(OUT, name)) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def scenarios():
    return load('mco-scenarios.json')


def host(name):
    return testinfra.get_host('podman://' + name)


def settings(lines):
    return dict(l.split(' = ', 1) for l in lines)


def recap_changed(out):
    return dict((m.group(1), int(m.group(2))) for m in re.finditer(r'^(mco-\S+)\s+: ok=\d+\s+changed=(\d+)', out, re.M))


@pytest.mark.parametrize('case, message', [
    ('weak', 'mcollective_aes_key_size must be at least 2048 bits (got 1024)'),
    ('learn', 'learns public keys from the network: set mcollective_aes_ca=true'),
    ('yaml', 'mcollective_aes_serializer=yaml cannot work on mco-server1: its Ruby has Psych 4.0.3'),
    ('ca', 'mcollective_aes_ca_cert / mcollective_aes_ca_key are set but mcollective_aes_ca is false'),
    ('name', 'each entry needs a name matching'),
    ('duplicate', "duplicates ['alice']"),
    ('puppet_shared', 'mcollective_aes_server_keys=puppet reuses each node'),
    ('missing_host', 'hosts of the collective not in this run'),
    ('weak_puppet', '/root/weak-private.pem is RSA 1024 bits; aes_security needs RSA of at least 2048 bits'),
    ('facts', 'host mco-server1 returned facts named as variables this run decides with (keyfleet_escrow_file)'),
])
def test_bad_input_is_named_and_nothing_is_written(case, message):
    bad = load('mco-bad.json')
    assert message in ' '.join(bad['messages'][case].split())
    assert bad['unchanged'] is True
    # the escrow the hostile host named was never written (the controller's file)
    assert not os.path.exists('/tmp/keyfleet-lab-stolen.vault')


@pytest.mark.parametrize('scenario, send, shared', [
    ('manual_unique', '0', False), ('automatic_unique', '1', False),
    ('manual_shared', '0', True), ('automatic_shared', '1', True)])
def test_rendered_settings(scenarios, scenario, send, shared):
    server, client = settings(scenarios[scenario]['server_cfg']), settings(scenarios[scenario]['client_cfg'])
    name = 'mcollective-servers' if shared else 'mco-server1'
    assert server['securityprovider'] == client['securityprovider'] == 'aes_security'
    assert server['plugin.aes.send_pubkey'] == server['plugin.aes.learn_pubkeys'] == send
    assert client['plugin.aes.send_pubkey'] == client['plugin.aes.learn_pubkeys'] == send
    assert server['plugin.aes.server_private'] == '/etc/mcollective/ssl/%s-private.pem' % name
    assert server['plugin.aes.server_public'] == '/etc/mcollective/ssl/%s.pem' % name
    assert server['plugin.aes.client_cert_dir'] == '/etc/mcollective/ssl/clients'
    assert server['plugin.aes.enforce_ttl'] == client['plugin.aes.enforce_ttl'] == '1'
    assert client['plugin.aes.client_private'] == '/home/alice/.mcollective.d/alice-private.pem'
    assert client['plugin.aes.client_public'] == '/home/alice/.mcollective.d/alice.pem'
    assert server['plugin.aes.serializer'] == client['plugin.aes.serializer'] == 'marshal'
    # without the CA, learning needs an explicit insecure_learning, and only learning scenarios carry it
    assert server.get('plugin.aes.insecure_learning') == ('1' if send == '1' else None)
    assert 'plugin.aes.ca_cert' not in server


@pytest.mark.parametrize('scenario, checks, learn, server', [('ca_staged', False, '0', 'mco-server1'), ('ca', True, '0', 'mco-server1'),
                                                             ('ca_learning', True, '1', 'mcollective-servers')])
def test_ca_mode_settings_and_certificates(scenarios, scenario, checks, learn, server):
    evidence = scenarios[scenario]
    cfg, client = settings(evidence['server_cfg']), settings(evidence['client_cfg'])
    # each caller's public half is its certificate, CN=<caller id>; the servers check it only once every caller has one
    assert cfg['plugin.aes.server_public'] == '/etc/mcollective/ssl/%s-cert.pem' % server
    assert client['plugin.aes.client_public'] == '/home/alice/.mcollective.d/alice-cert.pem'
    assert cfg.get('plugin.aes.ca_cert') == ('/etc/mcollective/ssl/ca.pem' if checks else None)
    assert cfg['plugin.aes.learn_pubkeys'] == learn and 'plugin.aes.insecure_learning' not in cfg
    assert evidence['ca_file' if checks else 'cert_dir_alice'].startswith('-----BEGIN CERTIFICATE-----')
    ca = labcheck.escrow_secret('mcollective_aes_ca_cert')
    if checks:
        assert evidence['ca_file'].strip() == ca.strip()
    from cryptography import x509
    cert = x509.load_pem_x509_certificate(evidence['cert_dir_alice'].encode('ascii'))
    assert cert.subject.rfc4514_string() == 'CN=alice'
    assert cert.issuer == x509.load_pem_x509_certificate(ca.encode('ascii')).subject


def test_a_running_collective_moved_into_ca_mode_answers_at_every_step(scenarios):
    # before (puppet: bare keys), certificates without the check, the check, learning: each step answered
    for step in ['puppet'] + CA:
        pings = scenarios[step]['pings']
        assert [replies(pings[c]) for c in ('alice', 'bob', 'carol')] == [2, 2, 2], (step, pings)


@pytest.mark.parametrize('scenario', ['ca', 'ca_learning'])
def test_ca_mode_refuses_a_certificate_the_ca_did_not_sign_and_one_for_another_caller(scenarios, scenario):
    pings = scenarios[scenario]['pings']
    # self-signed CN=mallory, CN=eve from another CA, CN=bob from the collective's CA on mallory's key, a forged id
    assert [replies(pings[p]) for p in ('mallory', 'mallory_self', 'mallory_eve', 'mallory_as_bob', 'forged')] == [0] * 5, pings
    for log in scenarios[scenario]['server_log']:
        if scenario == 'ca_learning':
            # the plugin read each certificate, found its CN, and the CA did not sign it: nothing was learned
            assert "Unable to validate certificate 'mallory'' against CA" in log, log
            assert "Unable to validate certificate 'eve'' against CA" in log, log
        else:  # nothing learned in a manual scenario: no file for the caller
            assert 'mallory.pem' in log and 'eve.pem' in log, log
    for listing in scenarios[scenario]['server_keys']:
        assert 'mallory.pem' not in listing and 'eve.pem' not in listing


def plain(out):
    return re.sub(r'\x1b\[[0-9;]*m', '', out)  # mco colours its counts


def replies(out):
    """How many servers answered an mco ping (0 for 'No responses received')."""
    m = re.search(r'^(\d+) replies', plain(out), re.M)
    return int(m.group(1)) if m else 0


ALL = ['manual_unique_live', 'automatic_unique', 'manual_shared', 'automatic_shared', 'puppet', 'ca_staged', 'ca', 'ca_learning',
       'manual_unique']
CA = ['ca_staged', 'ca', 'ca_learning']  # the move into CA mode (side_effect.yml), in its order


@pytest.mark.parametrize('scenario', ALL)
def test_distributed_clients_get_replies_from_the_real_daemons(scenarios, scenario):
    pings = scenarios[scenario]['pings']
    assert [replies(pings[c]) for c in ('alice', 'bob', 'carol')] == [2, 2, 2], pings
    assert 'Finished processing 2 / 2 hosts' in plain(pings['alice_rpc'])


@pytest.mark.parametrize('scenario', ALL)
def test_a_forged_caller_id_gets_no_reply(scenarios, scenario):
    # mallory signs with her private key and names herself alice: the servers decrypt with alice's key and fail
    assert replies(scenarios[scenario]['pings']['forged']) == 0


@pytest.mark.parametrize('scenario, learned', [
    ('manual_unique_live', False), ('automatic_unique', True), ('manual_shared', False), ('automatic_shared', True),
    ('puppet', False), ('ca_staged', False), ('ca', False), ('manual_unique', False)])
def test_an_undistributed_key_is_learned_only_where_the_scenario_allows(scenarios, scenario, learned):
    evidence = scenarios[scenario]
    assert replies(evidence['pings']['mallory']) == (2 if learned else 0)
    if not learned:  # and each server's log says why
        for log in evidence['server_log']:
            assert 'mallory.pem' in log


@pytest.mark.parametrize('scenario', [s for s in ALL[1:] if s != 'ca_staged'])  # ca_staged is applied once
def test_each_scenario_second_run_changes_nothing_and_restarts_nothing(scenarios, scenario):
    assert scenarios[scenario]['rc'] == [0, 0]
    assert set(recap_changed(scenarios[scenario]['out'][1]).values()) == {0}
    assert scenarios[scenario]['restarted_by_second_run'] is False


def converge_runs():
    """converge.yml's notes, one per run of it: [(Ansible log length before the recap, mcollectived MainPIDs)]."""
    with open(os.path.join(OUT, 'mco-converge-runs')) as f:
        rows = [line.split() for line in f if line.strip()]
    return [(int(r[0]), r[1:]) for r in rows]


def recap_after(offset):
    """The PLAY RECAP that follows offset in the Ansible log, as {host: changed} (log lines carry a prefix)."""
    with open(os.environ.get('ANSIBLE_LOG_PATH') or os.path.join(OUT, 'ansible.log'), 'rb') as f:
        f.seek(offset)
        text = f.read().decode('utf-8', 'replace')
    recap = text.split('PLAY RECAP', 1)[1].split('PLAY [', 1)[0]
    return dict((m.group(1), int(m.group(2))) for m in re.finditer(r'\| (mco-\S+)\s+: ok=\d+\s+changed=(\d+)', recap))


def test_manual_unique_live_second_run_changes_nothing_and_restarts_nothing():
    # manual_unique_live's two runs are converge and idempotence (molecule fails the scenario when either fails):
    # the first changed the hosts, the second (idempotence) changed nothing and restarted no mcollectived.
    (first, pids_first), (second, pids_second) = converge_runs()[-2:]
    assert sum(recap_after(first).values()) > 0
    changed = recap_after(second)
    assert sorted(changed) == ['mco-client1', 'mco-server1', 'mco-server2'] and set(changed.values()) == {0}, changed
    assert len(pids_first) == 2 and '0' not in pids_first
    assert pids_second == pids_first


def test_puppet_keys_reused_by_path(scenarios):
    puppet = scenarios['puppet']
    server = settings(puppet['server_cfg'])
    assert server['plugin.aes.server_private'] == '/var/lib/puppet/ssl/private_keys/mco-server1.pem'
    assert server['plugin.aes.server_public'] == '/var/lib/puppet/ssl/public_keys/mco-server1.pem'
    assert puppet['rc'] == [0, 0] and set(recap_changed(puppet['out'][1]).values()) == {0}
    assert replies(puppet['pings']['alice']) == 2
    # servers hold each other's Puppet public key under the node name
    assert 'mco-server2.pem' in puppet['server_keys'][0][1:]


def test_server_keys_unique_or_shared(scenarios):
    unique = [k[0] for k in scenarios['manual_unique']['server_keys']]
    shared = [k[0] for k in scenarios['manual_shared']['server_keys']]
    assert unique[0] != unique[1]
    assert shared[0] == shared[1]
    # the shared key is the escrowed one, made once: automatic_shared reused it
    assert [k[0] for k in scenarios['automatic_shared']['server_keys']] == shared
    assert labcheck.sha256(labcheck.escrow_secret('mcollective_aes_shared_server_key'))[:16] == shared[0]


def test_pruning_left_only_the_collective(scenarios):
    for listing in scenarios['manual_unique']['server_keys']:
        assert sorted(listing[1:]) == sorted(n + '.pem' for n in NAMES)


@pytest.mark.parametrize('server', SERVERS)
def test_client_cert_dir_read_only_with_the_clients_keys(server):
    h, c = host(server), host('mco-client1')
    d = h.file('/etc/mcollective/ssl/clients')
    assert (d.user, d.mode) == ('root', 0o555)
    for name in NAMES:
        f = h.file('/etc/mcollective/ssl/clients/%s.pem' % name)
        assert (f.user, f.mode) == ('root', 0o444)
    for user in ('alice', 'bob'):
        assert h.file('/etc/mcollective/ssl/clients/%s.pem' % user).content_string == \
            c.file('/home/%s/.mcollective.d/%s.pem' % (user, user)).content_string


@pytest.mark.parametrize('server', SERVERS)
def test_server_private_key_0600_root_4096(server):
    h = host(server)
    f = h.file('/etc/mcollective/ssl/%s-private.pem' % server)
    assert (f.user, f.group, f.mode) == ('root', 'root', 0o600)
    assert 'Private-Key: (4096 bit' in h.check_output('openssl pkey -in %s -noout -text | head -1' % f.path)
    shared = h.file('/etc/mcollective/ssl/mcollective-servers-private.pem')
    assert (shared.user, shared.mode) == ('root', 0o600)


@pytest.mark.parametrize('user', ['alice', 'bob'])
def test_client_private_key_0600_owned_by_the_user(user):
    h = host('mco-client1')
    f = h.file('/home/%s/.mcollective.d/%s-private.pem' % (user, user))
    assert (f.user, f.mode) == (user, 0o600)
    assert h.file('/home/%s/.mcollective.d' % user).mode == 0o700
    assert h.file('/home/%s/.mcollective' % user).mode == 0o600
    assert 'Private-Key: (4096 bit' in h.check_output('openssl pkey -in %s -noout -text | head -1' % f.path)


def test_system_client_config_root_in_the_users_group_only():
    # /etc/mcollective/client.cfg: root's file that carol's mco reads through her group, and no other user
    h = host('mco-client1')
    f = h.file('/etc/mcollective/client.cfg')
    assert (f.user, f.group, f.mode) == ('root', 'carol', 0o640)
    cfg = settings(l for l in f.content_string.splitlines() if l.startswith(('securityprovider', 'plugin.aes.')))
    assert cfg['securityprovider'] == 'aes_security'
    assert cfg['plugin.aes.client_private'] == '/home/carol/.mcollective.d/carol-private.pem'
    assert h.run('runuser -u carol -- cat /etc/mcollective/client.cfg').rc == 0
    assert h.run('runuser -u bob -- cat /etc/mcollective/client.cfg').rc != 0
    key = h.file('/home/carol/.mcollective.d/carol-private.pem')
    assert (key.user, key.mode) == ('carol', 0o600)


PSK = 'lab-psk-before-aes'  # prepare.yml's plugin.psk, what the collective ran with before the migration
# Every configuration the migration switched: each server's server.cfg, each client's own file.
SWITCHED = [('mco-server1', '/etc/mcollective/server.cfg'), ('mco-server2', '/etc/mcollective/server.cfg'),
            ('mco-client1', '/home/alice/.mcollective'), ('mco-client1', '/home/bob/.mcollective'),
            ('mco-client1', '/etc/mcollective/client.cfg')]


def test_no_private_key_nor_the_psk_in_the_logs():
    labcheck.assert_secrets_not_logged([labcheck.escrow_secret('mcollective_aes_shared_server_key'), PSK], expect=())


def test_the_psk_is_escrowed_and_gone_from_every_switched_configuration():
    assert labcheck.escrow_secret('mcollective_psk') == PSK
    for name, path in SWITCHED:
        text = host(name).file(path).content_string
        assert 'aes_security' in text and not re.search(r'^\s*plugin\.psk', text, re.M), (name, path)


def posture(name):
    with open(os.path.join(OUT, 'posture-' + name, 'posture.json')) as f:
        return [r for r in json.load(f)['rows'] if r['system'] == 'mcollective']


def test_posture_shows_the_psk_todo_before_and_ok_after_by_file_never_its_value():
    before = [(r['host'], r['detail']) for r in posture('before') if r['check'] == 'psk' and r['status'] == 'todo']
    assert sorted(before) == sorted((n, '%s still holds plugin.psk in plain text' % p) for n, p in SWITCHED)
    after = [(r['host'], r['detail'], r['status']) for r in posture('converged') if r['check'] == 'psk']
    assert sorted(after) == sorted((n, 'no plugin.psk in %s' % p, 'ok') for n, p in SWITCHED)
    for name in ('before', 'converged'):
        with open(os.path.join(OUT, 'posture-' + name, 'posture.json')) as f:
            assert PSK not in f.read()


def test_posture_after_converge_reads_the_scenario_from_server_cfg():
    rows = posture('converged')
    assert sorted(set(r['host'] for r in rows)) == ['mco-client1', 'mco-server1', 'mco-server2']
    assert all(r['status'] == 'ok' for r in rows), rows
    scenario = [r['detail'] for r in rows if r['check'] == 'scenario']
    assert scenario == ['manual_unique (send_pubkey 0, learn_pubkeys 0)'] * 2
    assert all(r['detail'].endswith(' bits') for r in rows if r['check'] == 'key size')
    clients = [r['detail'] for r in rows if r['check'] == 'client_cert_dir']
    assert all('alice' in c and 'bob' in c for c in clients), clients
