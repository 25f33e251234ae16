# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Aspera modules against the lab doubles of asconfigurator and askmscli (tests/lab/image),
which follow the vendor's documented behaviour, in a private directory."""

from __future__ import annotations

import json
import os
import pwd
import stat

import pytest

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import AsperaError
from ansible_collections.keyfleet.encryption.plugins.modules import (
    aspera_config, aspera_keystore, aspera_redis_password, aspera_secret, aspera_stash_password)

DOUBLES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'lab', 'image', 'opt', 'aspera', 'bin')
SECRET = 'p@ss w;rd $(touch /tmp/x) "q" \\ `id`'

CONF = """<?xml version='1.0' encoding='UTF-8'?>
<CONF version="2">
  <default><transfer><encryption><content_protection_secret>node s</content_protection_secret></encryption></transfer></default>
  <aaa><realms><realm><users>
    <user><name>alice</name><authorization><token><encryption_key>alice tok</encryption_key></token></authorization></user>
  </users></realm></realms></aaa>
</CONF>
"""


# -- aspera_config ---------------------------------------------------------------------------

def test_plan_only_removes_secrets():
    found = [dict(level='node', name=None, param='token_dynamic_key', value='false')]
    with pytest.raises(AsperaError, match='can only be removed'):
        aspera_config.plan(found, [dict(param='token_encryption_key', value='x')], [])
    assert aspera_config.plan(found, [dict(param='token_dynamic_key', value=True)], []) == [
        ('node', None, 'token_dynamic_key', 'true')]
    # Removing what is not there is no change.
    assert aspera_config.plan(found, [dict(param='token_life_seconds', value=None)], []) == []


@pytest.fixture
def conf(tmp_path, monkeypatch):
    path = tmp_path / 'aspera.conf'
    path.write_text(CONF)
    monkeypatch.setenv('ASPERA_CONF', str(path))
    return path


def test_config_four_passes_with_one_backup(conf, run_module, four_pass):
    args = dict(conf=str(conf), asconfigurator=os.path.join(DOUBLES, 'asconfigurator'), backup=True, backup_id='run1',
                settings=[dict(param='token_dynamic_key', value=True)],
                remove_everywhere=['transfer_encryption_content_protection_secret', 'token_encryption_key'])
    check, apply, check2, apply2 = four_pass(aspera_config, args)
    assert check['changed'] and apply['changed']
    assert not check2['changed'] and not apply2['changed']
    assert apply['commands'] == [
        'set_node_data;token_dynamic_key,true',
        'set_node_data;transfer_encryption_content_protection_secret,AS_NULL',
        'set_user_data;user_name,alice;token_encryption_key,AS_NULL']
    text = conf.read_text()
    assert 'node s' not in text and 'alice tok' not in text and '<dynamic_key>true</dynamic_key>' in text
    backup = conf.parent / 'aspera.conf.keyfleet-run1'
    assert backup.read_text() == CONF and stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert 'backup_file' not in apply2
    # Secrets never in the result or the diff; without a key not even a fingerprint.
    for result in (check, apply):
        dumped = json.dumps(result)
        assert 'node s' not in dumped and 'alice tok' not in dumped and '(set)' in dumped


def test_config_fingerprints_are_keyed(conf, run_module, leaked):
    import hashlib
    args = dict(conf=str(conf), asconfigurator=os.path.join(DOUBLES, 'asconfigurator'),
                remove_everywhere=['token_encryption_key'], fingerprint_key='escrowed fingerprint key')
    result = run_module(aspera_config, args, check_mode=True)
    shown = [e['value'] for e in result['found'] if e['param'] == 'token_encryption_key']
    assert shown and all(v.startswith('hmac:') for v in shown)
    # A log reader without the key cannot test guesses against a plain hash.
    for secret in ('alice tok',):
        assert hashlib.sha512(secret.encode()).hexdigest()[:16] not in json.dumps(result)
        assert hashlib.sha256(secret.encode()).hexdigest()[:16] not in json.dumps(result)
        assert not leaked(secret, result)
    again = run_module(aspera_config, args, check_mode=True)
    assert [e['value'] for e in again['found']] == [e['value'] for e in result['found']]


