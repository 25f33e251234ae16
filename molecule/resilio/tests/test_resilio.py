"""Verify Resilio Connect master keys on the lab doubles, the bad-input runs of prepare and the
changed-key and new-installation runs of side_effect."""

import hashlib
import json
import os
import sys
from collections import namedtuple

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

CHANGED_KEY = 'a new key: the old one was lost'  # as in side_effect.yml
S = namedtuple('S', 'unit home variable escrow path')  # path: the file that holds the key
SERVICES = {
    'mc1': [S('resilio-connect-server', '/opt/resilio-connect-server', 'RESILIO_MPASSWD', 'resilio_mpasswd_mc1',
              '/etc/systemd/system/resilio-connect-server.service.d/99-keyfleet-master-key.env')],
    'agent1': [S('resilio-agent', '/opt/resilio-agent', 'RESILIO_KEY', 'resilio_key_agent1',
                 '/etc/systemd/system/resilio-agent.service.d/99-keyfleet-master-key.env')],
    'agent2': [S('rslagent', '/opt/rslagent', 'RESILIO_KEY', 'resilio_key_agent2', '/etc/default/rslagent')],
    'new1': [S('resilio-connect-server', '/opt/resilio-connect-server', 'KF_MC_MASTER', 'resilio_mpasswd_new1',
               '/etc/systemd/system/resilio-connect-server.service.d/99-keyfleet-master-key.env'),
             S('resilio-agent', '/opt/resilio-agent', 'RESILIO_KEY', 'resilio_key_new1',
               '/etc/systemd/system/resilio-agent.service.d/99-keyfleet-master-key.env')],
}


def sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def evidence(name):
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], name)) as f:
        return json.load(f)


def me(host):
    return host.check_output('hostname')


def one_line(text):
    return ' '.join(text.split())


def test_no_key_in_argv(host):
    # First on each host: later tests run commands of their own.
    keys = dict((s.escrow, labcheck.escrow_secret(s.escrow)) for s in SERVICES[me(host)])
    labcheck.assert_secrets_not_in_argv(host, keys, expect=('resilio-double',))


def test_running_with_the_escrowed_key(host):
    for s in SERVICES[me(host)]:
        assert host.service(s.unit).is_running
        key = labcheck.escrow_secret(s.escrow)
        assert host.file(s.home + '/var/started-with.sha256').content_string.strip() == sha256(key)
        data = json.loads(host.file(s.home + '/var/encryption.json').content_string)
        assert data == {'encrypted_with': sha256(key), 'variable': s.variable}


def test_key_files_private(host):
    for s in SERVICES[me(host)]:
        f = host.file(s.path)
        assert (f.user, f.group, f.mode) == ('root', 'root', 0o600)
        assert s.variable + '=' in f.content_string


def test_key_not_readable_by_a_local_user_through_dbus(host):
    # Environment= is a unit property any local user reads over D-Bus (systemd.exec(5)); an
    # EnvironmentFile= is read by systemd as root and not shown.
    for s in SERVICES[me(host)]:
        key = labcheck.escrow_secret(s.escrow)
        shown = host.run('runuser -u nobody -- systemctl show -p Environment -p EnvironmentFiles %s', s.unit)
        assert shown.rc == 0, shown.stderr
        assert key not in shown.stdout and s.variable + '=' not in shown.stdout
        assert s.path in shown.stdout  # the EnvironmentFiles= property names the file, not its content
        assert host.run('runuser -u nobody -- cat %s', s.path).rc != 0


def test_environment_file_keeps_other_settings(host):
    if me(host) != 'agent2':
        pytest.skip('agent2 keeps its key in an environment file')
    text = host.file('/etc/default/rslagent').content_string
    assert 'HTTP_PROXY=http://proxy.lab:3128' in text and 'RESILIO_KEY=' in text
    assert 'EnvironmentFile=/etc/default/rslagent' in host.file(
        '/etc/systemd/system/rslagent.service.d/99-keyfleet-master-key.conf').content_string


