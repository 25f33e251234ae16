# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The controller half of a Consul agent certificate: the CA signs the agent's request. Private.

The CA key stays on the controller; the agent's key stays on the agent. The certificate carries
what the request asks for (names, key usage), plus the key identifiers, as community.crypto's
ownca provider writes them.
"""

from __future__ import annotations

import datetime

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import TLSError, load_certificate

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
except ImportError:  # the module_utils import above names what is missing
    pass


def sign_request(csr_pem, ca_cert_pem, ca_key_pem, days, now=None):
    """The certificate for ``csr_pem``, signed by the CA, valid ``days`` days, in PEM."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode('ascii'))
    except ValueError as e:
        raise TLSError('the agent sent no valid signing request: %s' % e)
    if not csr.is_signature_valid:
        raise TLSError('the signing request of the agent does not verify')
    ca = load_certificate(ca_cert_pem, 'the CA certificate')
    try:
        ca_key = serialization.load_pem_private_key(ca_key_pem.encode('ascii'), password=None)
    except (ValueError, TypeError) as e:
        raise TLSError('the CA key cannot be read: %s' % e)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(csr.subject)
               .issuer_name(ca.subject)
               .public_key(csr.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=1))  # a little clock skew between hosts
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    for ext in csr.extensions:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode('ascii')


def pki_sign_data(csr_pem, dns_names, ip_addresses, days):
    """What an OpenBao / Vault PKI role's sign endpoint takes for an agent: the names the agent's request asks for."""
    return {'csr': csr_pem, 'common_name': dns_names[0], 'alt_names': ','.join(dns_names[1:]),
            'ip_sans': ','.join(ip_addresses), 'ttl': '%dh' % (int(days) * 24), 'format': 'pem',
            'exclude_cn_from_sans': False}


def check_issued(certificate_pem, ca_cert_pem, csr_pem):
    """Stop unless the certificate is for the request's key and chains to the CA the agents are given."""
    cert = load_certificate(certificate_pem, 'the certificate the PKI issued')
    ca = load_certificate(ca_cert_pem, 'the CA certificate')
    csr = x509.load_pem_x509_csr(csr_pem.encode('ascii'))
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(serialization.Encoding.DER, spki) != \
            csr.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise TLSError('the certificate the PKI issued is not for the key of the agent\'s request')
    try:
        cert.verify_directly_issued_by(ca)
    except Exception as e:  # InvalidSignature, ValueError or TypeError
        raise TLSError('the certificate the PKI issued does not chain to the CA the agents are given (the PKI\'s CA '
                       'read before any host changed; issuer %s): %s. Nothing was written.'
                       % (cert.issuer.rfc4514_string(), e or type(e).__name__))
