# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rule of when the old token encryption keys leave aspera.conf: token_life_seconds after the switch."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.filter.aspera_token_key_removal import aspera_token_key_removal
from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera_conf import DEFAULT_TOKEN_LIFE, token_key_removal

NOW = 1_800_000_000


def setting(param, value, level='node', name=None):
    return dict(level=level, name=None if level == 'node' else name, param=param, value=value)


OLD = [setting('token_encryption_key', 'hmac:0123456789abcdef'),
       setting('token_encryption_key', '(set)', 'user', 'alice')]


def test_no_old_key_nothing_to_remove_or_say():
    d = token_key_removal([setting('token_life_seconds', '3')], None, NOW)
    assert d == dict(problems=[], old=[], life=DEFAULT_TOKEN_LIFE, left=0, wait=0, remove=False, message='')


def test_the_default_life_counts_from_the_switch():
    d = token_key_removal(OLD, NOW - 100, NOW)
    assert d['old'] == [dict(level='node', name=None), dict(level='user', name='alice')]
    assert (d['life'], d['left'], d['remove'], d['wait']) == (86400, 86300, False, 0)
    assert d['message'].startswith('token_encryption_key kept in aspera.conf for 86300 s more (token_life_seconds 86400')
    assert 'aspera_token_key_old_expired=true' in d['message']


def test_the_longest_life_of_any_level_counts():
    # A user's tokens live 7200 s: the node's 600 s must not let its old key go earlier.
    found = OLD + [setting('token_life_seconds', '600'), setting('token_life_seconds', '7200', 'group', 'media')]
    d = token_key_removal(found, NOW - 1000, NOW)
    assert (d['life'], d['left'], d['remove']) == (7200, 6200, False)


def test_a_user_life_shorter_than_the_default_does_not_shorten_it():
    # No node-level life: the node's tokens live the default 86400 s, whatever a user sets.
    d = token_key_removal(OLD + [setting('token_life_seconds', '5', 'user', 'alice')], NOW - 10, NOW)
    assert d['life'] == DEFAULT_TOKEN_LIFE and not d['remove']


def test_removed_once_the_life_has_passed():
    d = token_key_removal(OLD + [setting('token_life_seconds', '3')], NOW - 3, NOW)
    assert (d['left'], d['remove'], d['wait'], d['message']) == (0, True, 0, '')


def test_a_short_remainder_is_waited_for_within_expiry_wait():
    found = OLD + [setting('token_life_seconds', '3')]
    d = token_key_removal(found, NOW - 1, NOW, expiry_wait=30)
    assert (d['left'], d['remove'], d['wait']) == (2, True, 3)
    # Beyond the wait: kept, and said.
    d = token_key_removal(found, NOW - 1, NOW, expiry_wait=1)
    assert (d['remove'], d['wait']) == (False, 0) and 'for 2 s more' in d['message']


def test_not_recorded_yet_the_whole_life_is_left():
    for switched in (None, ''):
        d = token_key_removal(OLD + [setting('token_life_seconds', '3')], switched, NOW, expiry_wait=30)
        assert (d['left'], d['remove'], d['wait']) == (3, True, 4)


def test_old_expired_removes_at_once():
    d = token_key_removal(OLD, NOW, NOW, old_expired=True)
    assert (d['left'], d['remove'], d['wait'], d['problems']) == (0, True, 0, [])


def test_a_life_that_is_not_a_number_stops_naming_where():
    d = token_key_removal(OLD + [setting('token_life_seconds', 'one day', 'user', 'bob')], NOW, NOW)
    assert not d['remove']
    assert d['problems'] == ["token_life_seconds of user bob in aspera.conf is 'one day', not a number of seconds: "
                             "correct it in aspera.conf, or set aspera_token_key_old_expired=true once every token "
                             "made with an old key has expired"]
    # The operator's word needs no life.
    assert token_key_removal(OLD + [setting('token_life_seconds', 'x')], NOW, NOW, old_expired=True)['remove']


def test_a_damaged_switch_record_stops():
    d = token_key_removal(OLD, 'yesterday', NOW)
    assert not d['remove'] and 'aspera_state_dir' in d['problems'][0] and "'yesterday'" in d['problems'][0]


def test_a_negative_wait_is_named():
    d = token_key_removal(OLD, NOW, NOW, old_expired=True, expiry_wait=-5)
    assert not d['remove']
    assert d['problems'] == ['aspera_token_key_expiry_wait must be a number of seconds, 0 or more (got -5)']


def test_filter_reads_the_recorded_text_and_the_bool_as_ansible_does():
    found = OLD + [setting('token_life_seconds', '3')]
    d = aspera_token_key_removal(found, switched_at='%d\n' % (NOW - 10), old_expired='false', expiry_wait='0', now=NOW)
    assert d['remove'] and d['left'] == 0
    d = aspera_token_key_removal(found, switched_at='%d\n' % NOW, old_expired='false', now=NOW)
    assert not d['remove'] and d['left'] == 3
    assert aspera_token_key_removal(found, switched_at='%d\n' % NOW, old_expired='yes', now=NOW)['remove']


def test_filter_refuses_what_is_not_found():
    with pytest.raises(AnsibleFilterError, match='found list of aspera_config'):
        aspera_token_key_removal({'found': []})
