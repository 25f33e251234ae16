# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The MCollective CA on the controller (plugin_utils/_mcollective_ca.py): what it refuses, what it issues, and that
OpenSSL and aes_security's Ruby accept what it issues and nothing else."""

from __future__ import annotations

import base64
import datetime
import shutil
import subprocess

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.filter.mcollective_aes_ca_problems import mcollective_aes_ca_problems
from ansible_collections.keyfleet.encryption.plugins.filter.mcollective_aes_certificates import mcollective_aes_certificates
from ansible_collections.keyfleet.encryption.plugins.filter.mcollective_aes_key_problems import mcollective_aes_key_problems
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._mcollective_ca import (
    MCollectiveCAError, ca_problems, certificates, issue, key_problems)

PEM = serialization.Encoding.PEM
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
LAB_IMAGE = 'localhost/keyfleet-lab:latest'
_KEYS = {}


def rsa_key(bits=2048, tag='a'):
    """RSA keys are slow to make: one per (bits, tag) for the whole module."""
    if (bits, tag) not in _KEYS:
        _KEYS[bits, tag] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _KEYS[bits, tag]


def public_pem(key, fmt=serialization.PublicFormat.SubjectPublicKeyInfo):
    return key.public_key().public_bytes(PEM, fmt).decode('ascii')


def private_pem(key, fmt=serialization.PrivateFormat.PKCS8, password=None):
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(PEM, fmt, enc).decode('ascii')


