# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.filter.posture_fleet import posture_fleet


def test_the_filter_completes_the_fleet():
    rows = posture_fleet([{'inventory_hostname': 'm1'}], {'swarm': ['m1']})
    assert [(r['host'], r['check'], r['status']) for r in rows] == [('m1', 'read', 'error')]


def test_the_filter_wants_the_expected_hosts_by_system():
    with pytest.raises(AnsibleFilterError):
        posture_fleet([], ['m1'])
