# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules the consul role asserts on: each returns sentences naming what to change, empty when nothing is wrong."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.keyfleet.encryption.plugins.module_utils import _consul as c
from ansible_collections.keyfleet.encryption.plugins.module_utils import _consul_tls as t

KEY = 'kLXdEqh2oC8GIrYlN2Xra1FL3/f0gcNdqQO+X8FQyUw='
FP = c.key_fingerprint(KEY)
OTHER_FP = c.key_fingerprint('SL9D5tWAY1+ysT/vn1W1ShtNvnmNB6KvsZhrc1r1Dm4=')


def member(name, status='alive'):
    return dict(name=name, address='10.0.0.1', status=status, status_code=1, server=False)


# --- members outside the run / not alive

def test_fqdn_inventory_names_with_short_node_names_are_in_the_run():
    # Inventory c1.example.com, c2.example.com; the agents report nodes c1 and c2: the run's nodes are those.
    members = [member('c1'), member('c2')]
    assert c.member_problems(members, ['c1', 'c2']) == []
    # compared with inventory names the same members would stop the run: that was the bug
    problems = c.member_problems(members, ['c1.example.com', 'c2.example.com'])
    assert problems and 'c1, c2' in problems[0]


def test_a_member_outside_the_run_is_named_with_the_group_and_that_node_names_are_compared():
    problems = c.member_problems([member('node1'), member('node4'), member('node9', 'left')], ['node1'], group='lab')
    assert len(problems) == 1
    assert problems[0].startswith('members not among the hosts of this run (group lab): node4. Node names are compared')
    assert 'node9' not in problems[0]  # a member that left is cut off from nothing


def test_members_of_several_agents_views_are_named_once():
    problems = c.member_problems([member('n4'), member('n4'), member('n1')], ['n1'])
    assert 'n4. ' in problems[0] and problems[0].count('n4') == 1


def test_alive_names_members_down_and_run_nodes_missing():
    problems = c.member_problems([member('n1'), member('n2', 'failed')], ['n1', 'n2', 'n3'], alive=True)
    assert problems == ['members not alive from this agent: n2, n3; a key change now would cut them off. '
                        'Bring them back first (a node gone for good: consul force-leave it; the run\'s agents are '
                        'the group consul, consul_hosts).']
    assert c.member_problems([member('n1'), member('n2')], ['n1', 'n2'], alive=True) == []


def test_a_rotation_needs_an_answering_fully_encrypted_agent():
    assert c.rotation_problems({'reachable': False, 'error': 'refused'}, ['n1'])[0].startswith(
        'the agent does not answer (refused)')
    info = {'reachable': True, 'state': {'gossip': {'stage': 2}}, 'members': [member('n1')]}
    assert 'gossip is at stage 2' in c.rotation_problems(info, ['n1'])[0]
    info['state']['gossip']['stage'] = 3
    assert c.rotation_problems(info, ['n1']) == []
    info['members'].append(member('n2', 'failed'))
    assert c.rotation_problems(info, ['n1', 'n2']) == [
        'members not alive from this agent: n2; a key change now would cut them off. Bring them back first '
        '(a node gone for good: consul force-leave it; the run\'s agents are the group consul, consul_hosts).']


# --- inventory values the agent contradicts

STATE = {'node_name': 'c1', 'datacenter': 'eu-west', 'domain': 'lab.internal'}


def test_values_the_agent_agrees_with_or_unset_are_no_problem():
    assert c.contradiction_problems(STATE) == []
    assert c.contradiction_problems(STATE, 'eu-west', 'lab.internal.', 'c1') == []


def test_a_datacenter_or_domain_the_agent_contradicts_is_named():
    problems = c.contradiction_problems(STATE, datacenter='dc1')
    assert problems == ['the running agent is in datacenter "eu-west" with domain "lab.internal", but consul_datacenter '
                        'is "dc1". Correct or remove them (unset, the agent\'s values are used).']
    assert 'consul_datacenter is "dc1" and consul_domain is "consul"' in c.contradiction_problems(STATE, 'dc1', 'consul')[0]


