# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""keyfleet.encryption.consul_tls_files: the module on the agent and its action plugin on the controller,
joined as Ansible joins them, with real keys and certificates."""

from __future__ import annotations

import base64
import datetime
import grp
import ipaddress
import os
import pwd
import random
import stat

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from ansible.plugins.action import ActionBase

from ansible_collections.keyfleet.encryption.plugins.action import consul_tls_files as action
from ansible_collections.keyfleet.encryption.plugins.modules import consul_tls_files


def make_ca(name='Consul Agent CA dc1'):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=100))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


class Task:
    def __init__(self, args, check_mode=False):
        self.args, self.check_mode, self.async_val = args, check_mode, 0


@pytest.fixture
def tls(tmp_path, monkeypatch, run_module):
    """Run the task: the action plugin, whose module calls run the real module here; records every call's arguments."""
    ca_cert, ca_key = make_ca()
    d = tmp_path / 'tls'
    args = dict(dir=str(d), ca_cert=ca_cert, ca_key=ca_key, cert_days=90, ca_file=str(d / 'ca.pem'),
                cert_file=str(d / 'agent.pem'), key_file=str(d / 'agent-key.pem'),
                dns_names=['server.dc1.consul', 'node1.server.dc1.consul', 'localhost'],
                owner=pwd.getpwuid(os.getuid()).pw_name, group=grp.getgrgid(os.getgid()).gr_name)
    calls = []
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})

    def task(check_mode=False, **over):
        plugin = action.ActionModule.__new__(action.ActionModule)
        plugin._task = Task(dict(args, **over), check_mode)
        plugin._loader = plugin._templar = None

        def execute(module_name, module_args, task_vars):
            calls.append(dict(module_args))
            return run_module(consul_tls_files, module_args, check_mode=check_mode)
        plugin._execute_module = execute
        return plugin.run(task_vars={})
    return dict(task=task, calls=calls, dir=d, args=args)


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_made_once_signed_on_the_controller_then_one_call(tls):
    plan = tls['task'](check_mode=True)
    assert plan['changed'] and plan['certificate_due'] == ['missing'] and not tls['dir'].exists()
    made = tls['task']()
    assert made['changed'] and len(tls['calls']) == 3  # the check, then request and certificate
    key = (tls['dir'] / 'agent-key.pem').read_text()
    assert mode(tls['dir']) == 0o750 and mode(tls['dir'] / 'agent-key.pem') == 0o640 and mode(tls['dir'] / 'agent.pem') == 0o644
    cert = x509.load_pem_x509_certificate((tls['dir'] / 'agent.pem').read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == tls['args']['dns_names']
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'server.dc1.consul'
    again = tls['task']()
    assert not again['changed'] and again['certificate_due'] == [] and len(tls['calls']) == 4
    assert (tls['dir'] / 'agent-key.pem').read_text() == key
    # the CA key never went to the agent
    assert all('ca_key' not in call and tls['args']['ca_key'] not in repr(call) for call in tls['calls'])


def test_another_ca_or_other_names_issue_again_with_the_same_key(tls):
    tls['task']()
    key = (tls['dir'] / 'agent-key.pem').read_text()
    ca_cert, ca_key = make_ca('Another CA')
    moved = tls['task'](ca_cert=ca_cert, ca_key=ca_key)
    assert moved['certificate_due'] == ['not signed by the CA of this run'] and moved['changed']
    renamed = tls['task'](ca_cert=ca_cert, ca_key=ca_key, dns_names=['client.dc1.consul', 'localhost'])
    assert renamed['certificate_due'] == ['names differ']
    assert (tls['dir'] / 'agent-key.pem').read_text() == key


def test_a_ca_rotation_trust_both_new_certificate_trust_new(tls):
    # The three steps of consul_tls_ca_rotate: the CA file only, a certificate of the new CA (signer_cert) for the
    # same key while the file holds both CAs, then the new CA alone. Nothing else is touched in a CA-only step.
    tls['task']()
    key = (tls['dir'] / 'agent-key.pem').read_text()
    cert_a = (tls['dir'] / 'agent.pem').read_text()
    ca_a, (ca_b, key_b) = tls['args']['ca_cert'], make_ca()
    both = tls['task'](ca_cert=ca_a + ca_b, ca_only=True, ca_key=None)
    assert both['changed_files'] == [str(tls['dir'] / 'ca.pem')] and both['certificate_due'] == []
    assert (tls['dir'] / 'ca.pem').read_text() == ca_a + ca_b and (tls['dir'] / 'agent.pem').read_text() == cert_a
    assert not tls['task'](ca_cert=ca_a + ca_b, ca_only=True, ca_key=None)['changed']
    moved = tls['task'](ca_cert=ca_a + ca_b, signer_cert=ca_b, ca_key=key_b)
    assert moved['certificate_due'] == ['not signed by the CA of this run'] and moved['changed_files'] == [str(tls['dir'] / 'agent.pem')]
    cert = x509.load_pem_x509_certificate((tls['dir'] / 'agent.pem').read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_b.encode()))
    assert (tls['dir'] / 'agent-key.pem').read_text() == key
    assert not tls['task'](ca_cert=ca_a + ca_b, signer_cert=ca_b, ca_key=key_b)['changed']
    alone = tls['task'](ca_cert=ca_b, ca_only=True, ca_key=None)
    assert alone['changed'] and (tls['dir'] / 'ca.pem').read_text() == ca_b
    # A run that is no rotation afterwards, with the new CA: nothing to do.
    assert not tls['task'](ca_cert=ca_b, ca_key=key_b)['changed']
    # The old CA key cannot sign for the new CA: refused, nothing written.
    refused = tls['task'](ca_cert=ca_b, signer_cert=ca_b, ca_key=tls['args']['ca_key'], renew_days=100)
    assert refused['failed'] and 'the CA key does not match the CA certificate' in refused['msg']


