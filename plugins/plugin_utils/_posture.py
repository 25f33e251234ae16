# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet posture report: what each system's reads say, as rows, and the rows as a table.

The roles read each host (their ``posture`` entry points, check mode) and hand the results here, never a
secret: escrowed values arrive as fingerprints or as a yes/no, and the modules compare keys themselves.
A row is ``{system, host, check, status, detail}``; status is one of STATUSES.
"""

from __future__ import annotations

import datetime
import json
import re

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import lan_primary_keys

# ok: done; todo: the migration has not got there yet; missing: the host uses a secret the escrow does not
# hold; error: a read failed or the host contradicts the escrow - never taken as "not migrated".
STATUSES = ('ok', 'todo', 'missing', 'error')
COLUMNS = ('system', 'host', 'check', 'status', 'detail')


def _row(system, host, check, status, detail):
    if status not in STATUSES:
        raise ValueError('unknown posture status %r' % (status,))
    return dict(system=system, host=host, check=check, status=status, detail=detail)


def _failed(result):
    """A read that did not happen: failed, the host unreachable, or no result at all."""
    return not isinstance(result, dict) or bool(result.get('failed')) or bool(result.get('unreachable'))


def _msg(result):
    """Why a read failed, in one line: permission denied, the host unreachable, an escrow that cannot be read."""
    if not isinstance(result, dict):
        return 'not read'
    msg = str(result.get('msg') or result.get('error') or 'failed').strip().splitlines() or ['failed']
    # Ansible's wrapping says nothing the operator can act on: the plugin's own sentence does.
    msg = re.sub(r"^.*?The lookup plugin '[^']+' failed: ", '', re.sub(r'^Task failed: ', '', msg[0]))
    return ('host unreachable: ' if result.get('unreachable') else '') + msg[:200]


def days_left(not_after, now=None):
    """Whole days until an X.509 ``not_after`` (``YYYYMMDDHHMMSSZ``, as community.crypto returns it)."""
    end = datetime.datetime.strptime(not_after, '%Y%m%d%H%M%SZ').replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return int((end - now).total_seconds() // 86400)


def x509_facts(read):
    """The dates and SHA-256 fingerprint of a PEM certificate, in community.crypto's x509_certificate_info shape.

    ``read`` is a failed read (returned as it is), or ``{'pem': text}``. Parsed here, on the controller, rather than
    by a delegated module per certificate: one task less per host, and a certificate that cannot be parsed is a
    failed read like any other (an error row), never a stopped report.
    """
    if _failed(read):
        return read
    pem = read.get('pem') or ''
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        cert = x509.load_pem_x509_certificate(pem.encode('utf-8') if isinstance(pem, str) else pem)
    except ImportError as e:
        return dict(failed=True, msg='the Python library cryptography is needed on the controller: %s' % e)
    except (ValueError, TypeError) as e:
        return dict(failed=True, msg='not a PEM certificate: %s' % str(e)[:120])
    end = getattr(cert, 'not_valid_after_utc', None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return dict(not_after=end.strftime('%Y%m%d%H%M%SZ'),
                fingerprints=dict(sha256=':'.join('%02x' % b for b in bytearray(cert.fingerprint(hashes.SHA256())))))


def _split_pem(read):
    """Each certificate of a CA file (a CA rotation puts two there), as x509_facts reads."""
    if _failed(read):
        return [read]
    blocks = re.findall(r'-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----', (read or {}).get('pem') or '', re.S)
    return [dict(pem=b) for b in blocks] or [dict(pem='')]


def _ca_row(host, ca_file, facts, now):
    """The CA the agent trusts against the escrow's, with each CA's expiry; two CAs are a rotation under way."""
    cas = [x509_facts(read) for read in _split_pem(facts.get('ca'))]
    escrow_ca = x509_facts(dict(pem=facts['escrow_ca_pem'])) if facts.get('escrow_ca_pem') else {}
    bad = [ca for ca in cas if _failed(ca) or not (ca.get('fingerprints') or {}).get('sha256')]
    if bad:
        return _row('consul', host, 'CA', 'error', 'cannot read the CA the agent trusts (%s): %s' % (ca_file, _msg(bad[0])))
    if _failed(escrow_ca) and facts.get('ca_source') != 'pki':
        return _row('consul', host, 'CA', 'error', 'cannot read the escrowed CA (%s): %s' % (facts.get('escrow_ca_name', ''), _msg(escrow_ca)))
    theirs = [ca['fingerprints']['sha256'] for ca in cas]
    days = min(days_left(ca['not_after'], now) for ca in cas)
    expiry = ', expires in %d day(s)' % days
    warn = int(facts.get('renew_days') or 30)
    ours = (escrow_ca.get('fingerprints') or {}).get('sha256') or ''
    if len(theirs) > 1:
        return _row('consul', host, 'CA', 'todo', 'the agent trusts %d CAs (%s): a CA rotation is under way; finish it '
                    '(consul_tls_ca_rotate with its consul_tls_ca_rotation_id)' % (len(theirs), ', '.join(t[:23] for t in theirs)))
    if days < 0:
        return _row('consul', host, 'CA', 'error', 'SHA-256 %s expired %d day(s) ago: rotate the CA (consul_tls_ca_rotate)'
                    % (theirs[0][:23], -days))
    soon = ' - rotate it (consul_tls_ca_rotate)' if days < warn else ''
    status = 'todo' if soon else 'ok'
    if facts.get('ca_source') == 'pki':
        return _row('consul', host, 'CA', status, 'SHA-256 %s, from the PKI (not escrowed)%s%s' % (theirs[0][:23], expiry, soon))
    if not ours:
        return _row('consul', host, 'CA', 'missing', 'the agent trusts %s, which the escrow does not hold (%s)'
                    % (theirs[0][:23], facts.get('escrow_ca_name', '')))
    if ours != theirs[0]:
        return _row('consul', host, 'CA', 'error', 'the agent trusts %s, the escrow holds %s (a CA rotation that stopped '
                    'before its end? run consul_tls_ca_rotate again with its id)' % (theirs[0][:23], ours[:23]))
    return _row('consul', host, 'CA', status, 'SHA-256 %s, the escrowed CA%s%s' % (theirs[0][:23], expiry, soon))


def consul_rows(host, facts, now=None):
    info = facts.get('info')
    if _failed(info):
        return [_row('consul', host, 'agent', 'error', 'cannot read the agent: %s' % _msg(info))]
    if not info.get('reachable'):
        return [_row('consul', host, 'agent', 'error', 'not answering: %s' % _msg(info))]
    state = info['state']
    rows = []
    for part in ('gossip', 'tls'):
        stage = state[part]['stage']
        rows.append(_row('consul', host, '%s stage' % part, 'ok' if stage == 3 else 'todo',
                         '%d of 3 (%s)' % (stage, state[part].get('stage_name', ''))))
    lan = [ring for ring in info.get('keyring') or [] if not ring.get('wan')]
    escrowed = facts.get('escrow_gossip_fp') or ''
    if info.get('keyring_error') and state['gossip'].get('enabled'):
        # A keyring read refused (HTTP 403: the token lacks keyring:read) says nothing about the key.
        rows.append(_row('consul', host, 'gossip key', 'error', 'cannot read the keyring: %s' % info['keyring_error']))
    elif state['gossip'].get('enabled') or lan:
        keys = sorted({fp for ring in lan for fp in ring.get('keys', {})})
        primary = lan_primary_keys(lan)  # the rule the role's gossip check uses, not a second copy
        detail = '%d key(s) in the keyring, primary %s' % (len(keys), ', '.join(primary) or '-')
        if not escrowed:
            rows.append(_row('consul', host, 'gossip key', 'missing',
                             detail + '; the escrow holds no gossip key (%s)' % facts.get('escrow_gossip_name', '')))
        elif primary != [escrowed]:
            rows.append(_row('consul', host, 'gossip key', 'error',
                             detail + '; the primary key is not the escrowed one (%s)' % escrowed))
        elif len(keys) > 1:
            rows.append(_row('consul', host, 'gossip key', 'todo', detail + '; old keys still installed'))
        else:
            rows.append(_row('consul', host, 'gossip key', 'ok', detail + ', the escrowed one'))
    cert_file = state['tls'].get('cert_file')
    if state['tls'].get('auto_encrypt') and not state.get('server'):
        # In the agent's memory only, signed by the servers' Connect CA, renewed by Consul itself.
        rows.append(_row('consul', host, 'certificate', 'ok', 'from the servers (auto_encrypt), kept in memory and '
                         'renewed by Consul'))
    elif cert_file:
        cert = x509_facts(facts.get('cert'))
        if _failed(cert) or not cert.get('not_after'):
            rows.append(_row('consul', host, 'certificate', 'error', 'cannot read %s: %s' % (cert_file, _msg(cert))))
        else:
            days = days_left(cert['not_after'], now)
            warn = int(facts.get('renew_days') or 30)
            status = 'error' if days < 0 else 'todo' if days < warn else 'ok'
            rows.append(_row('consul', host, 'certificate', status,
                             '%s expires in %d day(s)%s' % (cert_file, days, ' - renew it' if status == 'todo' else '')))
    ca_file = state['tls'].get('ca_file')
    if ca_file:
        rows.append(_ca_row(host, ca_file, facts, now))
    return rows


def _compared(system, host, check, escrowed, result, done, todo, missing):
    """A secret the escrow holds (or not) against what a check-mode module says the host holds."""
    if not escrowed:
        return _row(system, host, check, 'missing', missing)
    if _failed(result):
        return _row(system, host, check, 'error', _msg(result))
    return _row(system, host, check, 'todo' if result.get('changed') else 'ok', todo if result.get('changed') else done)


def aspera_rows(host, facts):
    rows = []
    conf = facts.get('conf')
    if _failed(conf):
        rows.append(_row('aspera', host, 'aspera.conf', 'error', 'cannot read aspera.conf: %s' % _msg(conf)))
    else:
        plain = ['%s %s: %s' % (f.get('level'), f.get('name') or '', f.get('param'))
                 for f in conf.get('found') or [] if f.get('param') in facts.get('secret_params', [])]
        rows.append(_row('aspera', host, 'plain-text secrets', 'todo' if plain else 'ok',
                         ('left in aspera.conf: ' + '; '.join(p.replace(' :', ':') for p in plain)) if plain
                         else 'none left in aspera.conf'))
    keystores = facts.get('keystores')
    if _failed(keystores):
        rows.append(_row('aspera', host, 'keystores', 'error', _msg(keystores)))
    else:
        waiting = keystores.get('changed_users') or []
        rows.append(_row('aspera', host, 'keystores', 'todo' if waiting else 'ok',
                         ('not initialised: ' + ', '.join(waiting)) if waiting
                         else 'initialised for %s' % ', '.join(facts.get('users') or [])))
    redis = facts.get('redis')
    if facts.get('redis_escrowed') and not _failed(redis) and redis.get('changed'):
        reasons = (('Redis does not require the escrowed password', redis.get('runtime_changed')),
                   ('requirepass not persisted in its configuration', redis.get('persisted_changed')))
        detail = '; '.join(d for d, on in reasons if on)
        rows.append(_row('aspera', host, 'Redis password', 'todo', detail or 'would change'))
    else:
        rows.append(_compared('aspera', host, 'Redis password', facts.get('redis_escrowed'), redis,
                              'required by Redis and persisted (requirepass)', '',
                              'the escrow holds no Redis password (%s)' % facts.get('redis_name', '')))
    rows.append(_compared('aspera', host, 'Redis master key', facts.get('master_key_escrowed'), facts.get('master_key'),
                          'in the root keystore, the escrowed one', 'not in the root keystore yet',
                          'the escrow holds no Redis master key (%s)' % facts.get('master_key_name', '')))
    stash = facts.get('stash')
    if not facts.get('stash_enabled'):
        rows.append(_row('aspera', host, 'stash password', 'ok', 'not managed here (aspera_stash_password_enabled false)'))
    else:
        rows.append(_compared('aspera', host, 'stash password', facts.get('stash_escrowed'), stash,
                              'set, the escrowed one', 'not set', 'the escrow holds no stash password (%s)' % facts.get('stash_name', '')))
    return rows


def resilio_rows(host, facts):
    component = facts.get('component', 'mc')
    check = '%s master key' % ('MC' if component == 'mc' else 'agent')
    key = facts.get('key')
    if _failed(facts.get('escrow_read', {})):
        rows = [_row('resilio', host, check, 'error', 'cannot read the escrow (%s): %s' % (
            facts.get('escrow_name', ''), _msg(facts.get('escrow_read'))))]
    elif not facts.get('escrowed'):
        rows = [_row('resilio', host, check, 'missing', 'the escrow holds no key (%s)' % facts.get('escrow_name', ''))]
    elif _failed(key):
        conflicts = key.get('conflicts') if isinstance(key, dict) else None
        rows = [_row('resilio', host, check, 'error',
                     ('a different key is set (%s), not the escrowed one' % ', '.join(conflicts)) if conflicts else _msg(key))]
    elif key.get('changed') or key.get('restart_needed'):
        rows = [_row('resilio', host, check, 'todo', 'not set yet, or the service does not run with it')]
    else:
        rows = [_row('resilio', host, check, 'ok', 'set, matches the escrow; %s' % (
            'the process runs with it' if key.get('process_has_value') else 'the service is not running'))]
    exposed, unit_read = facts.get('exposed'), facts.get('unit_read')
    if 'unit' in facts:
        # `systemctl show <unit> --property=Environment --value`: whether the variable's name is there. The values
        # it holds never leave this function.
        unit_read = facts['unit']
        if _failed(unit_read) or unit_read.get('rc', 1) != 0:
            exposed = None
            unit_read = {'msg': 'systemctl show %s failed: %s' % (
                facts.get('unit_name', ''), _msg(unit_read) if _failed(unit_read) else 'rc %s' % unit_read.get('rc'))}
        else:
            exposed = bool(re.search(r'(^|\s)"?%s=' % re.escape(facts.get('env') or ''), unit_read.get('stdout') or ''))
    if exposed is None:
        rows.append(_row('resilio', host, '%s exposure' % check, 'error', 'cannot read the unit: %s' % _msg(unit_read)))
    else:
        rows.append(_row('resilio', host, '%s exposure' % check, 'error' if exposed else 'ok',
                         'in the unit\'s Environment=, which any local user reads over D-Bus' if exposed
                         else 'not in the unit\'s Environment='))
    return rows


def _mcollective_reads(facts):
    """settings, key_bits and client_keys from what the role's posture tasks registered (read: the settings
    module's result, key: openssl_privatekey_info's, clients: find's), unless given as they are."""
    facts = dict(facts)
    read = facts.get('read')
    if 'settings' not in facts:
        facts['settings'] = None if _failed(read) else dict(read.get('current') or {})
    if 'key_bits' not in facts:
        key = facts.get('key')
        path = (facts['settings'] or {}).get('plugin.aes.server_private') or ''
        name = path.rsplit('/', 1)[-1]
        if not isinstance(key, dict) or key.get('skipped') or not path:
            facts['key_bits'] = {}
        elif _failed(key):
            facts['key_bits'] = {name: 0}
            facts['key_error'] = _msg(key)
        else:
            facts['key_bits'] = {name: (key.get('public_data') or {}).get('size') or 0}
    if 'client_keys' not in facts:
        found = facts.get('clients')
        if _failed(found) or found.get('skipped'):
            facts['client_keys'] = None
            facts['clients_error'] = _msg(found) if isinstance(found, dict) and not found.get('skipped') else ''
        else:
            facts['client_keys'] = [re.sub(r'\.pem$', '', f['path'].rsplit('/', 1)[-1]) for f in found.get('files') or []]
    return facts