def b64(text):
    return base64.b64encode(text.encode('ascii') if isinstance(text, str) else text).decode('ascii')


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(key, subject='MCollective CA', issuer_key=None, issuer=None, ca=True, bc=True, ski=True, ku=None,
              before=None, after=None):
    builder = (x509.CertificateBuilder().subject_name(name(subject) if isinstance(subject, str) else subject)
               .issuer_name(issuer or (name(subject) if isinstance(subject, str) else subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(before or NOW - datetime.timedelta(days=1))
               .not_valid_after(after or NOW + datetime.timedelta(days=365)))
    if bc:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    if ku is not None:
        builder = builder.add_extension(ku, critical=True)
    signer = issuer_key or key
    algorithm = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(signer, algorithm).public_bytes(PEM).decode('ascii')


def usage(**on):
    names = ('digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment', 'key_agreement',
             'key_cert_sign', 'crl_sign', 'encipher_only', 'decipher_only')
    return x509.KeyUsage(**dict((n, on.get(n, False)) for n in names))


@pytest.fixture(scope='module')
def ca():
    key = rsa_key(2048, 'ca')
    return make_cert(key), private_pem(key)


@pytest.fixture(scope='module')
def alice():
    return public_pem(rsa_key(2048, 'alice'))


def load(pem):
    return x509.load_pem_x509_certificate(pem.encode('ascii'))


# --- issuing ---------------------------------------------------------------------------------------------------

def test_issue_is_deterministic(ca, alice):
    first = issue('alice', alice, *ca)
    assert issue('alice', alice, *ca) == first
    assert certificates([['alice', b64(alice), 'client1']], *ca) == [['alice', first]]
    # and the PKCS#1 form of the same key is the same key: the same certificate
    pkcs1 = public_pem(rsa_key(2048, 'alice'), serialization.PublicFormat.PKCS1)
    assert '-----BEGIN RSA PUBLIC KEY-----' in pkcs1
    assert issue('alice', pkcs1, *ca) == first
    other = load(issue('bob', alice, *ca))
    assert other.serial_number != load(first).serial_number


def test_certificate_says_what_the_controller_decided(ca, alice):
    ca_cert = load(ca[0])
    cert = load(issue('alice', alice, *ca))
    assert list(cert.subject) == [x509.NameAttribute(NameOID.COMMON_NAME, 'alice')]
    assert cert.subject.rfc4514_string() == 'CN=alice'
    assert cert.issuer == ca_cert.subject
    assert 0 < cert.serial_number < 2 ** 159
    assert cert.not_valid_before_utc == ca_cert.not_valid_before_utc
    assert cert.not_valid_after_utc == ca_cert.not_valid_after_utc
    assert cert.signature_hash_algorithm.name == 'sha256'
    assert cert.public_key().public_numbers() == rsa_key(2048, 'alice').public_key().public_numbers()
    cert.verify_directly_issued_by(ca_cert)
    exts = dict((type(e.value).__name__, e) for e in cert.extensions)
    assert sorted(exts) == ['AuthorityKeyIdentifier', 'BasicConstraints', 'KeyUsage', 'SubjectKeyIdentifier']
    assert exts['BasicConstraints'].critical and not exts['BasicConstraints'].value.ca
    ku = exts['KeyUsage'].value
    assert exts['KeyUsage'].critical and ku.digital_signature and ku.key_encipherment
    assert not (ku.key_cert_sign or ku.crl_sign or ku.content_commitment or ku.data_encipherment or ku.key_agreement)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert exts['AuthorityKeyIdentifier'].value.key_identifier == ca_ski.digest


def test_aki_from_the_ca_key_without_ski(alice):
    key = rsa_key(2048, 'ca')
    ca_pem = make_cert(key, ski=False)
    cert = load(issue('alice', alice, ca_pem, private_pem(key)))
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest


def test_ca_ski_of_its_own_method_is_used(alice):
    key = rsa_key(2048, 'ca')
    builder_ca = (x509.CertificateBuilder().subject_name(name('MCollective CA')).issuer_name(name('MCollective CA'))
                  .public_key(key.public_key()).serial_number(7).not_valid_before(NOW - datetime.timedelta(days=1))
                  .not_valid_after(NOW + datetime.timedelta(days=30))
                  .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                  .add_extension(x509.SubjectKeyIdentifier(b'\x42' * 20), critical=False)
                  .sign(key, hashes.SHA256()).public_bytes(PEM).decode('ascii'))
    cert = load(issue('alice', alice, builder_ca, private_pem(key)))
    assert cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == b'\x42' * 20


def test_certificates_in_input_order_unique_by_name(ca, alice):
    bob = public_pem(rsa_key(2048, 'bob'))
    entries = [['web2', b64(bob), 'web2.example'], ['alice', b64(alice), 'client1'], ['alice', b64(alice), 'client2']]
    issued = certificates(entries, *ca)
    assert [n for n, pem in issued] == ['web2', 'alice']
    assert issued[1][1] == issue('alice', alice, *ca)


def test_one_name_two_keys_is_refused(ca, alice):
    bob = public_pem(rsa_key(2048, 'bob'))
    entries = [['alice', b64(alice), 'client1'], ['alice', b64(bob), 'client2']]
    problems = key_problems(entries)
    assert len(problems) == 1
    assert 'caller id alice' in problems[0] and 'client1' in problems[0] and 'client2' in problems[0]
    with pytest.raises(MCollectiveCAError, match='different public keys'):
        certificates(entries, *ca)


def test_ca_subject_equal_to_a_caller_is_refused(alice):
    key = rsa_key(2048, 'ca')
    ca = (make_cert(key, subject='alice'), private_pem(key))
    with pytest.raises(MCollectiveCAError, match='self-issued'):
        issue('alice', alice, *ca)
    with pytest.raises(MCollectiveCAError, match='self-issued'):
        certificates([['alice', b64(alice), 'client1']], *ca)


# --- what OpenSSL and Ruby accept ------------------------------------------------------------------------------

needs_openssl = pytest.mark.skipif(shutil.which('openssl') is None, reason='needs the openssl command')


def openssl(*args):
    return subprocess.run(('openssl',) + args, capture_output=True, text=True, timeout=60, check=False)


@needs_openssl
def test_openssl_subject_and_verify(tmp_path, ca, alice):
    (tmp_path / 'ca.pem').write_text(ca[0])
    (tmp_path / 'alice.pem').write_text(issue('alice', alice, *ca))
    subject = openssl('x509', '-in', str(tmp_path / 'alice.pem'), '-noout', '-subject', '-nameopt', 'compat')
    assert subject.stdout.strip() == 'subject=/CN=alice'
    ok = openssl('verify', '-CAfile', str(tmp_path / 'ca.pem'), str(tmp_path / 'alice.pem'))
    assert ok.returncode == 0, ok.stdout + ok.stderr


@needs_openssl
def test_openssl_verify_without_ca_ski(tmp_path, alice):
    key = rsa_key(2048, 'ca')
    ca_pem = make_cert(key, ski=False)
    (tmp_path / 'ca.pem').write_text(ca_pem)
    (tmp_path / 'alice.pem').write_text(issue('alice', alice, ca_pem, private_pem(key)))
    ok = openssl('verify', '-CAfile', str(tmp_path / 'ca.pem'), str(tmp_path / 'alice.pem'))
    assert ok.returncode == 0, ok.stdout + ok.stderr


def forgeries(ca):
    """Certificates for CN=alice that the CA did not issue: self-signed, and from another CA of the same subject."""
    mallory = rsa_key(2048, 'mallory')
    self_signed = make_cert(mallory, subject='alice', ca=False)
    other_key = rsa_key(2048, 'other ca')
    other_ca = make_cert(other_key)  # the same subject as the real CA: MCollective CA
    from_other = issue('alice', public_pem(mallory), other_ca, private_pem(other_key))
    return {'self-signed': self_signed, 'another CA': from_other}


@needs_openssl
def test_openssl_refuses_forgeries(tmp_path, ca):
    (tmp_path / 'ca.pem').write_text(ca[0])
    for what, pem in forgeries(ca).items():
        (tmp_path / 'forged.pem').write_text(pem)
        subject = openssl('x509', '-in', str(tmp_path / 'forged.pem'), '-noout', '-subject', '-nameopt', 'compat')
        assert subject.stdout.strip() == 'subject=/CN=alice', what
        refused = openssl('verify', '-CAfile', str(tmp_path / 'ca.pem'), str(tmp_path / 'forged.pem'))
        assert refused.returncode != 0, what


def lab_image_present():
    if shutil.which('podman') is None:
        return False
    try:
        return subprocess.run(['podman', 'image', 'exists', LAB_IMAGE], capture_output=True, timeout=60, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


# aes_security's validate_certificate and certname_from_certificate, as the plugin runs them: the CA from a file in
# an X509::Store, the caller id from cert.subject.to_s. Input: the CA, then the certificates, as PEM.
RUBY = r'''
pems = STDIN.read.scan(/-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n/m)
File.write("/tmp/ca.pem", pems.shift)
pems.each do |pem|
  cert = OpenSSL::X509::Certificate.new(pem)
  store = OpenSSL::X509::Store.new
  store.add_file "/tmp/ca.pem"
  certname = cert.subject.to_s =~ /^\/CN=([\w\.\-]+)/ ? $1 : nil
  puts [store.verify(cert), cert.subject.to_s, certname.inspect].join(" ")
end
'''


@pytest.mark.skipif(shutil.which('podman') is None, reason='needs podman and the lab image')
def test_ruby_aes_security_accepts_what_the_ca_issues(ca, alice):
    if not lab_image_present():
        pytest.skip('the lab image %s is not there' % LAB_IMAGE)
    forged = forgeries(ca)
    stdin = ca[0] + issue('alice', alice, *ca) + forged['self-signed'] + forged['another CA']
    run = subprocess.run(['podman', 'run', '--rm', '-i', LAB_IMAGE, 'ruby', '-ropenssl', '-e', RUBY], input=stdin,
                         capture_output=True, text=True, timeout=300, check=False)
    if run.returncode in (125, 126):  # podman could not start a container here (no lab settings): not the plugin's answer
        pytest.skip('podman cannot run the lab image here: %s' % run.stderr.strip()[:200])
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ['true /CN=alice "alice"', 'false /CN=alice "alice"', 'false /CN=alice "alice"']


# --- what a hostile host may send ------------------------------------------------------------------------------

def hostile_contents():
    small = rsa_key(1024, 'small')
    alice = rsa_key(2048, 'alice')
    ec_key = ec.generate_private_key(ec.SECP256R1())
    dsa_key = dsa.generate_private_key(2048)
    csr = (x509.CertificateSigningRequestBuilder().subject_name(name('alice')).sign(alice, hashes.SHA256())
           .public_bytes(PEM).decode('ascii'))
    return {
        'garbage': (b64('this is not a key at all\n'), 'is not PEM'),
        'binary garbage': (b64(b'\x00\xff' * 40), 'is not PEM'),
        'empty': ('', 'is empty'),
        'not base64': ('%%% not base64 %%%', 'is not base64'),
        'PKCS#8 private key': (b64(private_pem(alice)), "'PRIVATE KEY' block (a private key)"),
        'RSA private key': (b64(private_pem(alice, serialization.PrivateFormat.TraditionalOpenSSL)),
                            "'RSA PRIVATE KEY' block (a private key)"),
        'encrypted private key': (b64(private_pem(alice, password=b'pw')), "'ENCRYPTED PRIVATE KEY' block (a private key)"),
        'certificate': (b64(make_cert(alice, subject='alice', ca=False)), "'CERTIFICATE' block (a certificate)"),
        'signing request': (b64(csr), "'CERTIFICATE REQUEST' block (a certificate signing request)"),
        'EC key': (b64(public_pem(ec_key)), 'is an EC key on secp256r1, not RSA'),
        'DSA key': (b64(public_pem(dsa_key)), 'is a DSA key of 2048 bits, not RSA'),
        'Ed25519 key': (b64(public_pem(ed25519.Ed25519PrivateKey.generate())), 'is an Ed25519 key, not RSA'),
        'RSA 1024': (b64(public_pem(small)), 'is an RSA key of 1024 bits, below 2048 bits'),
        'RSA 1024 PKCS#1': (b64(public_pem(small, serialization.PublicFormat.PKCS1)), 'is an RSA key of 1024 bits'),
        'two keys': (b64(public_pem(alice) + public_pem(small)), 'holds 2 PEM blocks (PUBLIC KEY, PUBLIC KEY)'),
        'key and private key': (b64(public_pem(alice) + private_pem(alice)), 'holds 2 PEM blocks (PUBLIC KEY, PRIVATE KEY)'),
        'text around': (b64('hello\n' + public_pem(alice)), 'is not exactly one well-formed PEM block'),
        'broken block': (b64(public_pem(alice).replace('-----END PUBLIC KEY-----', '-----END RSA PUBLIC KEY-----')),
                         'is not exactly one well-formed PEM block'),
        'bad DER': (b64('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), 'does not parse as a public key'),
        'odd label': (b64('-----BEGIN <script>alert(1)</script>-----\nAAAA\n-----END X-----\n'), 'an unusual label'),
    }


HOSTILE = hostile_contents()


@pytest.mark.parametrize('what', sorted(HOSTILE))
def test_hostile_key_is_refused_naming_host_and_caller(ca, alice, what):
    content, expected = HOSTILE[what]
    problems = key_problems([['alice', b64(alice), 'client1'], ['mallory', content, 'evil.example']])
    assert len(problems) == 1, problems
    assert problems[0].startswith('host evil.example (caller id mallory): the public key ')
    assert expected in problems[0]
    decoded = base64.b64decode(content) if content and what != 'not base64' else b''
    body = b''.join(decoded.splitlines()[1:-1])  # the PEM body (or the garbage) must not be echoed
    for chunk in (body[i:i + 12] for i in range(0, len(body) - 12, 12)):
        assert chunk.decode('latin-1') not in problems[0]
    with pytest.raises(MCollectiveCAError, match='evil.example'):
        certificates([['mallory', content, 'evil.example']], *ca)


def test_a_private_key_is_called_exposed():
    problem = key_problems([['mallory', HOSTILE['RSA private key'][0], 'evil.example']])[0]
    assert 'take that key as exposed' in problem


@pytest.mark.parametrize('caller', ['a b', 'a/b', '../etc', 'caf\u00e9', 'alice\n', '', 'x' * 65, None, 7])
def test_bad_caller_id_is_refused_naming_host(ca, alice, caller):
    problems = key_problems([[caller, b64(alice), 'client1']])
    assert len(problems) == 1 and problems[0].startswith('host client1 (caller id ')
    assert 'is not usable' in problems[0] and '[\\w.-]+' in problems[0]
    if isinstance(caller, str):
        with pytest.raises(MCollectiveCAError, match='is not usable'):
            issue(caller, alice, *ca)


@pytest.mark.parametrize('caller', ['alice', 'web-1.example.com', 'svc_mco', 'x' * 64])
def test_good_caller_ids(ca, alice, caller):
    assert key_problems([[caller, b64(alice), 'client1']]) == []
    assert load(issue(caller, alice, *ca)).subject.rfc4514_string() == 'CN=' + caller


def test_issue_refuses_a_bad_key(ca):
    with pytest.raises(MCollectiveCAError, match='caller id alice is a PEM .PRIVATE KEY. block'):
        issue('alice', private_pem(rsa_key(2048, 'alice')), *ca)
    with pytest.raises(MCollectiveCAError, match='RSA key of 1024 bits'):
        issue('alice', public_pem(rsa_key(1024, 'small')), *ca)


@pytest.mark.parametrize('entries', ['alice', [['alice', 'x']], [['alice', 5, 'h']], [['alice', 'eA==', None]], [None]])
def test_wrong_entry_types_raise(entries):
    with pytest.raises(MCollectiveCAError):
        key_problems(entries)


# --- what the CA must be ---------------------------------------------------------------------------------------

def ca_cases():
    key = rsa_key(2048, 'ca')
    key_pem = private_pem(key)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    small = rsa_key(1024, 'small')
    root_key = rsa_key(2048, 'other ca')
    intermediate = make_cert(key, issuer=name('Root CA'), issuer_key=root_key)
    return {
        'EC CA': ((make_cert(ec_key), private_pem(ec_key)), 'holds an EC key on secp256r1, not RSA'),
        'RSA 1024 CA': ((make_cert(small), private_pem(small)), 'holds an RSA key of 1024 bits'),
        'CA:FALSE': ((make_cert(key, ca=False), key_pem), 'basicConstraints CA:FALSE'),
        'no basicConstraints': ((make_cert(key, bc=False), key_pem), 'no basicConstraints'),
        'mismatched key': ((make_cert(key), private_pem(rsa_key(2048, 'alice'))), 'does not match'),
        'expired': ((make_cert(key, before=NOW - datetime.timedelta(days=30), after=NOW - datetime.timedelta(days=1)),
                     key_pem), 'expired on'),
        'not yet valid': ((make_cert(key, before=NOW + datetime.timedelta(days=1)), key_pem), 'is valid only from'),
        'empty subject': ((make_cert(key, subject=x509.Name([])), key_pem), 'empty subject'),
        'intermediate': ((intermediate, key_pem), 'is not a self-signed root'),
        'no keyCertSign': ((make_cert(key, ku=usage(digital_signature=True, crl_sign=True)), key_pem), 'without keyCertSign'),
        'encrypted key': ((make_cert(key), private_pem(key, password=b'pw')), 'is encrypted'),
        'key given as cert': ((key_pem, key_pem), 'exactly one PEM CERTIFICATE block'),
        'cert given as key': ((make_cert(key), make_cert(key)), 'exactly one PEM private key block'),
        'bundle': ((make_cert(key) + make_cert(root_key), key_pem), 'exactly one PEM CERTIFICATE block'),
        'empty cert': (('', key_pem), 'mcollective_aes_ca_cert is empty'),
        'no key': ((make_cert(key), None), 'mcollective_aes_ca_key is empty'),
        'garbage cert': (('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', key_pem), 'cannot be read'),
    }


CA_CASES = ca_cases()


@pytest.mark.parametrize('what', sorted(CA_CASES))
def test_ca_is_refused(alice, what):
    (cert, key), expected = CA_CASES[what]
    problems = ca_problems(cert, key)
    assert any(expected in p for p in problems), problems
    assert all(('mcollective_aes_ca_cert' in p or 'mcollective_aes_ca_key' in p) for p in problems)
    with pytest.raises(MCollectiveCAError, match='cannot issue certificates'):
        issue('alice', alice, cert, key)
    with pytest.raises(MCollectiveCAError, match='cannot issue certificates'):
        certificates([['alice', b64(alice), 'client1']], cert, key)


def test_not_rsa_says_why():
    (cert, key), dummy = CA_CASES['EC CA']
    problems = ca_problems(cert, key)
    assert len(problems) == 1
    assert 'deterministic' in problems[0] and 'byte-identical' in problems[0]


def test_good_ca_and_source_wording(ca):
    assert ca_problems(*ca) == []
    wrong = (ca[0], private_pem(rsa_key(2048, 'alice')))
    assert ca_problems(*wrong, source='mcollective_aes_ca') == [
        "the escrow's mcollective_aes_ca_key does not match the escrow's mcollective_aes_ca_cert: "
        'the key is not the private key of the certificate.']
    assert ca_problems(*wrong, source=['the CA file', 'the CA key file'])[0].startswith('the CA key file does not match the CA file')
    expired = ca_problems(*ca, now=NOW + datetime.timedelta(days=400))
    assert len(expired) == 1 and expired[0].startswith('mcollective_aes_ca_cert expired on')


# --- the filters ----------------------------------------------------------------------------------------------

def test_filters(ca, alice):
    assert mcollective_aes_ca_problems({'cert': ca[0], 'key': ca[1]}) == []
    assert "the escrow's x_cert" in mcollective_aes_ca_problems({'cert': '', 'key': ca[1], 'source': 'x'})[0]
    assert mcollective_aes_key_problems([['alice', b64(alice), 'client1']]) == []
    issued = mcollective_aes_certificates([['alice', b64(alice), 'client1']], ca[0], ca[1])
    assert issued == [['alice', issue('alice', alice, *ca)]]
    with pytest.raises(AnsibleFilterError, match='evil.example'):
        mcollective_aes_certificates([['alice', b64('junk'), 'evil.example']], ca[0], ca[1])


@pytest.mark.parametrize('call', [
    lambda ca: mcollective_aes_ca_problems('pem'),
    lambda ca: mcollective_aes_ca_problems({'cert': ca[0], 'key': ca[1], 'extra': 1}),
    lambda ca: mcollective_aes_ca_problems({'cert': ca[0], 'key': ca[1], 'source': 5}),
    lambda ca: mcollective_aes_key_problems({'alice': 'x'}),
    lambda ca: mcollective_aes_key_problems([['alice', None, 'h']]),
    lambda ca: mcollective_aes_certificates('alice', ca[0], ca[1]),
    lambda ca: mcollective_aes_certificates([], None, ca[1]),
    lambda ca: mcollective_aes_certificates([], ca[0], ca[1], source=3),
    lambda ca: mcollective_aes_certificates([['alice']], ca[0], ca[1]),
])
def test_filters_refuse_wrong_types(ca, call):
    with pytest.raises(AnsibleFilterError):
        call(ca)