def test_expiring_within_renew_days_is_issued_again(tls):
    tls['task']()  # valid 90 days
    key = (tls['dir'] / 'agent-key.pem').read_text()
    assert tls['task'](renew_days=100)['certificate_due'] == ['expires within 100 days']
    assert tls['task'](renew_days=100, cert_days=200)['certificate_due'] == ['expires within 100 days']
    assert tls['task'](renew_days=100)['certificate_due'] == []
    assert (tls['dir'] / 'agent-key.pem').read_text() == key


def test_an_unreadable_key_stops_and_stays(tls):
    tls['dir'].mkdir(mode=0o750)
    (tls['dir'] / 'agent-key.pem').write_text('not a key\n')
    result = tls['task']()
    assert result['failed'] and 'agent-key.pem is not an unencrypted PEM private key' in result['msg']
    assert (tls['dir'] / 'agent-key.pem').read_text() == 'not a key\n' and not (tls['dir'] / 'agent.pem').exists()


def test_the_module_refuses_a_ca_key(tls, run_module):
    result = run_module(consul_tls_files, tls['args'])
    assert result['failed'] and 'ca_key is for the controller' in result['msg'] and not tls['dir'].exists()


class FakePKI:
    """Stands in for community.hashi_vault's vault_write lookup: signs with ``ca`` (cert, key) the names it is sent, as a
    PKI role does (Vault's default key usages); extra_names and ca_flag make it sign more than it was sent, as a role
    with use_csr_sans or a CA flag could."""

    def __init__(self, ca, extra_names=(), ca_flag=False):
        self.ca, self.calls, self.extra_names, self.ca_flag = ca, [], extra_names, ca_flag

    def run(self, terms, variables=None, data=None):
        self.calls.append((terms, dict(data)))
        csr = x509.load_pem_x509_csr(data['csr'].encode())
        ca = x509.load_pem_x509_certificate(self.ca[0].encode())
        ca_key = serialization.load_pem_private_key(self.ca[1].encode(), None)
        now = datetime.datetime.now(datetime.timezone.utc)
        names = [data['common_name']] + [n for n in data['alt_names'].split(',') if n] + list(self.extra_names)
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, data['common_name'])]))
                .issuer_name(ca.subject).public_key(csr.public_key()).serial_number(7)
                .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names] + [
                    x509.IPAddress(ipaddress.ip_address(a)) for a in data['ip_sans'].split(',') if a]), critical=False)
                .add_extension(usage(digital_signature=True, key_encipherment=True, key_agreement=True), critical=True)
                .add_extension(x509.ExtendedKeyUsage([SERVER_AUTH, CLIENT_AUTH]), critical=False))
        if self.ca_flag:
            cert = cert.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        return [{'data': {'certificate': cert.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()}}]


