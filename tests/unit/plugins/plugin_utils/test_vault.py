# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The KV escrow's own connection and auth (plugins/plugin_utils/_vault.py), with community.hashi_vault's option
names: where each option is taken from, the auth methods against a stand-in server that speaks the Vault HTTP API
(hvac itself talks to it), what stops a run, and that no message holds the token or the secret id.
tests/lab/escrow-kv.sh runs the same lookup against a real OpenBao with an AppRole."""

from __future__ import annotations

import ast
import json
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar

from ansible_collections.keyfleet.encryption.plugins.plugin_utils import _vault

try:  # ansible-core 2.19+: only a string marked as a template is one; before, every string is
    from ansible.template import trust_as_template
except ImportError:
    def trust_as_template(value):
        return value

pytestmark = pytest.mark.usefixtures('collection_loader')

TOKEN = 's.token-of-the-escrow-0123456789'
APPROLE_TOKEN = 's.token-the-approle-login-gave'
ROLE_ID = 'role-id-1234'
SECRET_ID = 'secret-id-do-not-show-5678'
ENV = ('VAULT_ADDR', 'VAULT_CACERT', 'VAULT_NAMESPACE', 'VAULT_TOKEN', 'VAULT_SKIP_VERIFY', 'VAULT_CAPATH',
       'VAULT_CLIENT_CERT', 'VAULT_CLIENT_KEY')


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No Vault setting of the machine running the tests, and a home of its own (no ~/.vault-token)."""
    for name in list(os.environ):
        if name.startswith('ANSIBLE_HASHI_VAULT_') or name in ENV:
            monkeypatch.delenv(name)
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setenv('HOME', str(home))
    return home


def lookup(variables=None):
    loader = DataLoader()
    return lookup_loader.get('keyfleet.encryption.escrow', loader=loader,
                             templar=Templar(loader=loader, variables=variables or {}))


def settings(variables=None, **direct):
    """The settings the lookup resolves from ``variables``, ``direct`` options and the environment, as Ansible does."""
    plugin = lookup(variables)
    plugin.set_options(var_options=variables or {}, direct=direct)
    return plugin.kv_settings()


# -- where each option comes from --------------------------------------------

URL_SOURCES = [  # highest first: the option given to the lookup, a variable, the Ansible environment variable, VAULT_ADDR
    ('direct', 'https://direct:8200'),
    ('var', 'https://var:8200'),
    ('env', 'https://ansible-env:8200'),
    ('late', 'https://vault-addr:8200'),
]


@pytest.mark.parametrize('drop', range(len(URL_SOURCES)))
def test_the_url_is_taken_as_ansible_and_community_hashi_vault_take_it(monkeypatch, drop):
    given = URL_SOURCES[drop:]
    values = dict(given)
    if 'late' in values:
        monkeypatch.setenv('VAULT_ADDR', values['late'])
    if 'env' in values:
        monkeypatch.setenv('ANSIBLE_HASHI_VAULT_ADDR', values['env'])
    variables = {'ansible_hashi_vault_url': values['var']} if 'var' in values else {}
    direct = {'url': values['direct']} if 'direct' in values else {}
    assert settings(variables, **direct)['url'] == given[0][1]


def test_ansible_hashi_vault_addr_is_a_variable_of_the_url_too():
    assert settings({'ansible_hashi_vault_addr': 'https://addr:8200'})['url'] == 'https://addr:8200'


TOKEN_SOURCES = ['direct', 'var', 'env', 'late', 'token_path', 'home']


