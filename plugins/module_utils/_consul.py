# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Consul HTTP API client and the encryption state derived from it.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import ssl
import time

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlparse
from ansible.module_utils.urls import open_url

# /v1/agent/members Status values (serf.MemberStatus).
MEMBER_STATUS = {0: 'none', 1: 'alive', 2: 'leaving', 3: 'left', 4: 'failed'}

# The one stage table of a running-cluster migration (the reference's steps 2-4 for gossip; for TLS,
# measured on 1.8.7: the three verify flags at once cut RPC, outgoing first and incoming last does not).
# For each part and stage, the flags an agent runs with. Settings are written from it (gossip_settings,
# tls_settings) and a running agent's stage is read back with it (stage_of); nothing else restates it.
#   gossip: encrypt (a key), encrypt_verify_outgoing, encrypt_verify_incoming
#   tls: files (CA, certificate, key), verify_outgoing (with verify_server_hostname), verify_incoming
STAGES = {
    'gossip': {
        0: {'encrypt': False, 'verify_outgoing': False, 'verify_incoming': False},
        1: {'encrypt': True, 'verify_outgoing': False, 'verify_incoming': False},
        2: {'encrypt': True, 'verify_outgoing': True, 'verify_incoming': False},
        3: {'encrypt': True, 'verify_outgoing': True, 'verify_incoming': True},
    },
    'tls': {
        0: {'files': False, 'verify_outgoing': False, 'verify_incoming': False},
        1: {'files': True, 'verify_outgoing': False, 'verify_incoming': False},
        2: {'files': True, 'verify_outgoing': True, 'verify_incoming': False},
        3: {'files': True, 'verify_outgoing': True, 'verify_incoming': True},
    },
}
# What each stage means, for plans and summaries.
STAGE_NAMES = {
    'gossip': ('unencrypted', 'key installed, verify flags off', 'encrypt_verify_outgoing on',
               'encrypted, both verify flags on'),
    'tls': ('no TLS', 'certificates, verify flags off', 'verify_outgoing and verify_server_hostname on',
            'full TLS, verify_incoming on'),
}
PARTS = ('gossip', 'tls')
FINAL_STAGE = 3

# How clients get their TLS certificates (consul_tls_client_certs). auto_encrypt, measured on 1.8.7
# (docs/consul-tls.md): servers sign clients' certificates only with auto_encrypt.allow_tls, which takes a
# restart and must be on every server, the leader included, before a client asks; a client has no certificate
# file and switches in one restart. So a server in that mode is below stage 1 until it runs with allow_tls,
# and a client has nothing to do at stage 1, switches at stage 2, and has nothing left at stage 3.
TLS_CLIENT_CERTS = ('per_agent', 'auto_encrypt')
AUTO_ENCRYPT_CLIENT_STAGE_NAMES = {
    1: 'no TLS of its own yet (an auto_encrypt client switches at stage 2)',
    3: 'auto_encrypt: certificate from the servers, verify_outgoing and verify_server_hostname on',
}
# The first Consul with auto_encrypt.
AUTO_ENCRYPT_SINCE = (1, 5, 2)

# Unset options fall back to the environment the consul CLI reads, on the managed host.
COMMON_ARGUMENT_SPEC = dict(
    url=dict(type='list', elements='str', default=['http://127.0.0.1:8500'],
             fallback=(env_fallback, ['CONSUL_HTTP_ADDR'])),
    token=dict(type='str', no_log=True, fallback=(env_fallback, ['CONSUL_HTTP_TOKEN'])),
    ca_path=dict(type='path', fallback=(env_fallback, ['CONSUL_CACERT'])),
    client_cert=dict(type='path', fallback=(env_fallback, ['CONSUL_CLIENT_CERT'])),
    client_key=dict(type='path', fallback=(env_fallback, ['CONSUL_CLIENT_KEY'])),
    validate_certs=dict(type='bool', default=True),
    timeout=dict(type='float', default=5.0),
    tls_client_certs=dict(type='str', default='per_agent', choices=list(TLS_CLIENT_CERTS)),
)


class ConsulError(Exception):
    """The agent answered, but not as needed (an HTTP error, a TLS verification failure), or bad data.

    ``transient``: a failure a moment later may not repeat (a read timed out, a connection was reset, a keyring
    query timed out on a slow member); reads are tried again before it is raised.
    """

    def __init__(self, msg, transient=False):
        super().__init__(msg)
        self.transient = transient


class ConsulUnreachable(ConsulError):
    """Nothing answers at any URL (connection refused, timeout): a stopped agent, not a broken one."""


# The ACL permission each API path needs, named in a 401/403 message so the operator knows what to grant.
ACL_PERMISSIONS = (
    ('/v1/agent/self', 'agent:read'),
    ('/v1/agent/members', 'node:read'),
    ('/v1/agent/reload', 'agent:write'),
    ('/v1/catalog/', 'node:read'),
    ('/v1/operator/keyring', 'keyring:read (keyring:write to change keys)'),
    ('/v1/operator/autopilot', 'operator:read'),
    ('/v1/operator/raft', 'operator:read'),
)


