# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""MCollective aes_security: the rules the role keyfleet.encryption.mcollective_aes checks before any host changes.

Each function returns ``problems``: sentences naming the variable the operator should change; none means the
input is good. What the real plugin (mcollective 2.12.5, security/aes_security.rb) rejects was found against
mcollectived/mco (docs/mcollective.md).

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import re

# Servers load <client_cert_dir>/<name>.pem: the caller id must be a plain file name, and the plugin reads it
# with Ruby's /^cert=([\w\.\-]+)/, whose \w is ASCII only. At most 64: a certificate's CN (CA mode) is no longer.
NAME = re.compile(r'[A-Za-z0-9_.-]{1,64}\Z')
NAME_RULE = '[A-Za-z0-9_.-], 1 to 64 characters'
MIN_BITS = 2048
DEFAULT_CLIENT_CONFIG = '/etc/mcollective/client.cfg'


def _bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ('1', 'true', 'yes', 'on', 'y', 't')
    return bool(value)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def input_problems(o):
    """The role's options against the scenarios and the plugin: o holds scenario, key_size, serializer,
    server_keys, ca, ca_enforce, ca_cert, ca_key, insecure_learning, and scenarios - the role's table of each scenario's send, learn and
    shared (roles/mcollective_aes/vars/main.yml, the one copy), which the settings it writes come from too."""
    problems = []
    scenarios = o.get('scenarios') or {}
    scenario = o.get('scenario')
    size = _int(o.get('key_size'))
    if scenario not in scenarios:
        problems.append('mcollective_aes_scenario must be one of %s (got %s)' % (', '.join(scenarios), scenario))
    if size is None or size < MIN_BITS:
        problems.append('mcollective_aes_key_size must be at least %d bits (got %s)' % (MIN_BITS, o.get('key_size')))
    if o.get('serializer') not in ('yaml', 'marshal'):
        problems.append('mcollective_aes_serializer must be yaml or marshal (got %s)' % o.get('serializer'))
    if o.get('server_keys') not in ('generate', 'puppet'):
        problems.append('mcollective_aes_server_keys must be generate or puppet (got %s)' % o.get('server_keys'))
    problems += ca_input_problems(o)
    mode = scenarios.get(scenario)
    ca_checks = _bool(o.get('ca')) and _bool(o.get('ca_enforce', True))
    if mode and str(mode.get('learn')) == '1' and not _bool(o.get('insecure_learning')) and not ca_checks:
        problems.append(
            'mcollective_aes_scenario %s learns public keys from the network: set mcollective_aes_ca=true (the servers '
            'then learn only certificates the CA signed; with mcollective_aes_ca_enforce true), or '
            'mcollective_aes_insecure_learning=true to accept that anyone on the middleware can plant a key '
            '(CVE-2014-3251), or use the manual scenario of the same key layout' % scenario)
    if mode and _bool(mode.get('shared')) and o.get('server_keys') == 'puppet':
        problems.append('mcollective_aes_server_keys=puppet reuses each node\'s own Puppet keys; mcollective_aes_scenario '
                        '%s shares one server key pair: use manual_unique or automatic_unique' % scenario)
    return problems


def ca_input_problems(o):
    """CA mode (mcollective_aes_ca): a CA given is both halves as PEM text, only with the mode on, and learning
    keeps the CA's check (insecure_learning would let the servers learn a certificate no CA signed)."""
    problems = []
    ca = _bool(o.get('ca'))
    cert, key = o.get('ca_cert') or '', o.get('ca_key') or ''
    if (cert or key) and not ca:
        problems.append('mcollective_aes_ca_cert / mcollective_aes_ca_key are set but mcollective_aes_ca is false: set '
                        'mcollective_aes_ca=true to issue the callers\' certificates from that CA, or leave them empty')
    if bool(cert) != bool(key):
        problems.append('give both mcollective_aes_ca_cert and mcollective_aes_ca_key (the CA certificate and its key, as '
                        'PEM text), or neither (the role makes a CA and escrows it)')
    if cert and '-----BEGIN CERTIFICATE-----' not in str(cert):
        problems.append('mcollective_aes_ca_cert must be the CA certificate as PEM text, not a path or a file name')
    if key and '-----BEGIN' not in str(key):
        problems.append('mcollective_aes_ca_key must be the CA key as PEM text, not a path or a file name')
    if ca and _bool(o.get('insecure_learning')):
        problems.append('mcollective_aes_insecure_learning=true with mcollective_aes_ca=true: servers would learn keys no '
                        'CA signed; leave insecure learning off, the CA is what makes learning safe')
    return problems


