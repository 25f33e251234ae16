# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.keyfleet.encryption.plugins.modules import consul_config

KEY = 'pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s='


def test_masked_hides_secrets_and_says_when_they_change():
    before = {'encrypt': 'old', 'encrypt_verify_outgoing': False}
    after = {'encrypt': KEY, 'encrypt_verify_outgoing': True}
    expected = {'encrypt': '******** (changes)', 'encrypt_verify_outgoing': True}
    assert consul_config.masked(after, {'encrypt'}, before) == expected
    assert consul_config.masked(after, {'encrypt'}, after)['encrypt'] == '********'
    assert consul_config.changed_keys(before, after) == ['encrypt', 'encrypt_verify_outgoing']
    assert consul_config.changed_keys(after, dict(after)) == []


@pytest.fixture
def fake_consul(tmp_path):
    """A `consul` that accepts a directory unless a file in it holds "invalid"; records what it saw."""
    seen = tmp_path / 'seen'
    script = tmp_path / 'consul'
    script.write_text('#!/bin/sh\ncat "$2"/* > %s\nif grep -q invalid "$2"/*; then echo "Config validation failed: bad"; exit 1; fi\n'
                      'echo "Configuration is valid!"\n' % seen)
    script.chmod(0o755)
    return str(script), seen


def test_four_passes_check_apply_check_apply(tmp_path, run_module, four_pass, fake_consul, leaked):
    consul, seen = fake_consul
    conf = tmp_path / 'consul.d'
    conf.mkdir()
    (conf / 'base.hcl').write_text('server = true\n')
    path = conf / 'gossip.json'
    args = dict(path=str(path), consul_binary=consul, mode='0640', validate_settings={'data_dir': '/var/lib/consul'},
                settings={'encrypt_verify_incoming': False}, secret_settings={'encrypt': KEY})
    check1, apply1, check2, apply2 = four_pass(consul_config, args)
    assert check1['changed'] and apply1['changed']
    assert not check2['changed'] and not apply2['changed']
    assert json.loads(path.read_text()) == {'encrypt': KEY, 'encrypt_verify_incoming': False}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    # validated with the rest of the directory and the command-line settings
    assert 'server = true' in seen.read_text() and '/var/lib/consul' in seen.read_text()
    for result in (check1, apply1, check2, apply2):
        assert not leaked(KEY, result)
    assert '******** (changes)' in apply1['diff']['after']


def test_check_mode_writes_nothing(tmp_path, run_module, four_pass, fake_consul):
    path = tmp_path / 'gossip.json'
    result = run_module(consul_config, dict(path=str(path), consul_binary=fake_consul[0],
                                            secret_settings={'encrypt': KEY}), check_mode=True)
    assert result['changed'] and not path.exists()


def test_invalid_configuration_is_not_written(tmp_path, run_module, four_pass, fake_consul):
    path = tmp_path / 'gossip.json'
    path.write_text('{"encrypt_verify_outgoing": false}\n')
    result = run_module(consul_config, dict(path=str(path), consul_binary=fake_consul[0],
                                            settings={'bind_addr': 'invalid'}))
    assert result['failed'] and 'consul validate refused' in result['msg']
    assert path.read_text() == '{"encrypt_verify_outgoing": false}\n'


def test_a_linked_file_is_written_through_the_link_and_a_second_pass_changes_nothing(tmp_path, run_module, four_pass, fake_consul):
    # Mode and owner are the target's (the link itself has none that count): a link must not read as changed forever.
    consul, dummy = fake_consul
    real = tmp_path / 'real'
    real.mkdir()
    (real / 'gossip.json').write_text('{}')
    conf = tmp_path / 'consul.d'
    conf.mkdir()
    link = conf / 'gossip.json'
    link.symlink_to(real / 'gossip.json')
    args = dict(path=str(link), consul_binary=consul, mode='0640', validate=False, secret_settings={'encrypt': KEY})
    check1, apply1, check2, apply2 = four_pass(consul_config, args)
    assert check1['changed'] and apply1['changed']
    assert not check2['changed'] and not apply2['changed']
    assert link.is_symlink() and json.loads((real / 'gossip.json').read_text()) == {'encrypt': KEY}
    assert stat.S_IMODE(os.stat(real / 'gossip.json').st_mode) == 0o640