def _psk_rows(host, found):
    """A row per configuration read for the psk provider's key (the settings module's present_keys, in a loop):
    todo while a file still holds one, with the file and never the value."""
    rows = []
    for r in (found or {}).get('results') or []:
        path = r.get('path') or r.get('item') or '?'
        if _failed(r):
            rows.append(_row('mcollective', host, 'psk', 'error', 'cannot read %s: %s' % (path, _msg(r))))
        elif r.get('present_keys'):
            rows.append(_row('mcollective', host, 'psk', 'todo', '%s still holds %s in plain text' % (path, ', '.join(r['present_keys']))))
        else:
            rows.append(_row('mcollective', host, 'psk', 'ok', 'no plugin.psk in %s' % path))
    return rows


def mcollective_rows(host, facts):
    psk = _psk_rows(host, facts.get('psk'))
    if facts.get('server') is False:  # a client host: only its configurations
        return psk
    facts = _mcollective_reads(facts)
    settings = facts.get('settings')
    if settings is None:
        return [_row('mcollective', host, 'server.cfg', 'error', 'cannot read %s: %s' % (facts.get('config', ''), _msg(facts.get('read'))))] + psk
    rows = []
    provider = settings.get('securityprovider', '')
    if provider != 'aes_security':
        rows.append(_row('mcollective', host, 'scenario', 'todo', 'securityprovider %s, not aes_security' % (provider or 'unset')))
    else:
        send, learn = settings.get('plugin.aes.send_pubkey') == '1', settings.get('plugin.aes.learn_pubkeys') == '1'
        shared = facts.get('shared_key_name') and facts.get('shared_key_name') in settings.get('plugin.aes.server_private', '')
        scenario = '%s_%s' % ('automatic' if send and learn else 'manual', 'shared' if shared else 'unique')
        rows.append(_row('mcollective', host, 'scenario', 'ok', '%s (send_pubkey %s, learn_pubkeys %s)' % (
            scenario, '1' if send else '0', '1' if learn else '0')))
        ca = settings.get('plugin.aes.ca_cert')
        rows.append(_row('mcollective', host, 'CA', 'ok', 'every caller\'s certificate checked against %s' % ca if ca else
                         'none: the keys in client_cert_dir are trusted as they are (mcollective_aes_ca)'))
        if shared and _failed(facts.get('escrow_read', {})):
            rows.append(_row('mcollective', host, 'shared server key', 'error', 'cannot read the escrow (%s): %s' % (
                facts.get('shared_escrow_name', ''), _msg(facts.get('escrow_read')))))
        elif shared:
            rows.append(_row('mcollective', host, 'shared server key', 'ok' if facts.get('shared_escrowed') else 'missing',
                             'in the escrow' if facts.get('shared_escrowed') else
                             'the escrow holds no shared server key (%s)' % facts.get('shared_escrow_name', '')))
    bits = facts.get('key_bits') or {}
    for name, size in sorted(bits.items()):
        if not size:
            rows.append(_row('mcollective', host, 'key size', 'error', '%s: cannot read%s' % (
                name, (': ' + facts['key_error']) if facts.get('key_error') else '')))
        else:
            rows.append(_row('mcollective', host, 'key size', 'error' if int(size) < 2048 else 'ok', '%s: %s bits' % (name, size)))
    names = facts.get('client_keys')
    if names is None:
        rows.append(_row('mcollective', host, 'client_cert_dir', 'error', 'cannot list %s%s' % (
            settings.get('plugin.aes.client_cert_dir', ''), (': ' + facts['clients_error']) if facts.get('clients_error') else '')))
    else:
        rows.append(_row('mcollective', host, 'client_cert_dir', 'ok' if names else 'todo',
                         '%d key(s): %s' % (len(names), ', '.join(sorted(names))) if names else 'no public keys'))
    return rows + psk


