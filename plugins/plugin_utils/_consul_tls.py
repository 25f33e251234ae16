# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The controller half of a Consul agent certificate: the CA signs the agent's request. Private.

The CA key stays on the controller; the agent's key stays on the agent. What a certificate says is the
controller's policy, never the request's: the subject (CN = the first DNS name), the names (exactly the DNS
names and IP addresses the task was given on the controller), CA:FALSE, key usage digitalSignature (and
keyEncipherment for an RSA key), extended key usage serverAuth and clientAuth, the key identifiers. The request
contributes only its public key, once its signature verifies and the key is EC P-256 / P-384 or RSA of 2048
bits or more. A request that asks for anything else is refused, not trimmed: it came from an agent that is not
the module, and the message says what it asked for. A PKI's certificate is held to the same rule (check_issued).
"""

from __future__ import annotations

import datetime
import ipaddress

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import TLSError, load_certificate, name_problems, names_refusal

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
except ImportError:  # the module_utils import above names what is missing
    pass

KEY_RULE = 'keys must be EC P-256 or P-384, or RSA of 2048 bits or more'
CURVES = ('secp256r1', 'secp384r1')
MIN_RSA_BITS = 2048

_USAGES = (('digital_signature', 'digitalSignature'), ('content_commitment', 'nonRepudiation'),
           ('key_encipherment', 'keyEncipherment'), ('data_encipherment', 'dataEncipherment'),
           ('key_agreement', 'keyAgreement'), ('key_cert_sign', 'keyCertSign'), ('crl_sign', 'cRLSign'))


def _why(e):
    text = str(e) or type(e).__name__
    return text if len(text) <= 200 else text[:200] + '...'


def _oid_name(oid):
    if oid.dotted_string == '2.5.29.37.0':  # cryptography has no name for it
        return 'anyExtendedKeyUsage'
    name = getattr(oid, '_name', None)
    return name if name and name != 'Unknown OID' else oid.dotted_string


def _spki(public):
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def describe_key(public):
    """The key in words: 'an RSA key of 512 bits', 'an EC key on secp192r1', 'an Ed25519 key'."""
    if isinstance(public, rsa.RSAPublicKey):
        return 'an RSA key of %d bits' % public.key_size
    if isinstance(public, ec.EllipticCurvePublicKey):
        return 'an EC key on %s' % public.curve.name
    if isinstance(public, dsa.DSAPublicKey):
        return 'a DSA key of %d bits' % public.key_size
    if isinstance(public, ed25519.Ed25519PublicKey):
        return 'an Ed25519 key'
    if isinstance(public, ed448.Ed448PublicKey):
        return 'an Ed448 key'
    return 'a key of type %s' % type(public).__name__


def key_allowed(public):
    if isinstance(public, rsa.RSAPublicKey):
        return public.key_size >= MIN_RSA_BITS
    return isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in CURVES


def _usage_names(ku):
    names = [name for attr, name in _USAGES if getattr(ku, attr)]
    if ku.key_agreement:  # encipher_only and decipher_only exist only with keyAgreement
        names += [name for attr, name in (('encipher_only', 'encipherOnly'), ('decipher_only', 'decipherOnly'))
                  if getattr(ku, attr)]
    return names


def _subject_text(name):
    try:
        return name.rfc4514_string() or '(empty)'
    except Exception:  # a value cryptography cannot render
        return repr(name)


def _general_name(gn):
    if isinstance(gn, (x509.UniformResourceIdentifier, x509.RFC822Name)):
        return '%s:%s' % ('URI' if isinstance(gn, x509.UniformResourceIdentifier) else 'email', gn.value)
    return '%s %r' % (type(gn).__name__, getattr(gn, 'value', gn))


class _Names:
    """The names a request or certificate carries, compared with the controller's: DNS names without regard to case."""

    def __init__(self, sans, dns_names, ip_addresses):
        self.want_dns = [n.lower() for n in dns_names]
        self.want_ips = [ipaddress.ip_address(a) for a in ip_addresses]
        self.dns, self.ips, self.other = [], [], []
        for gn in sans:
            if isinstance(gn, x509.DNSName):
                self.dns.append(gn.value)
            elif isinstance(gn, x509.IPAddress):
                self.ips.append(gn.value)
            else:
                self.other.append(_general_name(gn))
        self.allowed = ', '.join(list(dns_names) + list(ip_addresses))

    def extra(self):
        return ([n for n in self.dns if n.lower() not in self.want_dns] + [str(a) for a in self.ips if a not in self.want_ips]
                + self.other)

    def missing(self):
        have = [n.lower() for n in self.dns]
        return [n for n in self.want_dns if n not in have] + [str(a) for a in self.want_ips if a not in self.ips]