@pytest.fixture
def pki(tls, monkeypatch):
    def use(ca):
        fake = FakePKI(ca)
        monkeypatch.setattr(action.lookup_loader, 'get', lambda name, **kw: fake if name == 'community.hashi_vault.vault_write' else None)
        return fake
    return use


def test_pki_signs_and_no_ca_key_is_used(tls, pki):
    ca_cert, ca_key = make_ca('keyfleet lab Consul CA (OpenBao PKI)')
    fake = pki((ca_cert, ca_key))
    made = tls['task'](ca_cert=ca_cert, ca_key=None, pki={'mount_point': 'pki', 'role': 'consul-server'})
    assert made['changed'] and not made.get('failed'), made
    (path,), data = fake.calls[0]
    assert path == 'pki/sign/consul-server' and data['common_name'] == 'server.dc1.consul'
    assert data['alt_names'] == 'node1.server.dc1.consul,localhost' and data['ip_sans'] == '127.0.0.1'
    cert = x509.load_pem_x509_certificate((tls['dir'] / 'agent.pem').read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_cert.encode()))
    assert all('ca_key' not in c or not c['ca_key'] for c in tls['calls'])


def test_a_pki_certificate_from_another_ca_is_not_written(tls, pki):
    trusted_cert, dummy = make_ca('the CA the agents trust')
    pki(make_ca('another CA'))
    failed = tls['task'](ca_cert=trusted_cert, ca_key=None, pki={'role': 'consul-server'})
    assert failed['failed'] and 'does not chain to the CA the agents are given' in failed['msg']
    assert not (tls['dir'] / 'agent.pem').exists()


# -- A hostile agent: the first module call answers with a request of the agent's own choosing (issue 25) --------

CLIENT = dict(dns_names=['client.dc1.consul', 'localhost'], ip_addresses=['127.0.0.1'])
SERVER_AUTH, CLIENT_AUTH = x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH


def usage(**on):
    names = ('digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment', 'key_agreement',
             'key_cert_sign', 'crl_sign', 'encipher_only', 'decipher_only')
    return x509.KeyUsage(**dict((n, on.get(n, False)) for n in names))


def rsa_512():
    """An RSA key of 512 bits: cryptography makes none that small, so it is built from two primes here."""
    rng = random.Random(25)

    def prime():
        while True:
            n = rng.getrandbits(256) | (3 << 254) | 1
            if all(pow(a, n - 1, n) == 1 for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)):
                return n
    while True:
        p, q = prime(), prime()
        phi = (p - 1) * (q - 1)
        if p != q and phi % 65537:
            break
    d = pow(65537, -1, phi)
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(65537, p * q))
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def request(key=None, cn='client.dc1.consul', names=('client.dc1.consul', 'localhost'), ips=('127.0.0.1',),
            subject=None, extensions=None, hash_=hashes.SHA256(), extra_alt=()):
    """A signing request as an agent could send it; extensions: (value, critical) pairs, honest ones by default."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    if extensions is None:
        extensions = [(usage(digital_signature=True), True), (x509.ExtendedKeyUsage([SERVER_AUTH, CLIENT_AUTH]), False)]
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips] + list(extra_alt)
    if alt:
        extensions = [(x509.SubjectAlternativeName(alt), False)] + list(extensions)
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        subject if subject is not None else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(key, hash_)


def pem(csr):
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def _der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b


def resigned(csr, key, old, new):
    """``csr`` with the bytes ``old`` of its request info replaced by ``new`` (same length), signed again with ``key``:
    a well-signed request that cryptography's builder would never make."""
    der, tbs = csr.public_bytes(serialization.Encoding.DER), csr.tbs_certrequest_bytes
    assert len(old) == len(new) and old in tbs
    at = der.index(tbs) + len(tbs)
    alg_len = der[at + 1]
    alg = der[at:at + 2 + alg_len]
    tbs = tbs.replace(old, new)
    sig = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    body = tbs + alg + b'\x03' + _der_len(len(sig) + 1) + b'\x00' + sig
    return pem_of(b'\x30' + _der_len(len(body)) + body)


