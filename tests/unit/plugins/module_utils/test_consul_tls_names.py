# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one rule for a Consul agent certificate's names (module_utils/_consul_tls.name_problems), which the
action plugin applies before the first call to the agent and the module again before it writes anything."""

from __future__ import annotations

import pytest

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import name_problems, names_refusal

SERVER = ['server.dc1.consul', 'node1.server.dc1.consul', 'localhost']


@pytest.mark.parametrize('dns_names, ip_addresses', [
    (SERVER, ['127.0.0.1']),
    (['client.dc1.consul', 'localhost'], ['127.0.0.1', '::1', '10.0.0.7']),
    (['server.dc-2.example-corp.internal', 'N0DE-1.server.dc-2.example-corp.internal'], []),
    (['xn--nde1-6qa.server.dc1.consul'], []),  # an IDNA name, already encoded
    (['server.dc1.consul', 'a' * 63 + '.server.dc1.consul'], []),
])
def test_good_names_have_no_problems(dns_names, ip_addresses):
    assert name_problems(dns_names, ip_addresses) == []


@pytest.mark.parametrize('dns_names, ip_addresses, words', [
    (['server.dc1.consul', 'nöde1.server.dc1.consul'], [], ["dns_names", "'nöde1.server.dc1.consul'", 'not ASCII', 'xn--nde1-']),
    (['server.dc1.consul', 'node 1.server.dc1.consul'], [], ["dns_names", "'node 1'", 'letters, digits']),
    (['server..consul'], [], ['dns_names', "'server..consul'", 'empty label']),
    (['server.dc1.consul.'], [], ['dns_names', 'empty label']),
    (['server.dc1.consul', 'a' * 64 + '.server.dc1.consul'], [], ['dns_names', '64 characters', '63']),
    (['-node.server.dc1.consul'], [], ['dns_names', "'-node'", "'-'"]),
    (['*.dc1.consul'], [], ['dns_names', 'wildcard']),
    (['under_score.dc1.consul'], [], ['dns_names', "'under_score'"]),
    (['node1\n.server.dc1.consul'], [], ['dns_names']),
    ([''], [], ['dns_names', 'empty']),
    ([], [], ['dns_names is empty']),
    ([7], [], ['dns_names', 'not a string']),
    (['server.dc1.consul', '.'.join(['abcdefghij'] * 26)], [], ['dns_names', '253']),
    (['a' * 60 + '.server.dc1.consul', 'localhost'], [], ['dns_names', 'common name', '64']),
    (SERVER, ['300.1.2.3'], ['ip_addresses', "'300.1.2.3'", 'not an IP address']),
    (SERVER, ['127.0.0.0/8'], ['ip_addresses', "'127.0.0.0/8'"]),
    (SERVER, [2130706433], ['ip_addresses', 'not a string']),
])
def test_bad_names_are_named_with_the_variable(dns_names, ip_addresses, words):
    problems = name_problems(dns_names, ip_addresses)
    assert len(problems) == 1, problems
    assert all(w in problems[0] for w in words), problems


def test_every_problem_is_listed_and_the_refusal_names_the_role_variables():
    problems = name_problems(['node 1.server.dc1.consul', 'nöde'], ['x'])
    assert len(problems) == 3
    msg = names_refusal(problems, 'consul agent node1')
    assert msg.startswith('consul agent node1: ') and 'nothing was written' in msg
    assert all(p in msg for p in problems)
    assert 'consul_node_name' in msg and 'consul_datacenter' in msg and 'consul_domain' in msg
