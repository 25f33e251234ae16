"""Verify a new Aspera node: every secret in the keystores from the escrow, none in aspera.conf."""

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

USERS = ['alice', 'bob']
PREFIX = 'aspera_aspera2_'


@pytest.fixture(scope='module')
def secrets():
    return dict((name, labcheck.escrow_secret(PREFIX + name))
                for name in ['redis_password', 'redis_master_key', 'stash_password', 'ssear_alice', 'ssear_bob'])


def test_no_secret_in_argv_or_log(host, secrets):
    # First: later tests hand the Redis password to the node themselves.
    labcheck.assert_secrets_not_in_argv(host, secrets, expect=('askmscli', 'asnodeadmin'))
    labcheck.assert_secrets_not_logged(secrets.values())


def test_tools_run_from_aspera_install_dir(host):
    # aspera_install_dir is /opt/hsts here (a link to the lab's /opt/aspera): every tool the roles ran must come
    # from it, so a role task that forgets a path and falls back to the module's /opt/aspera shows.
    log = host.file('/var/log/keyfleet-argv.log').content_string
    tools = re.compile(r'/opt/(aspera|hsts)/bin/(askmscli|asconfigurator|asnodeadmin)\b')
    runs = [m.group(0) for m in tools.finditer(log)]
    assert any(r.startswith('/opt/hsts/bin/askmscli') for r in runs)
    assert [r for r in runs if r.startswith('/opt/aspera/')] == []


@pytest.mark.parametrize('user', USERS)
def test_content_protection_secret_per_user(host, secrets, user):
    assert labcheck.askms_newest_hash(host, 'ssear', user) == labcheck.sha512(secrets['ssear_' + user])
    assert secrets['ssear_alice'] != secrets['ssear_bob']


def test_aspera_conf_has_dynamic_keys_and_no_secret(host):
    conf = host.file('/opt/aspera/etc/aspera.conf').content_string
    assert '<dynamic_key>true</dynamic_key>' in conf
    assert 'content_protection_secret' not in conf and 'encryption_key' not in conf


def test_master_key_and_password_in_every_keystore(host, secrets):
    assert labcheck.askms_newest_hash(host, 'redis-master-key') == labcheck.sha512(secrets['redis_master_key'])
    for user in USERS + ['asperadaemon']:
        assert labcheck.askms_newest_hash(host, 'redis-master-key', user) == labcheck.sha512(secrets['redis_master_key'])
        assert labcheck.askms_newest_hash(host, 'redis-password', user) == labcheck.sha512(secrets['redis_password'])


def test_access_key_encrypted_once(host):
    assert host.file('/var/lib/aspera-lab/access-keys/lab-access-key-1').content_string.startswith(
        'encrypted with redis-master-key')
    assert host.file('/opt/aspera/etc/.keyfleet-access-key-lab-access-key-1').mode == 0o600


def test_redis_password_required_and_persisted(host, secrets):
    assert labcheck.redis_ping(host)[0].startswith('-NOAUTH')
    host.check_output('systemctl restart asperaredisd')
    assert labcheck.redis_ping(host)[0].startswith('-NOAUTH')
    assert labcheck.redis_ping(host, secrets['redis_password']) == ['+OK', '+PONG']
    host.check_output('sleep 5')
    assert host.service('asperanoded').is_running


def test_asperanoded_restarted_once(host, secrets):
    before = int(host.file('/var/tmp/keyfleet-noded-starts-before').content_string)
    assert labcheck.unit_starts(host, 'asperanoded') - before == 1
    log = host.check_output('journalctl -u asperanoded -o cat')
    assert 'authenticated to Redis (password sha512 %s)' % labcheck.sha512(secrets['redis_password'])[:12] in log


def test_stash_set_once(host):
    stash = host.file('/opt/aspera/etc/askms.stash')
    assert stash.exists and stash.mode == 0o640
    assert host.file('/opt/aspera/etc/.keyfleet-stash').mode == 0o600


def test_one_backup_of_aspera_conf(host):
    # The only change to aspera.conf is token_dynamic_key: a backup of the fresh file is still made.
    assert host.check_output('ls /opt/aspera/etc/ | grep -c "^aspera.conf.keyfleet-" || true') == '1'