def test_config_fails_clearly_when_asconfigurator_fails(conf, run_module, four_pass, tmp_path):
    fake = tmp_path / 'asconfigurator'
    fake.write_text('#!/bin/sh\necho failure\necho "no such parameter"\nexit 0\n')
    fake.chmod(0o755)
    result = run_module(aspera_config,
                        dict(conf=str(conf), asconfigurator=str(fake), settings=[dict(param='token_life_seconds', value=60)]))
    assert result['failed'] and 'asconfigurator -x "set_node_data;token_life_seconds,60" failed' in result['msg']


# -- aspera_secret and aspera_stash_password with the askmscli double -------------------------

@pytest.fixture
def askms(tmp_path, monkeypatch):
    monkeypatch.setenv('ASPERA_DOUBLE_ETC', str(tmp_path))
    # Users' local keystores under tmp_path too, never in the real home directories: the modules find
    # them through pwd, the double through ASPERA_DOUBLE_HOME. Tests stay apart and leave nothing behind.
    homes = tmp_path / 'home'
    monkeypatch.setenv('ASPERA_DOUBLE_HOME', str(homes))

    def moved(entry):
        return pwd.struct_passwd(tuple(entry)[:5] + (str(homes / entry.pw_name),) + tuple(entry)[6:])
    real_getpwnam, real_getpwall = pwd.getpwnam, pwd.getpwall
    monkeypatch.setattr(pwd, 'getpwnam', lambda name: moved(real_getpwnam(name)))
    monkeypatch.setattr(pwd, 'getpwall', lambda: [moved(e) for e in real_getpwall()])
    return os.path.join(DOUBLES, 'askmscli')


def test_secret_four_passes_and_a_new_value(askms, run_module, four_pass, leaked):
    args = dict(category='redis-password', secret=SECRET, askmscli=askms)
    results = four_pass(aspera_secret, args)
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert [r['before'] for r in results] == ['absent', 'absent', 'same', 'same']
    assert not leaked(SECRET, *results)
    changed = run_module(aspera_secret, dict(args, secret='another one'))
    assert changed['changed'] and changed['before'] == 'different'


def test_secret_ssear_needs_a_user(askms, run_module, four_pass):
    result = run_module(aspera_secret, dict(category='ssear', secret=SECRET, askmscli=askms))
    assert result['failed'] and 'user' in result['msg']


def test_secret_missing_askmscli_is_named(run_module, four_pass):
    result = run_module(aspera_secret,
                        dict(category='redis-password', secret=SECRET, askmscli='/nonexistent/askmscli'))
    assert result['msg'] == 'askmscli not found or not executable at /nonexistent/askmscli (askmscli)'


def test_stash_takes_its_files_under_install_dir(askms, tmp_path, run_module):
    # One install_dir (what module_defaults for group/keyfleet.encryption.aspera sets) places the command,
    # the stash and the marker; nothing is written under /opt/aspera.
    install = tmp_path / 'hsts'
    (install / 'bin').mkdir(parents=True)
    (install / 'etc').mkdir()
    os.symlink(askms, str(install / 'bin' / 'askmscli'))
    result = run_module(aspera_stash_password, dict(password='first stash password', install_dir=str(install)))
    assert result['changed'] and result['state'] == 'set', result
    assert (install / 'etc' / '.keyfleet-stash').exists()
    # An explicit path still wins over install_dir.
    missing = run_module(aspera_stash_password, dict(password='first stash password', install_dir=str(install),
                                                     askmscli='/nonexistent/askmscli'))
    assert missing['msg'] == 'askmscli not found or not executable at /nonexistent/askmscli (askmscli)'


@pytest.mark.parametrize('module, args, named', [
    (aspera_config, dict(), '/elsewhere/etc/aspera.conf'),
    (aspera_keystore, dict(users=['root']), '/elsewhere/bin/askmscli'),
    (aspera_secret, dict(category='redis-password', secret=SECRET), '/elsewhere/bin/askmscli'),
    (aspera_stash_password, dict(password='first stash password'), '/elsewhere/bin/askmscli'),
    (aspera_redis_password, dict(password=SECRET), '/elsewhere/etc/redis/aspera_31415.conf'),
])
def test_every_aspera_module_looks_under_install_dir(run_module, module, args, named):
    # Every member of the action group takes install_dir (module_defaults passes it to all of them, and a
    # module fails on an option it does not have) and uses it for what was not given.
    result = run_module(module, dict(args, install_dir='/elsewhere'), check_mode=True)
    assert result['failed'] and named in result['msg'], result


