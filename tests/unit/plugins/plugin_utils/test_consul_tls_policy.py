# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's certificate policy for Consul agents (plugin_utils/_consul_tls.py): what the CA signs, and
what a certificate a PKI issued must be before it is written (check_issued)."""

from __future__ import annotations

import datetime
import ipaddress

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import TLSError
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._consul_tls import check_issued, sign_request

AGENT = 'consul agent node4'
NAMES, IPS = ('client.dc1.consul', 'localhost'), ('127.0.0.1',)
PEM = serialization.Encoding.PEM


def ca(name='Consul Agent CA dc1', ski=False):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=100))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    if ski:  # as community.crypto makes it: a method of its own, not cryptography's from_public_key
        cert = cert.add_extension(x509.SubjectKeyIdentifier(b'\x42' * 20), critical=False)
    cert = cert.sign(key, hashes.SHA256())
    return cert, key


def usage(**on):
    names = ('digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment', 'key_agreement',
             'key_cert_sign', 'crl_sign', 'encipher_only', 'decipher_only')
    return x509.KeyUsage(**dict((n, on.get(n, False)) for n in names))


def csr_for(key, names=NAMES, ips=IPS):
    return (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]
                                                       + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]), critical=False)
            .sign(key, hashes.SHA256()).public_bytes(PEM).decode())


def issued(ca_pair, key, names=NAMES, ips=IPS, cn=None, ku=None, eku=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
           bc=None, extra=()):
    """A certificate as a PKI could issue it (Vault's default key usages; no basic constraints unless asked)."""
    ca_cert, ca_key = ca_pair
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn or names[0])]))
               .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(9)
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]
                                                          + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]), critical=False)
               .add_extension(ku or usage(digital_signature=True, key_encipherment=True, key_agreement=True), critical=True))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if bc is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=bc, path_length=None), critical=True)
    for value in extra:
        builder = builder.add_extension(value, critical=False)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(PEM).decode()


@pytest.fixture
def pki():
    return ca('keyfleet lab Consul CA (OpenBao PKI)'), ec.generate_private_key(ec.SECP256R1())


def check(pair, key, certificate, names=NAMES, ips=IPS):
    check_issued(certificate, pair[0].public_bytes(PEM).decode(), csr_for(key, names, ips), names, ips, AGENT)


@pytest.mark.parametrize('kw', [dict(), dict(bc=False), dict(ku=usage(digital_signature=True)),
                                dict(names=['Client.dc1.consul', 'localhost'])])
def test_a_certificate_within_the_policy_passes(pki, kw):
    pair, key = pki
    check(pair, key, issued(pair, key, **kw))


@pytest.mark.parametrize('kw, words', [
    (dict(names=['client.dc1.consul', 'localhost', 'server.dc1.consul']),
     ['carries names the controller did not decide', 'server.dc1.consul']),
    (dict(names=['client.dc1.consul']), ['localhost']),
    (dict(ips=['127.0.0.1', '10.1.1.1']), ['10.1.1.1']),
    (dict(cn='server.dc1.consul'), ['CN=server.dc1.consul']),
    (dict(bc=True), ['CA:TRUE']),
    (dict(ku=usage(digital_signature=True, key_cert_sign=True)), ['keyCertSign']),
    (dict(ku=usage(key_encipherment=True)), ['digitalSignature']),
    (dict(eku=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.CODE_SIGNING)), ['codeSigning']),
    (dict(eku=(ExtendedKeyUsageOID.SERVER_AUTH,)), ['clientAuth']),
    (dict(extra=[x509.NameConstraints([x509.DNSName('consul')], None)]), ['NameConstraints']),
])
def test_a_certificate_beyond_the_policy_is_refused(pki, kw, words):
    pair, key = pki
    with pytest.raises(TLSError) as e:
        check(pair, key, issued(pair, key, **kw))
    assert AGENT in str(e.value) and 'nothing was written' in str(e.value)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_a_certificate_for_another_key_or_from_another_ca_is_refused(pki):
    pair, key = pki
    with pytest.raises(TLSError, match='not for the key'):
        check(pair, key, issued(pair, ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(TLSError, match='does not chain to the CA the agents are given'):
        check(pair, key, issued(ca('another CA'), key))


@pytest.mark.parametrize('garbage', ['', 'not a certificate', '-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n', None, 'é'])
def test_garbage_from_the_pki_is_a_sentence(pki, garbage):
    pair, key = pki
    with pytest.raises(TLSError) as e:
        check(pair, key, garbage)
    assert AGENT in str(e.value)


def test_the_authority_key_identifier_is_the_cas_own():
    for pair in (ca(), ca(ski=True)):
        key = ec.generate_private_key(ec.SECP256R1())
        pem = sign_request(csr_for(key), pair[0].public_bytes(PEM).decode(),
                           pair[1].private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
                           30, NAMES, IPS, AGENT)
        cert = x509.load_pem_x509_certificate(pem.encode())
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        try:
            want = pair[0].extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        except x509.ExtensionNotFound:
            want = x509.SubjectKeyIdentifier.from_public_key(pair[1].public_key()).digest
        assert aki == want


@pytest.mark.parametrize('ca_key, words', [('not a key', 'CA key cannot be read'), (None, 'CA key cannot be read'),
                                           ('other', 'does not match the CA certificate')])
def test_a_bad_ca_key_is_a_sentence(ca_key, words):
    pair = ca()
    if ca_key == 'other':
        ca_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with pytest.raises(TLSError, match=words):
        sign_request(csr_for(ec.generate_private_key(ec.SECP256R1())), pair[0].public_bytes(PEM).decode(), ca_key, 30,
                     NAMES, IPS, AGENT)