def pem_of(der):
    text = base64.b64encode(der).decode()
    return '-----BEGIN CERTIFICATE REQUEST-----\n%s-----END CERTIFICATE REQUEST-----\n' % ''.join(
        text[i:i + 64] + '\n' for i in range(0, len(text), 64))


def bad_signature():
    der = bytearray(request().public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01
    return pem_of(bytes(der))


def own_ski_twice():
    """A request with two SubjectAlternativeName extensions (its SubjectKeyIdentifier relabelled), well signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = request(key, extensions=[(x509.SubjectKeyIdentifier(b'\x01' * 20), False)])
    return resigned(csr, key, b'\x06\x03\x55\x1d\x0e', b'\x06\x03\x55\x1d\x11')


def not_utf8_subject():
    key = ec.generate_private_key(ec.SECP256R1())
    csr = request(key, cn='client.dc1.consul', subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'NOTUTF8X')]))
    return resigned(csr, key, b'NOTUTF8X', b'\xff\xfe\xff\xfe\xc0\xc1\xf5\xff')


HOSTILE = {
    'CA:TRUE': (lambda: pem(request(extensions=[(x509.BasicConstraints(ca=True, path_length=None), True)])),
                ['CA:TRUE']),
    'keyCertSign': (lambda: pem(request(extensions=[(usage(digital_signature=True, key_cert_sign=True, crl_sign=True), True)])),
                    ['keyCertSign', 'cRLSign']),
    'server names from a client': (
        lambda: pem(request(names=('server.dc1.consul', 'client.dc1.consul', 'localhost'))),
        ['asked for names the controller did not decide for it: server.dc1.consul '
         '(it may have: client.dc1.consul, localhost, 127.0.0.1)']),
    'another IP': (lambda: pem(request(ips=('127.0.0.1', '10.9.9.9'))), ['10.9.9.9']),
    'fewer names': (lambda: pem(request(names=('client.dc1.consul',))), ['localhost']),
    'a server common name': (lambda: pem(request(cn='server.dc1.consul')), ['CN=server.dc1.consul']),
    'another subject': (lambda: pem(request(subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'client.dc1.consul'),
                                                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'system:masters')]))),
                        ['system:masters']),
    'RSA-512': (lambda: pem(request(rsa_512())), ['RSA key of 512 bits']),
    'Ed25519': (lambda: pem(request(ed25519.Ed25519PrivateKey.generate(), hash_=None)), ['Ed25519']),
    'P-192': (lambda: pem(request(ec.generate_private_key(ec.SECP192R1()))), ['secp192r1']),
    'DSA': (lambda: pem(request(dsa.generate_private_key(2048))), ['DSA']),
    'its own SubjectKeyIdentifier': (lambda: pem(request(extensions=[(x509.SubjectKeyIdentifier(b'\x01' * 20), False)])),
                                     ['SubjectKeyIdentifier']),
    'an unknown critical extension': (
        lambda: pem(request(extensions=[(x509.UnrecognizedExtension(x509.ObjectIdentifier('1.3.6.1.4.1.99999.1'), b'\x05\x00'), True)])),
        ['1.3.6.1.4.1.99999.1']),
    'name constraints': (lambda: pem(request(extensions=[(x509.NameConstraints([x509.DNSName('consul')], None), True)])),
                         ['NameConstraints']),
    'code signing': (lambda: pem(request(extensions=[(x509.ExtendedKeyUsage([SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CODE_SIGNING]), False)])),
                     ['codeSigning']),
    'any usage': (lambda: pem(request(extensions=[(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]), False)])),
                  ['anyExtendedKeyUsage']),
    'a URI name': (lambda: pem(request(extra_alt=[x509.UniformResourceIdentifier('spiffe://dc1/agent/server')])),
                   ['spiffe://dc1/agent/server']),
    'a bad signature': (bad_signature, ['signature']),
    'a duplicate extension': (own_ski_twice, ['cannot be read']),
    'a subject that is not UTF-8': (not_utf8_subject, ['cannot be read']),
    'garbage': (lambda: 'not a request at all\n', ['cannot be read']),
    'an empty PEM': (lambda: '-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n', ['cannot be read']),
    'broken base64': (lambda: '-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n', ['cannot be read']),
    'not text': (lambda: {'csr': 'x'}, ['cannot be read']),
    'not ASCII': (lambda: 'é' * 10, ['cannot be read']),
    'a certificate': (lambda: make_ca()[0], ['cannot be read']),
}


@pytest.fixture
def agent(tmp_path, monkeypatch):
    """The action plugin against a stubbed agent: ``answer`` is the first call's csr; every call recorded."""
    ca_cert, ca_key = make_ca()
    d = tmp_path / 'tls'
    args = dict(dir=str(d), ca_cert=ca_cert, ca_key=ca_key, cert_days=90, ca_file=str(d / 'ca.pem'),
                cert_file=str(d / 'agent.pem'), key_file=str(d / 'agent-key.pem'), **CLIENT)
    calls = []
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})

    def task(answer, **over):
        plugin = action.ActionModule.__new__(action.ActionModule)
        plugin._task = Task(dict(args, **over))
        plugin._loader = plugin._templar = None

        def execute(module_name, module_args, task_vars):
            calls.append(dict(module_args))
            if len(calls) == 1:
                return dict(changed=True, changed_files=[args['ca_file'], args['key_file'], args['cert_file']],
                            certificate_due=['missing'], csr=answer)
            return dict(changed=True, changed_files=[args['cert_file']])
        plugin._execute_module = execute
        return plugin.run(task_vars={'inventory_hostname': 'node4'})
    return dict(task=task, calls=calls, ca=(ca_cert, ca_key))