@pytest.mark.parametrize('drop', range(len(TOKEN_SOURCES)))
def test_the_token_is_the_first_found_in_community_hashi_vaults_order(monkeypatch, clean_env, tmp_path, drop):
    given = TOKEN_SOURCES[drop:]
    (clean_env / '.vault-token').write_text('s.home\n')
    elsewhere = tmp_path / 'tokens'
    elsewhere.mkdir()
    (elsewhere / 'bao-token').write_text('  s.token_path\n')
    variables = {'ansible_hashi_vault_token': 's.var'} if 'var' in given else {}
    if 'token_path' in given:
        variables.update(ansible_hashi_vault_token_path=str(elsewhere), ansible_hashi_vault_token_file='bao-token')
    if 'env' in given:
        monkeypatch.setenv('ANSIBLE_HASHI_VAULT_TOKEN', 's.env')
    if 'late' in given:
        monkeypatch.setenv('VAULT_TOKEN', 's.late')
    direct = {'token': 's.direct'} if 'direct' in given else {}
    assert settings(variables, **direct)['token'] == 's.' + given[0]


def test_a_variable_beats_the_environment_for_every_option(monkeypatch, tmp_path):
    env = dict(ANSIBLE_HASHI_VAULT_AUTH_METHOD='token', ANSIBLE_HASHI_VAULT_ROLE_ID='env-role',
               ANSIBLE_HASHI_VAULT_SECRET_ID='env-secret', ANSIBLE_HASHI_VAULT_NAMESPACE='env-ns',
               ANSIBLE_HASHI_VAULT_CA_CERT='/env/ca.pem', ANSIBLE_HASHI_VAULT_MOUNT_POINT='env-mount',
               ANSIBLE_HASHI_VAULT_TIMEOUT='7', VAULT_NAMESPACE='late-ns', VAULT_CACERT='/late/ca.pem')
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert (settings()['auth_method'], settings()['timeout'], settings()['namespace']) == ('token', 7, 'env-ns')
    s = settings({'ansible_hashi_vault_auth_method': 'approle', 'ansible_hashi_vault_role_id': 'var-role',
                  'ansible_hashi_vault_secret_id': 'var-secret', 'ansible_hashi_vault_namespace': 'var-ns',
                  'ansible_hashi_vault_ca_cert': '/var/ca.pem', 'ansible_hashi_vault_mount_point': 'var-mount',
                  'ansible_hashi_vault_timeout': 9})
    assert (s['auth_method'], s['role_id'], s['secret_id'], s['namespace'], s['ca_cert'], s['mount_point'], s['timeout']) \
        == ('approle', 'var-role', 'var-secret', 'var-ns', '/var/ca.pem', 'var-mount', 9)


def test_vault_namespace_and_cacert_are_taken_last(monkeypatch):
    monkeypatch.setenv('VAULT_NAMESPACE', 'late-ns')
    monkeypatch.setenv('VAULT_CACERT', '/late/ca.pem')
    s = settings()
    assert (s['namespace'], s['ca_cert'], s['verify']) == ('late-ns', '/late/ca.pem', '/late/ca.pem')
    monkeypatch.setenv('ANSIBLE_HASHI_VAULT_NAMESPACE', 'env-ns')
    assert settings()['namespace'] == 'env-ns'


@pytest.mark.parametrize('validate, skip, ca, verify', [
    (None, None, None, True),
    (None, None, '/ca.pem', '/ca.pem'),
    (None, 'true', '/ca.pem', False),     # VAULT_SKIP_VERIFY, when validate_certs is not set
    (None, '0', '/ca.pem', '/ca.pem'),
    (None, 'not-a-boolean', None, True),
    (True, 'true', '/ca.pem', '/ca.pem'),  # validate_certs set wins over VAULT_SKIP_VERIFY
    (False, None, '/ca.pem', False),
])
def test_verify_is_the_ca_file_or_a_boolean_as_in_community_hashi_vault(monkeypatch, validate, skip, ca, verify):
    if skip is not None:
        monkeypatch.setenv('VAULT_SKIP_VERIFY', skip)
    variables = dict((k, v) for k, v in (('ansible_hashi_vault_validate_certs', validate),
                                         ('ansible_hashi_vault_ca_cert', ca)) if v is not None)
    assert settings(variables)['verify'] == verify


