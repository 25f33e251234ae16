# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.filter.resilio_ata_policy_errors import FilterModule

check = FilterModule().filters()['resilio_ata_policy_errors']
GOOD = dict(rotation_minutes='60', overlap_hours='1', lifetime_minutes='180', mode='enforced',
            tunnel_ciphers=['DHE-PSK-AES128-GCM-SHA256', 'DHE-PSK-AES256-GCM-SHA384'])


def test_good_policy_from_inventory_strings():
    assert check(GOOD, 'new') == []


def test_the_string_false_does_not_confirm_disabled():
    errors = check(dict(GOOD, mode='disabled', disabled_confirmed='false'), 'new', prefix='x_')
    assert errors == ['x_mode: disabled turns agent-to-agent tokens off; set x_disabled_confirmed to true to mean it']
    assert check(dict(GOOD, mode='disabled', disabled_confirmed='yes'), 'new') == []


@pytest.mark.parametrize('policy, install, message', [
    ('x', 'new', 'the policy must be a dict'),
    (GOOD, 'fresh', 'install must be upgrade or new'),
])
def test_bad_arguments(policy, install, message):
    with pytest.raises(AnsibleFilterError, match=message):
        check(policy, install)
