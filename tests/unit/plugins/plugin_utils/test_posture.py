# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.keyfleet.encryption.plugins.plugin_utils import _posture as p

NOW = datetime.datetime(2026, 11, 30, tzinfo=datetime.timezone.utc)


def agent(gossip=3, tls=3, keys=('aaaa',), primary=('aaaa',), cert='/etc/consul.d/tls/agent.pem', ca='/etc/consul.d/tls/ca.pem'):
    return {'reachable': True,
            'state': {'gossip': {'stage': gossip, 'enabled': gossip > 0, 'stage_name': 'g%d' % gossip},
                      'tls': {'stage': tls, 'stage_name': 't%d' % tls, 'cert_file': cert if tls else '', 'ca_file': ca if tls else ''}},
            'keyring': [{'wan': False, 'keys': dict((k, 3) for k in keys), 'primary_keys': list(primary)}] if gossip else []}


def statuses(rows):
    return dict((r['check'], r['status']) for r in rows)


def consul(**facts):
    base = dict(info=agent(), cert={'not_after': '20270601000000Z'}, ca={'fingerprints': {'sha256': 'ab:cd'}},
                escrow_ca_fp='ab:cd', escrow_gossip_fp='aaaa', ca_source='controller', renew_days=30)
    base.update(facts)
    return statuses(p.consul_rows('node1', base, now=NOW))


def test_a_migrated_agent_is_ok_everywhere():
    assert set(consul().values()) == {'ok'}


def test_a_half_migrated_agent_is_todo_not_error():
    rows = consul(info=agent(gossip=2, tls=1))
    assert rows['gossip stage'] == 'todo' and rows['tls stage'] == 'todo' and rows['gossip key'] == 'ok'


def test_secrets_the_escrow_does_not_hold_are_missing():
    rows = consul(escrow_gossip_fp='', escrow_ca_fp='')
    assert rows['gossip key'] == 'missing' and rows['CA'] == 'missing'


def test_a_host_that_contradicts_the_escrow_is_an_error():
    assert consul(escrow_gossip_fp='bbbb')['gossip key'] == 'error'
    assert consul(escrow_ca_fp='ff:ff')['CA'] == 'error'
    assert consul(info=agent(keys=('aaaa', 'bbbb')))['gossip key'] == 'todo'  # a rotation not finished


def test_a_failed_read_is_an_error_never_not_migrated():
    assert consul(info={'failed': True, 'msg': 'HTTP 403 ACL not found'}) == {'agent': 'error'}
    assert consul(info={'reachable': False, 'error': 'connection refused'}) == {'agent': 'error'}
    assert consul(cert={'failed': True, 'msg': 'permission denied'})['certificate'] == 'error'


def test_certificate_expiry():
    assert consul(cert={'not_after': '20261210000000Z'})['certificate'] == 'todo'
    assert consul(cert={'not_after': '20261101000000Z'})['certificate'] == 'error'
    assert p.days_left('20261210000000Z', NOW) == 10


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