def test_an_option_may_be_a_template_as_any_other_variable():
    variables = {'bao': 'https://bao.example.com:8200', 'vault_escrow_token': TOKEN,
                 'ansible_hashi_vault_url': trust_as_template('{{ bao }}'),
                 'ansible_hashi_vault_token': trust_as_template('{{ vault_escrow_token }}')}
    s = settings(variables)
    assert (s['url'], s['token']) == ('https://bao.example.com:8200', TOKEN)


def test_auth_method_token_is_the_default_and_approle_takes_no_token(monkeypatch, clean_env):
    (clean_env / '.vault-token').write_text(TOKEN)
    monkeypatch.setenv('VAULT_TOKEN', TOKEN)
    assert settings()['auth_method'] == 'token'
    s = settings({'ansible_hashi_vault_auth_method': 'approle'})
    assert s['token'] is None and TOKEN not in _vault.hide(s)


# -- what stops a run before any request --------------------------------------

def problems(variables=None, **direct):
    return _vault.problems(settings(variables, **direct))


def test_no_url_names_the_variables_that_give_it():
    assert problems({'ansible_hashi_vault_token': TOKEN}) == [
        'the KV escrow has no server url: set ansible_hashi_vault_url (or ANSIBLE_HASHI_VAULT_ADDR, or VAULT_ADDR).']
    assert 'is not an http:// or https:// URL' in problems({'ansible_hashi_vault_url': 'bao:8200',
                                                            'ansible_hashi_vault_token': TOKEN})[0]


@pytest.mark.parametrize('method', ['userpass', 'ldap', 'jwt', 'cert', 'aws_iam', 'azure', 'gcp', 'none', 'kerberos'])
def test_an_auth_method_the_escrow_does_not_implement_names_the_variable_and_the_supported_ones(method):
    found = problems({'ansible_hashi_vault_url': 'https://bao:8200', 'ansible_hashi_vault_auth_method': method,
                      'ansible_hashi_vault_token': TOKEN, 'ansible_hashi_vault_password': SECRET_ID})
    assert len(found) == 1
    assert found[0].startswith("auth method %r is not one the KV escrow supports: set ansible_hashi_vault_auth_method "
                               "(or ANSIBLE_HASHI_VAULT_AUTH_METHOD) to token or approle." % method)
    assert ('log in with one of them yourself and give the token' in found[0]) == (method != 'kerberos')


def test_auth_method_token_without_a_token_says_where_one_is_taken_from(clean_env):
    found = problems({'ansible_hashi_vault_url': 'https://bao:8200'})
    assert found == ['auth method token has no token: set ansible_hashi_vault_token (or ANSIBLE_HASHI_VAULT_TOKEN, or '
                     'VAULT_TOKEN), or put it in %s (ansible_hashi_vault_token_path and ansible_hashi_vault_token_file), '
                     'or use auth method approle.' % (clean_env / '.vault-token')]


@pytest.mark.parametrize('content, why', [(None, 'it is not a file'), ('\n', 'it is empty')])
def test_a_token_file_that_gives_no_token_says_so(clean_env, content, why):
    path = clean_env / '.vault-token'
    if content is None:
        path.mkdir()
    else:
        path.write_text(content)
    assert problems({'ansible_hashi_vault_url': 'https://bao:8200'}) == [
        'the token file %s was found, but %s: fix it, or set ansible_hashi_vault_token (or ANSIBLE_HASHI_VAULT_TOKEN, '
        'or VAULT_TOKEN).' % (path, why)]


def test_approle_needs_a_role_id():
    found = problems({'ansible_hashi_vault_url': 'https://bao:8200', 'ansible_hashi_vault_auth_method': 'approle',
                      'ansible_hashi_vault_secret_id': SECRET_ID})
    assert found == ['auth method approle needs a role id: set ansible_hashi_vault_role_id (or ANSIBLE_HASHI_VAULT_ROLE_ID), '
                     'and the secret id in ansible_hashi_vault_secret_id (or ANSIBLE_HASHI_VAULT_SECRET_ID).']


