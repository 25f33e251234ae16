# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The KV escrow's own connection to OpenBao / HashiCorp Vault, through hvac (its public library).

The options keep community.hashi_vault's names, variables and environment variables (doc fragment
keyfleet.encryption.vault), so a play set up for that collection's lookups reaches the same server the same way,
but none of its code is used: its module_utils are private to it and change in any release.

``resolve`` takes the options as Ansible resolved them (direct, then vars, then env, then ini) and adds what
community.hashi_vault takes last of all; ``problems`` says, naming the variable, what stops a connection before
any request; ``connect`` makes the client and ``authenticator`` its login. No sentence here holds a token or a
secret id: ``hide`` lists them, for the callers to take out of any message a server sends back.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import os

AUTH_METHODS = ('token', 'approle')
# community.hashi_vault's other methods: named in the refusal, so the operator knows it is the escrow that lacks them.
OTHER_AUTH_METHODS = ('userpass', 'ldap', 'jwt', 'cert', 'aws_iam', 'azure', 'gcp', 'none')
OPTIONS = ('url', 'proxies', 'ca_cert', 'validate_certs', 'namespace', 'timeout',
           'auth_method', 'mount_point', 'token', 'token_path', 'token_file', 'role_id', 'secret_id')

# Where each option is set, for the sentences (the doc fragment declares the same).
WHERE = {
    'url': 'ansible_hashi_vault_url (or ANSIBLE_HASHI_VAULT_ADDR, or VAULT_ADDR)',
    'proxies': 'ansible_hashi_vault_proxies (or ANSIBLE_HASHI_VAULT_PROXIES)',
    'ca_cert': 'ansible_hashi_vault_ca_cert (or ANSIBLE_HASHI_VAULT_CA_CERT, or VAULT_CACERT)',
    'namespace': 'ansible_hashi_vault_namespace (or ANSIBLE_HASHI_VAULT_NAMESPACE, or VAULT_NAMESPACE)',
    'timeout': 'ansible_hashi_vault_timeout (or ANSIBLE_HASHI_VAULT_TIMEOUT)',
    'auth_method': 'ansible_hashi_vault_auth_method (or ANSIBLE_HASHI_VAULT_AUTH_METHOD)',
    'token': 'ansible_hashi_vault_token (or ANSIBLE_HASHI_VAULT_TOKEN, or VAULT_TOKEN)',
    'token_file': 'ansible_hashi_vault_token_path and ansible_hashi_vault_token_file',
    'role_id': 'ansible_hashi_vault_role_id (or ANSIBLE_HASHI_VAULT_ROLE_ID)',
}

# Taken only when the option is still unset after Ansible's own sources, as community.hashi_vault does, so that
# an ansible.cfg setting beats a VAULT_* variable left in the shell.
LATE_ENV = (('url', 'VAULT_ADDR'), ('ca_cert', 'VAULT_CACERT'), ('namespace', 'VAULT_NAMESPACE'))

_TRUE = ('1', 'true', 'yes', 'on', 'y', 't')  # what Ansible's check_type_bool takes for true


def resolve(options, environ):
    """The settings of a connection from ``options`` (name -> value, as the plugin's get_option gives them).

    What community.hashi_vault adds is added the same way: VAULT_ADDR, VAULT_CACERT and VAULT_NAMESPACE when the
    option is unset; validate_certs unset is the inverse of VAULT_SKIP_VERIFY (true when that is unset or not a
    boolean); with auth method token, VAULT_TOKEN, then the file token_path/token_file (token_path defaults to
    HOME). ``verify`` is what hvac takes: the CA file, or a boolean. A token file that cannot be read is left to
    ``problems``.
    """
    s = dict((name, options.get(name)) for name in OPTIONS)
    for name, env in LATE_ENV:
        if s[name] is None:
            s[name] = environ.get(env)
    if s['auth_method'] is None:
        s['auth_method'] = 'token'
    if isinstance(s['ca_cert'], str):  # hvac opens the file as it is given: ~ is the controller user's home here
        s['ca_cert'] = os.path.expanduser(s['ca_cert'])
    if s['validate_certs'] is None:
        s['validate_certs'] = str(environ.get('VAULT_SKIP_VERIFY', '')).strip().lower() not in _TRUE
    s['verify'] = s['ca_cert'] if s['validate_certs'] and s['ca_cert'] else bool(s['validate_certs'])
    s['token_source'] = s['token_file_path'] = None
    if s['auth_method'] == 'token':
        if s['token'] is None and environ.get('VAULT_TOKEN') is not None:
            s['token'] = environ['VAULT_TOKEN']
        if s['token'] is not None:
            s['token_source'] = 'option'
        else:
            home = s['token_path'] if s['token_path'] is not None else environ.get('HOME')
            if home is not None:
                s['token_file_path'] = os.path.join(os.path.expanduser(home), s['token_file'] or '.vault-token')
                s['token'], s['token_source'] = _token_file(s['token_file_path'])
    return s


