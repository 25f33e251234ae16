# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import io

import pytest

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import AsperaError
from ansible_collections.keyfleet.encryption.plugins.module_utils._askmscli import Askmscli, parse_secret_hashes, secret_state, sha512
from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera_conf import (
    asconfigurator_command, content_protection_plan, mask, read_settings)
from ansible_collections.keyfleet.encryption.plugins.module_utils._redis import (
    Redis, RedisError, RedisReplyError, persisted_requirepass, redis_config_args)

SECRET = 'p@ss w;rd $(rm -rf /) "quoted"'

CONF = """<?xml version='1.0' encoding='UTF-8'?>
<CONF version="2">
  <default>
    <transfer><encryption><content_protection_secret>nodesecret</content_protection_secret></encryption></transfer>
    <authorization><token><encryption_key>nodetoken</encryption_key><life_seconds>600</life_seconds></token></authorization>
  </default>
  <aaa><realms><realm>
    <users>
      <user><name>alice</name>
        <transfer><encryption><content_protection_secret>alicesecret</content_protection_secret></encryption></transfer>
      </user>
      <user><name>bob</name></user>
    </users>
    <groups>
      <group><name>xfer</name>
        <authorization><token><encryption_key>grouptoken</encryption_key></token></authorization>
      </group>
    </groups>
  </realm></realms></aaa>
</CONF>
"""


def test_parse_hashes_newest_last():
    out = 'v1: (SHA-512) %s\nv0: (SHA-512) %s\n' % ('B' * 128, 'a' * 128)
    assert parse_secret_hashes(out) == [(0, 'a' * 128), (1, 'b' * 128)]


def test_parse_no_records():
    assert parse_secret_hashes('No records found for ssear\n') == []


def test_parse_unknown_output_is_an_error():
    with pytest.raises(AsperaError, match='does not know'):
        parse_secret_hashes('Segmentation fault')


@pytest.mark.parametrize('hashes, expected', [
    ([], 'absent'),
    ([(0, sha512(SECRET))], 'same'),
    ([(0, sha512(SECRET)), (1, sha512('other'))], 'different'),
    ([(0, sha512('other')), (1, sha512(SECRET))], 'same'),
])
def test_secret_state(hashes, expected):
    assert secret_state(hashes, SECRET) == expected


class FakeRun(object):
    def __init__(self, results=None):
        self.calls = []
        self.results = list(results or [])

    def __call__(self, argv, data=None):
        self.calls.append((argv, data))
        return self.results.pop(0) if self.results else (0, '', '')


def test_secrets_go_on_stdin_never_in_argv():
    run = FakeRun()
    cli = Askmscli(run)
    cli.set_secret('ssear', SECRET, user='alice')
    cli.set_stash_password(SECRET)
    assert run.calls == [
        (['/opt/aspera/bin/askmscli', '-u', 'alice', '-s', 'ssear'], SECRET),
        (['/opt/aspera/bin/askmscli', '-P-'], SECRET),
    ]
    assert all(SECRET not in ' '.join(argv) for argv, data in run.calls)


def test_failure_message_never_holds_the_secret():
    cli = Askmscli(FakeRun([(1, '', 'keystore locked')]))
    with pytest.raises(AsperaError) as e:
        cli.set_secret('redis-password', SECRET)
    assert 'keystore locked' in str(e.value) and SECRET not in str(e.value)


def test_hashes_when_askmscli_exits_nonzero_for_no_records():
    cli = Askmscli(FakeRun([(1, '', 'No records found for redis-password')]))
    assert cli.secret_hashes('redis-password') == []


def test_unknown_category_refused():
    with pytest.raises(AsperaError, match='unknown askmscli category'):
        Askmscli(FakeRun()).set_secret('ssh', SECRET)


@pytest.mark.parametrize('level, name, param, value, expected', [
    ('node', None, 'token_dynamic_key', True, 'set_node_data;token_dynamic_key,true'),
    ('user', 'alice', 'transfer_encryption_content_protection_secret', 'AS_NULL',
     'set_user_data;user_name,alice;transfer_encryption_content_protection_secret,AS_NULL'),
    ('group', 'xfer', 'token_encryption_key', 'AS_NULL', 'set_group_data;group_name,xfer;token_encryption_key,AS_NULL'),
])
def test_asconfigurator_command(level, name, param, value, expected):
    assert asconfigurator_command(level, name, param, value) == expected


@pytest.mark.parametrize('level, name, param, value, message', [
    ('user', 'a;b', 'token_dynamic_key', 'true', 'cannot be written'),
    ('node', None, 'token_life_seconds', '1,2', 'cannot be written'),
    ('user', None, 'token_dynamic_key', 'true', 'needs the user name'),
    ('realm', None, 'token_dynamic_key', 'true', 'level must be'),
    ('node', None, 'docroot', '/', 'unknown aspera.conf setting'),
])
def test_asconfigurator_refuses(level, name, param, value, message):
    with pytest.raises(AsperaError, match=message):
        asconfigurator_command(level, name, param, value)


def test_read_settings_at_every_level():
    found = read_settings(CONF, ['transfer_encryption_content_protection_secret', 'token_encryption_key'])
    assert sorted((e['level'], e['name'], e['param'], e['value']) for e in found) == [
        ('group', 'xfer', 'token_encryption_key', 'grouptoken'),
        ('node', None, 'token_encryption_key', 'nodetoken'),
        ('node', None, 'transfer_encryption_content_protection_secret', 'nodesecret'),
        ('user', 'alice', 'transfer_encryption_content_protection_secret', 'alicesecret'),
    ]