def _sans(extensions):
    for ext in extensions:
        if isinstance(ext.value, x509.SubjectAlternativeName):
            return list(ext.value)
    return []


def _subject_is(name, cn):
    attrs = list(name)
    return (len(attrs) == 1 and attrs[0].oid == NameOID.COMMON_NAME and isinstance(attrs[0].value, str)
            and attrs[0].value.lower() == cn.lower())


def _read_request(csr_pem, agent):
    """The request, parsed in full (subject, extensions, key) and its signature verified, or a TLSError."""
    try:
        if not isinstance(csr_pem, str):
            raise TypeError('%s instead of PEM text' % type(csr_pem).__name__)
        csr = x509.load_pem_x509_csr(csr_pem.encode('ascii'))
        public = csr.public_key()
        valid = csr.is_signature_valid
        subject = csr.subject
        list(subject)
        extensions = list(csr.extensions)
    except Exception as e:  # ValueError, TypeError, UnsupportedAlgorithm, DuplicateExtension: whatever the agent sent
        raise TLSError('%s sent a signing request that cannot be read (%s); nothing was signed' % (agent, _why(e)))
    if not valid:
        raise TLSError('%s sent a signing request whose signature does not verify (it was not made with the key it '
                       'names); nothing was signed' % agent)
    return csr, public, subject, extensions


def _decided(dns_names, ip_addresses, agent):
    """The controller's names must themselves be good (the action checked them before the first call already)."""
    problems = name_problems(dns_names, ip_addresses)
    if problems:
        raise TLSError(names_refusal(problems, agent))


def check_request(csr_pem, dns_names, ip_addresses, agent):
    """The request's public key, when the request asks for nothing the controller did not decide; else a TLSError
    that names the agent and everything it asked for. ``agent``: 'consul agent node3'."""
    _decided(dns_names, ip_addresses, agent)
    dummy, public, subject, extensions = _read_request(csr_pem, agent)
    asks = []
    if not key_allowed(public):
        asks.append('a certificate for %s (%s)' % (describe_key(public), KEY_RULE))
    if not _subject_is(subject, dns_names[0]):
        asks.append('the subject %s (the controller decides CN=%s)' % (_subject_text(subject), dns_names[0]))
    names = _Names(_sans(extensions), dns_names, ip_addresses)
    if names.extra():
        asks.append('names the controller did not decide for it: %s (it may have: %s)' % (', '.join(names.extra()), names.allowed))
    if names.missing():
        asks.append('fewer names than the controller decided for it, without: %s' % ', '.join(names.missing()))
    may_use = ['digitalSignature'] + (['keyEncipherment'] if isinstance(public, rsa.RSAPublicKey) else [])
    for ext in extensions:
        value = ext.value
        if isinstance(value, x509.SubjectAlternativeName):
            continue
        if isinstance(value, x509.BasicConstraints):
            if value.ca:
                asks.append('a CA certificate (basic constraints CA:TRUE)')
            elif value.path_length is not None:
                asks.append('basic constraints with a path length (%d)' % value.path_length)
        elif isinstance(value, x509.KeyUsage):
            extra = [u for u in _usage_names(value) if u not in may_use]
            if extra:
                asks.append('key usages an agent does not get: %s (it may have: %s)' % (', '.join(extra), ', '.join(may_use)))
        elif isinstance(value, x509.ExtendedKeyUsage):
            extra = [_oid_name(u) for u in value if u not in (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)]
            if extra:
                asks.append('extended key usages an agent does not get: %s (it may have: serverAuth, clientAuth)' % ', '.join(extra))
        elif isinstance(value, x509.UnrecognizedExtension):
            asks.append('an extension the controller does not know: %s%s' % (ext.oid.dotted_string, ' (critical)' if ext.critical else ''))
        else:
            asks.append('an extension the controller does not sign: %s (%s)' % (type(value).__name__, ext.oid.dotted_string))
    if asks:
        raise TLSError('%s asked for %s; nothing was signed' % (agent, '; and for '.join(asks)))
    return public


