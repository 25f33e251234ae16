# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The controller half of MCollective's aes_security with a CA: the CA certifies each caller's public key. Private.

The role keyfleet.encryption.mcollective_aes reads each caller's (client's or server's) public key from its host;
the controller's CA issues it a certificate that says only what the controller decided: subject exactly
CN=<caller id> (the inventory's name, never the host's), CA:FALSE, key usage digitalSignature and keyEncipherment,
the key identifiers. The host contributes only its public key, and a host is not trusted to send one: anything but
exactly one PEM public key block of an RSA key of 2048 bits or more is refused, with the host and the caller id
named and nothing of the content shown beyond its PEM label and the key's type and size.

aes_security (validate_certificate, certname_from_certificate) takes the caller id from
``cert.subject.to_s =~ /^\\/CN=([\\w\\.\\-]+)/`` and verifies the certificate with an OpenSSL::X509::Store that holds
aes.ca_cert alone: the CA must be a self-signed root, and the subject must render as "/CN=<caller id>".

Issuing is deterministic: the same CA, caller id and public key give the same bytes (the serial is a hash of the
three, the validity is the CA's, the signature RSA PKCS#1 v1.5 with SHA-256), so a re-run changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re

# The words for a key, as the Consul certificate policy says them.
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._consul_tls import describe_key as _describe

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_ERROR = True, None
except ImportError as e:  # named by every function below, as a clear error
    HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_ERROR = False, e

MIN_RSA_BITS = 2048
SERIAL_BITS = 159
# aes_security's certname regex ([\w\.\-]+; Ruby's \w is ASCII), at most 64 characters (the X.509 upper bound of a
# common name, which cryptography enforces). \Z: Python's $ would let a trailing newline through.
NAME = re.compile(r'[A-Za-z0-9_.-]{1,64}\Z')
NAME_RULE = 'a caller id must match [\\w.-]+ (ASCII letters, digits, _ . -), as aes_security reads it from the certificate, and have at most 64 characters'
KEY_RULE = 'each host must give exactly one PEM "PUBLIC KEY" or "RSA PUBLIC KEY" block of an RSA key of at least %d bits' % MIN_RSA_BITS
RSA_WHY = ('RSA PKCS#1 v1.5 signatures are deterministic, so a re-run issues byte-identical certificates and changes nothing '
           '(ECDSA and DSA signatures differ on every run)')
PUBLIC_LABELS = ('PUBLIC KEY', 'RSA PUBLIC KEY')

_BEGIN = re.compile(rb'-----BEGIN ([^\r\n]{0,64}?)-----')
_LABEL = re.compile(rb'[A-Z0-9 ]{1,40}\Z')
_BLOCK = re.compile(rb'\s*(-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \2-----)\s*\Z')


class MCollectiveCAError(ValueError):
    pass


def _need_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise MCollectiveCAError('the Python library cryptography is needed on the controller for the MCollective CA '
                                 '(pip install cryptography): %s' % CRYPTOGRAPHY_ERROR)


def _utc(cert, attr):
    value = getattr(cert, attr + '_utc', None)
    if value is None:  # cryptography before 42
        value = getattr(cert, attr).replace(tzinfo=datetime.timezone.utc)
    return value


def _spki(public):
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _bytes(pem):
    if isinstance(pem, bytes):
        return pem
    if isinstance(pem, str):
        try:
            return pem.encode('ascii')
        except UnicodeEncodeError:
            return None
    return None


def _labels(data):
    """The PEM labels of ``data``'s BEGIN lines, each shown only when it is a plain label (A-Z, 0-9, space)."""
    return [label.decode('ascii') if _LABEL.match(label) else 'an unusual label' for label in _BEGIN.findall(data)]


def _one_block(data):
    """(label, block bytes) when ``data`` is exactly one PEM block (whitespace around it only), else (None, why)."""
    labels = _labels(data)
    if not labels:
        return None, 'is not PEM (%d bytes, no -----BEGIN line)' % len(data)
    if len(labels) > 1:
        return None, 'holds %d PEM blocks (%s), not exactly one' % (len(labels), ', '.join(labels))
    m = _BLOCK.match(data)
    if not m:
        return None, 'is not exactly one well-formed PEM block (its %s block is malformed or has text around it)' % labels[0]
    return m.group(2).decode('ascii'), m.group(1)


def _kind(label):
    if 'PRIVATE' in label:
        return 'a private key'
    if label in ('CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE'):
        return 'a certificate'
    if 'REQUEST' in label:
        return 'a certificate signing request'
    return 'not a public key'


def _read_public(data):
    """(RSA public key, None) for an acceptable key, else (None, what is wrong, without the content)."""
    if not data.strip():
        return None, 'is empty'
    label, block = _one_block(data)
    if label is None:
        return None, block
    if label not in PUBLIC_LABELS:
        kind = _kind(label)
        why = 'a PEM %r block (%s), not a public key' % (label, kind)
        if kind == 'a private key':
            why += '; the controller has read it, so take that key as exposed and make a new one on the host'
        elif kind in ('a certificate', 'a certificate signing request'):
            why += ': the controller issues the certificate from the bare public key'
        return None, 'is ' + why
    try:
        public = serialization.load_pem_public_key(block)
    except Exception as e:  # ValueError, UnsupportedAlgorithm: whatever the host sent
        return None, 'is a PEM %r block that does not parse as a public key (%s)' % (label, type(e).__name__)
    if not isinstance(public, rsa.RSAPublicKey):
        return None, 'is %s, not RSA' % _describe(public)
    if public.key_size < MIN_RSA_BITS:
        return None, 'is %s, below %d bits' % (_describe(public), MIN_RSA_BITS)
    return public, None


def _name_problem(name):
    if not isinstance(name, str) or not NAME.match(name):
        shown = repr(name) if not isinstance(name, str) or len(name) <= 80 else repr(name[:80]) + '...'
        return 'the caller id %s is not usable: %s' % (shown, NAME_RULE)
    return None


def _labels_for(source):
    """The words for the CA certificate and key in the sentences."""
    if source is None or source == '':
        return 'mcollective_aes_ca_cert', 'mcollective_aes_ca_key'
    if isinstance(source, (list, tuple)) and len(source) == 2 and all(isinstance(s, str) for s in source):
        return source[0], source[1]
    if isinstance(source, str):
        return "the escrow's %s_cert" % source, "the escrow's %s_key" % source
    raise MCollectiveCAError('source must be empty (the variables), an escrow name, or [cert words, key words], not %s'
                             % type(source).__name__)


def _text_problem(pem, data):
    if pem is None or (data is not None and not data.strip()):
        return 'is empty'
    if not isinstance(pem, (str, bytes)):
        return 'is not text but %s' % type(pem).__name__
    if data is None:
        return 'is not ASCII PEM text'
    return None


def _read_ca_cert(pem, what):
    data = _bytes(pem)
    bad = _text_problem(pem, data)
    if bad:
        return None, ['%s %s: it must be the CA certificate as PEM text.' % (what, bad)]
    labels = _labels(data)
    if labels.count('CERTIFICATE') != 1 or len(labels) != 1:
        found = ', '.join(labels) if labels else 'no PEM block'
        return None, ['%s must hold exactly one PEM CERTIFICATE block, the CA itself (found: %s).' % (what, found)]
    try:
        return x509.load_pem_x509_certificate(data), []
    except Exception as e:
        return None, ['%s cannot be read as an X.509 certificate (%s).' % (what, type(e).__name__)]


def _read_ca_key(pem, what):
    data = _bytes(pem)
    bad = _text_problem(pem, data)
    if bad:
        return None, ['%s %s: it must be the CA private key as unencrypted PEM text.' % (what, bad)]
    labels = _labels(data)
    if len(labels) != 1 or 'PRIVATE KEY' not in labels[0]:
        found = ', '.join(labels) if labels else 'no PEM block'
        return None, ['%s must hold exactly one PEM private key block (found: %s).' % (what, found)]
    if labels[0] == 'ENCRYPTED PRIVATE KEY' or b'Proc-Type: 4,ENCRYPTED' in data:
        return None, ['%s is encrypted; give the key unencrypted (for example from Ansible Vault).' % what]
    try:
        return serialization.load_pem_private_key(data, password=None), []
    except Exception as e:
        return None, ['%s cannot be read as a private key (%s).' % (what, type(e).__name__)]


def ca_problems(ca_cert_pem, ca_key_pem, source=None, now=None):
    """One sentence per reason the CA cannot issue MCollective caller certificates; empty when it can.

    ``source``: the words for where the CA came from: empty for the variables mcollective_aes_ca_cert and
    mcollective_aes_ca_key, an escrow name (``"the escrow's <name>_cert"`` and ``_key``), or [cert words, key words].
    ``now``: an aware datetime for the expiry check (default: the current time).
    """
    _need_cryptography()
    cert_what, key_what = _labels_for(source)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    cert, problems = _read_ca_cert(ca_cert_pem, cert_what)
    key, found = _read_ca_key(ca_key_pem, key_what)
    problems += found
    rule = 'the CA must be RSA of at least %d bits: %s.' % (MIN_RSA_BITS, RSA_WHY)
    if cert is not None:
        try:
            public = cert.public_key()
        except Exception as e:  # an algorithm cryptography does not know
            public = None
            problems.append('%s has a public key that cannot be read (%s); %s' % (cert_what, type(e).__name__, rule))
        oid = getattr(cert, 'public_key_algorithm_oid', None)
        if public is not None and not isinstance(public, rsa.RSAPublicKey):
            problems.append('%s holds %s, not RSA; %s' % (cert_what, _describe(public), rule))
        elif public is not None and oid is not None and oid.dotted_string != '1.2.840.113549.1.1.1':
            problems.append('%s holds an RSA key of the kind %s, not rsaEncryption; %s' % (cert_what, oid.dotted_string, rule))
        elif public is not None and public.key_size < MIN_RSA_BITS:
            problems.append('%s holds %s; %s' % (cert_what, _describe(public), rule))
        if public is not None and key is not None and _spki(public) != _spki(key.public_key()):
            problems.append('%s does not match %s: the key is not the private key of the certificate.' % (key_what, cert_what))
        elif public is None and key is not None and not isinstance(key, rsa.RSAPrivateKey):
            problems.append('%s is %s, not RSA; %s' % (key_what, _describe(key.public_key()), rule))
        try:
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            bc = None
        except Exception as e:  # a duplicate or malformed extension
            bc = None
            problems.append('%s has extensions that cannot be read (%s).' % (cert_what, type(e).__name__))
        if bc is None or not bc.ca:
            problems.append('%s is not a CA certificate (%s); it needs basicConstraints CA:TRUE.'
                            % (cert_what, 'basicConstraints CA:FALSE' if bc is not None else 'no basicConstraints'))
        try:
            ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
            if not ku.key_cert_sign:
                problems.append('%s has a key usage without keyCertSign, so OpenSSL refuses what it signs.' % cert_what)
        except Exception:  # none, or unreadable (said above)
            pass
        try:
            unknown = [ext.oid.dotted_string for ext in cert.extensions
                       if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension)]
        except Exception:
            unknown = []
        if unknown:
            problems.append('%s has critical extensions OpenSSL does not handle (%s), so hosts refuse it.' % (cert_what, ', '.join(unknown)))
        not_before, not_after = _utc(cert, 'not_valid_before'), _utc(cert, 'not_valid_after')
        if not_after <= now:
            problems.append('%s expired on %s; the certificates it issues end when it ends. Give a new CA.'
                            % (cert_what, not_after.strftime('%Y-%m-%d %H:%M:%S UTC')))
        elif not_before > now:
            problems.append('%s is valid only from %s; the certificates it issues start when it starts.'
                            % (cert_what, not_before.strftime('%Y-%m-%d %H:%M:%S UTC')))
        try:
            subject_attrs = list(cert.subject)
        except Exception as e:
            subject_attrs = None
            problems.append('%s has a subject that cannot be read (%s).' % (cert_what, type(e).__name__))
        if subject_attrs == []:
            problems.append('%s has an empty subject; the certificates it issues name it as their issuer.' % cert_what)
        elif subject_attrs is not None:
            try:
                cert.verify_directly_issued_by(cert)
                self_signed = True
            except Exception:  # ValueError (issuer is not subject), InvalidSignature, TypeError
                self_signed = False
            if not self_signed:
                problems.append('%s is not a self-signed root (issuer %s, subject %s); hosts verify with aes.ca_cert '
                                'alone, which OpenSSL accepts only for a self-signed CA.'
                                % (cert_what, _rfc4514(cert.issuer), _rfc4514(cert.subject)))
    elif key is not None:
        public = key.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            problems.append('%s is %s, not RSA; %s' % (key_what, _describe(public), rule))
        elif public.key_size < MIN_RSA_BITS:
            problems.append('%s is %s; %s' % (key_what, _describe(public), rule))
    return problems


