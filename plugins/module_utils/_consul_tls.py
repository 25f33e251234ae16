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

import base64
import binascii
import datetime
import hashlib
import ipaddress
import json
import re

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_ERROR = True, None
except ImportError as e:  # reported by the module with missing_required_lib
    HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_ERROR = False, e


class TLSError(Exception):
    pass


_LDH = re.compile(r'[A-Za-z0-9-]+\Z')

# Where the role keyfleet.encryption.consul takes an agent's names from: the variables to change.
NAMES_FROM = ('the role keyfleet.encryption.consul makes dns_names from consul_node_name (default: the node name the '
              'running agent reports, else the inventory hostname), consul_datacenter and consul_domain')


def _dns_name_problem(name):
    if not isinstance(name, str):
        return '%r is not a string' % (name,)
    if not name:
        return 'an empty name'
    if any(ord(c) > 127 for c in name):
        try:
            encoded = '; in IDNA form it is %r' % name.encode('idna').decode('ascii')
        except UnicodeError:
            encoded = ''
        return '%r is not ASCII: certificate names are ASCII DNS names%s' % (name, encoded)
    if name.startswith('*.'):
        return '%r is a wildcard: an agent certificate names the agent only' % name
    if len(name) > 253:
        return '%r has %d characters; a DNS name has at most 253' % (name, len(name))
    for label in name.split('.'):
        if not label:
            return '%r has an empty label' % name
        if len(label) > 63:
            return '%r has a label of %d characters; a label has at most 63' % (name, len(label))
        if not _LDH.match(label):
            return '%r: the label %r has characters other than letters, digits and \'-\'' % (name, label)
        if label.startswith('-') or label.endswith('-'):
            return '%r: the label %r starts or ends with \'-\'' % (name, label)
    return None


def agent_name_problems(node_name, datacenter, domain):
    """Why the node name, datacenter or domain cannot name an agent's certificate (<node>.server.<dc>.<domain>), one
    sentence each naming its variable; empty: they can. The node name and the datacenter are one DNS label each."""
    problems = []
    for what, var, value, one_label in (
            ('node name', 'consul_node_name', node_name, True), ('datacenter', 'consul_datacenter', datacenter, True),
            ('domain', 'consul_domain', domain.rstrip('.') if isinstance(domain, str) else domain, False)):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # consul_datacenter: 1 in YAML is a number; the modules take it as the text it is
        problem = _dns_name_problem(value)
        if not problem and one_label and '.' in value:
            problem = 'it has dots; it must be one DNS label'
        if problem:
            problems.append('the %s %s (%s) cannot name a certificate: %s. Server certificates are issued for '
                            '<node>.server.<datacenter>.<domain>: letters, digits and \'-\', 1-63 characters a label, '
                            'not starting or ending with \'-\'.' % (what, json.dumps(value), var, problem))
    return problems


def agent_dns_names(server, node_name, datacenter, domain):
    """The DNS names of an agent's certificate, as ``consul tls cert create`` gives them: server.<dc>.<domain> and
    <node>.server.<dc>.<domain> for a server, client.<dc>.<domain> for a client; localhost for the local API."""
    suffix = '%s.%s' % (datacenter, domain.rstrip('.'))
    names = ['server.' + suffix, '%s.server.%s' % (node_name, suffix)] if server else ['client.' + suffix]
    return names + ['localhost']


_PEM_CERT = re.compile(r'-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----', re.S)


def pem_fingerprints(text):
    """SHA-256 fingerprints (of the DER, lower-case hex in colon-separated pairs, as community.crypto and openssl
    give them) of every certificate in a PEM text; a block that is not base64 is named by its text."""
    prints = []
    for body in _PEM_CERT.findall(text or ''):
        try:
            der = base64.b64decode(re.sub(r'\s', '', body), validate=True)
        except (binascii.Error, ValueError):
            der = re.sub(r'\s', '', body).encode('ascii', 'replace')
        digest = hashlib.sha256(der).hexdigest()
        prints.append(':'.join(digest[i:i + 2] for i in range(0, len(digest), 2)))
    return prints