def acl_permission(path):
    for prefix, permission in ACL_PERMISSIONS:
        if path.startswith(prefix):
            return permission
    return None


# A read that fails transiently is tried this many times in all, this many seconds apart, before it fails as
# it would have the first time. Writes (PUT, POST) are never repeated: the keyring changes they make are not
# idempotent from the caller's view. ACL refusals (401/403) and refused connections (a stopped agent) are
# answers, never repeated.
READ_TRIES = 3
READ_PAUSE = 1.0


def _is_transient(error, path, code=None):
    """A failure worth one more read: a timeout, a reset connection, or HTTP 500 from the keyring endpoint
    (a serf query to every member, which answers "N error(s) occurred ... timeout" when one member is slow)."""
    if code is not None:
        return code == 500 and path.startswith('/v1/operator/keyring')
    # socket.timeout: before Python 3.10 a timeout is not a TimeoutError, and managed hosts run older Pythons.
    kinds = (TimeoutError, socket.timeout, ConnectionResetError)
    reason = getattr(error, 'reason', error)
    return isinstance(reason, kinds) or isinstance(error, kinds)


def _is_tls_failure(error):
    """A certificate the client refused: the agent answers, but not in a way that can be trusted."""
    reason = getattr(error, 'reason', error)
    return isinstance(reason, ssl.SSLError) or type(reason).__name__ == 'CertificateError' or isinstance(error, ssl.SSLError)


def key_fingerprint(key):
    """A short, non-reversible name for a gossip key, safe to print and compare.

    Equal to ``(key | hash('sha256'))[:16]`` in Jinja, so roles can compare without the module
    ever returning the key itself.
    """
    return hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]


def stage_of(part, flags):
    """The stage of ``part`` an agent running with ``flags`` (the keys of STAGES) is at.

    Stages are climbed in order while every flag a stage turns on is on: a mix counts as the lowest
    stage it satisfies (encrypt_verify_incoming without outgoing is stage 1, not 3).
    """
    found = 0
    for stage in sorted(STAGES[part])[1:]:
        if not all(flags.get(name) for name, on in STAGES[part][stage].items() if on):
            break
        found = stage
    return found


def parse_version(text):
    """(major, minor, patch) from ``consul version`` output or a bare version string."""
    m = re.search(r'(\d+)\.(\d+)\.(\d+)', text or '')
    if not m:
        raise ConsulError('cannot find a Consul version in %r' % (text,))
    return tuple(int(g) for g in m.groups())


def binary_version(run_command, consul):
    """``major.minor.patch`` of the consul binary: the version the agent runs after its next start."""
    rc, out, err = run_command([consul, 'version'])
    if rc != 0:
        raise ConsulError('%s version failed: %s' % (consul, (err or out).strip()))
    return '%d.%d.%d' % parse_version(out)


def tls_layout(version):
    """Config layout for TLS: flat keys before 1.12, the ``tls`` stanza from 1.12 (flat keys deprecated)."""
    return 'stanza' if parse_version(version) >= (1, 12, 0) else 'flat'


def _check_stage(part, stage):
    if stage not in STAGES[part] or stage == 0:
        raise ConsulError('%s stage must be 1, 2 or 3, got %r' % ({'tls': 'TLS'}.get(part, part), stage))
    return STAGES[part][stage]


def gossip_settings(stage):
    """Agent settings for gossip ``stage`` (1-3), without the key (``encrypt``), which is secret."""
    flags = _check_stage('gossip', stage)
    return {'encrypt_verify_incoming': flags['verify_incoming'], 'encrypt_verify_outgoing': flags['verify_outgoing']}


def tls_settings(version, stage, ca_file, cert_file, key_file, https_port=0, http_disabled=False, auto_encrypt=None):
    """Agent settings for TLS ``stage`` (1-3) in the layout the Consul ``version`` wants.

    Plain HTTP is turned off only at stage 3 and only with an HTTPS port, so the API stays
    reachable through the migration. ``auto_encrypt``: None (a certificate file per agent), ``server``
    (the same, and the server signs auto_encrypt clients' certificates) or ``client`` (see auto_encrypt_client_settings).
    """
    if auto_encrypt == 'client':
        return auto_encrypt_client_settings(version, stage, ca_file)
    flags = _check_stage('tls', stage)
    outgoing, incoming = flags['verify_outgoing'], flags['verify_incoming']
    if tls_layout(version) == 'flat':
        settings = {
            'ca_file': ca_file, 'cert_file': cert_file, 'key_file': key_file,
            'verify_incoming': incoming, 'verify_outgoing': outgoing, 'verify_server_hostname': outgoing,
        }
    else:
        settings = {'tls': {
            'defaults': {'ca_file': ca_file, 'cert_file': cert_file, 'key_file': key_file,
                         'verify_incoming': incoming, 'verify_outgoing': outgoing},
            'internal_rpc': {'verify_server_hostname': outgoing},
        }}
    ports = {}
    if https_port:
        ports['https'] = int(https_port)
        if http_disabled and stage == FINAL_STAGE:
            ports['http'] = -1
    if ports:
        settings['ports'] = ports
    if auto_encrypt == 'server':
        # Forces Connect on (its built-in CA signs the clients' certificates); read only at start.
        settings['auto_encrypt'] = {'allow_tls': True}
    return settings