def test_the_action_group_is_the_aspera_modules():
    import yaml
    runtime = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'meta', 'runtime.yml')
    with open(runtime) as f:
        group = yaml.safe_load(f)['action_groups']['aspera']
    assert sorted(group) == sorted(m.__name__.rsplit('.', 1)[-1] for m in (
        aspera_config, aspera_keystore, aspera_redis_password, aspera_secret, aspera_stash_password))


def test_stash_set_once_then_refuses_another(askms, tmp_path, run_module, four_pass):
    args = dict(password='first stash password', askmscli=askms, stash_file=str(tmp_path / 'askms.stash'),
                marker=str(tmp_path / '.keyfleet-stash'))
    results = four_pass(aspera_stash_password, args)
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert results[1]['state'] == 'set' and results[3]['state'] == 'same'
    marker = tmp_path / '.keyfleet-stash'
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600 and 'first' not in marker.read_text()
    stash_before = (tmp_path / 'askms.stash').read_bytes()
    refused = run_module(aspera_stash_password, dict(args, password='second stash password'))
    assert refused['failed'] and 'a different stash password is already set' in refused['msg']
    assert (tmp_path / 'askms.stash').read_bytes() == stash_before
    reset = run_module(aspera_stash_password,
                       dict(args, password='second stash password', allow_reset=True))
    assert reset['changed'] and reset['state'] == 'reset'
    assert any(p.startswith(str(tmp_path / 'askms.stash.keyfleet-reset-')) for p in reset['moved_aside'])
    assert run_module(aspera_stash_password,
                      dict(args, password='second stash password'))['state'] == 'same'


def test_stash_guard_does_not_depend_on_the_undocumented_stash_path(askms, tmp_path, run_module):
    args = dict(password='first stash password', askmscli=askms, stash_file=str(tmp_path / 'askms.stash'),
                marker=str(tmp_path / '.keyfleet-stash'))
    assert run_module(aspera_stash_password, args)['state'] == 'set'
    # The operator's installation keeps the stash elsewhere: the same password is still "same", nothing re-set.
    wrong_path = dict(args, stash_file=str(tmp_path / 'not-where-askmscli-keeps-it'))
    assert run_module(aspera_stash_password, wrong_path) == {'changed': False, 'state': 'same', 'reinitialised': []}
    refused = run_module(aspera_stash_password, dict(wrong_path, password='second stash password'))
    assert refused['failed'] and 'a different stash password is already set' in refused['msg']


def test_stash_set_elsewhere_needs_adopt(askms, tmp_path, run_module, four_pass):
    (tmp_path / 'askms.stash').write_bytes(b'x')
    args = dict(password='some stash password', askmscli=askms, stash_file=str(tmp_path / 'askms.stash'),
                marker=str(tmp_path / '.keyfleet-stash'))
    result = run_module(aspera_stash_password, args)
    assert result['failed'] and 'keyfleet did not set it' in result['msg']


def test_stash_resumes_keystore_init_after_a_stop(askms, tmp_path, run_module, four_pass):
    args = dict(password='first stash password', askmscli=askms, stash_file=str(tmp_path / 'askms.stash'),
                marker=str(tmp_path / '.keyfleet-stash'))
    run_module(aspera_stash_password, args)
    marker = tmp_path / '.keyfleet-stash'
    marker.write_text(marker.read_text() + aspera_stash_password.PENDING + '\n')  # as if stopped there
    resumed = run_module(aspera_stash_password, args)
    assert resumed['changed'] and aspera_stash_password.PENDING not in marker.read_text()


def test_stash_marker_is_salted():
    one, two = aspera_stash_password.make_marker('pw-123456'), aspera_stash_password.make_marker('pw-123456')
    assert one != two
    assert aspera_stash_password.marker_matches(one, 'pw-123456')
    assert not aspera_stash_password.marker_matches(one, 'pw-1234567')


# -- aspera_keystore --------------------------------------------------------------------------

class FakeCli(object):
    def __init__(self, hashes):
        self.hashes = hashes  # (category, user) -> [(version, hash)]

    def secret_hashes(self, category, user=None):
        return self.hashes.get((category, user), [])