def trusted_ca_problems(trusted, run_ca, ca_source='controller', pki_mount_point='pki', ca_cert_given=False,
                        escrow_name='consul_tls_ca_dc1'):
    """Why the CA of this run must not be used: agents already trust another CA, or trust one while this run has none.

    ``trusted``: each host's trusted CA file (PEM, empty when it trusts none); ``run_ca``: the CA certificate this run
    would sign with (the PKI's, consul_tls_ca_cert, or the escrow's ``escrow_name``_cert; empty when none yet, and a
    new CA would be made). A new CA for agents that trust one splits the cluster: replacing a CA is its own operation.
    """
    prints = dict((host, pem_fingerprints(pem)) for host, pem in trusted.items())
    trusting = sorted(host for host, fps in prints.items() if fps)
    if not trusting:
        return []
    theirs = ', '.join(sorted(set(fp for fps in prints.values() for fp in fps)))
    ours = pem_fingerprints(run_ca)[:1]
    if not ours:
        return ['These agents already trust a CA: %s (SHA-256 %s), but the escrow holds no %s_cert and consul_tls_ca_cert '
                'is not set, so this run would make a new CA and split the cluster. Point keyfleet_escrow_file (or '
                'keyfleet_escrow_backend=kv and keyfleet_escrow_kv_path) at the escrow that holds the CA (another '
                'operator\'s, another path, or a datacenter that was renamed: consul_tls_ca_escrow_name), or give that CA '
                'as consul_tls_ca_cert and consul_tls_ca_key. Replacing a cluster\'s CA is a separate operation, never a '
                'side effect.' % (', '.join(trusting), theirs, escrow_name)]
    distrusting = [host for host in trusting if ours[0] not in prints[host]]
    more = [host for host in trusting if ours[0] in prints[host] and set(prints[host]) != set(ours)]
    if more and not distrusting:
        # Only a CA rotation puts two CAs into an agent's CA file: a run that is no rotation would undo half of it.
        return ['These agents trust more than the CA of this run (SHA-256 %s): %s (SHA-256 %s). A CA rotation is under way '
                'or stopped half-way: finish it with keyfleet.encryption.consul_tls_ca_rotate and the same '
                'consul_tls_ca_rotation_id before any other TLS run.' % (ours[0], ', '.join(more), theirs)]
    if not distrusting:
        return []
    source = ('the PKI %s (consul_tls_ca_source)' % pki_mount_point if ca_source == 'pki'
              else 'consul_tls_ca_cert' if ca_cert_given else 'escrow %s_cert' % escrow_name)
    return ['The CA of this run (%s, SHA-256 %s) is not the CA these agents trust: %s (SHA-256 %s). Use the CA they '
            'trust: another escrow (keyfleet_escrow_file, keyfleet_escrow_backend, keyfleet_escrow_kv_path) or '
            'consul_tls_ca_cert/consul_tls_ca_key. Replacing a cluster\'s CA is a separate operation, never a side '
            'effect.' % (source, ours[0], ', '.join(distrusting), theirs)]


def _first_pem(text):
    match = _PEM_CERT.search(text or '')
    return match.group(0) if match else ''


# More than any CA file or certificate of an agent holds: text past it is refused before it is parsed.
MAX_PEM_TEXT = 256 * 1024


def _is_leaf(cert):
    try:
        return not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return True
    except Exception:  # an extension cryptography cannot parse: not a certificate the policy made
        return False


