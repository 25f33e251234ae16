# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A Consul agent's key, signing request and certificate, on the agent. Private to this collection.

The key is made on the agent and never leaves it; the controller signs the request
(plugin_utils/_consul_tls.py). Needs the Python cryptography library on the agent, as
community.crypto's modules do.
"""

from __future__ import annotations

import datetime
import ipaddress

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_ERROR = True, None
except ImportError as e:  # reported by the module with missing_required_lib
    HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_ERROR = False, e


class TLSError(Exception):
    pass


def new_key_pem():
    """An ECDSA P-256 key, as `consul tls cert create` makes, in PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode('ascii')


def load_key(pem, path):
    try:
        return serialization.load_pem_private_key(pem.encode('ascii'), password=None)
    except (ValueError, TypeError) as e:  # never replaced silently: certificates in use may rest on it
        raise TLSError('%s is not an unencrypted PEM private key (%s); move it away to have a new one made' % (path, e))


def load_certificate(pem, what):
    try:
        return x509.load_pem_x509_certificate(pem.encode('ascii'))
    except ValueError as e:
        raise TLSError('%s is not a PEM certificate: %s' % (what, e))


def _public(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def alt_names(dns_names, ip_addresses):
    return [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]


def signed_by(cert, ca):
    """Whether ``ca`` issued ``cert`` (issuer name and signature)."""
    if cert.issuer != ca.subject:
        return False
    public = ca.public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        else:
            public.verify(cert.signature, cert.tbs_certificate_bytes)
    except InvalidSignature:
        return False
    return True


def _not_after(cert):
    after = getattr(cert, 'not_valid_after_utc', None)  # cryptography >= 42; older ones give naive UTC
    return after if after is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def certificate_problems(cert, key, ca, dns_names, ip_addresses, renew_days, now=None):
    """Why the agent's certificate must be issued again (empty when it is fine); renew_days None: no expiry check."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    problems = []
    if not signed_by(cert, ca):
        problems.append('not signed by the CA of this run')
    if _public(cert.public_key()) != _public(key.public_key()):
        problems.append('not for the agent key')
    try:
        have = set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        have = set()
    if have != set(alt_names(dns_names, ip_addresses)):
        problems.append('names differ')
    try:
        usage = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usage = set()
    if not {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= usage:
        problems.append('not for both server and client authentication')
    if renew_days is not None and _not_after(cert) <= now + datetime.timedelta(days=renew_days):
        problems.append('expires within %d days' % renew_days)
    return problems


def signing_request_pem(key, dns_names, ip_addresses):
    """A request for the agent's names: server and client authentication, as `consul tls cert create`."""
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
           .add_extension(x509.SubjectAlternativeName(alt_names(dns_names, ip_addresses)), critical=False)
           .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                        data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                        crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                          critical=False)
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode('ascii')
