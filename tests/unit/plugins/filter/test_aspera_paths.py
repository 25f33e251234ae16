# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The installation's layout: one function for the roles (through the filter) and the modules (install_paths)."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.filter.aspera_paths import aspera_paths
from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import LAYOUT, MODULE_PATHS, install_paths, layout


def test_everything_under_install_dir_and_no_module_args():
    paths = aspera_paths('/opt/hsts')
    assert paths['askmscli'] == '/opt/hsts/bin/askmscli'
    assert paths['asnodeadmin'] == '/opt/hsts/bin/asnodeadmin'
    assert paths['aspera_conf'] == '/opt/hsts/etc/aspera.conf'
    assert paths['redis_conf'] == '/opt/hsts/etc/redis/aspera_31415.conf'
    assert paths['stash_file'] == '/opt/hsts/etc/askms.stash'
    assert (paths['state_dir'], paths['marker'], paths['token_switch']) == (
        '/opt/hsts/etc', '/opt/hsts/etc/.keyfleet-stash', '/opt/hsts/etc/.keyfleet-token-switch')
    # The modules find every one of these themselves under install_dir: module_defaults gives them nothing more.
    assert paths['module_args'] == dict((m, {}) for m in MODULE_PATHS)


def test_the_modules_take_the_same_paths():
    # A role's path (the filter) and a module's (install_paths) must be one: a role that checked one askmscli while
    # the module ran another would check nothing.
    paths = layout('/srv/aspera')
    for module, options in MODULE_PATHS.items():
        params = install_paths(dict(dict.fromkeys(options), install_dir='/srv/aspera'), **options)
        assert dict((o, params[o]) for o in options) == dict((o, paths[k]) for o, k in options.items()), module


def test_a_given_tool_reaches_only_the_modules_that_run_it():
    paths = aspera_paths('/opt/aspera', {'askmscli': '/usr/local/bin/askmscli', 'asconfigurator': None, 'redis_conf': ''})
    assert paths['askmscli'] == '/usr/local/bin/askmscli'
    assert paths['module_args'] == {
        'aspera_config': {}, 'aspera_redis_password': {},
        'aspera_keystore': {'askmscli': '/usr/local/bin/askmscli'}, 'aspera_secret': {'askmscli': '/usr/local/bin/askmscli'},
        'aspera_stash_password': {'askmscli': '/usr/local/bin/askmscli'}}


def test_bin_dir_moves_every_tool_a_given_tool_wins():
    paths = layout('/opt/aspera', {'bin_dir': '/usr/bin', 'asconfigurator': '/x/asconfigurator'})
    assert (paths['askmscli'], paths['asnodeadmin'], paths['asconfigurator']) == (
        '/usr/bin/askmscli', '/usr/bin/asnodeadmin', '/x/asconfigurator')
    assert paths['module_args']['aspera_config'] == {'asconfigurator': '/x/asconfigurator'}
    assert paths['module_args']['aspera_keystore'] == {'askmscli': '/usr/bin/askmscli'}


def test_state_dir_moves_keyfleet_records_and_the_stash_module_gets_its_marker():
    paths = layout('/opt/aspera', {'state_dir': '/var/lib/keyfleet', 'stash_file': '/etc/askms.stash',
                                   'redis_conf': '/opt/aspera/etc/redis/aspera_31416.conf'})
    assert (paths['marker'], paths['token_switch']) == ('/var/lib/keyfleet/.keyfleet-stash',
                                                        '/var/lib/keyfleet/.keyfleet-token-switch')
    assert paths['module_args']['aspera_stash_password'] == {
        'marker': '/var/lib/keyfleet/.keyfleet-stash', 'stash_file': '/etc/askms.stash'}
    assert paths['module_args']['aspera_redis_password'] == {'conf': '/opt/aspera/etc/redis/aspera_31416.conf'}
    # aspera.conf stays where the install directory puts it.
    assert paths['aspera_conf'] == '/opt/aspera/etc/aspera.conf'


def test_every_layout_path_can_be_given():
    assert set(LAYOUT) <= set(layout('/a'))


def test_unknown_or_relative_is_refused():
    with pytest.raises(AnsibleFilterError, match='unknown Aspera path askmscli_dir'):
        aspera_paths('/opt/aspera', {'askmscli_dir': '/x'})
    with pytest.raises(AnsibleFilterError, match='absolute path'):
        aspera_paths('opt/aspera')