def assert_only_what_the_controller_decided(certificate_pem, ca_cert_pem, dns_names, ip_addresses, rsa_key=False):
    cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    ca = x509.load_pem_x509_certificate(ca_cert_pem.encode())
    cert.verify_directly_issued_by(ca)
    assert cert.subject == x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])])
    ext = dict((e.oid, e) for e in cert.extensions)
    assert set(ext) == {x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, x509.oid.ExtensionOID.BASIC_CONSTRAINTS,
                        x509.oid.ExtensionOID.KEY_USAGE, x509.oid.ExtensionOID.EXTENDED_KEY_USAGE,
                        x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER, x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER}
    san = ext[x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME].value
    assert san.get_values_for_type(x509.DNSName) == dns_names
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address(a) for a in ip_addresses]
    assert len(list(san)) == len(dns_names) + len(ip_addresses)
    bc = ext[x509.oid.ExtensionOID.BASIC_CONSTRAINTS]
    assert bc.critical and bc.value.ca is False and bc.value.path_length is None
    ku = ext[x509.oid.ExtensionOID.KEY_USAGE]
    assert ku.critical and ku.value == usage(digital_signature=True, key_encipherment=rsa_key)
    assert list(ext[x509.oid.ExtensionOID.EXTENDED_KEY_USAGE].value) == [SERVER_AUTH, CLIENT_AUTH]
    assert ext[x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER].value == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    assert ext[x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER].value.key_identifier == \
        x509.SubjectKeyIdentifier.from_public_key(ca.public_key()).digest
    return cert


@pytest.mark.parametrize('case', sorted(HOSTILE))
def test_a_hostile_request_is_refused_and_nothing_is_signed(agent, case, monkeypatch):
    make, words = HOSTILE[case]
    answer = make()
    signed = []
    real_sign = x509.CertificateBuilder.sign
    monkeypatch.setattr(x509.CertificateBuilder, 'sign', lambda self, *a, **kw: signed.append(1) or real_sign(self, *a, **kw))
    result = agent['task'](answer)
    assert result.get('failed'), result
    assert 'consul agent node4' in result['msg'] and 'nothing was signed' in result['msg'], result['msg']
    assert all(w in result['msg'] for w in words), result['msg']
    assert 'Traceback' not in result['msg']
    assert len(agent['calls']) == 1 and not signed  # no second call, no certificate made
    assert '-----BEGIN CERTIFICATE-----' not in repr(result)


ACCEPTED = {
    'the module\'s own': lambda: pem(request()),
    'CA:FALSE asked for': lambda: pem(request(extensions=[(x509.BasicConstraints(ca=False, path_length=None), True),
                                                          (usage(digital_signature=True), True)])),
    'no usages asked for': lambda: pem(request(extensions=[])),
    'names in another order and case': lambda: pem(request(cn='Client.DC1.consul', names=('LOCALHOST', 'client.dc1.consul'))),
    'an RSA key of 2048 bits': lambda: pem(request(rsa.generate_private_key(65537, 2048),
                                                   extensions=[(usage(digital_signature=True, key_encipherment=True), True)])),
    'a P-384 key': lambda: pem(request(ec.generate_private_key(ec.SECP384R1()))),
}