def test_read_settings_bad_xml():
    with pytest.raises(AsperaError, match='not valid XML'):
        read_settings('<CONF>')


def test_mask_hides_secret_values_only():
    masked = mask(read_settings(CONF))
    assert 'alicesecret' not in repr(masked) and 'nodetoken' not in repr(masked)
    assert {'level': 'node', 'name': None, 'param': 'token_life_seconds', 'value': '600'} in masked


# -- content-protection plan -----------------------------------------------------------

PLAN_CONF = """<CONF version="2">
  <default><transfer><encryption><content_protection_secret>node s</content_protection_secret></encryption></transfer></default>
  <aaa><realms><realm>
    <users>
      <user><name>alice</name><transfer><encryption><content_protection_secret>alice s</content_protection_secret></encryption></transfer></user>
      <user><name>erin</name><authorization><token><life_seconds>60</life_seconds></token></authorization></user>
    </users>
    <groups>
      <group><name>media</name><transfer><encryption><content_protection_secret>media s</content_protection_secret></encryption></transfer></group>
      <group><name>ops</name><transfer><encryption><content_protection_secret>ops s</content_protection_secret></encryption></transfer></group>
    </groups>
  </realm></realms></aaa>
</CONF>"""

KNOWN = {'alice', 'bob', 'carol', 'dave', 'erin'}


def test_plan_own_then_group_then_node():
    plan, errors = content_protection_plan(PLAN_CONF, ['bob'], {'media': ['carol', 'alice'], 'ops': []}, KNOWN)
    # alice keeps her own over her group's; erin is named in aspera.conf, so the node's applies.
    assert plan == {'alice': 'alice s', 'bob': 'node s', 'carol': 'media s', 'erin': 'node s'}
    assert errors == []


def test_plan_refuses_two_groups_with_different_secrets():
    plan, errors = content_protection_plan(PLAN_CONF, [], {'media': ['dave'], 'ops': ['dave']}, KNOWN)
    assert 'dave' not in plan
    assert errors == ['user dave is in groups media, ops whose content_protection_secret differ: give the user '
                      'its own secret in aspera.conf first']


def test_plan_names_users_that_do_not_exist():
    plan, errors = content_protection_plan(PLAN_CONF, ['bob'], {}, {'alice', 'bob'})
    assert set(plan) == {'alice', 'bob'}
    assert errors == ['aspera.conf gives user erin a content_protection_secret, but there is no such user on this host']


def test_plan_without_secrets_is_empty():
    assert content_protection_plan('<CONF><default/></CONF>', ['bob'], {}, KNOWN) == ({}, [])


# -- Redis configuration and protocol ------------------------------------------------------

@pytest.mark.parametrize('line, expected', [
    ('requirepass secret', [b'requirepass', b'secret']),
    ('requirepass "a b\\"c\\\\d\\x41\\n"', [b'requirepass', b'a b"c\\dA\n']),
    ("requirepass 'it\\'s here'", [b'requirepass', b"it's here"]),
    ('  port   31415  ', [b'port', b'31415']),
    ('requirepass ""', [b'requirepass', b'']),
])
def test_redis_config_args(line, expected):
    assert redis_config_args(line) == expected


@pytest.mark.parametrize('line', ['requirepass "open', "requirepass 'x'y"])
def test_redis_config_args_unbalanced(line):
    with pytest.raises(RedisError, match='unbalanced quotes'):
        redis_config_args(line)


def test_persisted_requirepass_last_one_wins():
    text = 'port 31415\n# requirepass commented\nrequirepass "first"\nrequirepass "p@ss w;rd \\"q\\""\n'
    assert persisted_requirepass(text) == b'p@ss w;rd "q"'
    assert persisted_requirepass('port 31415\n') is None


class FakeSocket(object):
    """Replies queued as raw RESP; records what was sent."""

    def __init__(self, replies):
        self.sent = b''
        self.replies = io.BytesIO(b''.join(replies))

    def sendall(self, data):
        self.sent += data

    def makefile(self, mode):
        return self.replies


def test_redis_client_speaks_resp(monkeypatch):
    import socket
    sock = FakeSocket([b'+OK\r\n', b'$5\r\nhello\r\n', b'*2\r\n:1\r\n$-1\r\n', b'-WRONGPASS invalid\r\n'])
    monkeypatch.setattr(socket, 'create_connection', lambda addr, timeout: sock)
    r = Redis('127.0.0.1', 31415)
    assert r.command('AUTH', 'p w') == 'OK'
    assert sock.sent == b'*2\r\n$4\r\nAUTH\r\n$3\r\np w\r\n'
    assert r.command('GET', 'k') == b'hello'
    assert r.command('X') == [1, None]
    with pytest.raises(RedisReplyError, match='WRONGPASS'):
        r.command('AUTH', 'bad')


def test_redis_unreachable_is_named(monkeypatch):
    import socket

    def refuse(addr, timeout):
        raise OSError(111, 'Connection refused')
    monkeypatch.setattr(socket, 'create_connection', refuse)
    with pytest.raises(RedisError, match='Redis at 127.0.0.1:31499 is not reachable'):
        Redis('127.0.0.1', 31499)


def test_every_plain_text_secret_has_a_name_of_its_own():
    from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera_conf import content_protection_sources
    # The node's secret is kept even though no listed user inherits it.
    assert content_protection_sources(PLAN_CONF) == {
        'node': 'node s', 'user_alice': 'alice s', 'group_media': 'media s', 'group_ops': 'ops s'}
