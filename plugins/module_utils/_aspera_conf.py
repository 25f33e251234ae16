# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""IBM Aspera aspera.conf (read from the XML file) and asconfigurator (which writes it). asconfigurator is only ever
given settings that are not secret, or AS_NULL to remove one: a plain-text secret already in aspera.conf is read
from the XML file, never passed back on a command line.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import hashlib
import hmac
import xml.etree.ElementTree as ET

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import AsperaError

# asconfigurator parameter -> path under a node's <default>, a <user> or a <group> element.
SETTINGS = {
    'transfer_encryption_content_protection_secret': 'transfer/encryption/content_protection_secret',
    'token_encryption_key': 'authorization/token/encryption_key',
    'token_dynamic_key': 'authorization/token/dynamic_key',
    'token_life_seconds': 'authorization/token/life_seconds',
}
SECRET_SETTINGS = ('transfer_encryption_content_protection_secret', 'token_encryption_key')
LEVELS = ('node', 'user', 'group')
AS_NULL = 'AS_NULL'


def asconfigurator_command(level, name, param, value):
    """The -x argument of asconfigurator for one setting at one level.

    Refuses values asconfigurator's syntax cannot carry (';' separates fields, ',' name and
    value; no escaping is documented) rather than writing something else than asked.
    """
    if param not in SETTINGS:
        raise AsperaError('unknown aspera.conf setting %r (one of %s)' % (param, ', '.join(sorted(SETTINGS))))
    if level not in LEVELS:
        raise AsperaError('level must be one of %s, got %r' % (', '.join(LEVELS), level))
    value = str(value).lower() if isinstance(value, bool) else str(value)
    for what, text in (('value', value), ('name', name or '')):
        if ';' in text or ',' in text or '\n' in text:
            raise AsperaError('the %s %r of %s cannot be written by asconfigurator (no ; , or newline)' % (what, text, param))
    if level == 'node':
        return 'set_node_data;%s,%s' % (param, value)
    if not name:
        raise AsperaError('a %s setting needs the %s name' % (level, level))
    return 'set_%s_data;%s_name,%s;%s,%s' % (level, level, name, param, value)


def _text(element, path):
    found = element.find(path)
    if found is None:
        return None
    return (found.text or '').strip()


def read_settings(xml_text, params=tuple(SETTINGS)):
    """Every occurrence of ``params`` in aspera.conf: [{level, name, param, value}].

    Node level is <CONF><default>; users and groups are under <aaa><realms><realm>.
    A setting present but empty counts as present (value '').
    """
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as e:
        raise AsperaError('aspera.conf is not valid XML: %s' % e)
    out = []
    scopes = [('node', None, root.find('default'))]
    for level, tag in (('user', 'users/user'), ('group', 'groups/group')):
        for el in root.findall('aaa/realms/realm/' + tag):
            scopes.append((level, _text(el, 'name'), el))
    for level, name, el in scopes:
        if el is None:
            continue
        for param in params:
            value = _text(el, SETTINGS[param])
            if value is not None:
                out.append(dict(level=level, name=name, param=param, value=value))
    return out


def keyed_fingerprint(value, key):
    """A fingerprint that says whether two secrets are the same, and nothing more: HMAC-SHA256 under a key
    kept in the escrow. A plain hash of a secret a person chose could be guessed offline from a log."""
    return 'hmac:' + hmac.new(key.encode('utf-8'), value.encode('utf-8'), hashlib.sha256).hexdigest()[:16]


def mask(entries, key=None):
    """Entries with secret values replaced by a keyed fingerprint (``key``), or by ``(set)`` without a key;
    safe to return and print."""
    masked = []
    for e in entries:
        e = dict(e)
        if e['param'] in SECRET_SETTINGS and e.get('value'):
            e['value'] = keyed_fingerprint(e['value'], key) if key else '(set)'
        masked.append(e)
    return masked