def test_mc_configuration_names_the_variable(host):
    for s in SERVICES[me(host)]:
        if s.unit == 'resilio-connect-server':
            config = json.loads(host.file(s.home + '/config.json').content_string)
            assert config['security']['mpasswd_env'] == s.variable
            assert config['smtp'] == {'password': 'lab-smtp-secret-in-mc-config'}  # the rest of the file kept


def test_each_service_started_once_by_the_four_passes():
    """Installed and started plain (1), stopped and started with the key once (2): check mode, the
    idempotence run and check mode again started nothing."""
    starts = [line.split() for line in evidence('side-effect.json')['starts_after_passes']]
    assert sorted((fields[0], int(fields[2])) for fields in starts) == [('agent1', 2), ('agent2', 2), ('mc1', 2)]


@pytest.mark.parametrize('case, messages', [
    ('ata_rules', ['resilio_ata_rotation_minutes: 4 is below the minimum of 5 minutes',
                   'resilio_ata_overlap_hours: 25 is above the maximum of 24 hours',
                   'resilio_ata_lifetime_minutes: 100 must be more than twice the overlap',
                   'resilio_ata_mode: enforced is wrong for an upgrade from before 3.6; use compatibility',
                   'resilio_ata_tunnel_ciphers: agent profiles must carry DHE-PSK-AES128-GCM-SHA256;DHE-PSK-AES256-GCM-SHA384']),
    ('ata_disabled', ['resilio_ata_mode: disabled turns agent-to-agent tokens off; set resilio_ata_disabled_confirmed']),
    ('bad_env_name', ['resilio_agent_key_env must be an environment variable name (got 1BAD)']),
    ('set_by_hand', ['RESILIO_KEY of resilio-agent.service is already set to a different value '
                     '(/etc/systemd/system/resilio-agent.service.d/override.conf). Nothing was changed.']),
])
def test_bad_input_is_named_before_any_change(case, messages):
    bad = evidence('bad-input.json')
    out = one_line(bad['bad'][case])
    for message in messages:
        assert message in out
    assert 'Nothing was changed' in out
    assert 'set-by-hand' not in out


def test_bad_input_changed_nothing():
    bad = evidence('bad-input.json')
    assert bad['rc'] == [2, 2, 2, 2]
    # Same files, same processes, and no service restarted with a key.
    assert bad['after'] == bad['before'] and '99-keyfleet' not in bad['after']


def test_changed_key_without_override_refused_and_nothing_changed():
    se = evidence('side-effect.json')
    out = one_line(se['refused'])
    assert se['refused_rc'] == 2
    assert 'RESILIO_KEY of resilio-agent.service is already set to a different value' in out
    assert "the agent's job keys, cloud access keys and Management Console token" in out
    assert se['after_refused'] == se['before_change']
    assert CHANGED_KEY not in se['refused']


def test_changed_key_with_override_applied_and_says_what_was_lost(host):
    if me(host) != 'agent1':
        pytest.skip('the override ran on agent1')
    out = one_line(evidence('side-effect.json')['overridden'])
    assert "RESILIO_KEY of resilio-agent: REPLACED - the agent's job keys, cloud access keys and Management Console " \
           "token; it must be approved again on the Management Console before it takes part in its jobs can no longer " \
           "be read (moved aside to /opt/resilio-agent/var.keyfleet-replaced-" in out
    entry = labcheck.escrow_entry('resilio_key_agent1')
    assert entry['value'] == CHANGED_KEY and len(entry['previous']) == 1
    old = entry['previous'][0]['value']
    moved = host.check_output('ls -d /opt/resilio-agent/var.keyfleet-replaced-*').split()
    assert len(moved) == 1
    # The data moved aside is the data encrypted with the old key, which the escrow keeps.
    assert json.loads(host.file(moved[0] + '/encryption.json').content_string)['encrypted_with'] == sha256(old)


