# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.keyfleet.encryption.plugins.plugin_utils import _posture as p

NOW = datetime.datetime(2026, 11, 30, tzinfo=datetime.timezone.utc)


def pem(not_after='20270601000000Z', cn='ca'):
    """A self-signed certificate (the posture parses real PEM, as read from the agent and the escrow)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, cn)])
    end = datetime.datetime.strptime(not_after, '%Y%m%d%H%M%SZ')
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(end - datetime.timedelta(days=3650)).not_valid_after(end)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


CA, OTHER_CA = pem(cn='ca'), pem(cn='other')


def agent(gossip=3, tls=3, keys=('aaaa',), primary=('aaaa',), cert='/etc/consul.d/tls/agent.pem', ca='/etc/consul.d/tls/ca.pem'):
    return {'reachable': True,
            'state': {'gossip': {'stage': gossip, 'enabled': gossip > 0, 'stage_name': 'g%d' % gossip},
                      'tls': {'stage': tls, 'stage_name': 't%d' % tls, 'cert_file': cert if tls else '', 'ca_file': ca if tls else ''}},
            'keyring': [{'wan': False, 'keys': dict((k, 3) for k in keys), 'primary_keys': list(primary)}] if gossip else []}


def statuses(rows):
    return dict((r['check'], r['status']) for r in rows)


def consul(**facts):
    base = dict(info=agent(), cert={'pem': pem(cn='agent')}, ca={'pem': CA},
                escrow_ca_pem=CA, escrow_gossip_fp='aaaa', ca_source='controller', renew_days=30)
    base.update(facts)
    return statuses(p.consul_rows('node1', base, now=NOW))


def test_a_migrated_agent_is_ok_everywhere():
    assert set(consul().values()) == {'ok'}


def test_a_half_migrated_agent_is_todo_not_error():
    rows = consul(info=agent(gossip=2, tls=1))
    assert rows['gossip stage'] == 'todo' and rows['tls stage'] == 'todo' and rows['gossip key'] == 'ok'


def test_secrets_the_escrow_does_not_hold_are_missing():
    rows = consul(escrow_gossip_fp='', escrow_ca_pem='')
    assert rows['gossip key'] == 'missing' and rows['CA'] == 'missing'


def test_a_host_that_contradicts_the_escrow_is_an_error():
    assert consul(escrow_gossip_fp='bbbb')['gossip key'] == 'error'
    assert consul(escrow_ca_pem=OTHER_CA)['CA'] == 'error'
    assert consul(info=agent(keys=('aaaa', 'bbbb')))['gossip key'] == 'todo'  # a rotation not finished


def test_a_failed_read_is_an_error_never_not_migrated():
    assert consul(info={'failed': True, 'msg': 'HTTP 403 ACL not found'}) == {'agent': 'error'}
    assert consul(info={'reachable': False, 'error': 'connection refused'}) == {'agent': 'error'}
    assert consul(cert={'failed': True, 'msg': 'permission denied'})['certificate'] == 'error'
    # A file that is no certificate, or a damaged escrowed CA, is a failed read too, never a stopped report.
    assert consul(cert={'pem': 'not a certificate'})['certificate'] == 'error'
    assert consul(ca={'pem': ''})['CA'] == 'error'
    assert consul(escrow_ca_pem='-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')['CA'] == 'error'


def test_x509_facts_in_community_crypto_shape():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    facts = p.x509_facts({'pem': pem('20280102030405Z')})
    assert facts['not_after'] == '20280102030405Z'
    theirs = x509.load_pem_x509_certificate(CA.encode()).fingerprint(hashes.SHA256()).hex()
    assert p.x509_facts({'pem': CA})['fingerprints']['sha256'].replace(':', '') == theirs
    assert len(p.x509_facts({'pem': CA})['fingerprints']['sha256'].split(':')) == 32


def test_certificate_expiry():
    assert consul(cert={'pem': pem('20261210000000Z', 'agent')})['certificate'] == 'todo'
    assert consul(cert={'pem': pem('20261101000000Z', 'agent')})['certificate'] == 'error'
    assert p.days_left('20261210000000Z', NOW) == 10


def test_an_auto_encrypt_client_has_no_certificate_file_and_is_ok():
    info = agent(cert='')
    info['state']['tls']['auto_encrypt'] = True
    rows = dict((r['check'], r) for r in p.consul_rows('node1', dict(info=info, ca={'pem': CA}, escrow_ca_pem=CA,
                                                                     escrow_gossip_fp='aaaa'), now=NOW))
    assert rows['certificate']['status'] == 'ok' and 'auto_encrypt' in rows['certificate']['detail']
    # A server never gets its certificate that way: without a file it has none.
    info['state']['server'] = True
    assert 'certificate' not in statuses(p.consul_rows('node1', dict(info=info, ca={'pem': CA}, escrow_ca_pem=CA,
                                                                     escrow_gossip_fp='aaaa'), now=NOW))


def test_ca_expiry_and_a_rotation_under_way():
    soon = pem('20261210000000Z')
    assert consul(ca={'pem': soon}, escrow_ca_pem=soon)['CA'] == 'todo'
    old = pem('20261101000000Z')
    assert consul(ca={'pem': old}, escrow_ca_pem=old)['CA'] == 'error'
    rows = p.consul_rows('node1', dict(info=agent(), cert={'pem': pem(cn='agent')}, ca={'pem': CA + OTHER_CA},
                                       escrow_ca_pem=CA, escrow_gossip_fp='aaaa', renew_days=30), now=NOW)
    row = [r for r in rows if r['check'] == 'CA'][0]
    assert row['status'] == 'todo' and 'a CA rotation is under way' in row['detail'] and 'trusts 2 CAs' in row['detail']
    facts = dict(info=agent(), cert={'pem': pem(cn='agent')}, ca={'pem': CA}, escrow_ca_pem=CA, escrow_gossip_fp='aaaa', renew_days=30)
    ok = [r for r in p.consul_rows('node1', facts, now=NOW) if r['check'] == 'CA'][0]
    assert ok['status'] == 'ok' and 'expires in 183 day(s)' in ok['detail']


def test_aspera_names_plain_text_secrets_without_their_values():
    facts = dict(conf={'found': [{'level': 'user', 'name': 'alice', 'param': 'token_encryption_key', 'value': 'hmac:1234'},
                                 {'level': 'node', 'name': '', 'param': 'token_life_seconds', 'value': '3600'}]},
                 secret_params=['token_encryption_key', 'transfer_encryption_content_protection_secret'],
                 keystores={'changed_users': ['bob']}, users=['alice', 'bob'],
                 redis={'changed': False}, redis_escrowed=True, master_key={'changed': True}, master_key_escrowed=True,
                 stash={'failed': True, 'msg': 'a stash password keyfleet did not set'}, stash_escrowed=True, stash_enabled=True)
    rows = p.aspera_rows('aspera1', facts)
    by = dict((r['check'], r) for r in rows)
    assert by['plain-text secrets']['status'] == 'todo' and 'user alice: token_encryption_key' in by['plain-text secrets']['detail']
    assert 'hmac' not in json.dumps(rows) and 'token_life_seconds' not in json.dumps(rows)
    assert by['keystores']['status'] == 'todo' and by['Redis password']['status'] == 'ok'
    assert by['Redis master key']['status'] == 'todo' and by['stash password']['status'] == 'error'
    facts.update(redis_escrowed=False, redis=None)
    assert statuses(p.aspera_rows('aspera1', facts))['Redis password'] == 'missing'


def test_resilio_key_and_exposure():
    ok = statuses(p.resilio_rows('mc1', dict(component='mc', escrowed=True, key={'changed': False, 'process_has_value': True}, exposed=False)))
    assert ok == {'MC master key': 'ok', 'MC master key exposure': 'ok'}
    bad = statuses(p.resilio_rows('mc1', dict(component='mc', escrowed=True, exposed=True,
                                              key={'failed': True, 'conflicts': ['/etc/systemd/system/x.d/10.conf']})))
    assert bad == {'MC master key': 'error', 'MC master key exposure': 'error'}
    assert statuses(p.resilio_rows('a1', dict(component='agent', escrowed=False, exposed=None)))['agent master key'] == 'missing'


def test_mcollective_scenario_from_the_settings():
    facts = dict(settings={'securityprovider': 'aes_security', 'plugin.aes.send_pubkey': '1', 'plugin.aes.learn_pubkeys': '1',
                           'plugin.aes.server_private': '/etc/mcollective/ssl/mcollective-servers-private.pem'},
                 shared_key_name='mcollective-servers', shared_escrowed=False, key_bits={'s.pem': 1024}, client_keys=['alice'])
    rows = p.mcollective_rows('s1', facts)
    by = dict((r['check'], r) for r in rows)
    assert by['scenario']['detail'].startswith('automatic_shared') and by['shared server key']['status'] == 'missing'
    assert by['key size']['status'] == 'error' and by['client_cert_dir']['status'] == 'ok'
    assert statuses(p.mcollective_rows('s1', dict(settings={'securityprovider': 'psk'}, client_keys=[])))['scenario'] == 'todo'


def test_swarm_autolock_and_key():
    assert statuses(p.swarm_rows('m1', dict(result={'autolock': True, 'key_fingerprint': 'f1', 'escrowed': False}))) == {
        'autolock': 'ok', 'unlock key': 'ok'}
    assert statuses(p.swarm_rows('m1', dict(result={'autolock': True, 'key_fingerprint': 'f2', 'escrowed': True})))['unlock key'] == 'missing'
    assert statuses(p.swarm_rows('m1', dict(result={'autolock': False}))) == {'autolock': 'todo'}
    rows = p.swarm_rows('m1', dict(result={'autolock': True, 'key_fingerprint': 'f1', 'escrowed': False}, escrow_name='k'))
    assert rows[1]['detail'] == 'the escrowed one (k, key f1)'
    assert statuses(p.swarm_rows('m1', dict(result={'failed': True, 'msg': 'no engine'}))) == {'autolock': 'error'}


def test_render_text_markdown_json():
    rows = p.consul_rows('node1', dict(info=agent(gossip=1, tls=0), escrow_gossip_fp='aaaa'), now=NOW)
    text = p.render(rows, 'text')
    assert text.splitlines()[0].startswith('SYSTEM') and text.splitlines()[-1] == '1 ok, 2 todo, 0 missing, 0 error'
    md = p.render(rows, 'markdown')
    assert '| system | host | check | status | detail |' in md and md.count('\n| consul |') == 3
    assert json.loads(p.render(rows, 'json'))['summary'] == {'ok': 1, 'todo': 2, 'missing': 0, 'error': 0}
    with pytest.raises(ValueError):
        p.render(rows, 'html')


# -- each row says what was read, or why it could not be read ------------------------------------------------

UNREACHABLE = {'unreachable': True, 'changed': False, 'msg': 'Failed to connect to the host via ssh: timed out'}


def test_an_unreachable_host_is_an_error_row_naming_why():
    for rows in (p.consul_rows('n1', dict(info=UNREACHABLE)),
                 p.mcollective_rows('s1', dict(read=UNREACHABLE, key={'skipped': True}, clients={'skipped': True})),
                 p.swarm_rows('m1', dict(result=UNREACHABLE)),
                 p.resilio_rows('a1', dict(component='agent', escrowed=True, key=UNREACHABLE, env='RESILIO_KEY', unit=UNREACHABLE))):
        assert rows and all(r['status'] == 'error' for r in rows), rows
        assert 'host unreachable: Failed to connect' in rows[0]['detail'], rows
    assert statuses(p.aspera_rows('x1', dict(conf=UNREACHABLE, keystores=UNREACHABLE)))['aspera.conf'] == 'error'


def test_a_keyring_read_refused_is_an_error_about_the_read_not_the_key():
    info = agent()
    info.update(keyring=[], keyring_error='HTTP 403: Permission denied (the token lacks keyring:read)')
    facts = dict(info=info, escrow_gossip_fp='aaaa', ca_source='pki', cert={'pem': pem(cn='agent')}, ca={'pem': CA})
    rows = dict((r['check'], r) for r in p.consul_rows('n1', facts, now=NOW))
    assert rows['gossip key']['status'] == 'error'
    assert rows['gossip key']['detail'] == 'cannot read the keyring: HTTP 403: Permission denied (the token lacks keyring:read)'
    assert 'not the escrowed one' not in rows['gossip key']['detail']


def test_mcollective_rows_from_what_the_posture_tasks_registered():
    read = {'changed': False, 'current': {'securityprovider': 'aes_security', 'plugin.aes.send_pubkey': '0',
                                          'plugin.aes.learn_pubkeys': '0',
                                          'plugin.aes.server_private': '/etc/mcollective/ssl/mcollective-servers-private.pem',
                                          'plugin.aes.client_cert_dir': '/etc/mcollective/ssl/clients'}}
    found = {'files': [{'path': '/etc/mcollective/ssl/clients/alice.pem'}, {'path': '/etc/mcollective/ssl/clients/s1.pem'}]}
    facts = dict(config='/etc/mcollective/server.cfg', read=read, key={'public_data': {'size': 4096}}, clients=found,
                 shared_key_name='mcollective-servers', shared_escrow_name='mco_shared', escrow_read={'changed': False},
                 shared_escrowed=True)
    by = dict((r['check'], r) for r in p.mcollective_rows('s1', facts))
    assert by['scenario']['detail'] == 'manual_shared (send_pubkey 0, learn_pubkeys 0)'
    assert by['key size']['detail'] == 'mcollective-servers-private.pem: 4096 bits' and by['key size']['status'] == 'ok'
    assert by['client_cert_dir']['detail'] == '2 key(s): alice, s1'
    assert by['shared server key']['status'] == 'ok'
    # a key that cannot be read, a directory that cannot be listed: errors that say why
    denied = {'failed': True, 'msg': 'Permission denied'}
    by = dict((r['check'], r) for r in p.mcollective_rows('s1', dict(facts, key=denied, clients=denied)))
    assert by['key size'] == dict(by['key size'], status='error', detail='mcollective-servers-private.pem: cannot read: Permission denied')
    assert by['client_cert_dir']['status'] == 'error' and by['client_cert_dir']['detail'].endswith(': Permission denied')
    # server.cfg not readable: one error row naming the file and why
    rows = p.mcollective_rows('s1', dict(facts, read={'failed': True, 'msg': 'cannot read /etc/mcollective/server.cfg: no such file'}))
    assert [(r['check'], r['status']) for r in rows] == [('server.cfg', 'error')] and 'no such file' in rows[0]['detail']


def test_an_escrow_that_cannot_be_read_is_an_error_row_not_missing():
    escrow_failed = {'failed': True, 'msg': 'Task failed: keyfleet.encryption.escrow: no vault secret in this run'}
    settings = {'securityprovider': 'aes_security', 'plugin.aes.server_private': '/ssl/mcollective-servers-private.pem'}
    facts = dict(settings=settings, client_keys=[], shared_key_name='mcollective-servers', escrow_read=escrow_failed,
                 shared_escrowed=False)
    by = dict((r['check'], r) for r in p.mcollective_rows('s1', facts))
    assert by['shared server key']['status'] == 'error' and 'no vault secret' in by['shared server key']['detail']
    # Resilio: the module task whose key came from the escrow failed on the escrow read
    rows = statuses(p.resilio_rows('a1', dict(component='agent', escrowed=True, key=escrow_failed, exposed=False)))
    assert rows['agent master key'] == 'error'


def test_resilio_exposure_from_the_unit_property_names_never_values():
    base = dict(component='mc', escrowed=True, key={'changed': False, 'process_has_value': True}, env='RESILIO_MPASSWD',
                unit_name='resilio-connect-server')

    def exposure(stdout, rc=0):
        rows = p.resilio_rows('mc1', dict(base, unit={'rc': rc, 'stdout': stdout, 'failed': rc != 0}))
        return rows[1]
    assert exposure('LANG=C "RESILIO_MPASSWD=top secret"')['status'] == 'error'
    assert exposure('RESILIO_MPASSWD=x')['status'] == 'error'
    assert exposure('LANG=C OTHER_RESILIO_MPASSWD=x')['status'] == 'ok'
    assert exposure('')['status'] == 'ok'
    failed = exposure('', rc=1)
    assert failed['status'] == 'error' and failed['detail'].startswith('cannot read the unit: systemctl show resilio-connect-server failed')
    for r in p.resilio_rows('mc1', dict(base, unit={'rc': 0, 'stdout': 'RESILIO_MPASSWD=top secret'})):
        assert 'top secret' not in r['detail']


def host(name, **facts):
    return dict(facts, inventory_hostname=name)


def test_every_host_of_the_covered_groups_is_in_the_report():
    swarm_ok = p.swarm_rows('m1', dict(result={'autolock': False}))
    hosts = [host('m1', keyfleet_posture_swarm_rows=swarm_ok),
             # its posture tasks stopped: the rescue noted why
             host('m2', keyfleet_posture_failures=[{'system': 'swarm', 'msg': 'keyfleet.encryption.escrow: wrong vault password'}]),
             # never reached (no facts at all)
             host('m3'),
             host('web1')]
    rows = p.fleet_rows(hosts, {'swarm': ['m1', 'm2', 'm3'], 'consul': []})
    by = dict((r['host'], r) for r in rows)
    assert sorted(by) == ['m1', 'm2', 'm3']  # web1 is in no covered group
    assert by['m1']['status'] == 'todo'
    assert (by['m2']['check'], by['m2']['status']) == ('read', 'error') and 'wrong vault password' in by['m2']['detail']
    assert by['m3']['status'] == 'error' and 'not reached' in by['m3']['detail']


def test_when_every_host_fails_the_report_still_has_every_host():
    hosts = [host('c1'), host('c2'), host('a1'), host('mc1'), host('ag1')]
    expected = {'consul': ['c1', 'c2'], 'aspera': ['a1'], 'resilio': [['mc1'], ['ag1']], 'mcollective': [], 'swarm': []}
    rows = p.fleet_rows(hosts, expected)
    assert sorted((r['system'], r['host']) for r in rows) == [
        ('aspera', 'a1'), ('consul', 'c1'), ('consul', 'c2'), ('resilio', 'ag1'), ('resilio', 'mc1')]
    assert set(r['status'] for r in rows) == {'error'}
    assert json.loads(p.render(rows, 'json'))['summary']['error'] == 5
    assert p.render([], 'markdown').startswith('# Fleet posture')  # an empty fleet still gives a report


def test_a_host_in_two_systems_missing_only_in_one():
    hosts = [host('h1', resilio_master_key_run_posture_rows=p.resilio_rows('h1', dict(component='agent', escrowed=False, exposed=False)))]
    rows = p.fleet_rows(hosts, {'resilio': [['h1']], 'mcollective': ['h1']})
    assert sorted((r['system'], r['check'], r['status']) for r in rows) == [
        ('mcollective', 'read', 'error'), ('resilio', 'agent master key', 'missing'), ('resilio', 'agent master key exposure', 'ok')]


def test_resilio_escrow_read_failed_is_an_error_naming_the_escrow():
    rows = p.resilio_rows('a1', dict(component='agent', escrow_name='resilio_key_a1', exposed=False, escrowed=False,
                                     escrow_read={'failed': True, 'msg': "Task failed: The lookup plugin 'keyfleet.encryption.escrow' "
                                                                         "failed: keyfleet.encryption.escrow: wrong vault password"}))
    assert rows[0]['status'] == 'error'
    assert rows[0]['detail'] == 'cannot read the escrow (resilio_key_a1): keyfleet.encryption.escrow: wrong vault password'


def test_ansible_wrapping_of_an_escrow_error_is_left_out():
    wrapped = {'failed': True, 'msg': "Finalization of task args for 'ansible.builtin.set_fact' failed: Error while resolving "
                                      "value for 'x': The lookup plugin 'keyfleet.encryption.escrow' failed: "
                                      "keyfleet.encryption.escrow: wrong vault password"}
    assert p._msg(wrapped) == 'keyfleet.encryption.escrow: wrong vault password'
    assert p._msg({'failed': True, 'msg': 'Task failed: Permission denied'}) == 'Permission denied'


def test_a_failure_noted_beside_rows_of_the_same_system_is_a_row():
    # A Resilio MC that is also an agent: the MC play read its part, the agent play stopped on the escrow.
    read = p.resilio_rows('r1', dict(component='mc', escrowed=True, exposed=False))
    hosts = [host('r1', resilio_master_key_run_posture_rows=read,
                  keyfleet_posture_failures=[{'system': 'resilio', 'msg': 'escrow file damaged: agent key cannot be read'}])]
    rows = p.fleet_rows(hosts, {'resilio': [['r1'], ['r1']]})
    noted = [r for r in rows if 'agent key cannot be read' in r['detail']]
    assert [(r['host'], r['status']) for r in noted] == [('r1', 'error')]
    assert len(rows) == len(read) + 1


def test_a_failure_whose_msg_is_no_text_is_still_a_row():
    hosts = [host('h1', keyfleet_posture_failures=[{'system': 'consul', 'msg': ['a', 'b']}])]
    rows = p.fleet_rows(hosts, {'consul': [['h1']]})
    assert [(r['host'], r['status']) for r in rows] == [('h1', 'error')]


def test_mcollective_psk_rows_name_the_file_never_the_value():
    found = {'results': [{'path': '/etc/mcollective/server.cfg', 'present_keys': ['plugin.psk'], 'item': '/etc/mcollective/server.cfg'},
                         {'path': '/home/alice/.mcollective', 'present_keys': []},
                         {'item': '/home/bob/.mcollective', 'failed': True, 'msg': 'Permission denied'}]}
    rows = p.mcollective_rows('c1', dict(server=False, psk=found))
    assert [(r['check'], r['status']) for r in rows] == [('psk', 'todo'), ('psk', 'ok'), ('psk', 'error')]
    assert '/etc/mcollective/server.cfg' in rows[0]['detail'] and 'Permission denied' in rows[2]['detail']
    server = p.mcollective_rows('s1', dict(settings={'securityprovider': 'aes_security'}, client_keys=[], psk=found))
    assert [r['check'] for r in server][-3:] == ['psk', 'psk', 'psk'] and server[0]['check'] == 'scenario'


def test_mcollective_ca_row_says_whether_the_servers_check_callers_against_a_ca():
    base = {'securityprovider': 'aes_security', 'plugin.aes.send_pubkey': '0', 'plugin.aes.learn_pubkeys': '0'}
    with_ca = p.mcollective_rows('s1', dict(settings=dict(base, **{'plugin.aes.ca_cert': '/etc/mcollective/ssl/ca.pem'}), client_keys=['a']))
    without = p.mcollective_rows('s1', dict(settings=base, client_keys=['a']))
    ca = [r['detail'] for r in with_ca if r['check'] == 'CA']
    assert ca == ["every caller's certificate checked against /etc/mcollective/ssl/ca.pem"]
    assert [r['detail'] for r in without if r['check'] == 'CA'][0].startswith('none:')
    # not on aes_security yet: no CA row, the scenario row says todo
    assert 'CA' not in [r['check'] for r in p.mcollective_rows('s1', dict(settings={'securityprovider': 'psk'}, client_keys=[]))]