def test_a_node_name_the_agent_contradicts_is_named():
    assert c.contradiction_problems(STATE, node_name='c1.example.com') == [
        'the running agent\'s node name is "c1", but consul_node_name is "c1.example.com". Correct or remove it '
        '(unset, the agent\'s node name is used).']


def test_a_kind_the_agent_contradicts_is_named():
    # A client the inventory calls a server would get a server's certificate: it could pose as one to every agent.
    client = dict(STATE, server=False)
    assert c.contradiction_problems(client, server=True) == [
        'the running agent is a client, but consul_server is true. Correct or remove it (unset, the agent\'s own '
        'answer is used).']
    assert c.contradiction_problems(client, server=False) == [] and c.contradiction_problems(client) == []
    assert 'is a server, but consul_server is false' in c.contradiction_problems(dict(STATE, server=True), server=False)[0]


# --- the gossip key: one fingerprint, keyrings, the key's source

def test_one_fingerprint_for_keys_keyrings_and_the_escrow():
    assert FP == hashlib.sha256(KEY.encode()).hexdigest()[:16]
    assert c.normalize_keyring([{'Keys': {KEY: 1}, 'PrimaryKeys': {KEY: 1}}])[0]['primary_keys'] == [FP]


def lan(*primary, wan=False):
    return {'wan': wan, 'primary_keys': list(primary), 'keys': dict((p, 1) for p in primary)}


def test_an_agent_with_the_gossip_key_is_no_problem():
    info = {'reachable': True, 'keyring': [lan(FP), lan(OTHER_FP, wan=True)], 'local_keyring': [FP, OTHER_FP]}
    assert c.gossip_key_problems(info, FP, 'consul_gossip_key', '/var/lib/consul') == []


def test_a_keyring_whose_primary_key_is_not_the_escrowed_one_is_named():
    info = {'reachable': True, 'keyring': [lan(OTHER_FP)], 'local_keyring': None}
    problems = c.gossip_key_problems(info, FP, 'the escrow entry consul_gossip_key_dc1', '/var/lib/consul')
    assert len(problems) == 1 and OTHER_FP in problems[0] and 'consul_gossip_key' in problems[0]
    assert 'not the gossip key %s (the escrow entry consul_gossip_key_dc1)' % FP in problems[0]


def test_a_stale_local_keyring_is_named_unless_it_is_rewritten():
    info = {'reachable': True, 'keyring': [lan(FP)], 'local_keyring': [OTHER_FP, FP]}
    problems = c.gossip_key_problems(info, FP, 'consul_gossip_key', '/var/lib/consul/')
    assert len(problems) == 1 and problems[0].startswith('/var/lib/consul/serf/local.keyring has the primary key %s' % OTHER_FP)
    assert 'consul_gossip_rewrite_keyring=true' in problems[0]
    assert c.gossip_key_problems(info, FP, 'consul_gossip_key', '/var/lib/consul', rewrite_keyring=True) == []


def test_the_key_source_of_an_unencrypted_or_known_cluster_is_no_problem():
    plain = {'reachable': True, 'state': {'server': True, 'gossip': {'stage': 0}}}
    assert c.gossip_source_problems(plain, [], False, False, 'k') == []
    encrypting = {'reachable': True, 'state': {'server': False, 'gossip': {'stage': 3}}}
    assert c.gossip_source_problems(encrypting, [FP], False, False, 'k') == []
    assert c.gossip_source_problems(encrypting, [], True, False, 'k') == []
    assert c.gossip_source_problems(encrypting, [], False, True, 'k') == []


def test_a_keyring_refused_is_never_no_key():
    info = {'reachable': True, 'keyring_error': 'HTTP 403 Permission denied',
            'state': {'server': True, 'gossip': {'stage': 1}}}
    problems = c.gossip_source_problems(info, [FP], False, False, 'k')
    assert len(problems) == 1 and 'keyring cannot be read (HTTP 403' in problems[0] and 'consul_http_token' in problems[0]