def auto_encrypt_client_settings(version, stage, ca_file):
    """An auto_encrypt client's TLS settings at ``stage``; None at stage 1, where it keeps what it runs with.

    From stage 2 on: the CA that signed the servers' certificates (the client verifies them with it, also when it
    asks for its own certificate), verify_outgoing and verify_server_hostname set explicitly (without them 1.8.7
    still speaks TLS but reports both off), no certificate file, and verify_incoming off: the client's certificate
    lives in its memory, so no local tool could present one to its API. No HTTPS port: the client would serve the
    Connect CA's certificate there, which the controller's CA does not verify; its API stays plain HTTP (bind it
    to localhost).
    """
    _check_stage('tls', stage)
    if stage == 1:
        return None
    if tls_layout(version) == 'flat':
        settings = {'ca_file': ca_file, 'verify_incoming': False, 'verify_outgoing': True, 'verify_server_hostname': True}
    else:
        settings = {'tls': {'defaults': {'ca_file': ca_file, 'verify_incoming': False, 'verify_outgoing': True},
                            'internal_rpc': {'verify_server_hostname': True}}}
    settings['auto_encrypt'] = {'tls': True}
    return settings


def agent_tls_stage(tls, server, tls_client_certs='per_agent'):
    """The TLS stage of an agent whose settings ``tls`` (normalize_self) are read, when clients get their
    certificates by ``tls_client_certs``.

    per_agent: the stage table. auto_encrypt: a server is at its table stage once it runs with allow_tls, below
    stage 1 before; a client is at stage 3 once it runs auto_encrypt with both verify flags, else at stage 1
    (it has nothing to do before stage 2).
    """
    if tls_client_certs != 'auto_encrypt':
        return tls['files_stage']
    if server:
        return tls['files_stage'] if tls['auto_encrypt_allow_tls'] else 0
    if tls['auto_encrypt'] and tls['verify_outgoing'] and tls['verify_server_hostname'] and tls['ca_file']:
        return FINAL_STAGE
    return 1


def _flag(value):
    if isinstance(value, bool):
        return value
    return str(value).lower() == 'true'


def normalize_self(data, tls_client_certs='per_agent'):
    """Encryption state from ``GET /v1/agent/self`` for Consul 1.8-1.11 and 1.12+ layouts; the TLS stage as
    agent_tls_stage reads it for ``tls_client_certs``."""
    cfg = data.get('Config') or {}
    dbg = data.get('DebugConfig') or {}
    stats = data.get('Stats') or {}
    static = dbg.get('StaticRuntimeConfig')
    if static is not None:  # 1.12+
        enc_src = static
        tls_cfg = dbg.get('TLS') or {}
        rpc = tls_cfg.get('InternalRPC') or {}
        https = tls_cfg.get('HTTPS') or {}
        layout = '1.12+'
    else:  # 1.8-1.11: everything at the top level of DebugConfig
        enc_src = dbg
        rpc = https = dbg
        layout = '1.8-1.11'

    encrypted = _flag((stats.get('serf_lan') or {}).get('encrypted', 'false'))
    tls = {
        'verify_incoming': bool(rpc.get('VerifyIncoming', False) or rpc.get('VerifyIncomingRPC', False)),
        'verify_outgoing': bool(rpc.get('VerifyOutgoing', False)),
        'verify_server_hostname': bool(rpc.get('VerifyServerHostname', False)),
        'ca_file': rpc.get('CAFile') or '',
        'cert_file': rpc.get('CertFile') or '',
        'https_cert_file': https.get('CertFile') or '',
        'https_port': max(dbg.get('HTTPSPort') or 0, 0),  # -1 means off
        'http_port': dbg.get('HTTPPort') or 0,
    }
    # Top-level fields of the runtime configuration in every version.
    tls['auto_encrypt'] = bool(dbg.get('AutoEncryptTLS', False))
    tls['auto_encrypt_allow_tls'] = bool(dbg.get('AutoEncryptAllowTLS', False))
    tls['files_stage'] = stage_of('tls', {
        'files': bool(tls['cert_file']), 'verify_incoming': tls['verify_incoming'],
        'verify_outgoing': tls['verify_outgoing'] and tls['verify_server_hostname']})
    server = bool(cfg.get('Server', dbg.get('ServerMode', False)))
    tls['stage'] = agent_tls_stage(tls, server, tls_client_certs)
    auto_client = tls_client_certs == 'auto_encrypt' and not server
    tls['stage_name'] = (AUTO_ENCRYPT_CLIENT_STAGE_NAMES if auto_client else STAGE_NAMES['tls'])[tls['stage']]
    vin = bool(enc_src.get('EncryptVerifyIncoming', True))
    vout = bool(enc_src.get('EncryptVerifyOutgoing', True))
    gossip_stage = stage_of('gossip', {'encrypt': encrypted, 'verify_incoming': vin, 'verify_outgoing': vout})
    return {
        'node_name': cfg.get('NodeName') or dbg.get('NodeName'),
        'datacenter': cfg.get('Datacenter') or dbg.get('Datacenter'),
        'version': cfg.get('Version'),
        'server': server,
        'data_dir': dbg.get('DataDir'),
        'domain': (dbg.get('DNSDomain') or 'consul').rstrip('.'),
        'config_layout': layout,
        'gossip': {
            'enabled': encrypted,
            'verify_incoming': vin,
            'verify_outgoing': vout,
            'stage': gossip_stage,
            'stage_name': STAGE_NAMES['gossip'][gossip_stage],
        },
        'tls': tls,
    }