def _ca_key(ca_key_pem):
    try:
        if not isinstance(ca_key_pem, str):
            raise TypeError('no PEM text')
        return serialization.load_pem_private_key(ca_key_pem.encode('ascii'), password=None)
    except Exception as e:  # ValueError, TypeError (encrypted), UnsupportedAlgorithm
        raise TLSError('the CA key cannot be read: %s; nothing was signed' % _why(e))


def issue(public, ca_cert_pem, ca_key_pem, days, dns_names, ip_addresses, now=None):
    """The certificate for ``public`` as the policy makes it, signed by the CA, valid ``days`` days, in PEM."""
    ca = load_certificate(ca_cert_pem, 'the CA certificate')
    ca_key = _ca_key(ca_key_pem)
    if _spki(ca_key.public_key()) != _spki(ca.public_key()):
        raise TLSError('the CA key does not match the CA certificate; nothing was signed')
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if days < 1:
        raise TLSError('cert_days must be a positive number of days; nothing was signed')
    try:
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
            ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    rsa_key = isinstance(public, rsa.RSAPublicKey)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    sans = [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
               .issuer_name(ca.subject)
               .public_key(public)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=1))  # a little clock skew between hosts
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName(sans), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=rsa_key, content_commitment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                              critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
               .add_extension(aki, critical=False))
    digest = None if isinstance(ca_key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)) else hashes.SHA256()
    try:
        return builder.sign(ca_key, digest).public_bytes(serialization.Encoding.PEM).decode('ascii')
    except (ValueError, TypeError) as e:
        raise TLSError('the CA key (%s) cannot sign: %s; nothing was signed' % (type(ca_key).__name__, _why(e)))


def sign_request(csr_pem, ca_cert_pem, ca_key_pem, days, dns_names, ip_addresses, agent='the consul agent', now=None):
    """The certificate the policy gives ``agent`` for the key of ``csr_pem``, or a TLSError (see check_request)."""
    public = check_request(csr_pem, dns_names, ip_addresses, agent)
    return issue(public, ca_cert_pem, ca_key_pem, days, dns_names, ip_addresses, now=now)


def pki_sign_data(csr_pem, dns_names, ip_addresses, days):
    """What an OpenBao / Vault PKI role's sign endpoint takes for an agent: the names the controller decided."""
    return {'csr': csr_pem, 'common_name': dns_names[0], 'alt_names': ','.join(dns_names[1:]),
            'ip_sans': ','.join(ip_addresses), 'ttl': '%dh' % (int(days) * 24), 'format': 'pem',
            'exclude_cn_from_sans': False}


# What a PKI may add to an agent certificate besides the policy's own: Vault's default key usages, its URLs, policies.
_PKI_USAGES = ('digitalSignature', 'keyEncipherment', 'keyAgreement')
_PKI_EXTENSIONS = ('SUBJECT_ALTERNATIVE_NAME', 'BASIC_CONSTRAINTS', 'KEY_USAGE', 'EXTENDED_KEY_USAGE', 'SUBJECT_KEY_IDENTIFIER',
                   'AUTHORITY_KEY_IDENTIFIER', 'CRL_DISTRIBUTION_POINTS', 'AUTHORITY_INFORMATION_ACCESS', 'CERTIFICATE_POLICIES',
                   'FRESHEST_CRL')


