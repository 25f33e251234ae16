# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rules keyfleet.encryption.mcollective_aes checks before any host changes (module_utils/_mcollective.py),
through the filter the role asserts on."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.filter.mcollective_aes_problems import mcollective_aes_problems
from ansible_collections.keyfleet.encryption.plugins.module_utils import _mcollective as m

# As roles/mcollective_aes/vars/main.yml has them.
SCENARIOS = {'manual_unique': dict(send='0', learn='0', shared=False), 'automatic_unique': dict(send='1', learn='1', shared=False),
             'manual_shared': dict(send='0', learn='0', shared=True), 'automatic_shared': dict(send='1', learn='1', shared=True)}
GOOD = dict(scenarios=SCENARIOS, scenario='manual_unique', key_size=4096, serializer='marshal', server_keys='generate', ca_cert='',
            insecure_learning=False)


def inputs(**changed):
    return mcollective_aes_problems(dict(GOOD, **changed), 'input')


def test_good_input_has_no_problems():
    assert inputs() == []
    assert inputs(scenario='automatic_shared', insecure_learning='true', key_size='2048') == []


def test_each_input_rule_names_its_variable():
    assert inputs(key_size=1024) == ['mcollective_aes_key_size must be at least 2048 bits (got 1024)']
    assert inputs(key_size='big')[0].startswith('mcollective_aes_key_size must be at least 2048 bits')
    assert inputs(scenario='magic')[0].startswith('mcollective_aes_scenario must be one of manual_unique, automatic_unique')
    assert inputs(serializer='json') == ['mcollective_aes_serializer must be yaml or marshal (got json)']
    assert inputs(server_keys='hsm') == ['mcollective_aes_server_keys must be generate or puppet (got hsm)']
    assert inputs(ca_cert='/etc/ca.pem')[0].startswith('mcollective_aes_ca_cert / mcollective_aes_ca_key are set but mcollective_aes_ca is false')


def test_learning_needs_insecure_learning_cve_2014_3251():
    learn = inputs(scenario='automatic_unique')
    assert len(learn) == 1 and 'learns public keys from the network: set mcollective_aes_ca=true' in learn[0]
    assert 'mcollective_aes_insecure_learning=true' in learn[0]
    assert inputs(scenario='automatic_unique', insecure_learning='false') == learn
    assert inputs(scenario='manual_shared') == []


def test_puppet_keys_only_with_unique_server_pairs():
    assert inputs(server_keys='puppet') == []
    assert inputs(server_keys='puppet', scenario='manual_shared')[0].startswith(
        'mcollective_aes_server_keys=puppet reuses each node')


def test_every_broken_input_rule_at_once():
    # ca_cert without the mode, without its key, and not PEM: three sentences
    assert len(inputs(key_size=512, serializer='x', ca_cert='/ca', scenario='automatic_shared', server_keys='puppet')) == 7


CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n'


def test_ca_mode_makes_learning_safe_and_a_given_ca_is_both_halves_as_pem():
    assert inputs(ca=True) == [] and inputs(ca='true', ca_cert=CA_PEM, ca_key=KEY_PEM) == []
    # learning with the CA checking: no insecure_learning needed; and insecure_learning with a CA is a contradiction
    assert inputs(ca=True, scenario='automatic_unique') == []
    both = inputs(ca=True, scenario='automatic_unique', insecure_learning=True)
    assert len(both) == 1 and both[0].startswith('mcollective_aes_insecure_learning=true with mcollective_aes_ca=true')
    # the first step of a move into CA mode (servers do not check yet) cannot learn safely
    staged = inputs(ca=True, ca_enforce=False, scenario='automatic_unique')
    assert len(staged) == 1 and 'learns public keys from the network' in staged[0]
    assert inputs(ca=True, ca_cert=CA_PEM) == ['give both mcollective_aes_ca_cert and mcollective_aes_ca_key (the CA certificate '
                                               'and its key, as PEM text), or neither (the role makes a CA and escrows it)']
    key_path = inputs(ca=True, ca_cert=CA_PEM, ca_key='/root/ca.key')
    assert key_path == ['mcollective_aes_ca_key must be the CA key as PEM text, not a path or a file name']
    assert '/root/ca.key' not in key_path[0]
    off = inputs(ca_cert=CA_PEM, ca_key=KEY_PEM)
    assert len(off) == 1 and 'mcollective_aes_ca is false' in off[0] and 'MIIB' not in off[0]