def test_stale_users(tmp_path):
    homes = {}
    for user in ('alice', 'bob', 'carol'):
        homes[user] = str(tmp_path / user)
        if user != 'carol':
            os.makedirs(os.path.join(homes[user], '.aspera'))
            open(os.path.join(homes[user], '.aspera', 'localkeystore.db'), 'w').close()
    cli = FakeCli({('redis-password', None): [(0, 'a'), (1, 'b')],
                   ('redis-password', 'alice'): [(0, 'a'), (1, 'b')],
                   ('redis-password', 'bob'): [(0, 'a')]})
    # bob is behind the root keystore, carol has none; alice is current.
    assert aspera_keystore.stale_users(cli, ['alice', 'bob', 'carol'], homes, ['redis-password', 'redis-master-key'],
                                       False) == ['bob', 'carol']
    assert aspera_keystore.stale_users(cli, ['alice'], homes, ['redis-password'], True) == ['alice']


def test_keystore_unknown_user_before_anything(run_module, four_pass, askms):
    result = run_module(aspera_keystore, dict(users=['root', 'nosuchuser-kf'], askmscli=askms))
    assert result['failed'] and result['msg'] == 'users: no such user on this host: nosuchuser-kf'


# -- aspera_redis_password --------------------------------------------------------------------

class FakeRedis(object):
    def __init__(self, password):
        self.password = password

    def command(self, *args):
        from ansible_collections.keyfleet.encryption.plugins.module_utils._redis import RedisReplyError
        if args[0] == 'AUTH':
            if self.password is None:
                raise RedisReplyError('ERR AUTH <password> called without any password configured for the default user')
            if args[1] != self.password:
                raise RedisReplyError('WRONGPASS invalid username-password pair or user is disabled.')
            return 'OK'
        if self.password is not None:
            raise RedisReplyError('NOAUTH Authentication required.')
        return 'PONG'


@pytest.mark.parametrize('redis_pw, current, expected', [
    ('new', None, 'new'),
    ('old', 'old', 'current'),
    (None, None, 'none'),
    (None, 'old', 'none'),
])
def test_authenticate(redis_pw, current, expected):
    assert aspera_redis_password.authenticate(FakeRedis(redis_pw), 'new', current) == expected


def test_authenticate_wrong_current_password():
    with pytest.raises(AsperaError, match='accepts neither the new password nor current_password'):
        aspera_redis_password.authenticate(FakeRedis('old'), 'new', 'wrong')


@pytest.mark.parametrize('category, user', [('ssear', 'root'), ('redis-master-key', None)])
def test_an_irreversible_secret_set_to_another_value_is_refused(askms, run_module, leaked, category, user):
    args = dict(category=category, secret=SECRET, askmscli=askms, user=user)
    assert run_module(aspera_secret, args)['changed']
    refused = run_module(aspera_secret, dict(args, secret='a new secret'))
    assert refused['failed'] and refused['before'] == 'different'
    assert 'Nothing was changed: a new %s would leave' % category in refused['msg'] and 'aspera_escrow_prefix' in refused['msg']
    assert not leaked(SECRET, refused) and not leaked('a new secret', refused)
    assert run_module(aspera_secret, args) == {'changed': False, 'before': 'same'}  # the old one is still set
    replaced = run_module(aspera_secret, dict(args, secret='a new secret', allow_change=True))
    assert replaced['changed'] and replaced['before'] == 'different'


def test_an_irreversible_secret_that_cannot_be_compared_is_refused(askms, run_module, monkeypatch):
    from ansible_collections.keyfleet.encryption.plugins.module_utils import _askmscli

    def cannot_tell(self, *args):
        raise AsperaError('askmscli: unknown option -H')

    monkeypatch.setattr(_askmscli.Askmscli, 'secret_hashes', cannot_tell)
    refused = run_module(aspera_secret, dict(category='redis-master-key', secret=SECRET, askmscli=askms))
    assert refused['failed'] and refused['before'] == 'unknown' and '(askmscli -H cannot tell)' in refused['msg']
    # The Redis password is not irreversible: it is set, with a warning.
    assert run_module(aspera_secret, dict(category='redis-password', secret=SECRET, askmscli=askms))['changed']