def ca_rotation_plan(trusted, served, old_cas, new_ca, rotation_id='the rotation', not_new=(), recorded=None):
    """Where a CA rotation stands, from what the agents trust and serve; ``problems`` stop it before any host changes.

    ``trusted``: each host's CA file (PEM text), ``served``: the certificate each host serves (PEM; '' unknown; None
    for an auto_encrypt client, whose certificate the servers sign with the Connect CA: it only trusts A, then B),
    ``old_cas``: the CAs a rotation may start from (the escrow's CA and its previous ones, the previous PKI's),
    ``new_ca``: the CA rotated to (PEM). Every host must trust exactly the old CA A, or A and the new CA B, or B:
    during a rotation the guard accepts A+B and nothing else, and one A for the whole cluster.

    Returns a dict: ``problems``; ``old`` (A's fingerprint, '' when no host trusts it any more); ``new`` (B's);
    ``serving_new`` (hosts whose served certificate B issued); ``all_serve_new`` (every host that serves a certificate of
    ours serves B's); ``trust`` (hosts by what they trust: old, both, new);
    ``steps``: which of trust_both, certificates, trust_new are left (all hosts serve B: the first two are done);
    ``done``: every host serves a B certificate and trusts B alone.
    ``recorded``: the fingerprint the escrow's record of the rotation holds as current (None: not asked). Files that all
    say "done" are not enough while it is not B's: a run stopped between the last file write and its reload leaves
    agents with the old trust in memory, so trust_new (which reloads every agent) is left until the record says B.
    """
    plan = dict(problems=[], old='', old_pem='', new='', serving_new=[], all_serve_new=False,
                trust={'old': [], 'both': [], 'new': []}, steps=[], done=False)
    too_long = sorted(host for host, text in list(trusted.items()) + list(served.items()) if len(text or '') > MAX_PEM_TEXT)
    if too_long:
        plan['problems'].append('%s sent a CA file or certificate longer than %d bytes: no agent holds one that long. Look at '
                                'what is in %s.' % (', '.join(too_long), MAX_PEM_TEXT, ', '.join(too_long)))
        return plan
    new_prints = pem_fingerprints(new_ca)
    if len(new_prints) != 1:
        plan['problems'].append('The new CA of %s must be one certificate, not %d (consul_tls_ca_source).' % (rotation_id, len(new_prints)))
        return plan
    b = plan['new'] = new_prints[0]
    if b in [fp for pem in not_new for fp in pem_fingerprints(pem)]:
        plan['problems'].append('The new CA of %s (SHA-256 %s) is the CA in use: point consul_tls_pki_mount_point at the PKI '
                                'to rotate to (consul_tls_pki_previous_mount_point is the one in use).' % (rotation_id, b))
        return plan
    try:
        b_cert = load_certificate(_first_pem(new_ca), 'the new CA')
    except TLSError as e:
        plan['problems'].append('%s.' % e)
        return plan
    known = dict((fp, pem) for pem in old_cas for fp, pem in zip(pem_fingerprints(pem), _PEM_CERT.findall(pem or '')) if fp != b)
    olds = set()
    for host in sorted(trusted):
        prints = pem_fingerprints(trusted[host])
        if not prints:
            plan['problems'].append('%s trusts no CA: a CA rotation needs TLS on every agent. Run '
                                    'keyfleet.encryption.consul_tls_running_cluster first.' % host)
            continue
        others = [fp for fp in prints if fp != b]
        unknown = [fp for fp in others if fp not in known]
        if unknown or len(prints) != len(set(prints)) or len(others) > 1:
            plan['problems'].append('%s trusts %s: during a CA rotation an agent trusts the CA in use, the CA in use and '
                                    'the new one (SHA-256 %s), or the new one alone, and nothing else. Find out who put '
                                    'the others there before going on.' % (host, ', '.join(prints), b))
            continue
        olds.update(others)
        plan['trust']['both' if others and b in prints else 'old' if others else 'new'].append(host)
    if len(olds) > 1:
        plan['problems'].append('The agents trust different old CAs (SHA-256 %s): a rotation starts from one CA the '
                                'whole cluster trusts.' % ', '.join(sorted(olds)))
    if plan['problems']:
        return plan
    plan['old'] = olds.pop() if olds else ''
    plan['old_pem'] = '-----BEGIN CERTIFICATE-----%s-----END CERTIFICATE-----\n' % known[plan['old']] if plan['old'] else ''
    old_cert = load_certificate(plan['old_pem'], 'the old CA') if plan['old'] else None
    unknown_served = []
    served = dict((host, pem) for host, pem in served.items() if pem is not None)
    for host in sorted(served):
        try:
            cert = load_certificate(served[host], 'the certificate %s serves' % host)
        except TLSError:
            unknown_served.append(host)
            continue
        if not _is_leaf(cert) or pem_fingerprints(served[host])[:1] == [b]:
            plan['problems'].append('%s serves a CA certificate, not an agent certificate: find out why before going on.' % host)
        elif signed_by(cert, b_cert):
            plan['serving_new'].append(host)
        elif old_cert is None or not signed_by(cert, old_cert):
            plan['problems'].append('%s serves a certificate issued by %s, neither the CA in use nor the new one (SHA-256 '
                                    '%s): find out where it came from before going on.'
                                    % (host, _issuer_text(cert), b))
    if plan['problems']:
        return plan
    all_new = not unknown_served and sorted(plan['serving_new']) == sorted(served)
    if plan['trust']['new'] and not all_new:
        plan['problems'].append('%s trust only the new CA, but %s do not serve a certificate it issued yet: their peers '
                                'would refuse them. Put the old CA back into their CA file (consul_tls_ca_file) and run again.'
                                % (', '.join(plan['trust']['new']), ', '.join(sorted(set(served) - set(plan['serving_new'])))))
        return plan
    plan['all_serve_new'] = all_new
    unconfirmed = recorded is not None and recorded != b
    plan['steps'] = ([] if all_new else ['trust_both', 'certificates']) + (
        [] if all_new and len(plan['trust']['new']) == len(trusted) and not unconfirmed else ['trust_new'])
    plan['done'] = not plan['steps']
    return plan