def test_yaml_serializer_needs_psych_below_4():
    assert mcollective_aes_problems(dict(rc=0, version='3.3.2'), 'psych', 's1') == []
    bad = mcollective_aes_problems(dict(rc=0, version='4.0.3'), 'psych', 'mco-server1')
    assert bad[0].startswith('mcollective_aes_serializer=yaml cannot work on mco-server1: its Ruby has Psych 4.0.3')
    assert 'Use marshal' in bad[0]
    unread = mcollective_aes_problems(dict(rc=2, version='', error='No such file or directory: ruby'), 'psych', 's1')
    assert "its Ruby's YAML library could not be read (No such file or directory: ruby)" in unread[0]
    assert mcollective_aes_problems(dict(rc=0, version='10.0'), 'psych', 's1') != []


def test_client_entries_of_a_host():
    good = [{'name': 'alice', 'user': 'alice'}, {'name': 'bob.ops', 'user': 'bob', 'config': '/home/bob/.mcollective'}]
    assert m.host_problems('c1', good) == []
    bad = m.host_problems('c1', [{'name': 'al ice', 'user': 'alice'}])
    assert bad == ['mcollective_aes_clients on c1: each entry needs a name matching [A-Za-z0-9_.-], 1 to 64 characters (the caller id and key file '
                   'name) and a user; got {"name": "al ice", "user": "alice"}']
    assert 'each entry needs a name matching' in m.host_problems('c1', [{'name': 'alice'}])[0]
    shared = m.host_problems('c1', [{'name': 'a', 'user': 'a'}, {'name': 'b', 'user': 'b'}])
    assert shared == ['mcollective_aes_clients on c1: each client needs its own config file (got /etc/mcollective/client.cfg, '
                      '/etc/mcollective/client.cfg); one file holds one client_private']


def collective(**changed):
    base = dict(server_hosts=['s1', 's2'], client_hosts=['c1'], play_hosts=['s1', 's2', 'c1'],
                clients=[[{'name': 'alice', 'user': 'alice'}]], server_key_names=['s1', 's2'], shared=False,
                shared_key_name='mcollective-servers')
    base.update(changed)
    return mcollective_aes_problems(base, 'collective')


def test_collective_hosts_in_the_run_and_names_unique():
    assert collective() == []
    missing = collective(play_hosts=['s1', 'c1'], server_key_names=['s1', ''])
    assert len(missing) == 1
    assert missing[0].startswith('hosts of the collective not in this run (mcollective_aes_server_hosts, '
                                 'mcollective_aes_client_hosts): s2;')
    dup = collective(server_key_names=['s1', 'alice'])
    assert len(dup) == 1 and "duplicates ['alice']" in dup[0] and 'bad []' in dup[0]
    # shared: the servers' own names do not count, the shared name does
    assert collective(shared=True, server_key_names=['alice', 'alice']) == []
    assert "duplicates ['alice']" in collective(shared=True, shared_key_name='alice')[0]
    assert "bad ['a/b']" in collective(clients=[[{'name': 'a/b', 'user': 'x'}]])[0]