def test_servers_that_disagree_or_an_unknown_key_in_use_stop_the_escrow():
    info = {'reachable': True, 'state': {'server': False, 'gossip': {'stage': 2}}}
    assert 'different primary keys' in c.gossip_source_problems(info, [FP, OTHER_FP], False, False, 'k')[0]
    problems = c.gossip_source_problems(info, [], False, False, 'consul_gossip_key_dc1')
    assert 'the escrow holds no consul_gossip_key_dc1' in problems[0] and 'set consul_gossip_key' in problems[0]


def test_lan_primary_keys_leave_wan_rings_out():
    assert c.lan_primary_keys([lan(FP), lan(OTHER_FP, wan=True), lan(FP)]) == [FP]


# --- the CA the agents trust

def pem(der):
    return '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % base64.b64encode(der).decode()


CA1, CA2 = pem(b'ca one'), pem(b'ca two')


def test_the_fingerprint_of_a_certificate_is_its_der_sha256():
    digest = hashlib.sha256(b'ca one').hexdigest()
    assert t.pem_fingerprints(CA1 + CA2)[0] == ':'.join(digest[i:i + 2] for i in range(0, 64, 2))
    assert t.pem_fingerprints(CA1.replace('\n', '\r\n    ')) == t.pem_fingerprints(CA1)  # whitespace does not count


def test_agents_that_trust_nothing_take_any_ca():
    assert t.trusted_ca_problems({'n1': '', 'n2': ''}, '') == []
    assert t.trusted_ca_problems({'n1': ''}, CA1) == []


def test_agents_that_trust_the_run_ca_are_no_problem():
    assert t.trusted_ca_problems({'n1': CA1, 'n2': CA1, 'n3': ''}, CA1) == []
    # A second CA beside it is a CA rotation half done (test_consul_ca_rotation.py): refused outside the rotation.
    assert 'A CA rotation is under way' in t.trusted_ca_problems({'n1': CA1, 'n2': CA2 + CA1}, CA1)[0]


def test_a_new_ca_for_agents_that_trust_one_is_refused():
    problems = t.trusted_ca_problems({'n2': CA1, 'n1': CA1}, '', escrow_name='consul_tls_ca_eu-west')
    assert len(problems) == 1
    assert problems[0].startswith('These agents already trust a CA: n1, n2 (SHA-256 %s)' % t.pem_fingerprints(CA1)[0])
    assert 'the escrow holds no consul_tls_ca_eu-west_cert' in problems[0] and 'keyfleet_escrow_file' in problems[0]


@pytest.mark.parametrize('source, given, named', [
    ('controller', False, 'escrow consul_tls_ca_dc1_cert'),
    ('controller', True, 'consul_tls_ca_cert'),
    ('pki', False, 'the PKI pki_int (consul_tls_ca_source)'),
])
def test_a_ca_other_than_the_trusted_one_is_named_with_its_source(source, given, named):
    problems = t.trusted_ca_problems({'n1': CA1, 'n2': CA1 + CA2, 'n3': ''}, CA2, source, 'pki_int', given)
    assert problems == ['The CA of this run (%s, SHA-256 %s) is not the CA these agents trust: n1 (SHA-256 %s). Use the '
                        'CA they trust: another escrow (keyfleet_escrow_file, keyfleet_escrow_backend, '
                        'keyfleet_escrow_kv_path) or consul_tls_ca_cert/consul_tls_ca_key. Replacing a cluster\'s CA is '
                        'a separate operation, never a side effect.'
                        % (named, t.pem_fingerprints(CA2)[0], ', '.join(sorted(t.pem_fingerprints(CA1 + CA2))))]


# --- certificate names

def test_agent_names_as_consul_tls_cert_create_gives_them():
    assert t.agent_dns_names(True, 'c1', 'dc1', 'consul.') == ['server.dc1.consul', 'c1.server.dc1.consul', 'localhost']
    assert t.agent_dns_names(False, 'c9', 'eu', 'lab.internal') == ['client.eu.lab.internal', 'localhost']