def _rfc4514(name):
    try:
        return name.rfc4514_string() or '(empty)'
    except Exception:
        return '(unreadable)'


def _entry(entry, index):
    if not isinstance(entry, (list, tuple)) or len(entry) != 3:
        raise MCollectiveCAError('entry %d must be [caller id, base64 of the public key PEM, host], not %s'
                                 % (index, type(entry).__name__ if not isinstance(entry, (list, tuple)) else '%d items' % len(entry)))
    name, content, host = entry
    if not isinstance(content, str):
        raise MCollectiveCAError('entry %d: the public key must be base64 text (slurp content), not %s' % (index, type(content).__name__))
    if not isinstance(host, str):
        raise MCollectiveCAError('entry %d: the host must be a string, not %s' % (index, type(host).__name__))
    return name, content, host


def _decode(content):
    try:
        return base64.b64decode(''.join(content.split()), validate=True), None
    except (binascii.Error, ValueError):
        return None, 'is not base64 text (the content ansible.builtin.slurp returns)'


def _read_entries(entries):
    """[(name, host, public key or None, problem sentence or None)], and the problems of caller ids given twice."""
    _need_cryptography()
    if not isinstance(entries, (list, tuple)):
        raise MCollectiveCAError('the entries must be a list of [caller id, base64 of the public key PEM, host], not %s'
                                 % type(entries).__name__)
    read, problems = [], []
    for index, entry in enumerate(entries):
        name, content, host = _entry(entry, index)
        where = 'host %s (caller id %s)' % (host or '(no host given)', name if isinstance(name, str) and len(name) <= 80 else '?')
        why = _name_problem(name)
        if why:
            problems.append('%s: %s.' % (where, why))
        data, bad = _decode(content)
        public = None
        if bad is None:
            public, bad = _read_public(data)
        if bad:
            problems.append('%s: the public key %s; %s.' % (where, bad, KEY_RULE))
        read.append((name, host, public if not why else None))
    seen = {}
    for name, host, public in read:
        if public is None:
            continue
        first = seen.setdefault(name, (host, _spki(public)))
        if first[1] != _spki(public):
            problems.append('caller id %s has different public keys on host %s and host %s; a caller id names one key '
                            '(give each caller its own id, or one key to all hosts that share an id).' % (name, first[0], host))
            seen[name] = (host, _spki(public))
    return read, problems


