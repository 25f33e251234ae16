# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._facts import injected_fact_problems

PREFIXES = ['keyfleet_', 'mcollective_aes_', 'ansible_hashi_vault_']


def test_a_host_that_returned_a_run_variable_as_a_fact_is_named():
    facts = {'s1': ['distribution', 'getent_passwd'], 'evil': ['mcollective_aes_ca_cert', 'mcollective_aes_ca_key', 'os_family'],
             'evil2': {'keyfleet_escrow_file': '/tmp/x'}, 'evil3': ['hashi_vault_url']}
    got = injected_fact_problems(facts, PREFIXES)
    assert len(got) == 3
    assert got[0].startswith('host evil returned facts named as variables this run decides with (mcollective_aes_ca_cert, '
                             'mcollective_aes_ca_key)')
    assert 'host evil2 ' in got[1] and 'keyfleet_escrow_file' in got[1]
    # ansible_hashi_vault_url comes back as the fact hashi_vault_url and the variable ansible_hashi_vault_url
    assert 'host evil3 ' in got[2] and 'hashi_vault_url' in got[2]
    assert injected_fact_problems({'s1': ['distribution'], 's2': None}, PREFIXES) == []


def test_wrong_input_is_a_type_error():
    with pytest.raises(TypeError):
        injected_fact_problems(['s1'], PREFIXES)