@pytest.mark.parametrize('case', sorted(ACCEPTED))
def test_what_is_signed_carries_only_what_the_controller_decided(agent, case):
    csr = ACCEPTED[case]()
    result = agent['task'](csr)
    assert not result.get('failed'), result
    assert len(agent['calls']) == 2
    issued = agent['calls'][1]['certificate']
    cert = assert_only_what_the_controller_decided(issued, agent['ca'][0], CLIENT['dns_names'], CLIENT['ip_addresses'],
                                                   rsa_key='RSA' in case)
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert cert.public_key().public_bytes(*spki) == x509.load_pem_x509_csr(csr.encode()).public_key().public_bytes(*spki)


def test_an_honest_agent_gets_a_certificate_that_verifies(tls):
    made = tls['task']()
    assert made['changed'] and not made.get('failed'), made
    assert_only_what_the_controller_decided((tls['dir'] / 'agent.pem').read_text(), tls['args']['ca_cert'],
                                            tls['args']['dns_names'], ['127.0.0.1'])


def test_an_honest_agent_with_an_rsa_key_gets_key_encipherment(tls):
    tls['dir'].mkdir(mode=0o750)
    key = rsa.generate_private_key(65537, 2048)
    (tls['dir'] / 'agent-key.pem').write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                                 serialization.NoEncryption()))
    made = tls['task']()
    assert made['changed'] and not made.get('failed'), made
    assert_only_what_the_controller_decided((tls['dir'] / 'agent.pem').read_text(), tls['args']['ca_cert'],
                                            tls['args']['dns_names'], ['127.0.0.1'], rsa_key=True)