def normalize_members(data):
    members = []
    for m in data or []:
        code = m.get('Status', 0)
        tags = m.get('Tags') or {}
        members.append({
            'name': m.get('Name'),
            'address': m.get('Addr'),
            'status': MEMBER_STATUS.get(code, str(code)),
            'status_code': code,
            'server': tags.get('role') == 'consul',
        })
    return members


def normalize_keyring(data):
    """Rings with key fingerprints instead of keys: the output is safe to log."""
    rings = []
    for ring in data or []:
        keys = ring.get('Keys') or {}
        primary = ring.get('PrimaryKeys') or {}
        rings.append({
            'wan': bool(ring.get('WAN')),
            'datacenter': ring.get('Datacenter'),
            'segment': ring.get('Segment') or '',
            'num_nodes': ring.get('NumNodes'),
            'keys': dict((key_fingerprint(k), n) for k, n in keys.items()),
            'primary_keys': sorted(key_fingerprint(k) for k in primary),
        })
    return rings


def primary_lan_key(data):
    """The one primary key of the agent's own LAN ring in a raw /v1/operator/keyring answer (a secret), or a problem.

    Returns ``(key, None)`` or ``(None, sentence)``: no LAN ring, or several primary keys (a rotation half done).
    """
    rings = [r for r in data or [] if not r.get('WAN') and not r.get('Segment')]
    if not rings:
        return None, 'the agent reports no LAN keyring (is gossip encryption on?)'
    primary = sorted(set(k for r in rings for k in (r.get('PrimaryKeys') or {})))
    if len(primary) != 1:
        return None, ('the LAN keyring has %d primary keys (%s): a key change is half done. Finish it (the '
                      'consul_gossip_rotate playbook) or set consul_gossip_key to the key in use.'
                      % (len(primary), ', '.join(key_fingerprint(k) for k in primary) or 'none'))
    return primary[0], None


def leader_name(leader_addr, members):
    """Member name of the leader, from the ``ip:port`` that /v1/status/leader gives."""
    host = (leader_addr or '').rsplit(':', 1)[0].strip('[]')
    for m in members:
        if m['address'] == host and m['server']:
            return m['name']
    return None


def read_local_keyring(path):
    """Fingerprints of the keys in ``serf/local.keyring``, or None when there is no such file.

    Consul loads this file at start and then ignores the ``encrypt`` setting, so it decides
    which key an agent really uses.
    """
    try:
        with open(path) as f:
            keys = json.load(f)
    except FileNotFoundError:
        return None
    except (IOError, OSError) as e:  # permission denied is not "no keyring": the guard must not turn off
        raise ConsulError('cannot read %s: %s. Run with become (the file belongs to the consul user).' % (path, e))
    except ValueError as e:
        raise ConsulError('%s is not a JSON key list: %s' % (path, e))
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):  # damaged: never "no keyring"
        raise ConsulError('%s is not a JSON list of keys; fix it, or remove it while the agent is stopped (the agent '
                          'then starts with the encrypt setting).' % path)
    return [key_fingerprint(k) for k in keys]


def _with_scheme(url):
    """An address without a scheme (CONSUL_HTTP_ADDR may be host:port) is read as the consul CLI reads it:
    http, or https when CONSUL_HTTP_SSL is true."""
    if '://' in url:
        return url
    use_https = os.environ.get('CONSUL_HTTP_SSL', '').lower() in ('1', 'true', 'yes', 'on')
    return ('https://' if use_https else 'http://') + url