def _token_file(path):
    """(token, source): the token in ``path``; (None, None) when there is no such file; (None, why) when it cannot be read."""
    if not os.path.exists(path):
        return None, None
    if not os.path.isfile(path):
        return None, 'it is not a file'
    try:
        with open(path) as f:
            token = f.read().strip()
    except (OSError, UnicodeDecodeError) as e:
        return None, 'it cannot be read (%s)' % (getattr(e, 'strerror', None) or type(e).__name__)
    return (token, 'file') if token else (None, 'it is empty')


def hide(settings, client=None):
    """The values no message may show: the token, the AppRole secret id, and the token of ``client`` (a login's)."""
    found = (settings.get('token'), settings.get('secret_id'), getattr(client, 'token', None))
    return [v for v in found if isinstance(v, str) and v]


def redact(text, secrets):
    """``text`` with every value of ``secrets`` replaced; a server that echoes a credential does not reach a log."""
    text = str(text)
    for secret in secrets:
        text = text.replace(secret, '<hidden>')
    return text


def _proxies(value):
    """hvac's proxies (a dict of scheme -> URL) from a dict, a string naming one proxy, or a string holding a dict."""
    from ansible.module_utils.common.validation import check_type_dict

    if value is None or isinstance(value, dict):
        return value
    if not isinstance(value, str):  # tagged types under ansible-core 2.19: named by what they are
        raise TypeError('a number' if isinstance(value, (int, float)) else 'a list' if isinstance(value, list) else
                        'no text')
    try:
        found = check_type_dict(value)
    except TypeError:
        found = None
    # check_type_dict reads "http://proxy:3128" as no dict; a string that is one URL is the proxy of both schemes.
    return found if found and all('://' in str(v) for v in found.values()) else {'http': value, 'https': value}


def problems(settings):
    """What stops a connection with ``settings`` (from resolve) before any request: sentences naming the variable."""
    found = []
    url = settings.get('url')
    if not url:
        found.append('the KV escrow has no server url: set %s.' % WHERE['url'])
    elif not str(url).startswith(('https://', 'http://')):
        found.append('the server url %r is not an http:// or https:// URL: set %s.' % (url, WHERE['url']))
    method = settings.get('auth_method')
    if method not in AUTH_METHODS:
        other = (' The escrow does not use community.hashi_vault\'s other methods (%s): log in with one of them '
                 'yourself and give the token.' % ', '.join(OTHER_AUTH_METHODS)) if method in OTHER_AUTH_METHODS else ''
        found.append('auth method %r is not one the KV escrow supports: set ansible_hashi_vault_auth_method (or '
                     'ANSIBLE_HASHI_VAULT_AUTH_METHOD) to %s.%s' % (method, ' or '.join(AUTH_METHODS), other))
    elif method == 'token' and not settings.get('token'):
        source, path = settings.get('token_source'), settings.get('token_file_path')
        if source not in (None, 'option'):  # a token file that is there but gives no token
            found.append('the token file %s was found, but %s: fix it, or set %s.' % (path, source, WHERE['token']))
        else:
            found.append('auth method token has no token: set %s%s, or use auth method approle.'
                         % (WHERE['token'], ', or put it in %s (%s)' % (path, WHERE['token_file']) if path else ''))
    elif method == 'approle' and not settings.get('role_id'):
        found.append('auth method approle needs a role id: set %s, and the secret id in ansible_hashi_vault_secret_id '
                     '(or ANSIBLE_HASHI_VAULT_SECRET_ID).' % WHERE['role_id'])
    ca_cert = settings.get('ca_cert')
    if ca_cert and settings.get('validate_certs') and not os.path.exists(os.path.expanduser(str(ca_cert))):
        found.append('the CA certificate %s does not exist: set %s to the file of the CA that signed the server\'s '
                     'certificate.' % (ca_cert, WHERE['ca_cert']))
    timeout = settings.get('timeout')
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0):
        found.append('the timeout %r is no number of seconds above 0: set %s.' % (timeout, WHERE['timeout']))
    try:
        _proxies(settings.get('proxies'))
    except TypeError as e:
        found.append('the proxies are %s, neither a URL nor a dict of scheme to URL: set %s.' % (e, WHERE['proxies']))
    return found


def connect(settings):
    """An hvac client for ``settings`` (from resolve, with no problems), not logged in yet.

    hvac would take a token of its own from VAULT_TOKEN or ~/.vault-token: the client starts without one,
    so only the configured auth method decides which token is used.
    """
    import hvac

    kwargs = dict(url=settings['url'], verify=settings['verify'], namespace=settings.get('namespace') or None)
    if settings.get('timeout') is not None:
        kwargs['timeout'] = settings['timeout']
    if settings.get('proxies') is not None:
        kwargs['proxies'] = _proxies(settings['proxies'])
    client = hvac.Client(**kwargs)
    client.token = None
    return client


def authenticator(settings):
    """``login(client)``: the configured auth method; hvac's exceptions pass through for the caller to explain."""
    method = settings['auth_method']
    if method == 'token':
        def login(client):
            client.token = settings['token']
    elif method == 'approle':
        def login(client):
            kwargs = dict(role_id=settings['role_id'], secret_id=settings.get('secret_id'), use_token=True)
            if settings.get('mount_point'):
                kwargs['mount_point'] = settings['mount_point']
            client.auth.approle.login(**kwargs)
    else:  # problems() refused it already
        raise ValueError('auth method %r' % (method,))
    return login
