# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The master key roles' rules (module_utils/_resilio.py), through the filter resilio_master_key asserts on."""

from __future__ import annotations

import base64
import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.filter.resilio_master_key_problems import resilio_master_key_problems
from ansible_collections.keyfleet.encryption.plugins.module_utils import _resilio

GOOD = dict(component='agent', env='RESILIO_KEY', unit='resilio-agent', method='environment_file', environment_file='',
            value='', allow_change=False, config_file='', config_read={'skipped': True})


def problems(**changed):
    return resilio_master_key_problems(dict(GOOD, **changed))


def mc_config(config, **changed):
    content = base64.b64encode(json.dumps(config).encode()).decode() if not isinstance(config, bytes) else \
        base64.b64encode(config).decode()
    options = dict(component='mc', env='RESILIO_MPASSWD', config_file='/opt/rcs/config.json', config_read={'content': content})
    options.update(changed)
    return problems(**options)


def test_good_options():
    assert problems() == []
    assert problems(method='dropin', environment_file='/etc/default/rslagent', unit='rslagent@1.service') == []


def test_each_option_names_its_variable_and_nothing_changed():
    bad = problems(env='1BAD')
    assert bad == ['resilio_agent_key_env must be an environment variable name (got 1BAD). Nothing was changed.']
    assert 'resilio_agent_unit must be a unit name (got a b)' in problems(unit='a b')[0]
    assert 'resilio_agent_key_method must be dropin or environment_file (got file)' in problems(method='file')[0]
    assert 'resilio_agent_environment_file must be empty or an absolute path (got etc/x)' in \
        problems(environment_file='etc/x')[0]
    assert len(problems(env='1BAD', unit='a b', method='x')) == 1  # one sentence, every broken option in it


def test_a_key_given_on_two_lines_is_refused_without_showing_it():
    bad = problems(component='mc', value='first line\nsecond-line-secret')
    assert bad == ['resilio_mc_key, when given, must be one line. Nothing was changed.']
    assert 'secret' not in ' '.join(bad)


def test_the_mc_configuration_keeps_the_variable_name():
    assert mc_config({'security': {'mpasswd_env': 'RESILIO_MPASSWD'}, 'smtp': {'password': 's3cret'}}) == []
    assert mc_config({}) == []  # the vendor's default name
    other = mc_config({'security': {'mpasswd_env': 'KF_MC_MASTER'}, 'smtp': {'password': 's3cret'}})
    assert other == ['/opt/rcs/config.json names KF_MC_MASTER as the master password variable, not '
                     'resilio_mc_key_env=RESILIO_MPASSWD; the name cannot be changed once the data is encrypted. '
                     'Nothing was changed.']
    assert mc_config({'security': {'mpasswd_env': 'KF_MC_MASTER'}}, allow_change=True) == []
    assert mc_config({'security': {'mpasswd_env': 'KF_MC_MASTER'}}, env='KF_MC_MASTER') == []
    # no configuration yet (a new installation): nothing to keep
    assert problems(component='mc', config_file='/opt/rcs/config.json', config_read={'failed': True, 'msg': 'file not found'}) == []


def test_an_mc_configuration_that_is_not_json_is_named_not_shown():
    bad = mc_config(b'{"smtp": {"password": "s3cret"')
    assert len(bad) == 1 and '/opt/rcs/config.json is not JSON' in bad[0] and 's3cret' not in bad[0]


def test_mc_config_problems_direct():
    assert _resilio.mc_config_problems(None, 'X', False, '/c.json') == []
    assert _resilio.mc_config_problems({'security': None}, 'X', 'no', '/c.json')[0].startswith('/c.json names RESILIO_MPASSWD')


def test_the_filter_wants_a_dict():
    with pytest.raises(AnsibleFilterError):
        resilio_master_key_problems(['env'])
