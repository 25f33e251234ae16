"""Verify an Aspera node upgraded from plain-text secrets, and the bad-input runs before it."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

# As in prepare.yml.
NODE_CP = 'node secret; $(touch /tmp/pwned) && echo "x" > /tmp/pwned'
ALICE_CP = "alice's p@ss w0rd |&;<>*"
MEDIA_CP = 'media "group" secret \\ $HOME `id`'
NODE_TOK = 'node token key $(id)'
ALICE_TOK = 'alice token; rm -rf / #'
PLAIN = [NODE_CP, ALICE_CP, MEDIA_CP, NODE_TOK, ALICE_TOK]
# Effective secret per user: its own, else its group's (carol secondary, dave primary), else the node's.
EXPECTED = {'alice': ALICE_CP, 'bob': NODE_CP, 'carol': MEDIA_CP, 'dave': MEDIA_CP}
USERS = sorted(EXPECTED)
PREFIX = 'aspera_aspera1_'


@pytest.fixture(scope='module')
def evidence():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'bad-input.json')) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def redis_password():
    return labcheck.escrow_secret(PREFIX + 'redis_password')


@pytest.mark.parametrize('case, message', [
    ('unknown_user', 'aspera_transfer_users (or aspera_daemon_user) names users that do not exist on aspera1: nosuchuser'),
    ('askmscli_missing', 'aspera_askmscli: /opt/aspera/bin/askmscli-missing does not exist or is not executable'),
    ('redis_unreachable', 'Redis at 127.0.0.1:31499 is not reachable'),
    ('wrong_password', 'Redis requires a password and accepts neither the new password nor current_password'),
    ('master_key_differs', 'redis-master-key holds a different secret than the one given. Nothing was changed: '
                           'a new redis-master-key would leave the access-key secrets and dynamic token keys'),
])
def test_bad_input_is_named(evidence, case, message):
    out = ' '.join(evidence['bad'][case].split())
    assert message in out
    assert 'nothing was changed' in out.lower()


def test_bad_input_changed_nothing(evidence):
    assert all(rc == 2 for rc in evidence['rc']) and len(evidence['rc']) == 5
    # Same aspera.conf, no keystore anywhere, asperanoded still up.
    assert evidence['after'] == evidence['before']
    assert 'No such file' in evidence['after'] and evidence['after'].strip().endswith('active')


def test_no_secret_in_argv(host, redis_password):
    # First among the tests on the node: later ones hand the Redis password to it themselves.
    secrets = dict(('plain-%d' % i, v) for i, v in enumerate(PLAIN))
    secrets.update(redis_password=redis_password, master_key=labcheck.escrow_secret(PREFIX + 'redis_master_key'),
                   stash_password=labcheck.escrow_secret(PREFIX + 'stash_password'))
    labcheck.assert_secrets_not_in_argv(host, secrets, expect=('askmscli', 'asconfigurator'))


def test_no_plain_text_secret_left(host):
    conf = host.file('/opt/aspera/etc/aspera.conf').content_string
    assert 'content_protection_secret' not in conf and 'encryption_key' not in conf
    for secret in PLAIN:
        for form in (secret, secret.replace('"', '&quot;'), secret.replace('&', '&amp;')):
            assert form not in conf


def test_dynamic_token_keys_on(host):
    out = host.check_output('/opt/aspera/bin/asuserdata -a')
    assert 'token_dynamic_key: "true"' in out
    assert 'token_encryption_key: ""' in out


@pytest.mark.parametrize('user', USERS)
def test_each_user_has_its_secret_in_its_keystore(host, user):
    assert labcheck.askms_newest_hash(host, 'ssear', user) == labcheck.sha512(EXPECTED[user])
    # Escrowed before it left aspera.conf.
    assert labcheck.escrow_secret(PREFIX + 'ssear_' + user) == EXPECTED[user]
    store = host.file('/home/%s/.aspera/localkeystore.db' % user)
    assert (store.user, store.mode) == (user, 0o600)
    assert host.file('/home/%s/.aspera' % user).mode == 0o700


@pytest.mark.parametrize('source, value', [('node', 0), ('group_media', 2), ('user_alice', 1)])
def test_every_plain_text_secret_escrowed_under_its_own_name(source, value):
    # Also the node's, whether or not a listed user inherits it: aspera.conf no longer has it.
    assert labcheck.escrow_secret(PREFIX + 'ssear_source_' + source) == PLAIN[value]


def test_shared_keys_in_every_keystore(host, redis_password):
    master = labcheck.sha512(labcheck.escrow_secret(PREFIX + 'redis_master_key'))
    for user in USERS + ['asperadaemon']:
        assert labcheck.askms_newest_hash(host, 'redis-master-key', user) == master
        assert labcheck.askms_newest_hash(host, 'redis-password', user) == labcheck.sha512(redis_password)


def test_one_backup_before_the_first_change(host):
    backups = host.check_output('ls /opt/aspera/etc/ | grep -c "^aspera.conf.keyfleet-" || true')
    assert backups == '1'
    path = host.check_output('ls /opt/aspera/etc/aspera.conf.keyfleet-*')
    backup = host.file(path)
    assert (backup.user, backup.mode) == ('root', 0o600)
    assert 'content_protection_secret' in backup.content_string  # the original, secrets and all


def test_stash_password_set_and_keystores_encrypted(host):
    assert host.file('/opt/aspera/etc/askms.stash').exists
    marker = host.file('/opt/aspera/etc/.keyfleet-stash')
    assert (marker.user, marker.mode) == ('root', 0o600)
    assert 'keystores-not-yet-initialised' not in marker.content_string
    # Every keystore record is stashed (encrypted with the keystore key).
    for db in ['/opt/aspera/etc/rootkeystore.db'] + ['/home/%s/.aspera/localkeystore.db' % u for u in USERS]:
        plain = host.check_output('python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('
                                  '\'SELECT COUNT(*) FROM secrets WHERE stashed=0\').fetchone()[0])" %s' % db)
        assert plain == '0', db


def test_redis_requires_the_escrowed_password(host, redis_password):
    assert labcheck.redis_ping(host)[0].startswith('-NOAUTH')
    assert labcheck.redis_ping(host, redis_password) == ['+OK', '+PONG']


def test_redis_config_file_holds_it_and_only_redis_reads_it(host):
    conf = host.file('/opt/aspera/etc/redis/aspera_31415.conf')
    assert (conf.user, conf.group, conf.mode) == ('root', 'asperadaemon', 0o640)
    assert 'requirepass' in conf.content_string
    # Redis 7 needed the directory for its rewrite: it was handed back too.
    directory = host.file('/opt/aspera/etc/redis')
    assert (directory.user, directory.group, directory.mode) == ('root', 'root', 0o755)


def test_asperanoded_restarted_once_and_authenticates(host, redis_password):
    before = int(host.file('/var/tmp/keyfleet-noded-starts-before').content_string)
    assert labcheck.unit_starts(host, 'asperanoded') - before == 1
    assert host.service('asperanoded').is_running
    log = host.check_output('journalctl -u asperanoded -o cat')
    assert 'authenticated to Redis (password sha512 %s)' % labcheck.sha512(redis_password)[:12] in log


def test_requirepass_survives_a_redis_restart(host, redis_password):
    host.check_output('systemctl restart asperaredisd')
    assert labcheck.redis_ping(host)[0].startswith('-NOAUTH')
    assert labcheck.redis_ping(host, redis_password) == ['+OK', '+PONG']
    # asperanoded reconnects with the password of its keystore; had requirepass not been
    # persisted its AUTH would be refused and the unit would fail.
    host.check_output('sleep 5')
    assert host.service('asperanoded').is_running


def test_no_secret_in_the_verbose_diff_log(redis_password):
    secrets = PLAIN + [redis_password, labcheck.escrow_secret(PREFIX + 'redis_master_key'),
                       labcheck.escrow_secret(PREFIX + 'stash_password')]
    labcheck.assert_secrets_not_logged(secrets)


def test_asperanoded_restarted_with_the_new_keys_before_the_old_token_keys_went(host):
    # The vendor's step 5 (restart) before step 6 (remove token_encryption_key): the removal is the last
    # change to aspera.conf, and asperanoded's one restart came before it.
    started = int(host.check_output('date -d "$(systemctl show -p ActiveEnterTimestamp --value asperanoded)" +%s'))
    changed = int(host.check_output('stat -c %Y /opt/aspera/etc/aspera.conf'))
    assert started <= changed


def posture(name):
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'posture-%s' % name, 'posture.json')) as f:
        report = json.load(f)
    return dict((r['check'], r) for r in report['rows'] if r['host'] == 'aspera1'), report['summary']


def test_posture_before_names_the_plain_text_secrets_without_their_values():
    rows, summary = posture('before')
    plain = rows['plain-text secrets']
    assert plain['status'] == 'todo'
    assert 'user alice: transfer_encryption_content_protection_secret' in plain['detail'], plain
    assert 'token_encryption_key' in plain['detail']
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'posture-before', 'posture.md')) as f:
        markdown = f.read()
    for value in PLAIN:
        assert value not in markdown and value not in json.dumps(rows)


def test_posture_after_the_upgrade_is_all_ok():
    rows, summary = posture('after')
    assert dict((c, r['status']) for c, r in rows.items()) == {
        'plain-text secrets': 'ok', 'keystores': 'ok', 'Redis password': 'ok', 'Redis master key': 'ok',
        'stash password': 'ok'}, rows


def test_posture_names_a_master_key_the_escrow_does_not_hold():
    rows, summary = posture('hand-key')
    key = rows['Redis master key']
    assert key['status'] == 'error' and 'redis-master-key holds a different secret' in key['detail'], key


def test_posture_against_an_empty_escrow_says_missing_and_writes_none():
    rows, summary = posture('no-escrow')
    assert dict((c, r['status']) for c, r in rows.items() if c != 'plain-text secrets' and c != 'keystores') == {
        'Redis password': 'missing', 'Redis master key': 'missing', 'stash password': 'missing'}, rows
    assert rows['plain-text secrets']['status'] == 'todo'
    assert not os.path.exists(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'none'))
