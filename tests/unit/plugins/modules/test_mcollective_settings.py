# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import grp
import os
import pwd
import stat

from ansible_collections.keyfleet.encryption.plugins.modules import mcollective_settings

SERVER_CFG = """# middleware
connector = activemq
plugin.activemq.pool.1.password = secret
securityprovider = psk
plugin.aes.insecure_learning = 1
securityprovider = ssl
"""


def args(path, **settings):
    return dict(path=str(path), settings=settings, owner=pwd.getpwuid(os.getuid()).pw_name,
                group=str(os.getgid()), mode='0600')


def test_set_replace_the_last_remove_then_nothing(tmp_path, run_module):
    cfg = tmp_path / 'server.cfg'
    cfg.write_text(SERVER_CFG)
    cfg.chmod(0o644)
    wanted = args(cfg, **{'securityprovider': 'aes_security', 'plugin.aes.serializer': 'yaml',
                          'plugin.aes.insecure_learning': None})
    plan = run_module(mcollective_settings, wanted, check_mode=True)
    assert plan['changed'] and cfg.read_text() == SERVER_CFG
    # the diff shows the settings that change, not the middleware password beside them
    assert 'secret' not in repr(plan) and 'plugin.aes.insecure_learning = 1' in plan['diff']['before']
    done = run_module(mcollective_settings, wanted)
    assert sorted(done['changed_keys']) == ['plugin.aes.insecure_learning', 'plugin.aes.serializer', 'securityprovider']
    # the last line that sets a key is the one MCollective uses: that one is replaced, the rest stays
    assert cfg.read_text() == ('# middleware\nconnector = activemq\nplugin.activemq.pool.1.password = secret\n'
                               'securityprovider = psk\nsecurityprovider = aes_security\nplugin.aes.serializer = yaml\n')
    assert stat.S_IMODE(os.stat(str(cfg)).st_mode) == 0o600 and os.stat(str(cfg)).st_gid == os.getgid()
    again = run_module(mcollective_settings, wanted)
    assert not again['changed'] and again['changed_keys'] == []


def test_a_new_file_gets_its_mode_and_group(tmp_path, run_module):
    cfg = tmp_path / 'etc' / 'client.cfg'
    group = grp.getgrgid(os.getgid()).gr_name
    result = run_module(mcollective_settings, dict(args(cfg, securityprovider='aes_security'), group=group, mode='0640'))
    assert result['changed'] and cfg.read_text() == 'securityprovider = aes_security\n'
    assert stat.S_IMODE(os.stat(str(cfg)).st_mode) == 0o640
    cfg.chmod(0o644)
    fixed = run_module(mcollective_settings, dict(args(cfg, securityprovider='aes_security'), group=group, mode='0640'))
    assert fixed['changed'] and fixed['changed_keys'] == [] and stat.S_IMODE(os.stat(str(cfg)).st_mode) == 0o640


def test_a_linked_server_cfg_stays_a_link_and_its_target_is_set(tmp_path, run_module):
    """server.cfg as a link: the module used to replace the link with a file and leave the real file with
    securityprovider = psk at 0644. It follows the link, as lineinfile did."""
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'shared').mkdir()
    target = tmp_path / 'shared' / 'server.cfg'
    target.write_text(SERVER_CFG)
    target.chmod(0o644)
    cfg = tmp_path / 'etc' / 'server.cfg'
    cfg.symlink_to('../shared/server.cfg')
    wanted = args(cfg, securityprovider='aes_security')
    done = run_module(mcollective_settings, wanted)
    assert done['changed'] and done['changed_keys'] == ['securityprovider']
    assert cfg.is_symlink() and os.readlink(str(cfg)) == '../shared/server.cfg'
    assert target.read_text().endswith('securityprovider = psk\nplugin.aes.insecure_learning = 1\nsecurityprovider = aes_security\n')
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o600  # as the task asks (args: mode 0600)
    # read and written through the same link: the second run finds the setting made
    assert not run_module(mcollective_settings, wanted)['changed']
    target.chmod(0o644)
    fixed = run_module(mcollective_settings, wanted)
    assert fixed['changed'] and fixed['changed_keys'] == [] and cfg.is_symlink()
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o600


def test_a_dangling_link_into_a_missing_directory_fails_clearly(tmp_path, run_module):
    cfg = tmp_path / 'server.cfg'
    cfg.symlink_to(tmp_path / 'gone' / 'server.cfg')
    r = run_module(mcollective_settings, args(cfg, securityprovider='aes_security'))
    assert r['failed'] and 'cannot write %s' % cfg in r['msg'] and 'whose directory does not exist' in r['msg']
    assert cfg.is_symlink()