def test_new_installation_enabled_and_second_run_changes_nothing(host):
    if me(host) != 'new1':
        pytest.skip('the new installation is new1')
    first, second = evidence('side-effect.json')['new_install']
    assert 'new1                       : ok=' in second and ' changed=0 ' in second.split('PLAY RECAP')[-1]
    assert 'ATA tokens enforced (new)' in first
    for s in SERVICES['new1']:
        assert host.service(s.unit).is_enabled
        # Never ran with plain-text data: the first start was already with the key.
        log = host.file(s.home + '/var/common.log').content_string
        assert log.count(' started ') == 1 and 'encrypted with the key' in log.splitlines()[0]


def test_no_key_in_the_play_log():
    keys = [labcheck.escrow_secret(s.escrow) for services in SERVICES.values() for s in services]
    keys += [p['value'] for p in labcheck.escrow_entry('resilio_key_agent1')['previous']]
    # The MC configuration's own secret too: the role reads and rewrites that file (no_log, no diff).
    labcheck.assert_secrets_not_logged(keys + ['set-by-hand', 'lab-smtp-secret-in-mc-config'],
                                       expect=('ESTABLISH', 'RESILIO_MPASSWD'))


def test_posture_after_converge_every_key_escrowed_set_and_private():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'posture-converged', 'posture.json')) as f:
        report = json.load(f)
    rows = dict(((r['host'], r['check']), r['status']) for r in report['rows'] if r['system'] == 'resilio')
    assert rows == {('mc1', 'MC master key'): 'ok', ('mc1', 'MC master key exposure'): 'ok',
                    ('agent1', 'agent master key'): 'ok', ('agent1', 'agent master key exposure'): 'ok',
                    ('agent2', 'agent master key'): 'ok', ('agent2', 'agent master key exposure'): 'ok'}, report['rows']


def test_posture_every_host_fails_each_is_an_error_row_and_the_report_is_written():
    # side_effect: the escrow file damaged, and ghost1, an agent that cannot be reached, added to the inventory.
    out = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'posture-every-host-fails')
    with open(os.path.join(out, 'posture.json')) as f:
        report = json.load(f)
    rows = [r for r in report['rows'] if r['system'] == 'resilio']
    assert sorted(set(r['host'] for r in rows)) == ['agent1', 'agent2', 'ghost1', 'mc1'], rows
    keys = dict((r['host'], r) for r in rows if r['check'].endswith('master key'))
    for host in ('mc1', 'agent1', 'agent2', 'ghost1'):
        assert keys[host]['status'] == 'error', keys[host]
        assert keys[host]['detail'].startswith('cannot read the escrow (resilio_'), keys[host]
    ghost = [r for r in rows if r['host'] == 'ghost1' and r['check'].endswith('exposure')]
    assert ghost and ghost[0]['status'] == 'error' and 'host unreachable' in ghost[0]['detail'], ghost
    # What could still be read is said as read: the reachable hosts' units do not expose the key.
    exposure = dict((r['host'], r['status']) for r in rows if r['check'].endswith('exposure'))
    assert exposure == {'mc1': 'ok', 'agent1': 'ok', 'agent2': 'ok', 'ghost1': 'error'}, rows
    assert os.path.exists(os.path.join(out, 'posture.md'))


def test_posture_names_the_hand_set_key_without_its_value():
    # Read in prepare while agent1's operator still had RESILIO_KEY=set-by-hand in an override.conf: a key
    # other than the escrowed one, and in Environment=, which any local user reads over D-Bus.
    out = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'posture-by-hand')
    with open(os.path.join(out, 'posture.json')) as f:
        report = json.load(f)
    rows = dict(((r['host'], r['check']), r) for r in report['rows'] if r['system'] == 'resilio')
    key = rows[('agent1', 'agent master key')]
    assert key['status'] == 'error', key
    assert key['detail'] == ('a different key is set (/etc/systemd/system/resilio-agent.service.d/override.conf), '
                             'not the escrowed one'), key
    assert rows[('agent1', 'agent master key exposure')]['status'] == 'error'
    assert rows[('agent2', 'agent master key exposure')]['status'] == 'ok'
    for name in ('posture.json', 'posture.md'):
        with open(os.path.join(out, name)) as f:
            assert 'set-by-hand' not in f.read()