class ConsulClient:
    """The agent's HTTP API at the first of ``urls`` that answers.

    Several URLs let a migration go on when the API moves: an HTTPS URL first (used as soon
    as the agent serves it, with the agent's own certificate when it asks for one), then plain HTTP
    (until it is turned off). The last URL that answered is tried first.
    """

    def __init__(self, url, token=None, ca_path=None, validate_certs=True, timeout=5.0,
                 client_cert=None, client_key=None, tls_client_certs='per_agent'):
        urls = [url] if isinstance(url, str) else list(url)
        self.urls = [_with_scheme(u).rstrip('/') for u in urls if u]
        if not self.urls:
            raise ConsulError('no URL of the agent given')
        self.token = token
        self.ca_path = ca_path
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.client_cert = client_cert
        self.client_key = client_key
        # How the TLS stage is read (agent_tls_stage): not a connection option, but every read of the stage needs it.
        self.tls_client_certs = tls_client_certs
        self.sleep = time.sleep

    @property
    def url(self):
        return self.urls[0]

    def _open(self, url, method, path, data, headers):
        kwargs = {}
        # CA and client certificate only for HTTPS: open_url would try to load them for plain
        # HTTP too, and the files do not exist before a TLS migration.
        if url.startswith('https:'):
            kwargs['ca_path'] = self.ca_path
            if self.client_cert and os.path.exists(self.client_cert):
                kwargs.update(client_cert=self.client_cert, client_key=self.client_key)
        return open_url(url + path, method=method, data=data, headers=headers, timeout=self.timeout,
                        validate_certs=self.validate_certs, **kwargs).read()

    def request(self, method, path, body=None):
        """One call; a GET that fails transiently is tried up to READ_TRIES times, READ_PAUSE seconds apart."""
        tries = READ_TRIES if method == 'GET' else 1
        for attempt in range(1, tries + 1):
            try:
                return self._request(method, path, body)
            except ConsulError as e:
                if not e.transient or attempt == tries:
                    raise
            self.sleep(READ_PAUSE)

    def _request(self, method, path, body=None):
        headers = {'Content-Type': 'application/json'}
        if self.token:
            headers['X-Consul-Token'] = self.token
        data = json.dumps(body) if body is not None else None
        errors, tls_failures, transient = [], [], False
        for url in list(self.urls):
            try:
                raw = self._open(url, method, path, data, headers)
            except HTTPError as e:  # the agent answered: its error is the answer
                detail = e.read().decode('utf-8', 'replace').strip() if hasattr(e, 'read') else ''
                msg = '%s %s%s: HTTP %s %s' % (method, url, path, e.code, detail)
                if e.code in (401, 403):
                    msg += ('. The agent has ACLs on: give a token (consul_http_token) whose policy grants %s'
                            % (acl_permission(path) or 'this call'))
                raise ConsulError(msg, transient=_is_transient(e, path, e.code))
            except (URLError, OSError, ValueError) as e:
                if _is_tls_failure(e):
                    tls_failures.append('%s%s: %s' % (url, path, e))
                transient = transient or _is_transient(e, path)
                errors.append('%s%s: %s' % (url, path, e))
                continue
            if url != self.urls[0]:
                self.urls.remove(url)
                self.urls.insert(0, url)
            return json.loads(raw) if raw else None
        if tls_failures:
            raise ConsulError('%s %s: the agent answers, but its certificate was refused (%s). Check the CA '
                              '(consul_http_ca_file) and that the certificate names the address used.'
                              % (method, '; '.join(errors), '; '.join(tls_failures)))
        raise ConsulUnreachable('%s %s' % (method, '; '.join(errors)), transient=transient)

    def get(self, path):
        return self.request('GET', path)

    def agent_self(self):
        return normalize_self(self.get('/v1/agent/self'), self.tls_client_certs)

    def members(self):
        return normalize_members(self.get('/v1/agent/members'))

    def leader(self):
        return self.get('/v1/status/leader') or ''

    def keyring(self):
        return normalize_keyring(self.get('/v1/operator/keyring'))

    def primary_gossip_key(self):
        """The key the LAN ring encrypts with (a secret); ConsulError when it cannot be told."""
        key, problem = primary_lan_key(self.get('/v1/operator/keyring'))
        if problem:
            raise ConsulError(problem)
        return key

    def catalog_nodes(self):
        return self.get('/v1/catalog/nodes')

    def autopilot_health(self):
        return self.get('/v1/operator/autopilot/health') or {}


def raft_problems(health):
    """Why the servers' raft is not safe to lose one server, from /v1/operator/autopilot/health.

    Serf can call a server alive while it is behind in raft; autopilot's health says whether each
    server keeps up with the leader, and the failure tolerance whether the quorum survives one more
    server going down (asked only of clusters of 3 servers or more: 1 or 2 have no tolerance to keep).
    """
    servers = health.get('Servers') or []
    problems = ['server %s is not healthy in raft (last contact %s, term %s, index %s)'
                % (srv.get('Name'), srv.get('LastContact'), srv.get('LastTerm'), srv.get('LastIndex'))
                for srv in servers if not srv.get('Healthy')]
    if not problems and not health.get('Healthy'):
        problems.append('autopilot reports the servers unhealthy')
    if len(servers) >= 3 and (health.get('FailureTolerance') or 0) < 1:
        problems.append('raft failure tolerance is %s: one more server down would cost the quorum'
                        % health.get('FailureTolerance'))
    return problems