def psych_problems(host, rc, version, error=''):
    """The yaml serializer where the plugin cannot read it: aes_security calls YAML.safe_load(msg, [Symbol, Regexp]),
    which Psych 4 (Ruby 3.1) rejects, so every message would fail to decrypt. rc/version: `ruby -e 'print
    Psych::VERSION'` on the host."""
    if rc == 0 and _version(version) < (4,):
        return []
    if rc == 0:
        why = ('its Ruby has Psych %s, and aes_security calls YAML.safe_load(msg, [Symbol, Regexp]), which Psych 4 '
               'rejects, so every message would fail to decrypt' % version)
    else:
        why = 'its Ruby\'s YAML library could not be read (%s)' % (str(error or '').strip() or 'rc %s' % rc)
    return ['mcollective_aes_serializer=yaml cannot work on %s: %s. Use marshal, the plugin\'s own default.' % (host, why)]


def _version(text):
    parts = []
    for part in str(text or '').strip().split('.'):
        m = re.match(r'\d+', part)
        if not m:
            break
        parts.append(int(m.group(0)))
    return tuple(parts) or (0,)


def host_problems(host, clients):
    """The client entries of one client host: a name the plugin accepts and a user each, one configuration file each
    (one file holds one client_private)."""
    problems = []
    for entry in clients or []:
        entry = entry if isinstance(entry, dict) else {'name': entry}
        name, user = entry.get('name'), entry.get('user')
        if not (isinstance(name, str) and NAME.match(name)) or not user:
            problems.append('mcollective_aes_clients on %s: each entry needs a name matching %s (the caller id and '
                            'key file name) and a user; got %s' % (host, NAME_RULE, _shown(entry)))
    configs = [(c.get('config') if isinstance(c, dict) else None) or DEFAULT_CLIENT_CONFIG for c in clients or []]
    if len(set(configs)) != len(configs):
        problems.append('mcollective_aes_clients on %s: each client needs its own config file (got %s); one file holds '
                        'one client_private' % (host, ', '.join(configs)))
    return problems


def _shown(entry):
    # The entry as the operator wrote it, keys sorted (to_json's shape); it holds names and paths, no secret.
    return '{%s}' % ', '.join('"%s": "%s"' % (k, entry[k]) for k in sorted(entry))


def collective_problems(c):
    """Collective-wide rules, run once: every host of the collective in the run (every server needs every client's
    public key), and key names unique and plain (servers load <client_cert_dir>/<name>.pem).

    c: server_hosts, client_hosts, play_hosts, clients (each client host's mcollective_aes_clients, in the order
    of client_hosts), server_key_names (each server's key name), shared (bool), shared_key_name, and in CA mode
    ca_common_name (the subject CN of a CA the role makes)."""
    problems = []
    hosts = list(c.get('server_hosts') or []) + list(c.get('client_hosts') or [])
    outside = [h for h in hosts if h not in (c.get('play_hosts') or [])]
    if outside:
        problems.append('hosts of the collective not in this run (mcollective_aes_server_hosts, '
                        'mcollective_aes_client_hosts): %s; every server needs every client\'s public key, so run on '
                        'all of them' % ', '.join(dict.fromkeys(outside)))
    names = [e.get('name') for entries in c.get('clients') or [] for e in entries or [] if isinstance(e, dict)]
    if c.get('shared'):
        names.append(c.get('shared_key_name'))
    else:
        # A server outside the run published no name: it is named above, not counted here.
        names += [n for h, n in zip(c.get('server_hosts') or [], c.get('server_key_names') or []) if h not in outside]
    dup = [n for n in dict.fromkeys(names) if names.count(n) > 1]
    bad = [n for n in names if not (isinstance(n, str) and NAME.match(n))]
    if dup or bad:
        problems.append('key names must be unique in the collective and match ' + NAME_RULE + ', as servers load '
                        '<client_cert_dir>/<name>.pem: duplicates %s, bad %s (mcollective_aes_clients names, '
                        'mcollective_aes_server_key_name, mcollective_aes_shared_key_name)' % (dup, bad))
    cn = c.get('ca_common_name')
    if cn and cn in names:
        problems.append('mcollective_aes_ca_common_name %s is also a caller id: the CA\'s certificate and that caller\'s '
                        'would have the same subject; give the CA another name' % cn)
    return problems