def swarm_rows(host, facts):
    """From keyfleet.encryption.swarm_autolock with state=unlocked in check mode: it changes nothing on an active
    manager and reports autolock as it is, and the fingerprint of the key the swarm runs with."""
    result = facts.get('result')
    if _failed(result):
        return [_row('swarm', host, 'autolock', 'error', 'cannot read the manager: %s' % _msg(result))]
    if result.get('unlocked'):
        return [_row('swarm', host, 'autolock', 'todo', 'on, but this manager is locked: run keyfleet.encryption.swarm_autolock'),
                _row('swarm', host, 'unlock key', 'todo', 'cannot be compared while the manager is locked')]
    if not result.get('autolock'):
        return [_row('swarm', host, 'autolock', 'todo', 'off')]
    rows = [_row('swarm', host, 'autolock', 'ok', 'on')]
    # The module compares the swarm's key with the escrow's current one on the host; 'escrowed' means it would
    # have to store it (the escrow holds no key, or another one as current).
    if result.get('escrowed'):
        rows.append(_row('swarm', host, 'unlock key', 'missing', 'the swarm runs with key %s, which the escrow does not '
                         'hold as current (%s)' % (result.get('key_fingerprint') or '-', facts.get('escrow_name', ''))))
    else:
        rows.append(_row('swarm', host, 'unlock key', 'ok', 'the escrowed one (%s, key %s)' % (
            facts.get('escrow_name', ''), result.get('key_fingerprint'))))
    return rows