def test_a_ca_file_that_does_not_exist_a_bad_timeout_and_bad_proxies_are_named(tmp_path):
    found = problems({'ansible_hashi_vault_url': 'https://bao:8200', 'ansible_hashi_vault_token': TOKEN,
                      'ansible_hashi_vault_ca_cert': str(tmp_path / 'nope.pem'), 'ansible_hashi_vault_timeout': 0,
                      'ansible_hashi_vault_proxies': 8080})
    assert found == [
        'the CA certificate %s does not exist: set ansible_hashi_vault_ca_cert (or ANSIBLE_HASHI_VAULT_CA_CERT, or '
        'VAULT_CACERT) to the file of the CA that signed the server\'s certificate.' % (tmp_path / 'nope.pem'),
        'the timeout 0 is no number of seconds above 0: set ansible_hashi_vault_timeout (or ANSIBLE_HASHI_VAULT_TIMEOUT).',
        'the proxies are a number, neither a URL nor a dict of scheme to URL: set ansible_hashi_vault_proxies (or '
        'ANSIBLE_HASHI_VAULT_PROXIES).']


@pytest.mark.parametrize('given, proxies', [
    ('http://proxy:3128', {'http': 'http://proxy:3128', 'https': 'http://proxy:3128'}),
    ({'https': 'http://p:1'}, {'https': 'http://p:1'}),
    ('{"https": "http://p:1"}', {'https': 'http://p:1'}),
    ('https=http://p:1', {'https': 'http://p:1'}),
])
def test_proxies_are_a_url_or_a_dict_as_in_community_hashi_vault(given, proxies):
    assert _vault._proxies(given) == proxies


# -- against a server: hvac talks to a stand-in of the Vault HTTP API ---------

