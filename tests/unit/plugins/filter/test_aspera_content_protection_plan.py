# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.filter.aspera_content_protection_plan import (
    aspera_content_protection_plan, members)

GROUPS = {'media': ['x', '1001', 'carol'], 'dave': ['x', '1002', ''], 'users': ['x', '100', '']}
PASSWD = {'carol': ['x', '1003', '100', '', '/home/carol', '/bin/sh'],
          'dave': ['x', '1004', '1001', '', '/home/dave', '/bin/sh']}


def test_members_include_primary_group_users():
    assert members(GROUPS, PASSWD) == {'media': ['carol', 'dave'], 'dave': [], 'users': ['carol']}


def test_group_secret_reaches_primary_and_secondary_members():
    conf = ('<CONF><aaa><realms><realm><groups><group><name>media</name><transfer><encryption>'
            '<content_protection_secret>m</content_protection_secret></encryption></transfer></group>'
            '</groups></realm></realms></aaa></CONF>')
    assert aspera_content_protection_plan(conf, [], GROUPS, PASSWD) == {
        'plan': {'carol': 'm', 'dave': 'm'}, 'errors': [], 'sources': {'group_media': 'm'}}


def test_bad_xml_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match='not valid XML'):
        aspera_content_protection_plan('<CONF>', [], GROUPS, PASSWD)


def test_a_node_secret_no_listed_user_inherits_is_still_a_source_to_escrow():
    # carol and dave take the group's secret; nobody listed takes the node's, which aspera.conf is about to lose.
    conf = ('<CONF><default><transfer><encryption><content_protection_secret>n</content_protection_secret></encryption>'
            '</transfer></default><aaa><realms><realm><groups><group><name>media</name><transfer><encryption>'
            '<content_protection_secret>m</content_protection_secret></encryption></transfer></group>'
            '</groups></realm></realms></aaa></CONF>')
    result = aspera_content_protection_plan(conf, ['carol', 'dave'], GROUPS, PASSWD)
    assert 'n' not in result['plan'].values()
    assert result['sources'] == {'node': 'n', 'group_media': 'm'}