def _issuer_text(cert):
    try:
        return cert.issuer.rfc4514_string() or '(empty)'
    except Exception:  # a name cryptography cannot render
        return repr(cert.issuer)


def name_problems(dns_names, ip_addresses):
    """Why these names cannot go into an agent certificate, one sentence each naming the option; empty: they can.

    The one rule for the names, applied by the action plugin on the controller before its first call to the agent
    and by the module before it writes anything. DNS names are ASCII only (an internationalized name goes in its
    IDNA form, xn--...): labels of letters, digits and '-' (not first or last), 1-63 characters each, 253 at most
    in all, no wildcard; the first is also the subject's common name, 64 characters at most. IP addresses parse.
    """
    problems = []
    if not isinstance(dns_names, (list, tuple)) or not dns_names:
        problems.append('dns_names is empty: a certificate needs at least one DNS name, its common name first')
        dns_names = []
    for i, name in enumerate(dns_names):
        problem = _dns_name_problem(name)
        if problem:
            problems.append('dns_names: %s' % problem)
        elif i == 0 and len(name) > 64:
            problems.append('dns_names: the first name %r is the common name of the certificate, which has at most 64 '
                            'characters (this one %d)' % (name, len(name)))
    if not isinstance(ip_addresses, (list, tuple)):
        problems.append('ip_addresses: %r is not a list of IP addresses' % (ip_addresses,))
        ip_addresses = []
    for address in ip_addresses:
        if not isinstance(address, str):
            problems.append('ip_addresses: %r is not a string' % (address,))
            continue
        try:
            ipaddress.ip_address(address)
        except ValueError:
            problems.append('ip_addresses: %r is not an IP address' % address)
            continue
        if '%' in address:  # a certificate carries no scope: the agent's request could never match it
            problems.append('ip_addresses: %r has a scope (%%...); give the address alone' % address)
    return problems


def names_refusal(problems, who=None):
    """The message for name_problems' problems: what to change, and that nothing was written."""
    return '%sthe certificate names cannot be used, nothing was written: %s. Change dns_names or ip_addresses (%s).' % (
        '%s: ' % who if who else '', '; '.join(problems), NAMES_FROM)


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
    if not isinstance(pem, str):
        raise TLSError('%s is not a PEM certificate: no text' % what)
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
            if cert.signature_hash_algorithm is None:  # an Ed25519/Ed448 signature under an EC CA
                return False
            public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        else:
            public.verify(cert.signature, cert.tbs_certificate_bytes)
    except (InvalidSignature, TypeError, ValueError):  # a signature of another algorithm than the CA key's
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
    if is_ca(cert):
        problems.append('a CA certificate (CA:TRUE or keyCertSign), which no agent gets')
    if renew_days is not None and _not_after(cert) <= now + datetime.timedelta(days=renew_days):
        problems.append('expires within %d days' % renew_days)
    return problems


def is_ca(cert):
    """Whether the certificate may sign others: basic constraints CA:TRUE, or key usage keyCertSign."""
    try:
        if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return False


def signing_request_pem(key, dns_names, ip_addresses):
    """A request for the agent's names, exactly what the controller's policy signs (plugin_utils/_consul_tls.py):
    subject CN the first name, the names, digitalSignature (and keyEncipherment for an RSA key), server and client
    authentication, as `consul tls cert create`."""
    usage = x509.KeyUsage(digital_signature=True, key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                          content_commitment=False, data_encipherment=False, key_agreement=False, key_cert_sign=False,
                          crl_sign=False, encipher_only=False, decipher_only=False)
    # Ed25519 and Ed448 sign without a separate hash; the controller refuses such keys, with a message
    digest = None if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)) else hashes.SHA256()
    try:
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
               .add_extension(x509.SubjectAlternativeName(alt_names(dns_names, ip_addresses)), critical=False)
               .add_extension(usage, critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                              critical=False)
               .sign(key, digest))
    except (ValueError, TypeError) as e:
        raise TLSError('the agent key cannot sign a request (%s): %s' % (type(key).__name__, e))
    return csr.public_bytes(serialization.Encoding.PEM).decode('ascii')
