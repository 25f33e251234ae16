"""The agents run with the gossip key the KV escrow holds (read with the server's root token, not from any file)."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3']


def kv_secret(name):
    import hvac
    with open(os.path.join(os.environ['KEYFLEET_LAB_BAO'], 'env.json')) as f:
        env = json.load(f)
    client = hvac.Client(url=env['url'], verify=env['ca_cert'], token=env['root_token'])
    return client.secrets.kv.v2.read_secret_version(path='keyfleet/%s' % name, mount_point='secret',
                                                    raise_on_deleted_version=True)['data']['data']


def test_gossip_encrypted_with_both_verify_flags(host):
    labcheck.assert_gossip_fully_encrypted(host)


def test_all_members_alive(host):
    labcheck.assert_members_alive(host, NODES)


def test_the_keyring_holds_only_the_key_in_the_kv_escrow(host):
    entry = kv_secret('consul_gossip_key_dc1')
    assert entry['kind'] == 'gossip_key' and entry['previous'] == []
    for ring in labcheck.consul_get(host, '/v1/operator/keyring'):
        assert list(ring['Keys']) == [entry['value']]


def test_no_escrow_file_on_the_controller():
    assert not os.path.exists(os.environ['KEYFLEET_ESCROW_FILE'])


def pki_ca(mount='pki2'):
    # The cluster went to TLS with the PKI at pki, then rotated to the one at pki2 (converge.yml).
    with open(os.path.join(os.environ['KEYFLEET_LAB_BAO'], 'env.json')) as f:
        return json.load(f)[mount + '_ca']


def test_full_tls_as_the_agent_reports_it(host):
    labcheck.assert_tls_full(labcheck.consul_get(host, '/v1/agent/self'))


def test_agents_verify_each_other_over_tls(host):
    assert labcheck.consul_get_tls(host, '/v1/status/leader')
    labcheck.assert_members_alive(host, NODES)


def test_the_agents_trust_the_new_pki_ca_alone_and_their_certificates_chain_to_it(host, tmp_path):
    from cryptography import x509
    ca_file = host.file(labcheck.TLS_DIR + '/consul-agent-ca.pem').content_string
    assert x509.load_pem_x509_certificates(ca_file.encode()) == [x509.load_pem_x509_certificate(pki_ca().encode())]
    assert pki_ca() != pki_ca('pki')
    cert = x509.load_pem_x509_certificate(host.file(labcheck.TLS_DIR + '/consul-agent.pem').content_string.encode())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(pki_ca().encode()))
    assert 'DNS:server.dc1.consul' in labcheck.cert_names(host)


def test_no_ca_key_on_the_controller_nor_in_the_escrow():
    import hvac
    with open(os.path.join(os.environ['KEYFLEET_LAB_BAO'], 'env.json')) as f:
        env = json.load(f)
    client = hvac.Client(url=env['url'], verify=env['ca_cert'], token=env['root_token'])
    names = client.secrets.kv.v2.list_secrets(path='keyfleet', mount_point='secret')['data']['keys']
    # The CA rotation's record (the new CA's fingerprint, no key), current once the rotation from pki to pki2 ended.
    assert names == ['consul_gossip_key_dc1', 'consul_tls_ca_dc1_rotation']
    record = client.secrets.kv.v2.read_secret_version(path='keyfleet/consul_tls_ca_dc1_rotation', mount_point='secret',
                                                      raise_on_deleted_version=True)['data']['data']
    assert record['kind'] == 'text' and record['generation'] == 'pki2' and 'pending' not in record
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    digest = x509.load_pem_x509_certificate(pki_ca().encode()).fingerprint(hashes.SHA256()).hex()
    assert record['value'] == ':'.join(digest[i:i + 2] for i in range(0, 64, 2))
    assert not os.path.exists(os.environ['KEYFLEET_ESCROW_FILE'])