def issued_problems(cert, dns_names, ip_addresses):
    """What makes a certificate a PKI issued more than the controller decided for the agent, as verb phrases."""
    problems = []
    cns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    # Exactly CN=<first name> and nothing else, as for a request: an O= or an empty subject is not the controller's.
    if len(cert.subject) != 1 or len(cns) != 1 or not isinstance(cns[0], str) or cns[0].lower() != dns_names[0].lower():
        problems.append('has the subject %s (the controller decides CN=%s)' % (_subject_text(cert.subject), dns_names[0]))
    extensions = list(cert.extensions)
    names = _Names(_sans(extensions), dns_names, ip_addresses)
    if names.extra():
        problems.append('carries names the controller did not decide for it: %s (it may have: %s)'
                        % (', '.join(names.extra()), names.allowed))
    if names.missing():
        problems.append('lacks names the controller decided for it: %s' % ', '.join(names.missing()))
    found = dict((ext.oid, ext) for ext in extensions)
    bc = found.get(ExtensionOID.BASIC_CONSTRAINTS)
    if bc is not None and bc.value.ca:
        problems.append('is a CA certificate (basic constraints CA:TRUE)')
    ku = found.get(ExtensionOID.KEY_USAGE)
    usages = _usage_names(ku.value) if ku is not None else []
    if 'digitalSignature' not in usages:
        problems.append('lacks the key usage digitalSignature')
    if [u for u in usages if u not in _PKI_USAGES]:
        problems.append('has key usages an agent does not get: %s' % ', '.join(u for u in usages if u not in _PKI_USAGES))
    eku = found.get(ExtensionOID.EXTENDED_KEY_USAGE)
    ekus = list(eku.value) if eku is not None else []
    wanted = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)
    if [u for u in wanted if u not in ekus]:
        problems.append('lacks the extended key usage %s' % ', '.join(_oid_name(u) for u in wanted if u not in ekus))
    if [u for u in ekus if u not in wanted]:
        problems.append('has extended key usages an agent does not get: %s' % ', '.join(_oid_name(u) for u in ekus if u not in wanted))
    allowed = [getattr(ExtensionOID, n) for n in _PKI_EXTENSIONS]
    other = ['%s (%s)' % (type(e.value).__name__, e.oid.dotted_string) for e in extensions if e.oid not in allowed]
    if other:
        problems.append('has extensions an agent certificate does not carry: %s' % ', '.join(other))
    if not key_allowed(cert.public_key()):
        problems.append('is for %s (%s)' % (describe_key(cert.public_key()), KEY_RULE))
    return problems


def check_issued(certificate_pem, ca_cert_pem, csr_pem, dns_names, ip_addresses, agent='the consul agent'):
    """Stop unless the certificate a PKI issued is for the request's key, chains to the CA the agents are given, and
    carries no more than the controller decided (names, CA:FALSE, key usages): a PKI role that copies the request's
    names (use_csr_sans) or signs more must not hand the agent a certificate the controller would not sign."""
    _decided(dns_names, ip_addresses, agent)
    what = 'the certificate the PKI issued for %s' % agent
    cert = load_certificate(certificate_pem, what)
    ca = load_certificate(ca_cert_pem, 'the CA certificate')
    dummy, public, dummy, dummy = _read_request(csr_pem, agent)
    try:
        if _spki(cert.public_key()) != _spki(public):
            raise TLSError('%s is not for the key of the agent\'s request; nothing was written' % what)
        try:
            cert.verify_directly_issued_by(ca)
        except Exception as e:  # InvalidSignature, ValueError or TypeError
            raise TLSError('%s does not chain to the CA the agents are given (the PKI\'s CA read before any host changed; '
                           'issuer %s): %s; nothing was written' % (what, _subject_text(cert.issuer), _why(e)))
        problems = issued_problems(cert, dns_names, ip_addresses)
    except TLSError:
        raise
    except Exception as e:  # a certificate cryptography parses only in part (extensions, names)
        raise TLSError('%s cannot be read in full (%s); nothing was written' % (what, _why(e)))
    if problems:
        raise TLSError('%s %s; nothing was written' % (what, '; '.join(problems)))