def health_problems(client, expect_stage=None, expect_members=None, expect_tls_stage=None, expect_raft=False):
    """Why this agent is not healthy yet, as a list of sentences (empty when healthy).

    Healthy means: the agent answers, a leader is known from this node, a catalog read through
    this node succeeds (RPC works, not only gossip), every member is alive from this node's view,
    every expected member is present, and the gossip stage is the expected one. With ``expect_raft``,
    every server is healthy in raft as well (autopilot) and the quorum survives one server going down.
    """
    try:
        me = client.agent_self()
    except ConsulError as e:
        return ['agent does not answer: %s' % e]
    problems = []
    if expect_stage is not None and me['gossip']['stage'] != expect_stage:
        problems.append('gossip stage is %s, expected %s' % (me['gossip']['stage'], expect_stage))
    if expect_tls_stage is not None and me['tls']['stage'] != expect_tls_stage:
        problems.append('TLS stage is %s, expected %s' % (me['tls']['stage'], expect_tls_stage))
    try:
        if not client.leader():
            problems.append('no leader known from this node')
    except ConsulError as e:
        problems.append('leader query failed: %s' % e)
    try:
        client.catalog_nodes()
    except ConsulError as e:
        problems.append('catalog read failed: %s' % e)
    try:
        members = client.members()
    except ConsulError as e:
        return problems + ['member list failed: %s' % e]
    seen = dict((m['name'], m) for m in members)
    for m in members:
        if m['status'] not in ('alive', 'left'):
            problems.append('member %s is %s' % (m['name'], m['status']))
    for name in expect_members or []:
        if name not in seen:
            problems.append('member %s is missing' % name)
        elif seen[name]['status'] == 'left':
            problems.append('member %s has left' % name)
    if expect_raft:
        try:
            problems.extend(raft_problems(client.autopilot_health()))
        except ConsulError as e:
            problems.append('autopilot health query failed: %s' % e)
    return problems


def wait_healthy(client, timeout, interval=0.25, expect_stage=None, expect_members=None,
                 clock=time.monotonic, sleep=time.sleep, expect_tls_stage=None, expect_raft=False):
    """Poll until healthy. Returns (seconds waited, []) or (seconds waited, last problems) on timeout."""
    start = clock()
    while True:
        problems = health_problems(client, expect_stage, expect_members, expect_tls_stage, expect_raft)
        elapsed = clock() - start
        if not problems or elapsed >= timeout:
            return round(elapsed, 3), problems
        sleep(interval)


def served_certificate(client):
    """The certificate (PEM) the agent serves on the first HTTPS URL of ``client``, read from the TLS handshake.

    Not verified here: during a CA rotation the agent's CA file and the certificate it serves change apart, and
    the controller judges the certificate against the old and the new CA. The agent's own certificate is offered
    as the client's, for an agent whose HTTPS API wants one (verify_incoming)."""
    url = next((u for u in client.urls if u.startswith('https://')), None)
    if url is None:
        raise ConsulError('the agent has no HTTPS URL to read its certificate from (consul_https_port)')
    parsed = urlparse(url)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        if client.client_cert and os.path.exists(client.client_cert):
            context.load_cert_chain(client.client_cert, client.client_key)
        with socket.create_connection((parsed.hostname, parsed.port or 443), timeout=client.timeout) as raw:
            with context.wrap_socket(raw, server_hostname=parsed.hostname) as conn:
                der = conn.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError, ValueError) as e:  # never "no certificate": the caller's gate would be blind
        raise ConsulError('cannot read the certificate the agent serves at %s: %s' % (url, e))
    if not der:
        raise ConsulError('the agent at %s served no certificate' % url)
    return ssl.DER_cert_to_PEM_cert(der)


def client_from_params(params):
    """A client from the options of COMMON_ARGUMENT_SPEC."""
    return ConsulClient(params['url'], token=params.get('token'), ca_path=params.get('ca_path'),
                        validate_certs=params.get('validate_certs', True), timeout=params.get('timeout', 5.0),
                        client_cert=params.get('client_cert'), client_key=params.get('client_key'),
                        tls_client_certs=params.get('tls_client_certs') or 'per_agent')


# --- Rules the role checks before anything changes. Each returns sentences that name the variable to change
# (empty: nothing wrong); the role asserts on the list and the order of the work stays in YAML.

def _names(names):
    return ', '.join(sorted(set(names)))