def test_puppet_keys():
    there = dict(private_key='/p/private_keys/s1.pem', public_key='/p/public_keys/s1.pem', exists=[True, True])
    assert m.puppet_problems('s1', there) == []
    assert m.puppet_problems('s1', dict(there, type='RSA', bits=4096)) == []
    weak = m.puppet_problems('s1', dict(there, private_key='/root/weak-private.pem', type='RSA', bits=1024))
    assert '/root/weak-private.pem is RSA 1024 bits; aes_security needs RSA of at least 2048 bits' in weak[0]
    assert 'is ECC' in m.puppet_problems('s1', dict(there, type='ECC', bits=4096))[0]
    gone = m.puppet_problems('s1', dict(there, exists=[True, False]))
    assert gone[0].startswith('s1: mcollective_aes_puppet_private_key / mcollective_aes_puppet_public_key must exist')
    assert m.puppet_problems('s1', dict(there, public_key='/p/s 1.pem')) != []


def test_filter_refuses_an_unknown_check():
    with pytest.raises(AnsibleFilterError):
        mcollective_aes_problems({}, 'everything')
    with pytest.raises(AnsibleFilterError):
        mcollective_aes_problems([], 'input')


def test_psk_one_value_across_the_configurations_and_never_a_value_in_a_message():
    from ansible_collections.keyfleet.encryption.plugins.module_utils._mcollective import psk_problems
    same = [{'path': '/etc/mcollective/server.cfg', 'current': {'plugin.psk': 'k1'}},
            {'path': '/home/alice/.mcollective', 'current': {'plugin.psk': 'k1'}},
            {'path': '/home/bob/.mcollective', 'current': {}}, {'skipped': True}]
    assert psk_problems(same) == [] and psk_problems([]) == []
    odd = same + [{'path': '/etc/mcollective/client.cfg', 'current': {'plugin.psk': 'k2-secret'}}]
    got = psk_problems(odd)
    assert len(got) == 1 and 'mcollective_aes_psk_escrow_name' in got[0] and '/etc/mcollective/client.cfg' in got[0]
    assert 'k1' not in got[0] and 'k2-secret' not in got[0]
    # a read that failed is never taken as "no psk"
    failed = psk_problems([{'path': '/etc/mcollective/server.cfg', 'failed': True, 'msg': 'Permission denied'}])
    assert len(failed) == 1 and 'Permission denied' in failed[0] and 'server.cfg' in failed[0]


def test_names_are_what_the_plugin_reads_ascii_and_at_most_64():
    from ansible_collections.keyfleet.encryption.plugins.module_utils._mcollective import host_problems
    for bad in ('\u00e5lice', 'alice\n', 'a' * 65, 'al/ice', ''):
        assert host_problems('c1', [{'name': bad, 'user': 'alice'}]), bad
    assert host_problems('c1', [{'name': 'a' * 64, 'user': 'alice'}, {'name': 'b-1.x_y', 'user': 'b', 'config': '/b'}]) == []


def test_a_ca_made_by_the_role_is_not_named_as_a_caller():
    from ansible_collections.keyfleet.encryption.plugins.module_utils._mcollective import collective_problems
    c = dict(server_hosts=['s1'], client_hosts=['c1'], play_hosts=['s1', 'c1'], clients=[[{'name': 'alice'}]],
             server_key_names=['s1'], shared=False, shared_key_name='x')
    assert collective_problems(dict(c, ca_common_name='MCollective CA')) == []
    got = collective_problems(dict(c, ca_common_name='s1'))
    assert got == ["mcollective_aes_ca_common_name s1 is also a caller id: the CA's certificate and that caller's would have "
                   "the same subject; give the CA another name"]


def test_psk_read_failure_of_a_client_item_names_its_file():
    from ansible_collections.keyfleet.encryption.plugins.module_utils._mcollective import psk_problems
    got = psk_problems([{'failed': True, 'msg': 'Is a directory', 'item': {'name': 'alice', 'config': '/home/alice/.mcollective'}}])
    assert got == ['cannot read plugin.psk in /home/alice/.mcollective: Is a directory (a configuration that cannot be read '
                   'is never taken as holding none)']