ROWS = dict(consul=consul_rows, aspera=aspera_rows, resilio=resilio_rows, mcollective=mcollective_rows, swarm=swarm_rows)


def rows_for(system, host, facts):
    if system not in ROWS:
        raise ValueError('no posture for system %r; one of %s' % (system, ', '.join(sorted(ROWS))))
    return ROWS[system](host, facts or {})


# The fact each system's posture tasks leave their rows in, on each host.
ROW_FACTS = dict(consul='consul_posture_rows', aspera='aspera_posture_rows', resilio='resilio_master_key_run_posture_rows',
                 mcollective='mcollective_aes_run_posture_rows', swarm='keyfleet_posture_swarm_rows')
# What the posture playbook's rescue notes when a host's posture tasks stop: [{system, msg}].
FAILURES_FACT = 'keyfleet_posture_failures'


def _hosts(names):
    # A group's hosts, or several groups' (a list of lists), as one list.
    for item in names or []:
        if isinstance(item, (list, tuple)):
            yield from item
        else:
            yield item


def fleet_rows(hosts, expected):
    """Every row of the fleet, and an error row for every host of a covered group that has none for its system.

    hosts: each host's variables (hostvars, with inventory_hostname); expected: system -> the inventory hosts of
    the groups the playbook covers for it. A host that is unreachable or whose posture tasks stopped (an escrow
    that cannot be read, a permission denied) is in the report, never dropped: with the reason its tasks noted, or,
    without one, as not read.
    """
    by_name = dict((h.get('inventory_hostname'), h) for h in hosts if isinstance(h, dict) or hasattr(h, 'get'))
    rows = []
    for system in ROWS:
        fact = ROW_FACTS[system]
        for name in sorted(by_name, key=str):
            rows.extend(by_name[name].get(fact) or [])
        have = set(r['host'] for r in rows if r['system'] == system)
        for name in dict.fromkeys(_hosts(expected.get(system))):
            hostvars = by_name.get(name) or {}
            # As text: a module may fail with a list or a mapping as its msg.
            why = [str(f.get('msg')) for f in hostvars.get(FAILURES_FACT) or [] if f.get('system') == system]
            # A noted failure is a row even beside rows of the same system: a host in two of its groups (a Resilio
            # MC that is also an agent) may have read one part and failed the other.
            for msg in dict.fromkeys(why):
                rows.append(_row(system, name, 'read', 'error', 'not read: %s' % _msg({'msg': msg})))
            if name not in have and not why:
                rows.append(_row(system, name, 'read', 'error', 'not read: the host was not reached, or its posture '
                                 'tasks stopped before they said why (see the play log)'))
    return rows


