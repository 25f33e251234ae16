"""served_certificate: the certificate an agent serves, read from a real TLS handshake; a failed read stops."""

import datetime
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import ConsulClient, ConsulError, served_certificate


@pytest.fixture
def server(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'server.dc1.consul')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(7)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / 'c.pem').write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / 'k.pem').write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tmp_path / 'c.pem'), str(tmp_path / 'k.pem'))
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)

    def serve():
        conn, dummy = listener.accept()
        try:
            with ctx.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], cert
    listener.close()


def test_the_certificate_served_is_returned(server):
    port, cert = server
    pem = served_certificate(ConsulClient(['https://127.0.0.1:%d' % port, 'http://127.0.0.1:8500'], timeout=5))
    assert x509.load_pem_x509_certificate(pem.encode()) == cert


def test_no_https_url_or_no_answer_stops():
    with pytest.raises(ConsulError, match='no HTTPS URL'):
        served_certificate(ConsulClient('http://127.0.0.1:8500'))
    free = socket.socket()
    free.bind(('127.0.0.1', 0))
    port = free.getsockname()[1]
    free.close()
    with pytest.raises(ConsulError, match='cannot read the certificate the agent serves'):
        served_certificate(ConsulClient('https://127.0.0.1:%d' % port, timeout=2))