def content_protection_plan(xml_text, users, members, known_users):
    """Which secret each user must get in its keystore, before the plain-text ones are removed.

    The effective content-protection secret of a user is its own, else its group's, else the
    node's, as aspera.conf applies them. askmscli only keeps per-user secrets, so every user a
    plain-text secret applies to gets its own copy:
    - every user aspera.conf names with a secret of its own;
    - every member of a group that has one (``members``: group -> [users], from the host);
    - for a node-level secret, ``users`` (the transfer users the operator lists) and every user
      aspera.conf names.
    Returns (plan, errors): plan is {user: secret}; errors name users that do not exist
    (``known_users``) or that two of their groups give different secrets.
    """
    found = read_settings(xml_text, ('transfer_encryption_content_protection_secret',))
    own = dict((e['name'], e['value']) for e in found if e['level'] == 'user' and e['value'])
    by_group = dict((e['name'], e['value']) for e in found if e['level'] == 'group' and e['value'])
    node = [e['value'] for e in found if e['level'] == 'node' and e['value']]
    # read_settings has parsed it already: a parse error was raised there.
    named = [_text(el, 'name') for el in ET.fromstring(xml_text).findall('aaa/realms/realm/users/user')]
    candidates = set(users) | set(own) | set(n for n in named if n)
    for group in by_group:
        candidates |= set(members.get(group, []))
    plan, errors = {}, []
    for user in sorted(candidates):
        if user in own:
            plan[user] = own[user]
            continue
        from_groups = dict((g, by_group[g]) for g in by_group if user in members.get(g, []))
        if len(set(from_groups.values())) > 1:
            errors.append('user %s is in groups %s whose content_protection_secret differ: give the user '
                          'its own secret in aspera.conf first' % (user, ', '.join(sorted(from_groups))))
            continue
        if from_groups:
            plan[user] = list(from_groups.values())[0]
        elif node:
            plan[user] = node[0]
    for user in sorted(plan):
        if user not in known_users:
            errors.append('aspera.conf gives user %s a content_protection_secret, but there is no such user '
                          'on this host' % user)
    return dict((u, v) for u, v in plan.items() if u in known_users), errors


def content_protection_sources(xml_text):
    """Every plain-text content-protection secret of aspera.conf under its own name: ``node``,
    ``group_<name>`` or ``user_<name>``. Each is escrowed before aspera.conf loses it, whether or not a
    listed user takes it: a node default nobody listed inherits has no other copy afterwards."""
    found = read_settings(xml_text, ('transfer_encryption_content_protection_secret',))
    return dict(('node' if e['level'] == 'node' else '%s_%s' % (e['level'], e['name']), e['value'])
                for e in found if e['value'])


# What aspera.conf's token_life_seconds is where no level sets it (the vendor's default).
DEFAULT_TOKEN_LIFE = 86400


def _where(entry):
    return 'node' if entry['level'] == 'node' else '%s %s' % (entry['level'], entry['name'])


def token_key_removal(found, switched_at, now, old_expired=False, expiry_wait=0):
    """Whether this run removes the old token_encryption_key settings. Tokens made with them stay valid for
    token_life_seconds (the longest any level sets; DEFAULT_TOKEN_LIFE where the node sets none) after asperanoded
    switched to dynamic keys at ``switched_at`` (epoch seconds as recorded on the host; None or '' when not recorded
    yet, as in check mode: then the whole life is left). ``old_expired`` is the operator's word that they have expired.

    ``found`` is aspera_config's RV(found). Returns a dict: ``problems`` (sentences naming what to change; nothing is
    removed while there is one), ``old`` (where token_encryption_key is set), ``life``, ``left`` (seconds), ``wait``
    (seconds this run waits before removing them, 0 for none), ``remove`` and ``message`` (why they are kept, or '').
    """
    old = [dict(level=e['level'], name=e['name']) for e in found if e['param'] == 'token_encryption_key']
    decision = dict(problems=[], old=old, life=DEFAULT_TOKEN_LIFE, left=0, wait=0, remove=False, message='')
    problems = decision['problems']
    try:
        wait_at_most = int(expiry_wait)
    except (TypeError, ValueError):
        wait_at_most = -1
    if wait_at_most < 0:
        problems.append('aspera_token_key_expiry_wait must be a number of seconds, 0 or more (got %r)' % (expiry_wait,))
    if not old or problems:
        return decision
    if old_expired:
        decision['remove'] = True
        return decision
    lives = [] if any(e['param'] == 'token_life_seconds' and e['level'] == 'node' for e in found) else [DEFAULT_TOKEN_LIFE]
    for e in found:
        if e['param'] == 'token_life_seconds':
            try:
                lives.append(int(str(e['value']).strip()))
            except ValueError:
                problems.append('token_life_seconds of %s in aspera.conf is %r, not a number of seconds: correct it in '
                                'aspera.conf, or set aspera_token_key_old_expired=true once every token made with an '
                                'old key has expired' % (_where(e), e['value']))
    start = int(now)
    if switched_at not in (None, ''):
        try:
            start = int(str(switched_at).strip())
        except ValueError:
            problems.append("the record of the switch to dynamic token keys (.keyfleet-token-switch under "
                            "aspera_state_dir) holds %r, not a time: remove it to count the tokens' life from this "
                            "run, or set aspera_token_key_old_expired=true" % (switched_at,))
    if problems:
        return decision
    life = max(lives)
    left = max(0, start + life - int(now))
    remove = left <= wait_at_most
    decision.update(life=life, left=left, remove=remove, wait=left + 1 if remove and left > 0 else 0)
    if not remove:
        decision['message'] = (
            'token_encryption_key kept in aspera.conf for %d s more (token_life_seconds %d after the switch); run '
            'again then, or set aspera_token_key_old_expired=true once you know every such token has expired'
            % (left, life))
    return decision