def key_problems(entries):
    """One sentence per entry [caller id, base64 of the public key PEM (slurp content), host] that cannot be
    certified (the caller id is unusable, or the content is not exactly one PEM public key block of an RSA key of
    at least 2048 bits), and per caller id given with two different keys. Each names the host and the caller id and
    shows of the content only its PEM label and key type and size. Raises MCollectiveCAError on wrong types."""
    return _read_entries(entries)[1]


def serial_number(ca_public, name, public):
    """SHA-256 over the CA's SubjectPublicKeyInfo DER, the caller id (UTF-8) and the caller's SubjectPublicKeyInfo
    DER (each prefixed with its length, 4 bytes big-endian), its top 159 bits; 1 if those are 0."""
    digest = hashlib.sha256()
    for part in (_spki(ca_public), name.encode('utf-8'), _spki(public)):
        digest.update(len(part).to_bytes(4, 'big'))
        digest.update(part)
    return (int.from_bytes(digest.digest(), 'big') >> (256 - SERIAL_BITS)) or 1


def _issue(name, public, cert, key):
    try:
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
            cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(cert.public_key())
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(cert.subject)
               .public_key(public)
               .serial_number(serial_number(cert.public_key(), name, public))
               .not_valid_before(_utc(cert, 'not_valid_before'))
               .not_valid_after(_utc(cert, 'not_valid_after'))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
               .add_extension(aki, critical=False))
    issued = builder.sign(key, hashes.SHA256())  # RSA: PKCS#1 v1.5, deterministic
    return issued.public_bytes(serialization.Encoding.PEM).decode('ascii')


