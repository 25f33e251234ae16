# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real OpenBao server for the tests (not -dev mode): integrated (raft) storage (OpenBao 2 has no file storage),
TLS with its own CA, init, unseal,
a KV v2 engine at secret/, a policy limited to the escrow path, an AppRole, and a PKI engine for Consul.

    python3 openbao.py start DIR [PORT]   start (or restart and unseal) the server kept in DIR; DIR/env.json says how to use it
    openbao.py seal|unseal|stop DIR

env.json (mode 0600) holds the url, the CA file, the root token, a token with the escrow policy, one without,
the AppRole's role_id and secret_id. The unseal key and root token are in DIR/init.json (0600). Every secret
goes over the API, none on a command line.
"""

import datetime
import ipaddress
import json
import os
import signal
import subprocess
import sys
import time

import hvac
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ESCROW_POLICY = '''
path "secret/data/keyfleet/*" { capabilities = ["create", "read", "update"] }
path "secret/metadata/keyfleet/*" { capabilities = ["read", "list"] }
path "secret/metadata/keyfleet" { capabilities = ["list"] }
path "secret/config" { capabilities = ["read"] }
path "pki/sign/consul-server" { capabilities = ["update"] }
path "pki/sign/consul-client" { capabilities = ["update"] }
path "pki2/sign/consul-server" { capabilities = ["update"] }
path "pki2/sign/consul-client" { capabilities = ["update"] }
'''
# A token that works but may not touch the escrow path.
OTHER_POLICY = 'path "secret/data/other/*" { capabilities = ["create", "read", "update"] }\n'


def write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(data)


def make_tls(d):
    """A CA and a server certificate for 127.0.0.1, made once."""
    if os.path.exists(os.path.join(d, 'tls', 'server.pem')):
        return
    os.makedirs(os.path.join(d, 'tls'), mode=0o700, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'keyfleet lab OpenBao CA')])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1')),
                                                        x509.DNSName('localhost')]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    with open(os.path.join(d, 'tls', 'ca.pem'), 'wb') as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(d, 'tls', 'server.pem'), 'wb') as f:
        f.write(cert.public_bytes(pem) + ca.public_bytes(pem))
    write_private(os.path.join(d, 'tls', 'server.key'), key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())


def client(d, token=None):
    env = load(d, 'env.json') if os.path.exists(os.path.join(d, 'env.json')) else {}
    port = env.get('port') or int(open(os.path.join(d, 'port')).read())
    return hvac.Client(url='https://127.0.0.1:%d' % port, verify=os.path.join(d, 'tls', 'ca.pem'), token=token)


def load(d, name):
    with open(os.path.join(d, name)) as f:
        return json.load(f)


def running(d):
    """The pid of this directory's server, if it runs: a pid file left behind may name another process by now
    (pids are reused), which must never get the SIGTERM of stop()."""
    try:
        pid = int(open(os.path.join(d, 'pid')).read())
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            cmdline = f.read().split(b'\0')
        if not cmdline or not os.path.basename(cmdline[0].decode(errors='replace')).startswith('bao') \
                or not any(os.path.abspath(d).encode() in arg for arg in cmdline):
            return None
        return pid
    except (OSError, ValueError):
        return None


def start(d, port):
    d = os.path.abspath(d)
    os.makedirs(os.path.join(d, 'data'), mode=0o700, exist_ok=True)
    make_tls(d)
    with open(os.path.join(d, 'port'), 'w') as f:
        f.write(str(port))
    with open(os.path.join(d, 'config.hcl'), 'w') as f:
        f.write('storage "raft" {\n  path = "%(d)s/data"\n  node_id = "lab"\n}\n'
                'listener "tcp" {\n  address = "127.0.0.1:%(p)d"\n  tls_cert_file = "%(d)s/tls/server.pem"\n'
                '  tls_key_file = "%(d)s/tls/server.key"\n}\napi_addr = "https://127.0.0.1:%(p)d"\n'
                'cluster_addr = "https://127.0.0.1:%(c)d"\n' % dict(d=d, p=port, c=port + 1))
    if not running(d):
        bao = os.path.join(os.path.dirname(sys.executable), 'bao')
        log = open(os.path.join(d, 'server.log'), 'ab')
        proc = subprocess.Popen([bao, 'server', '-config=%s/config.hcl' % d], stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        with open(os.path.join(d, 'pid'), 'w') as f:
            f.write(str(proc.pid))
    c = client(d)
    for dummy in range(100):
        try:
            c.sys.read_seal_status()
            break
        except Exception:  # not listening yet
            time.sleep(0.1)
    else:
        sys.exit('OpenBao did not start; see %s/server.log' % d)
    if not c.sys.is_initialized():
        init = c.sys.initialize(secret_shares=1, secret_threshold=1)
        write_private(os.path.join(d, 'init.json'), json.dumps({'keys': init['keys'], 'root_token': init['root_token']}))
    unseal(d)
    if not os.path.exists(os.path.join(d, 'env.json')):
        configure(d, port)
    policies(d)  # again on a restart: a server made before a policy change gets the policies of this file
    print(os.path.join(d, 'env.json'))


def unseal(d):
    c = client(d)
    if c.sys.is_sealed():
        c.sys.submit_unseal_keys(load(d, 'init.json')['keys'])
    for dummy in range(100):  # active once unsealed
        try:
            if c.sys.read_health_status(method='GET').get('initialized'):
                return
        except Exception:  # standby or not ready yet
            pass
        time.sleep(0.1)


def configure(d, port):
    root = load(d, 'init.json')['root_token']
    c = client(d, root)
    c.sys.enable_secrets_engine('kv', path='secret', options={'version': '2'})
    policies(d)
    c.sys.enable_auth_method('approle')
    # Batch tokens: every escrow lookup logs in, and a batch token is not kept in storage.
    c.auth.approle.create_or_update_approle('keyfleet', token_policies=['keyfleet-escrow'], token_ttl='15m',
                                            token_type='batch')
    role_id = c.auth.approle.read_role_id('keyfleet')['data']['role_id']
    secret_id = c.auth.approle.generate_secret_id('keyfleet')['data']['secret_id']
    # PKI for Consul: a root CA whose key never leaves the server, and one role per agent kind.
    # A second PKI (pki2), the issuer a CA rotation moves the cluster to.
    cas = {}
    for mount in ('pki', 'pki2'):
        c.sys.enable_secrets_engine('pki', path=mount, config={'max_lease_ttl': '87600h'})
        cas[mount] = c.secrets.pki.generate_root('internal', 'keyfleet lab Consul CA (OpenBao %s)' % mount,
                                                 extra_params={'ttl': '87600h'}, mount_point=mount)
        for kind in ('server', 'client'):
            c.secrets.pki.create_or_update_role('consul-%s' % kind, extra_params={
                'allowed_domains': ['%s.dc1.consul' % kind], 'allow_bare_domains': True, 'allow_subdomains': kind == 'server',
                'allow_localhost': True, 'allow_ip_sans': True, 'server_flag': True, 'client_flag': True,
                'allow_glob_domains': False,
                'key_type': 'any', 'max_ttl': '8760h', 'ttl': '720h', 'require_cn': False}, mount_point=mount)
    ca = cas['pki']
    env = {
        'url': 'https://127.0.0.1:%d' % port, 'port': port, 'ca_cert': os.path.join(d, 'tls', 'ca.pem'),
        'root_token': root,
        'token': c.auth.token.create(policies=['keyfleet-escrow'], ttl='24h')['auth']['client_token'],
        'other_token': c.auth.token.create(policies=['other'], ttl='24h')['auth']['client_token'],
        'role_id': role_id, 'secret_id': secret_id, 'storage': os.path.join(d, 'data'),
        'pki_ca': ca['data']['certificate'],
        'pki2_ca': cas['pki2']['data']['certificate'],
    }
    write_private(os.path.join(d, 'env.json'), json.dumps(env, indent=1))


def policies(d):
    c = client(d, load(d, 'init.json')['root_token'])
    c.sys.create_or_update_policy('keyfleet-escrow', ESCROW_POLICY)
    c.sys.create_or_update_policy('other', OTHER_POLICY)


def seal(d):
    client(d, load(d, 'init.json')['root_token']).sys.seal()


def stop(d):
    pid = running(d)
    if pid:
        os.kill(pid, signal.SIGTERM)
        for dummy in range(100):
            if not running(d):
                break
            time.sleep(0.1)


if __name__ == '__main__':
    cmd, where = sys.argv[1], sys.argv[2]
    if cmd == 'start':
        start(where, int(sys.argv[3]) if len(sys.argv) > 3 else 8250)
    else:
        {'seal': seal, 'unseal': unseal, 'stop': stop}[cmd](where)