class FakeVault:
    """What the escrow asks of OpenBao when it opens the KV escrow and reads a name it does not hold."""

    def __init__(self):
        self.requests, self.sealed, self.echo = [], False, False
        self.tokens = {TOKEN, APPROLE_TOKEN}
        self.approle_mount = 'approle'
        server, fake = self, self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = json.loads(self.rfile.read(length) or b'{}')
                token = self.headers.get('X-Vault-Token')
                fake.requests.append(dict(method=self.command, path=self.path, token=token, body=body,
                                          namespace=self.headers.get('X-Vault-Namespace')))
                path = self.path.split('?')[0]
                if path == '/v1/sys/seal-status':
                    return self._answer(200, {'sealed': fake.sealed, 'initialized': True})
                if fake.sealed:
                    return self._answer(503, {'errors': ['Vault is sealed']})
                if path == '/v1/auth/%s/login' % fake.approle_mount:
                    if body.get('role_id') == ROLE_ID and body.get('secret_id') == SECRET_ID:
                        return self._answer(200, {'auth': {'client_token': APPROLE_TOKEN}})
                    echoed = ' (secret id %s)' % body.get('secret_id') if fake.echo else ''
                    return self._answer(400, {'errors': ['invalid role or secret ID' + echoed]})
                if path.startswith('/v1/auth/'):
                    return self._answer(404, {'errors': ['no handler for route "%s"' % path[4:]]})
                if token not in fake.tokens:
                    echoed = ' (token %s)' % token if fake.echo else ''
                    return self._answer(403, {'errors': ['permission denied' + echoed]})
                if path == '/v1/sys/capabilities-self':
                    caps = ['create', 'read', 'update']
                    return self._answer(200, dict({'capabilities': caps}, **dict((p, caps) for p in body['paths'])))
                if path == '/v1/sys/internal/ui/mounts/secret':
                    return self._answer(200, {'data': {'type': 'kv', 'options': {'version': '2'}, 'path': 'secret/'}})
                if path == '/v1/secret/config':
                    return self._answer(200, {'data': {'max_versions': 0, 'delete_version_after': '0s'}})
                return self._answer(404, {'errors': []})

            do_GET = do_POST = do_PUT = do_LIST = _handle

        self.httpd = HTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self.thread = threading.Thread(target=server.httpd.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def tokens_used(self):
        return [r['token'] for r in self.requests if r['path'] != '/v1/sys/seal-status' and '/login' not in r['path']]


@pytest.fixture
def vault():
    fake = FakeVault()
    yield fake
    fake.stop()


def kv(url, **variables):
    return dict(keyfleet_escrow_backend='kv', ansible_hashi_vault_url=url, **variables)


def read(variables, names=('a',)):
    return lookup(variables).run(list(names), variables=variables, missing='empty')


def test_auth_method_token_sends_the_token_and_reads(vault):
    assert read(kv(vault.url, ansible_hashi_vault_token=TOKEN)) == ['']
    assert set(vault.tokens_used()) == {TOKEN}
    assert any(r['path'] == '/v1/secret/metadata/keyfleet/a' for r in vault.requests)


def test_auth_method_token_from_vault_token_or_the_token_file(vault, monkeypatch, clean_env):
    monkeypatch.setenv('VAULT_TOKEN', TOKEN)
    assert read(kv(vault.url)) == ['']
    monkeypatch.delenv('VAULT_TOKEN')
    (clean_env / '.vault-token').write_text(TOKEN + '\n')
    del vault.requests[:]
    assert read(kv(vault.url)) == ['']
    assert set(vault.tokens_used()) == {TOKEN}


@pytest.mark.parametrize('mount', [None, 'ci-approle'])
def test_auth_method_approle_logs_in_and_uses_the_token_it_gets(vault, monkeypatch, clean_env, mount):
    # hvac would take ~/.vault-token or VAULT_TOKEN by itself: neither is used with approle.
    (clean_env / '.vault-token').write_text('s.not-this-one')
    monkeypatch.setenv('VAULT_TOKEN', 's.nor-this-one')
    monkeypatch.setenv('ANSIBLE_HASHI_VAULT_ROLE_ID', ROLE_ID)
    monkeypatch.setenv('ANSIBLE_HASHI_VAULT_SECRET_ID', SECRET_ID)
    variables = kv(vault.url, ansible_hashi_vault_auth_method='approle', ansible_hashi_vault_namespace='team-a')
    if mount:
        vault.approle_mount = mount
        variables['ansible_hashi_vault_mount_point'] = mount
    assert read(variables) == ['']
    logins = [r for r in vault.requests if r['path'] == '/v1/auth/%s/login' % (mount or 'approle')]
    assert [(r['token'], r['body']) for r in logins] == [(None, {'role_id': ROLE_ID, 'secret_id': SECRET_ID})]
    assert set(vault.tokens_used()) == {APPROLE_TOKEN}
    assert set(r['namespace'] for r in vault.requests) == {'team-a'}


@pytest.mark.parametrize('echo', [False, True])
def test_a_refused_approle_login_stops_and_never_shows_the_secret_id(vault, echo):
    vault.echo = echo  # a server that repeats the secret id in its error
    variables = kv(vault.url, ansible_hashi_vault_auth_method='approle', ansible_hashi_vault_role_id=ROLE_ID,
                   ansible_hashi_vault_secret_id=SECRET_ID + 'x')
    with pytest.raises(AnsibleLookupError, match=r'login with auth method approle was refused \(invalid role or secret '
                                                 r'ID.*\)\. Nothing was read or written\. Check ansible_hashi_vault_role_id '
                                                 r'and ansible_hashi_vault_secret_id') as e:
        read(variables)
    assert SECRET_ID not in str(e.value) and ('<hidden>' in str(e.value)) == echo
    assert not [r for r in vault.requests if r['path'].startswith('/v1/secret/')]


def test_an_approle_mount_that_is_not_there_says_which_variable_names_it(vault):
    variables = kv(vault.url, ansible_hashi_vault_auth_method='approle', ansible_hashi_vault_role_id=ROLE_ID,
                   ansible_hashi_vault_secret_id=SECRET_ID, ansible_hashi_vault_mount_point='nosuch')
    with pytest.raises(AnsibleLookupError, match='login with auth method approle was refused.*no handler for route.*'
                                                 'ansible_hashi_vault_mount_point'):
        read(variables)


def test_a_token_the_server_refuses_stops_with_http_403_and_never_shows_the_token(vault):
    vault.echo = True
    with pytest.raises(AnsibleLookupError, match=r'permission denied \(HTTP 403\).*token is not valid') as e:
        read(kv(vault.url, ansible_hashi_vault_token='s.revoked-token-9999'))
    assert 's.revoked-token-9999' not in str(e.value)


def test_a_sealed_server_stops_the_run(vault):
    vault.sealed = True
    with pytest.raises(AnsibleLookupError, match=r'KV escrow secret/keyfleet at %s is sealed and cannot be used\. '
                                                 r'Unseal it' % vault.url):
        read(kv(vault.url, ansible_hashi_vault_token=TOKEN))
    with pytest.raises(AnsibleLookupError, match='is sealed'):
        read(kv(vault.url, ansible_hashi_vault_auth_method='approle', ansible_hashi_vault_role_id=ROLE_ID,
                ansible_hashi_vault_secret_id=SECRET_ID))


def test_a_server_that_cannot_be_reached_stops_the_run():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(('127.0.0.1', 0))
        url = 'http://127.0.0.1:%d' % s.getsockname()[1]
    for variables in (kv(url, ansible_hashi_vault_token=TOKEN),
                      kv(url, ansible_hashi_vault_auth_method='approle', ansible_hashi_vault_role_id=ROLE_ID,
                         ansible_hashi_vault_secret_id=SECRET_ID)):
        with pytest.raises(AnsibleLookupError, match='cannot be reached .*ConnectionError.*is the server running') as e:
            read(variables)
        assert TOKEN not in str(e.value) and SECRET_ID not in str(e.value)


def test_an_unknown_auth_method_stops_before_any_request(vault):
    with pytest.raises(AnsibleLookupError, match="auth method 'userpass' is not one the KV escrow supports: set "
                                                 r"ansible_hashi_vault_auth_method \(or ANSIBLE_HASHI_VAULT_AUTH_METHOD\) "
                                                 "to token or approle") as e:
        read(kv(vault.url, ansible_hashi_vault_auth_method='userpass', ansible_hashi_vault_token=TOKEN,
                ansible_hashi_vault_username='u', ansible_hashi_vault_password=SECRET_ID))
    assert vault.requests == [] and TOKEN not in str(e.value) and SECRET_ID not in str(e.value)


def test_without_hvac_the_kv_escrow_says_what_to_install(vault, monkeypatch):
    monkeypatch.setitem(sys.modules, 'hvac', None)  # import hvac raises ImportError
    with pytest.raises(AnsibleLookupError, match='keyfleet_escrow_backend=kv needs the Python library hvac on the controller'):
        read(kv(vault.url, ansible_hashi_vault_token=TOKEN))


def test_the_escrow_code_does_not_import_community_hashi_vault():
    # Its module_utils are private to it (6.2.0 broke them for us); the escrow works and documents itself without it.
    import ansible_collections.keyfleet.encryption.plugins.lookup.escrow as lookup_module
    from ansible_collections.keyfleet.encryption.plugins.plugin_utils import _escrow
    for module in (lookup_module, _escrow, _vault):
        with open(module.__file__) as f:
            tree = ast.parse(f.read())
        imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [name for name in imported if 'hashi_vault' in (name or '')], module.__file__
    assert 'hashi_vault' not in lookup_module.DOCUMENTATION.split('extends_documentation_fragment:')[1].split('notes:')[0]


def test_ansible_doc_of_the_lookup_works_without_community_hashi_vault(tmp_path):
    # Galaxy's importer runs ansible-doc with no dependency installed; before, the page was empty. Only this collection
    # is on the collections path, and the Python packages' collections (the `ansible` package) are not scanned.
    import subprocess
    import ansible_collections.keyfleet.encryption as collection
    root = os.path.dirname(os.path.dirname(os.path.dirname(list(collection.__path__)[0])))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_'))
    env.update(ANSIBLE_COLLECTIONS_PATH=root, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', HOME=str(tmp_path),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'), ANSIBLE_NOCOLOR='1')
    done = subprocess.run([sys.executable, '-m', 'ansible.cli.doc', '--json', '-t', 'lookup', 'keyfleet.encryption.escrow'],
                          env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and 'hashi_vault' not in done.stderr, done.stderr
    doc = json.loads(done.stdout)['keyfleet.encryption.escrow']['doc']
    assert set(_vault.OPTIONS) <= set(doc['options'])
    assert [v['name'] for v in doc['options']['auth_method']['vars']] == ['ansible_hashi_vault_auth_method']
    assert any(r.startswith('hvac') for r in doc['requirements'])


# -- a server that fails in any other way: a sentence, and never a credential -----------------------------------------
# docs/escrow.md promises that no message holds the token, even where a server repeats it: every error below echoes
# the X-Vault-Token it was sent (and the secret id of a login), as a server or a proxy in between may.

FAILING_STEPS = {  # the request of each step of opening the escrow and reading a name
    'seal status': '/v1/sys/seal-status',
    'capabilities': '/v1/sys/capabilities-self',
    'engine': '/v1/sys/internal/ui/mounts/',
    'read': '/v1/secret/data/keyfleet/',
    'metadata': '/v1/secret/metadata/keyfleet/',
    'approle login': '/v1/auth/approle/login',
}
ANSWERS = {  # status, content type: a Vault error, a page of a proxy, a proxy's page that even says 200
    '500': (500, 'application/json'), '400': (400, 'application/json'), '429': (429, 'application/json'),
    '502': (502, 'application/json'), 'proxy page 502': (502, 'text/html'), 'proxy page 200': (200, 'text/html'),
}


def fail(vault, monkeypatch, prefix, answer, methods=('GET', 'POST', 'PUT', 'LIST')):
    """Make the stand-in answer every request under ``prefix`` with ``answer`` (ANSWERS), echoing the credentials."""
    status, content_type = ANSWERS[answer]
    handler, passing = vault.httpd.RequestHandlerClass, vault.httpd.RequestHandlerClass._handle

    def handle(self):
        if not self.path.startswith(prefix):
            return passing(self)
        length = int(self.headers.get('Content-Length') or 0)
        echoed = 'request with token %s and body %s' % (self.headers.get('X-Vault-Token'), self.rfile.read(length))
        vault.requests.append(dict(method=self.command, path=self.path, token=self.headers.get('X-Vault-Token')))
        if content_type == 'application/json':
            data = json.dumps({'errors': ['backend failed for %s' % echoed]}).encode()
        else:
            data = ('<html><body><h1>Proxy error</h1><p>%s</p></body></html>' % echoed).encode()
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    for method in methods:
        monkeypatch.setattr(handler, 'do_' + method, handle)


def approle(url):
    return kv(url, ansible_hashi_vault_auth_method='approle', ansible_hashi_vault_role_id=ROLE_ID,
              ansible_hashi_vault_secret_id=SECRET_ID)


def assert_hidden(text):
    for secret in (TOKEN, APPROLE_TOKEN, SECRET_ID):
        assert secret not in text, text


@pytest.mark.parametrize('answer', sorted(ANSWERS))
@pytest.mark.parametrize('step, auth', [(step, auth) for step in FAILING_STEPS for auth in ('token', 'approle')
                                        if step != 'approle login' or auth == 'approle'])
def test_any_server_error_is_a_sentence_that_never_holds_the_token(vault, monkeypatch, step, auth, answer):
    fail(vault, monkeypatch, FAILING_STEPS[step], answer)
    variables = kv(vault.url, ansible_hashi_vault_token=TOKEN) if auth == 'token' else approle(vault.url)
    with pytest.raises(AnsibleLookupError, match='keyfleet.encryption.escrow: KV escrow secret/keyfleet at %s' % vault.url) as e:
        read(variables)
    assert_hidden(str(e.value))
    assert any(r['path'].startswith(FAILING_STEPS[step]) for r in vault.requests)


@pytest.mark.parametrize('answer', sorted(ANSWERS))
def test_engine_settings_that_cannot_be_read_are_a_warning_that_never_holds_the_token(vault, monkeypatch, answer):
    import ansible_collections.keyfleet.encryption.plugins.lookup.escrow as lookup_module
    warnings = []
    monkeypatch.setattr(lookup_module.display, 'warning', warnings.append)
    fail(vault, monkeypatch, '/v1/secret/config', answer)
    assert read(approle(vault.url)) == ['']
    assert len(warnings) == 1 and 'could not read the settings of the KV engine' in warnings[0]
    assert_hidden(warnings[0])


@pytest.mark.parametrize('answer', sorted(ANSWERS))
@pytest.mark.parametrize('operation', ['write', 'list'])
def test_a_write_or_a_list_the_server_fails_is_an_escrow_error_that_never_holds_the_token(vault, monkeypatch, answer,
                                                                                          operation):
    from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import EscrowError
    variables = approle(vault.url)
    escrow = lookup(variables).open_escrow(variables)
    if operation == 'write':
        fail(vault, monkeypatch, '/v1/secret/data/keyfleet/', answer, methods=('POST', 'PUT'))
    else:
        fail(vault, monkeypatch, '/v1/secret/metadata/keyfleet', answer, methods=('LIST', 'GET'))
    with pytest.raises(EscrowError, match='KV escrow secret/keyfleet at %s' % vault.url) as e:
        escrow.ensure('a', 'password') if operation == 'write' else escrow.names()
    assert_hidden(str(e.value))


def test_the_token_an_approle_login_gave_is_hidden_too():
    from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import KVEscrow

    class Client:
        token, url = APPROLE_TOKEN, 'https://bao:8200'
    escrow = KVEscrow(Client(), hidden=[SECRET_ID])
    assert set(escrow.hidden()) == {APPROLE_TOKEN, SECRET_ID}


def test_a_ca_cert_in_the_home_directory_is_given_to_hvac_expanded(clean_env):
    (clean_env / 'ca.pem').write_text('a CA')
    s = settings({'ansible_hashi_vault_url': 'https://bao:8200', 'ansible_hashi_vault_token': TOKEN,
                  'ansible_hashi_vault_ca_cert': '~/ca.pem'})
    assert (s['ca_cert'], s['verify'], _vault.problems(s)) == (str(clean_env / 'ca.pem'), str(clean_env / 'ca.pem'), [])


def test_a_ca_cert_in_the_home_directory_reaches_the_server(clean_env):
    # hvac opens the file: before, with ~ not expanded, that was a raw OSError; now it is the TLS sentence (a file
    # that is no certificate) - the one a wrong CA gives.
    (clean_env / 'ca.pem').write_text('not a certificate')
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        url = 'https://127.0.0.1:%d' % s.getsockname()[1]
    with pytest.raises(AnsibleLookupError) as e:
        read(kv(url, ansible_hashi_vault_token=TOKEN, ansible_hashi_vault_ca_cert='~/ca.pem'))
    assert 'KV escrow secret/keyfleet at %s' % url in str(e.value)
    assert_hidden(str(e.value))
