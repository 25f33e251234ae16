"""The CA rotation's rule: what agents may trust and serve, and which steps are left (ca_rotation_plan)."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import ca_rotation_plan, trusted_ca_problems

NOW = datetime.datetime.now(datetime.timezone.utc)


def _ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=9))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


def _leaf(ca, cn='server.dc1.consul'):
    ca_key, ca_pem = ca
    issuer = x509.load_pem_x509_certificate(ca_pem.encode()).subject
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=9)).sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# The same subject for A and B, as the role makes them: only the signature tells them apart.
A, B, C = _ca('Consul Agent CA dc1'), _ca('Consul Agent CA dc1'), _ca('Other CA')
HOSTS = ('n1', 'n2', 'n3')


def plan(trusted, served, old_cas=(A[1],), new=B[1]):
    return ca_rotation_plan(dict(zip(HOSTS, trusted)), dict(zip(HOSTS, served)), list(old_cas), new, 'r1')


def test_start_every_step_left():
    p = plan([A[1]] * 3, [_leaf(A)] * 3)
    assert p['problems'] == [] and p['steps'] == ['trust_both', 'certificates', 'trust_new'] and not p['done']
    assert p['trust']['old'] == list(HOSTS) and p['old'] and p['new'] and p['old'] != p['new']


def test_stopped_in_the_certificates_step_resumes_there():
    p = plan([A[1] + B[1], B[1] + A[1], A[1] + B[1]], [_leaf(B), _leaf(A), _leaf(B)])
    assert p['problems'] == [] and p['steps'] == ['trust_both', 'certificates', 'trust_new']
    assert p['serving_new'] == ['n1', 'n3'] and p['trust']['both'] == list(HOSTS)


def test_stopped_in_the_last_step_only_that_step_is_left():
    p = plan([B[1], A[1] + B[1], B[1]], [_leaf(B)] * 3)
    assert p['problems'] == [] and p['steps'] == ['trust_new']


def test_done():
    # After the escrow made B current, A is among its previous CAs: old_cas holds both.
    p = plan([B[1]] * 3, [_leaf(B)] * 3, old_cas=(B[1], A[1]))
    assert p['problems'] == [] and p['steps'] == [] and p['done'] and p['old'] == ''


@pytest.mark.parametrize('trusted, served, why', [
    ([A[1] + C[1], A[1], A[1]], [_leaf(A)] * 3, 'n1 trusts'),
    ([A[1] + B[1] + C[1], A[1], A[1]], [_leaf(A)] * 3, 'and nothing else'),
    ([C[1], C[1], C[1]], [_leaf(C)] * 3, 'n1 trusts'),
    ([A[1], A[1], ''], [_leaf(A)] * 3, 'n3 trusts no CA'),
    ([A[1]] * 3, [_leaf(A), _leaf(C), _leaf(A)], 'n2 serves a certificate issued by CN=Other CA'),
    ([B[1], A[1] + B[1], A[1] + B[1]], [_leaf(B), _leaf(A), _leaf(B)], 'n1 trust only the new CA, but n2 do not serve'),
])
def test_what_stops_a_rotation(trusted, served, why):
    p = plan(trusted, served)
    assert p['steps'] == [] and any(why in problem for problem in p['problems']), p['problems']


def test_two_old_cas_stop_it():
    p = plan([A[1], C[1], A[1]], [_leaf(A), _leaf(C), _leaf(A)], old_cas=(A[1], C[1]))
    assert any('different old CAs' in problem for problem in p['problems'])


def test_the_new_ca_must_be_one_certificate():
    assert 'must be one certificate' in plan([A[1]] * 3, [_leaf(A)] * 3, new=A[1] + B[1])['problems'][0]


def test_a_run_that_is_no_rotation_refuses_agents_in_a_rotation():
    both = dict(n1=A[1] + B[1], n2=A[1])
    problems = trusted_ca_problems(both, A[1])
    assert len(problems) == 1 and 'A CA rotation is under way' in problems[0] and 'n1' in problems[0]
    assert trusted_ca_problems(dict(n1=A[1], n2=A[1]), A[1]) == []


def test_what_a_hostile_agent_sends_stops_the_plan_or_counts_for_nothing():
    from cryptography.hazmat.primitives.asymmetric import ed25519
    # A CA file or certificate far longer than any agent holds is refused before it is parsed.
    assert 'longer than' in plan([A[1] + 'x' * 300000, A[1], A[1]], [_leaf(A)] * 3)['problems'][0]
    # The new CA's own certificate served as an agent's: a CA certificate, not one B issued to an agent.
    p = plan([A[1] + B[1]] * 3, [B[1], _leaf(B), _leaf(B)])
    assert any('n1 serves a CA certificate' in problem for problem in p['problems'])
    # A certificate with an Ed25519 signature under an EC CA: issued by neither, never a crash.
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Consul Agent CA dc1')])
    odd = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
           .serial_number(3).not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=1)).sign(key, None))
    p = plan([A[1]] * 3, [odd.public_bytes(serialization.Encoding.PEM).decode(), _leaf(A), _leaf(A)])
    assert any('n1 serves a certificate issued by' in problem for problem in p['problems'])


def test_a_new_ca_that_is_the_previous_pki_s_is_refused():
    p = ca_rotation_plan(dict(zip(HOSTS, [A[1]] * 3)), dict(zip(HOSTS, [_leaf(A)] * 3)), [A[1]], A[1], 'r1', [A[1]])
    assert 'is the CA in use' in p['problems'][0] and p['steps'] == []


def test_files_that_say_done_leave_trust_new_until_the_escrow_records_it():
    # A run stopped between the last file write and its reload: every file says B, the agents may still trust A.
    trusted, served = dict(zip(HOSTS, [B[1]] * 3)), dict(zip(HOSTS, [_leaf(B)] * 3))
    unconfirmed = ca_rotation_plan(trusted, served, [A[1]], B[1], 'r1', recorded='')
    assert unconfirmed['steps'] == ['trust_new'] and not unconfirmed['done']
    new = ca_rotation_plan(trusted, served, [A[1]], B[1], 'r1')['new']
    assert ca_rotation_plan(trusted, served, [A[1]], B[1], 'r1', recorded=new)['steps'] == []
    # An earlier rotation's record is not this one's.
    assert ca_rotation_plan(trusted, served, [A[1]], B[1], 'r1', recorded='aa:bb')['steps'] == ['trust_new']


def test_an_auto_encrypt_client_only_trusts():
    # n3 gets its certificate from the servers (None: none of ours to judge); it moves through the trust steps only.
    p = plan([A[1]] * 3, [_leaf(A), _leaf(A), None])
    assert p['problems'] == [] and p['steps'] == ['trust_both', 'certificates', 'trust_new']
    p = plan([A[1] + B[1]] * 3, [_leaf(B), _leaf(A), None])
    assert p['problems'] == [] and not p['all_serve_new']
    p = plan([A[1] + B[1]] * 3, [_leaf(B), _leaf(B), None])
    assert p['problems'] == [] and p['steps'] == ['trust_new'] and p['serving_new'] == ['n1', 'n2'] and p['all_serve_new']
    p = plan([B[1]] * 3, [_leaf(B), _leaf(B), None], old_cas=(B[1], A[1]))
    assert p['done']