def test_an_agent_with_a_weak_key_of_its_own_is_refused(tls):
    tls['dir'].mkdir(mode=0o750)
    (tls['dir'] / 'agent-key.pem').write_bytes(rsa_512().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    failed = tls['task']()
    assert failed['failed'] and 'RSA key of 512 bits' in failed['msg'] and len(tls['calls']) == 1
    assert not (tls['dir'] / 'agent.pem').exists()


# -- Names are checked on the controller before the first call (case 10) ---------------------------------------

@pytest.mark.parametrize('over, variable', [
    (dict(dns_names=['server.dc1.consul', 'nöde1.server.dc1.consul', 'localhost']), 'dns_names'),
    (dict(dns_names=['server.dc1.consul', 'node 1.server.dc1.consul', 'localhost']), 'dns_names'),
    (dict(dns_names=['server..consul', 'localhost']), 'dns_names'),
    (dict(dns_names=['server.dc1.consul', 'n' * 64 + '.server.dc1.consul']), 'dns_names'),
    (dict(dns_names=['*.dc1.consul']), 'dns_names'),
    (dict(dns_names=[]), 'dns_names'),
    (dict(ip_addresses=['127.0.0.1', 'localhost']), 'ip_addresses'),
])
def test_a_bad_name_stops_before_the_agent_is_called(tls, over, variable):
    failed = tls['task'](**over)
    assert failed['failed'] and variable in failed['msg'] and 'nothing was written' in failed['msg'], failed
    assert tls['calls'] == [] and not tls['dir'].exists()
    if variable == 'dns_names':
        assert 'consul_node_name' in failed['msg']


def test_the_module_called_directly_checks_names_before_it_writes(tls, run_module):
    args = dict(tls['args'], ca_key=None, dns_names=['server.dc1.consul', 'nöde1.server.dc1.consul'])
    failed = run_module(consul_tls_files, args)
    assert failed['failed'] and 'dns_names' in failed['msg'] and 'nothing was written' in failed['msg']
    assert not tls['dir'].exists()


# -- The PKI is held to the same rule ------------------------------------------------------------------------

@pytest.mark.parametrize('kw, words', [
    (dict(extra_names=['server.dc1.consul']), ['server.dc1.consul']),
    (dict(ca_flag=True), ['CA:TRUE']),
])
def test_a_pki_certificate_beyond_the_policy_is_not_written(tls, monkeypatch, kw, words):
    ca = make_ca('keyfleet lab Consul CA (OpenBao PKI)')
    fake = FakePKI(ca, **kw)
    monkeypatch.setattr(action.lookup_loader, 'get', lambda name, **k: fake)
    failed = tls['task'](ca_cert=ca[0], ca_key=None, pki={'role': 'consul-client'}, **CLIENT)
    assert failed['failed'] and all(w in failed['msg'] for w in words) and 'nothing was written' in failed['msg'], failed
    assert len(fake.calls) == 1 and len(tls['calls']) == 1 and not (tls['dir'] / 'agent.pem').exists()


def test_a_vault_like_pki_certificate_within_the_policy_is_written(tls, monkeypatch):
    ca = make_ca('keyfleet lab Consul CA (OpenBao PKI)')
    fake = FakePKI(ca)
    monkeypatch.setattr(action.lookup_loader, 'get', lambda name, **k: fake)
    made = tls['task'](ca_cert=ca[0], ca_key=None, pki={'role': 'consul-client'}, **CLIENT)
    assert made['changed'] and not made.get('failed'), made
    assert (tls['dir'] / 'agent.pem').exists()


def test_a_hostile_request_never_reaches_the_pki(agent, monkeypatch):
    fake = FakePKI(agent['ca'])
    monkeypatch.setattr(action.lookup_loader, 'get', lambda name, **k: fake)
    failed = agent['task'](HOSTILE['CA:TRUE'][0](), ca_key=None, pki={'role': 'consul-client'})
    assert failed['failed'] and 'CA:TRUE' in failed['msg'] and fake.calls == [] and len(agent['calls']) == 1


def test_a_ca_certificate_an_agent_got_before_is_issued_again(tls):
    """An agent that holds a certificate with CA:TRUE (signed before the policy) gets one within the policy."""
    tls['task']()
    key = serialization.load_pem_private_key((tls['dir'] / 'agent-key.pem').read_bytes(), None)
    ca = x509.load_pem_x509_certificate(tls['args']['ca_cert'].encode())
    ca_key = serialization.load_pem_private_key(tls['args']['ca_key'].encode(), None)
    now = datetime.datetime.now(datetime.timezone.utc)
    old = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'server.dc1.consul')]))
           .issuer_name(ca.subject).public_key(key.public_key()).serial_number(3)
           .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=90))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in tls['args']['dns_names']]
                                                      + [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
           .add_extension(x509.ExtendedKeyUsage([SERVER_AUTH, CLIENT_AUTH]), critical=False)
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
           .sign(ca_key, hashes.SHA256()))
    (tls['dir'] / 'agent.pem').write_bytes(old.public_bytes(serialization.Encoding.PEM))
    again = tls['task']()
    assert again['changed'] and again['certificate_due'] == ['a CA certificate (CA:TRUE or keyCertSign), which no agent gets']
    assert_only_what_the_controller_decided((tls['dir'] / 'agent.pem').read_text(), tls['args']['ca_cert'],
                                            tls['args']['dns_names'], ['127.0.0.1'])


def test_an_agent_is_named_as_consul_tls_cert_create_names_it(tls):
    tls['args'].pop('dns_names')
    made = tls['task'](agent=dict(server='true', node_name='c1', datacenter='dc1', domain='consul.'))
    assert made['changed'] and not made.get('failed')
    assert all(call['dns_names'] == ['server.dc1.consul', 'c1.server.dc1.consul', 'localhost'] and 'agent' not in call
               for call in tls['calls'])
    cert = x509.load_pem_x509_certificate((tls['dir'] / 'agent.pem').read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ['server.dc1.consul', 'c1.server.dc1.consul', 'localhost']


def test_names_and_agent_together_or_an_agent_half_given_are_refused(tls):
    both = tls['task'](agent=dict(server=False, node_name='c1', datacenter='dc1', domain='consul'))
    assert both['failed'] and 'not both' in both['msg'] and tls['calls'] == []
    tls['args'].pop('dns_names')
    half = tls['task'](agent=dict(server=False, node_name='c1'))
    assert half['failed'] and 'agent needs server, node_name, datacenter and domain' in half['msg'] and tls['calls'] == []
