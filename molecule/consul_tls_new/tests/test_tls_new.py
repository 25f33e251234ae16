"""Verify a new cluster started with full TLS, HTTPS-only API, and the bad-input runs."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3']


@pytest.fixture(scope='module')
def evidence():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'bad-input.json')) as f:
        return json.load(f)


@pytest.mark.parametrize('case, message', [
    ('ca-mismatch', 'the CA key does not match the CA certificate'),
    ('ca-expired', 'the CA certificate expired on'),
    ('node-name', 'the node name "node_1" (consul_node_name)'),
])
def test_bad_input_is_named(evidence, case, message):
    assert message in ' '.join(evidence['runs'][case].replace('\\"', '"').split())


def test_bad_input_changed_no_host(evidence):
    assert evidence['files_after_bad'] == [1, 1, 1]


def test_full_tls_from_the_first_start(host):
    labcheck.assert_tls_full(labcheck.consul_get_tls(host, '/v1/agent/self'))
    # One start only: never a moment without TLS.
    assert labcheck.consul_starts(host)[1] == 1


def test_plain_http_is_off(host):
    assert host.run("python3 -c 'import urllib.request as u; u.urlopen(\"http://127.0.0.1:8500/v1/status/leader\", timeout=3)'").rc != 0


def test_members_alive_over_https(host):
    members = labcheck.consul_get_tls(host, '/v1/agent/members')
    assert sorted((m['Name'], m['Status']) for m in members) == [(n, 1) for n in NODES]


def test_files_owner_and_mode(host):
    labcheck.assert_tls_files(host)


def test_rpc_refuses_plain_and_certless_clients(host):
    labcheck.assert_rpc_tls_enforced(host, 'node2')


def test_ca_key_never_in_the_output():
    labcheck.assert_secrets_not_logged([labcheck.escrow_secret('consul_tls_ca_dc1_key')],
                                       expect=('keyfleet-tls.json',))