def test_read_returns_the_asked_settings_and_never_the_middleware_password(tmp_path, run_module):
    cfg = tmp_path / 'server.cfg'
    cfg.write_text(SERVER_CFG + 'plugin.aes.server_private = /etc/mcollective/ssl/s1-private.pem\n')
    before = cfg.read_bytes()
    r = run_module(mcollective_settings, dict(args(cfg), read=['securityprovider', 'plugin.aes.']), check_mode=True)
    # the last line that sets a key is the one MCollective uses
    assert r['current'] == {'securityprovider': 'ssl', 'plugin.aes.insecure_learning': '1',
                            'plugin.aes.server_private': '/etc/mcollective/ssl/s1-private.pem'}
    assert 'secret' not in repr(r) and cfg.read_bytes() == before
    assert 'current' not in run_module(mcollective_settings, args(cfg), check_mode=True)


def test_read_of_a_missing_file_fails(tmp_path, run_module):
    r = run_module(mcollective_settings, dict(args(tmp_path / 'none.cfg'), read=['plugin.aes.']), check_mode=True)
    assert r['failed'] and 'cannot read' in r['msg'] and not (tmp_path / 'none.cfg').exists()


PSK_CFG = """connector = rabbitmq
plugin.rabbitmq.pool.1.password = broker-secret
securityprovider = psk
plugin.psk = the-psk-value
plugin.psk.callertype = uid
plugin.pskother = kept
"""


def test_a_prefix_removes_every_setting_under_it_and_the_diff_never_shows_the_psk(tmp_path, run_module):
    cfg = tmp_path / 'server.cfg'
    cfg.write_text(PSK_CFG)
    wanted = args(cfg, **{'securityprovider': 'aes_security', 'plugin.psk': None, 'plugin.psk.': None})
    plan = run_module(mcollective_settings, wanted, check_mode=True, diff=True)
    assert plan['changed'] and cfg.read_text() == PSK_CFG
    assert sorted(plan['changed_keys']) == ['plugin.psk', 'plugin.psk.callertype', 'securityprovider']
    # what the module emits: the removed lines are in the diff, their secret values are not
    assert 'the-psk-value' not in repr(plan) and 'broker-secret' not in repr(plan)
    assert 'plugin.psk = ********' in plan['diff']['before'] and 'plugin.psk.callertype = ********' in plan['diff']['before']
    done = run_module(mcollective_settings, wanted)
    assert done['changed'] and 'the-psk-value' not in repr(done)
    assert cfg.read_text() == ('connector = rabbitmq\nplugin.rabbitmq.pool.1.password = broker-secret\n'
                               'securityprovider = aes_security\nplugin.pskother = kept\n')
    assert not run_module(mcollective_settings, wanted)['changed']


def test_a_prefix_takes_only_a_null(tmp_path, run_module):
    cfg = tmp_path / 'server.cfg'
    cfg.write_text(PSK_CFG)
    r = run_module(mcollective_settings, args(cfg, **{'plugin.psk.': 'x'}))
    assert r['failed'] and 'only a null' in r['msg'] and cfg.read_text() == PSK_CFG


def test_present_names_the_secrets_a_file_still_holds_never_their_values(tmp_path, run_module):
    cfg = tmp_path / 'client.cfg'
    cfg.write_text(PSK_CFG)
    r = run_module(mcollective_settings, dict(args(cfg), present=['plugin.psk', 'plugin.psk.']), check_mode=True)
    assert r['present_keys'] == ['plugin.psk', 'plugin.psk.callertype'] and 'the-psk-value' not in repr(r)
    cfg.write_text('securityprovider = aes_security\n')
    assert run_module(mcollective_settings, dict(args(cfg), present=['plugin.psk']), check_mode=True)['present_keys'] == []


def test_missing_ok_reads_a_missing_file_as_empty_and_a_read_still_fails_otherwise(tmp_path, run_module):
    r = run_module(mcollective_settings, dict(args(tmp_path / 'none.cfg'), read=['plugin.psk'], missing_ok=True), check_mode=True)
    assert not r.get('failed') and r['current'] == {} and not (tmp_path / 'none.cfg').exists()
    unreadable = tmp_path / 'dir.cfg'
    unreadable.mkdir()  # reading a directory fails with an OSError other than FileNotFoundError
    r = run_module(mcollective_settings, dict(args(unreadable), read=['plugin.psk'], missing_ok=True), check_mode=True)
    assert r['failed'] and 'cannot read' in r['msg']


def test_a_prefix_leaves_odd_names_that_are_not_settings_and_a_non_utf8_file_fails_without_its_bytes(tmp_path, run_module):
    cfg = tmp_path / 'server.cfg'
    cfg.write_text('plugin.psk.a#b = x\nplugin.psk;c = y\nplugin.psk.d = z\n')
    r = run_module(mcollective_settings, args(cfg, **{'plugin.psk.': None}))
    assert not r.get('failed') and r['changed_keys'] == ['plugin.psk.d']
    assert cfg.read_text() == 'plugin.psk.a#b = x\nplugin.psk;c = y\n'
    cfg.write_bytes(b'plugin.rabbitmq.pool.1.password = caf\xe9-secret\nplugin.psk = k\n')
    for extra in (dict(read=['plugin.psk']), dict(present=['plugin.psk'])):
        r = run_module(mcollective_settings, dict(args(cfg), **extra), check_mode=True)
        assert r['failed'] and 'not UTF-8' in r['msg'] and 'secret' not in repr(r)
