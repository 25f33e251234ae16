# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The input rules the consul preflight checks before any host changes: the gossip key given, and the names a
certificate is issued for."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.keyfleet.encryption.plugins.filter.consul_agent_name_problems import FilterModule as Names
from ansible_collections.keyfleet.encryption.plugins.filter.consul_gossip_key_input_problems import FilterModule as Keys

key_problems = Keys().filters()['consul_gossip_key_input_problems']
name_problems = Names().filters()['consul_agent_name_problems']

GOOD_KEY = base64.b64encode(bytes(range(32))).decode('ascii')


def test_a_key_as_consul_keygen_prints_it_passes():
    assert key_problems(GOOD_KEY) == []


@pytest.mark.parametrize('key', [
    '', None, 42, GOOD_KEY[:-1], GOOD_KEY + 'A',
    base64.b64encode(bytes(16)).decode('ascii'),      # 16 bytes: an old key size
    base64.b64encode(bytes(33)).decode('ascii'),
    GOOD_KEY[:42] + 'B=',                               # not canonical: trailing bits set
    GOOD_KEY[:10] + '!' + GOOD_KEY[11:],
])
def test_anything_else_is_named_without_its_value(key):
    problems = key_problems(key)
    assert len(problems) == 1 and problems[0].startswith('consul_gossip_key must be 32 random bytes in base64')
    if isinstance(key, str) and key:
        assert key not in problems[0]


def test_names_that_can_name_a_certificate_pass():
    assert name_problems('node-1', 'dc1', 'consul') == []
    assert name_problems('n1', 'eu-west', 'corp.example.') == []


@pytest.mark.parametrize('node, dc, domain, var', [
    ('node_1', 'dc1', 'consul', 'consul_node_name'),
    ('c1.example.com', 'dc1', 'consul', 'consul_node_name'),   # a node name is one label
    ('n1', 'dc 1', 'consul', 'consul_datacenter'),
    ('n1', 'dc.1', 'consul', 'consul_datacenter'),
    ('n1', 'dc1', 'consul..local', 'consul_domain'),
    ('n1', 'dc1', '-consul', 'consul_domain'),
    ('nöde', 'dc1', 'consul', 'consul_node_name'),
    ('n' * 64, 'dc1', 'consul', 'consul_node_name'),
])
def test_each_name_that_cannot_is_named_by_its_variable(node, dc, domain, var):
    problems = name_problems(node, dc, domain)
    assert len(problems) == 1 and '(%s)' % var in problems[0]


def test_the_sentence_the_scenario_looks_for():
    assert name_problems('node_1', 'dc1', 'consul')[0].startswith('the node name "node_1" (consul_node_name)')


def test_numbers_from_yaml_pass_as_the_text_they_are():
    # consul_datacenter: 1 and consul_node_name: 42 load as integers; the old regex test took them as text.
    assert name_problems(42, 1, 'consul') == []
    assert name_problems(True, 'dc1', 'consul') != []


def test_a_key_with_a_trailing_newline_is_refused_and_the_sentence_says_why():
    # encrypt_string --stdin-name keeps the newline of `consul keygen`; the keyring's key has none.
    problems = key_problems(GOOD_KEY + '\n')
    assert len(problems) == 1 and 'trailing newline' in problems[0]