def gossip_key_input_problems(key):
    """Whether consul_gossip_key is a gossip key: 32 bytes in base64, as ``consul keygen`` prints them. The sentence
    names the variable, never the value (a secret)."""
    try:
        raw = base64.b64decode(key, validate=True) if isinstance(key, str) else b''
        # Canonical base64 only (re-encoding gives it back), as consul keygen writes it.
        good = len(raw) == 32 and base64.b64encode(raw).decode('ascii') == key
    except (ValueError, TypeError):
        good = False
    return [] if good else ['consul_gossip_key must be 32 random bytes in base64 (44 characters ending in \'=\', as '
                            '`consul keygen` prints them, without a trailing newline); the value given is not.']


def member_problems(members, run_nodes, group='consul', alive=False):
    """Members a run of ``run_nodes`` would cut off, as sentences.

    Compared by node name: each member's name (as Consul reports it) against the node names the agents of
    this run report (their ``state.node_name``), never inventory names - an inventory host c1.example.com
    is node c1 in Consul. ``members`` may hold several agents' views at once (duplicates are fine).
    With ``alive`` (a key change through the keyring API, which counts live nodes only) every member must be
    alive and every node of the run a member.
    """
    run = set(run_nodes or [])
    members = list(members or [])
    problems = []
    outside = [m['name'] for m in members if m.get('status') != 'left' and m['name'] not in run]
    if outside:
        problems.append('members not among the hosts of this run (group %s): %s. Node names are compared: each '
                        'member\'s name with the node names the agents of this run report, not with inventory names. '
                        'Every agent must go through every stage or it is cut off: add them to the inventory (the '
                        'group consul_hosts names) and do not --limit the run.' % (group, _names(outside)))
    if alive:
        down = [m['name'] for m in members if m.get('status') != 'alive']
        down += list(run - set(m['name'] for m in members))
        if down:
            problems.append('members not alive from this agent: %s; a key change now would cut them off. Bring them '
                            'back first (a node gone for good: consul force-leave it; the run\'s agents are the group '
                            '%s, consul_hosts).' % (_names(down), group))
    return problems


def rotation_problems(info, run_nodes, group='consul'):
    """Why a gossip key rotation cannot start from this agent's read (consul_agent_info's result)."""
    if not info.get('reachable'):
        return ['the agent does not answer (%s): a rotation needs every agent. Start it and run again (the API is '
                'read at consul_https_addr, then consul_http_addr).' % info.get('error', '')]
    stage = info['state']['gossip']['stage']
    if stage != FINAL_STAGE:
        return ['gossip is at stage %s, not fully encrypted: run consul_gossip_running_cluster first (a rotation '
                'starts from consul_stage 3).' % stage]
    return member_problems(info.get('members'), run_nodes, group, alive=True)


def contradiction_problems(state, datacenter=None, domain=None, node_name=None, server=None):
    """Inventory values the running agent contradicts, as sentences. The agent is the truth: a value that says
    otherwise would name certificates and escrow entries after a datacenter or node the cluster does not have, or
    give a client a server's certificate (which passes it as a server to every agent)."""
    given = [('consul_datacenter', datacenter, state.get('datacenter')),
             ('consul_domain', domain.rstrip('.') if domain else domain, state.get('domain'))]
    wrong = [(var, value) for var, value, theirs in given if value is not None and value != theirs]
    problems = []
    if wrong:
        problems.append('the running agent is in datacenter %s with domain %s, but %s. Correct or remove them (unset, '
                        'the agent\'s values are used).'
                        % (json.dumps(state.get('datacenter')), json.dumps(state.get('domain')),
                           ' and '.join('%s is %s' % (var, json.dumps(value)) for var, value in wrong)))
    if node_name is not None and node_name != state.get('node_name'):
        problems.append('the running agent\'s node name is %s, but consul_node_name is %s. Correct or remove it '
                        '(unset, the agent\'s node name is used).' % (json.dumps(state.get('node_name')), json.dumps(node_name)))
    if server is not None and bool(server) != bool(state.get('server')):
        problems.append('the running agent is a %s, but consul_server is %s. Correct or remove it (unset, the agent\'s '
                        'own answer is used).' % ('server' if state.get('server') else 'client', 'true' if server else 'false'))
    return problems


def local_keyring_problem(path, prints, key_fp, key_name):
    """serf/local.keyring (``prints``, its keys' fingerprints, None when absent) decides the key a restarted agent
    uses, whatever the encrypt setting says: a sentence when its primary key is not ``key_fp``, else None."""
    if prints is None or prints[:1] == [key_fp]:
        return None
    return ('%s has the primary key %s (keys by SHA-256 fingerprint: %s), not the gossip key %s (%s); Consul would '
            'ignore the encrypt setting and keep that key. If the cluster runs with that key, set consul_gossip_key to '
            'it (or rotate keys with the consul_gossip_rotate playbook); if the file is stale, set '
            'consul_gossip_rewrite_keyring=true to replace it.'
            % (path, (prints or ['none'])[0], ', '.join(prints) or 'none', key_fp, key_name))