def puppet_problems(host, p):
    """A server's Puppet keys (mcollective_aes_server_keys=puppet): both files there, named as the plugin accepts,
    the private key RSA of at least 2048 bits. p: private_key, public_key, exists ([bool, bool]), and after they
    were read, type and bits."""
    problems = []
    stem = re.sub(r'\.pem$', '', str(p.get('public_key') or '').rsplit('/', 1)[-1])
    exists = list(p.get('exists') or [])
    if len(exists) != 2 or not all(exists) or not NAME.match(stem):
        problems.append('%s: mcollective_aes_puppet_private_key / mcollective_aes_puppet_public_key must exist and be '
                        'named <%s>.pem (got %s, %s)' % (host, NAME_RULE, p.get('private_key'), p.get('public_key')))
    elif 'type' in p and (p.get('type') != 'RSA' or (_int(p.get('bits')) or 0) < MIN_BITS):
        problems.append('%s: %s is %s %s bits; aes_security needs RSA of at least %d bits (mcollective_aes_puppet_private_key)'
                        % (host, p.get('private_key'), p.get('type'), p.get('bits') or '?', MIN_BITS))
    return problems


def psk_problems(reads):
    """The psk provider's key in the configurations this migration switches, before it is escrowed and removed:
    one value, so the escrow holds the one a rollback needs. reads: the settings module's results (read
    [plugin.psk], missing_ok), each with path and current; a failed read stops the run. Never names a value."""
    problems, values = [], {}
    for r in reads or []:
        if not isinstance(r, dict) or r.get('skipped'):
            continue
        if r.get('failed') or 'current' not in r:
            item = r.get('item')
            path = r.get('path') or (item.get('config') if isinstance(item, dict) else item) or DEFAULT_CLIENT_CONFIG
            problems.append('cannot read plugin.psk in %s: %s (a configuration that cannot be read is never taken as '
                            'holding none)' % (path, r.get('msg') or 'no result'))
            continue
        value = (r.get('current') or {}).get('plugin.psk')
        if value is not None:
            values.setdefault(value, []).append(str(r.get('path')))
    if len(values) > 1:
        groups = sorted(sorted(files) for files in values.values())
        problems.append('plugin.psk differs between the configurations (%s): the escrow (mcollective_aes_psk_escrow_name) '
                        'keeps one value for a rollback, so make them one first, or remove the odd ones by hand'
                        % '; '.join(' and '.join(files) for files in groups))
    return problems


CHECKS = dict(input=lambda host, facts: input_problems(facts),
              psych=lambda host, facts: psych_problems(host, facts.get('rc'), facts.get('version'), facts.get('error')),
              host=lambda host, facts: host_problems(host, facts.get('clients')),
              collective=lambda host, facts: collective_problems(facts),
              puppet=puppet_problems,
              psk=lambda host, facts: psk_problems(facts.get('reads')))


def problems(check, host, facts):
    if check not in CHECKS:
        raise ValueError('check must be one of %s, not %r' % (', '.join(CHECKS), check))
    return CHECKS[check](host, facts or {})