def _checked_ca(ca_cert_pem, ca_key_pem, source=None):
    problems = ca_problems(ca_cert_pem, ca_key_pem, source)
    if problems:
        raise MCollectiveCAError('the MCollective CA cannot issue certificates: %s' % ' '.join(problems))
    return x509.load_pem_x509_certificate(_bytes(ca_cert_pem)), serialization.load_pem_private_key(_bytes(ca_key_pem), password=None)


def _subject_clash(name, cert):
    if cert.subject == x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]):
        return ('caller id %s: the CA certificate has the subject CN=%s too, so its certificate would look self-issued; '
                'give the CA another subject or the caller another id.' % (name, name))
    return None


def issue(name, public_pem, ca_cert_pem, ca_key_pem, source=None):
    """The certificate (PEM text) the CA issues caller ``name`` for ``public_pem`` (PEM text of its public key).
    Deterministic: the same inputs give the same bytes. Raises MCollectiveCAError when the CA, the caller id or the
    key is refused (the sentences of ca_problems and key_problems)."""
    _need_cryptography()
    data = _bytes(public_pem)
    problems = []
    why = _name_problem(name)
    if why:
        problems.append(why + '.')
    if data is None:
        problems.append('the public key for caller id %s is not ASCII PEM text.' % name)
        public = None
    else:
        public, bad = _read_public(data)
        if bad:
            problems.append('the public key for caller id %s %s; %s.' % (name, bad, KEY_RULE))
    try:
        cert, key = _checked_ca(ca_cert_pem, ca_key_pem, source)
    except MCollectiveCAError as e:
        problems.insert(0, str(e))
        cert = None
    if cert is not None and not why:
        clash = _subject_clash(name, cert)
        if clash:
            problems.append(clash)
    if problems:
        raise MCollectiveCAError(' '.join(problems))
    return _issue(name, public, cert, key)


def certificates(entries, ca_cert_pem, ca_key_pem, source=None):
    """[[caller id, certificate PEM], ...] for entries [caller id, base64 of the public key PEM, host], in input
    order, one per caller id (an id given again with the same key is issued once; with another key it is an error).
    Raises MCollectiveCAError with every sentence of ca_problems and key_problems when anything is refused."""
    read, problems = _read_entries(entries)
    try:
        cert, key = _checked_ca(ca_cert_pem, ca_key_pem, source)
    except MCollectiveCAError as e:
        problems.insert(0, str(e))
        cert = None
    if cert is not None:
        for name in dict.fromkeys(name for name, host, public in read if public is not None):
            clash = _subject_clash(name, cert)
            if clash:
                problems.append(clash)
    if problems:
        raise MCollectiveCAError(' '.join(problems))
    issued, done = [], set()
    for name, host, public in read:
        if name not in done:
            done.add(name)
            issued.append([name, _issue(name, public, cert, key)])
    return issued
