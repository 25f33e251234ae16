# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The consul role's rule filters: thin wrappers over module_utils._consul and _consul_tls."""

from __future__ import annotations

import importlib

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import key_fingerprint

KEY = 'kLXdEqh2oC8GIrYlN2Xra1FL3/f0gcNdqQO+X8FQyUw='


def f(name):
    """The filter as its FilterModule gives it to Ansible."""
    plugin = importlib.import_module('ansible_collections.keyfleet.encryption.plugins.filter.' + name)
    return plugin.FilterModule().filters()[name]


def member(name, status='alive'):
    return dict(name=name, address='10.0.0.1', status=status, status_code=1, server=False)


def test_member_problems_take_an_agent_read_or_members():
    info = {'reachable': True, 'members': [member('c1'), member('c2')]}
    assert f('consul_member_problems')(info, ['c1', 'c2']) == []
    assert f('consul_member_problems')(info['members'], ['c1.example.com', 'c2.example.com'])
    assert f('consul_member_problems')({'reachable': False}, ['c1']) == []  # nothing read, nothing outside
    with pytest.raises(AnsibleFilterError):
        f('consul_member_problems')(['c1'], ['c1'])


def test_rotation_problems():
    info = {'reachable': True, 'state': {'gossip': {'stage': 3}}, 'members': [member('c1'), member('c2', 'left')]}
    assert f('consul_rotation_problems')(info, ['c1'], group='consul') == [
        'members not alive from this agent: c2; a key change now would cut them off. Bring them back first '
        '(a node gone for good: consul force-leave it; the run\'s agents are the group consul, consul_hosts).']


def test_gossip_problems_and_source_problems():
    fp = key_fingerprint(KEY)
    info = {'reachable': True, 'state': {'server': True, 'gossip': {'stage': 3}},
            'keyring': [{'wan': False, 'primary_keys': [fp]}], 'local_keyring': [fp]}
    assert f('consul_gossip_problems')(info, fp, 'consul_gossip_key', '/var/lib/consul') == []
    assert f('consul_gossip_problems')(info, 'f' * 16, 'consul_gossip_key', '/var/lib/consul', rewrite_keyring=True) == []
    assert len(f('consul_gossip_problems')(info, 'f' * 16, 'consul_gossip_key', '/var/lib/consul')) == 2
    assert f('consul_gossip_source_problems')(info, info['keyring'] * 2, False, False, 'k') == []


def test_trusted_ca_problems_take_hosts_to_their_ca_files():
    assert f('consul_trusted_ca_problems')({'n1': '', 'n2': None}, '') == []
    with pytest.raises(AnsibleFilterError):
        f('consul_trusted_ca_problems')(['n1'], '')


def test_the_key_fingerprint_filter_is_the_one_escrow_secret_and_consul_agent_info_use():
    assert f('consul_key_fingerprint')(KEY) == key_fingerprint(KEY)
    assert f('consul_key_fingerprint')('') == ''


def test_tls_client_certs_problems_over_the_run():
    rule = f('consul_tls_client_certs_problems')
    agents = [{'name': 'node1', 'server': 'True', 'tls_client_certs': 'per_agent', 'state': None},
              {'name': 'node4', 'server': 'False', 'tls_client_certs': 'auto_encrypt', 'state': None}]
    # The kind as a template renders it nested in a mapping before ansible-core 2.19: text.
    assert 'every server too (node1)' in rule(agents)[0]
    agents[0]['tls_client_certs'] = 'auto_encrypt'
    assert rule(agents) == []
    with pytest.raises(AnsibleFilterError, match='list of agents'):
        rule([{'name': 'node1'}])


def test_ca_rotation_plan_keeps_a_null_served_certificate(monkeypatch):
    plugin = importlib.import_module('ansible_collections.keyfleet.encryption.plugins.filter.consul_ca_rotation_plan')
    seen = {}
    monkeypatch.setattr(plugin, 'ca_rotation_plan', lambda trusted, served, *a: seen.update(served=served) or {})
    plugin.consul_ca_rotation_plan({'n1': 'A', 'n5': 'A'}, {'n1': 'PEM', 'n4': 3, 'n5': None}, ['A'], 'B')
    # null: an auto_encrypt client, skipped by the plan; anything else that is no text: unknown (''), never skipped.
    assert seen['served'] == {'n1': 'PEM', 'n4': '', 'n5': None}