def lan_primary_keys(keyrings):
    """Fingerprints of the primary keys of the LAN rings in one or more agents' keyrings (consul_agent_info)."""
    return sorted(set(fp for ring in keyrings or [] if not ring.get('wan') for fp in ring.get('primary_keys') or []))


def gossip_key_problems(info, key_fp, key_name, data_dir, rewrite_keyring=False):
    """Whether this agent (consul_agent_info's read) runs with, and would restart with, the gossip key ``key_fp``.

    The agent encrypts with the primary key of its keyring (read through the API), whatever its encrypt setting
    says; a restarted agent loads serf/local.keyring first. With ``rewrite_keyring`` the stage rewrites that file
    to hold the gossip key alone before the restart, so neither counts.
    """
    if rewrite_keyring:
        return []
    problems = []
    primary = [fp for fp in lan_primary_keys(info.get('keyring')) if fp != key_fp]
    if primary:
        problems.append('the running agent encrypts gossip with the primary key %s (SHA-256 fingerprint, from its '
                        'keyring), not the gossip key %s (%s). If the cluster runs with that key, set consul_gossip_key '
                        'to it, or rotate keys with the consul_gossip_rotate playbook.'
                        % (', '.join(primary), key_fp, key_name))
    problem = local_keyring_problem('%s/serf/local.keyring' % data_dir.rstrip('/'), info.get('local_keyring'),
                                    key_fp, key_name)
    return problems + ([problem] if problem else [])


def gossip_source_problems(info, run_primary, given, escrowed, escrow_name):
    """Before the gossip key is escrowed: what was read must name one key, or none.

    ``run_primary``: the LAN primary keys (fingerprints) the servers of this run reported; ``given``: whether
    consul_gossip_key is set; ``escrowed``: whether the escrow holds ``escrow_name``. A server that cannot read
    its keyring (HTTP 403) never counts as "no key".
    """
    state = info.get('state') or {}
    encrypting = bool(info.get('reachable')) and state.get('gossip', {}).get('stage', 0) >= 1
    problems = []
    if encrypting and state.get('server') and info.get('keyring_error'):
        problems.append('its keyring cannot be read (%s); the token (consul_http_token) needs keyring = "read" '
                        '(docs/consul-acl.md).' % info['keyring_error'])
    if len(run_primary) > 1:
        problems.append('the servers of this run encrypt with different primary keys (%s, SHA-256 fingerprints): '
                        'finish that key change first (the consul_gossip_rotate playbook).' % ', '.join(run_primary))
    elif encrypting and not (given or run_primary or escrowed):
        problems.append('it encrypts gossip (stage %s), the escrow holds no %s, and no server of this run could give '
                        'the key in use: a new key would cut it off. Run with the servers, or set consul_gossip_key to '
                        'the key in use.' % (state['gossip']['stage'], escrow_name))
    return problems


def tls_client_certs_problems(agents):
    """Whether the run's agents can get their TLS certificates as each host's consul_tls_client_certs says.

    ``agents``: one dict per host: ``name`` (inventory), ``server`` (bool), ``tls_client_certs``, ``state``
    (normalize_self of the running agent, or None) and ``version`` (the Consul binary's, or '').
    """
    problems = []
    for agent in agents:
        if agent['tls_client_certs'] not in TLS_CLIENT_CERTS:
            problems.append('%s: consul_tls_client_certs is %r; use per_agent or auto_encrypt.'
                            % (agent['name'], agent['tls_client_certs']))
    if problems:
        return problems
    auto_clients = [a['name'] for a in agents if not a['server'] and a['tls_client_certs'] == 'auto_encrypt']
    per_agent_servers = [a['name'] for a in agents if a['server'] and a['tls_client_certs'] != 'auto_encrypt']
    if auto_clients and per_agent_servers:
        problems.append('consul_tls_client_certs is auto_encrypt on %s, whose certificates the servers sign: set it to '
                        'auto_encrypt on every server too (%s), which turns auto_encrypt.allow_tls on.'
                        % (_names(auto_clients), _names(per_agent_servers)))
    for agent in agents:
        state = agent.get('state') or {}
        runs_auto_client = bool(state) and not state.get('server') and state.get('tls', {}).get('auto_encrypt')
        if runs_auto_client and agent['tls_client_certs'] != 'auto_encrypt':
            problems.append('%s runs auto_encrypt.tls, and this collection does not move a client back to a certificate '
                            'file: set consul_tls_client_certs to auto_encrypt for it.' % agent['name'])
        version = state.get('version') or agent.get('version') or ''
        if agent['tls_client_certs'] == 'auto_encrypt' and version:
            try:
                too_old = parse_version(version) < AUTO_ENCRYPT_SINCE
            except ConsulError:
                too_old = False
            if too_old:
                problems.append('%s runs Consul %s, which has no auto_encrypt (1.5.2 and later): set '
                                'consul_tls_client_certs to per_agent for it, or upgrade Consul first.'
                                % (agent['name'], version))
    return problems
