# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.keyfleet.encryption.plugins.modules.consul_keyring import plan

OLD = 'pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s='
NEW = 'Xuv6EJOw82h71J0pCQtSLKVKyGkmVawAbvdcTnwe5r0='


def ring(keys, primary, wan=False, nodes=3):
    return {'WAN': wan, 'Datacenter': 'dc1', 'Segment': '', 'NumNodes': nodes, 'Keys': keys, 'PrimaryKeys': primary}


def both_rings(keys, primary):
    return [ring(keys, primary, wan=True), ring(keys, primary)]


@pytest.mark.parametrize('rings, key, state, expected', [
    # install: until every node of every ring holds it
    (both_rings({OLD: 3}, {OLD: 3}), NEW, 'installed', ('install', None)),
    (both_rings({OLD: 3, NEW: 2}, {OLD: 3}), NEW, 'installed', ('install', None)),
    (both_rings({OLD: 3, NEW: 3}, {OLD: 3}), NEW, 'installed', (None, None)),
    # use: only once every node holds it; nothing when already primary everywhere
    (both_rings({OLD: 3, NEW: 3}, {OLD: 3}), NEW, 'primary', ('use', None)),
    (both_rings({OLD: 3, NEW: 3}, {NEW: 3}), NEW, 'primary', (None, None)),
    (both_rings({OLD: 3, NEW: 3}, {OLD: 1, NEW: 2}), NEW, 'primary', ('use', None)),
    # remove: never the primary key
    (both_rings({OLD: 3, NEW: 3}, {NEW: 3}), OLD, 'absent', ('remove', None)),
    (both_rings({NEW: 3}, {NEW: 3}), OLD, 'absent', (None, None)),
    # sole: every other key goes, once the key is primary everywhere
    (both_rings({OLD: 3, NEW: 3}, {NEW: 3}), NEW, 'sole', (('remove_others', [OLD]), None)),
    (both_rings({NEW: 3}, {NEW: 3}), NEW, 'sole', (None, None)),
])
def test_plan(rings, key, state, expected):
    assert plan(rings, key, state) == expected


def test_use_refused_while_a_node_lacks_the_key():
    rings = [ring({OLD: 3, NEW: 3}, {OLD: 3}, wan=True), ring({OLD: 3, NEW: 2}, {OLD: 3})]
    action, error = plan(rings, NEW, 'primary')
    assert action is None
    assert error == 'not every node holds the key yet (dc1 LAN has it on 2 of 3 nodes); install it and try again'


def test_remove_refused_for_the_primary_key():
    action, error = plan(both_rings({OLD: 3, NEW: 3}, {OLD: 3}), OLD, 'absent')
    assert action is None and 'still primary in dc1 WAN, dc1 LAN' in error


def test_no_rings_is_an_error():
    assert plan([], NEW, 'installed')[1].startswith('the keyring API lists no rings')


def test_sole_refused_before_the_key_is_primary_everywhere():
    action, error = plan(both_rings({OLD: 3, NEW: 3}, {OLD: 1, NEW: 2}), NEW, 'sole')
    assert action is None and 'not primary on every node yet' in error


def test_reinstall_even_when_every_node_holds_the_key():
    # A node may hold the key in memory without having written it to serf/local.keyring.
    assert plan(both_rings({OLD: 3, NEW: 3}, {OLD: 3}), NEW, 'installed', reinstall=True) == ('install', None)


def test_a_failed_member_left_out_of_num_nodes_stops_use_and_sole():
    # 4 agents in the run; one is failed, so the LAN ring counts 3 nodes and all 3 hold the new key.
    lan = [ring({OLD: 3, NEW: 3}, {OLD: 3}, nodes=3)]
    assert plan(lan, NEW, 'primary') == ('use', None)  # NumNodes alone: the failed agent would be cut off
    action, error = plan(lan, NEW, 'primary', min_nodes=4)
    assert action is None and 'dc1 LAN: 3 of the 4 agents of this run hold it (the ring counts 3 nodes' in error
    used = [ring({OLD: 3, NEW: 3}, {NEW: 3}, nodes=3)]
    action, error = plan(used, NEW, 'sole', min_nodes=4)
    assert action is None and 'stopped before the key is made the only one' in error
    # Every agent of the run alive and holding it: go on (the WAN ring holds only servers).
    whole = [ring({OLD: 3, NEW: 3}, {OLD: 3}, wan=True), ring({OLD: 4, NEW: 4}, {OLD: 4}, nodes=4)]
    assert plan(whole, NEW, 'primary', min_nodes=4) == ('use', None)