def summary(rows):
    counts = dict((s, 0) for s in STATUSES)
    for r in rows:
        counts[r['status']] += 1
    return counts


def render(rows, fmt='text'):
    """The rows as a terminal table, a Markdown table for tickets, or JSON (rows and counts)."""
    rows = sorted(rows, key=lambda r: (r['system'], r['host'], r['check']))
    counts = summary(rows)
    total = ', '.join('%d %s' % (counts[s], s) for s in STATUSES)
    if fmt == 'json':
        return json.dumps(dict(summary=counts, rows=rows), indent=2, sort_keys=True)
    if fmt == 'markdown':
        def cell(value):
            return str(value).replace('|', '\\|').replace('\n', ' ')
        lines = ['# Fleet posture', '', total, '', '| ' + ' | '.join(COLUMNS) + ' |', '|' + '---|' * len(COLUMNS)]
        lines += ['| ' + ' | '.join(cell(r[c]) for c in COLUMNS) + ' |' for r in rows]
        return '\n'.join(lines) + '\n'
    if fmt != 'text':
        raise ValueError('format must be text, markdown or json, not %r' % (fmt,))
    widths = [max([len(c)] + [len(str(r[c])) for r in rows]) for c in COLUMNS[:-1]]
    lines = ['  '.join(c.upper().ljust(w) for c, w in zip(COLUMNS[:-1], widths)) + '  DETAIL']
    lines += ['  '.join(str(r[c]).ljust(w) for c, w in zip(COLUMNS[:-1], widths)) + '  ' + r['detail'] for r in rows]
    return '\n'.join(lines + [total])
