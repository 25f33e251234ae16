# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.filter.consul_tls_settings import FilterModule

f = FilterModule().filters()['consul_tls_settings']


def test_both_layouts_through_the_filter():
    flat = f('Consul v1.8.7', '3', 'ca', 'cert', 'key', https_port='8501', http_disabled=True)
    assert flat['verify_incoming'] is True and flat['ports'] == {'https': 8501, 'http': -1}
    stanza = f('1.15.4', 2, 'ca', 'cert', 'key')
    assert stanza['tls']['internal_rpc'] == {'verify_server_hostname': True}
    assert stanza['tls']['defaults']['verify_incoming'] is False


def test_bad_input_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match='cannot find a Consul version'):
        f('', 1, 'ca', 'cert', 'key')
