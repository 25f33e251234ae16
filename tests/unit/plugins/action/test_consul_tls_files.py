# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""keyfleet.encryption.consul_tls_files: the module on the agent and its action plugin on the controller,
joined as Ansible joins them, with real keys and certificates."""

from __future__ import annotations

import datetime
import grp
import os
import pwd
import stat

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible.plugins.action import ActionBase

from ansible_collections.keyfleet.encryption.plugins.action import consul_tls_files as action
from ansible_collections.keyfleet.encryption.plugins.modules import consul_tls_files


def make_ca(name='Consul Agent CA dc1'):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=100))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


class Task:
    def __init__(self, args, check_mode=False):
        self.args, self.check_mode, self.async_val = args, check_mode, 0


@pytest.fixture
def tls(tmp_path, monkeypatch, run_module):
    """Run the task: the action plugin, whose module calls run the real module here; records every call's arguments."""
    ca_cert, ca_key = make_ca()
    d = tmp_path / 'tls'
    args = dict(dir=str(d), ca_cert=ca_cert, ca_key=ca_key, cert_days=90, ca_file=str(d / 'ca.pem'),
                cert_file=str(d / 'agent.pem'), key_file=str(d / 'agent-key.pem'),
                dns_names=['server.dc1.consul', 'node1.server.dc1.consul', 'localhost'],
                owner=pwd.getpwuid(os.getuid()).pw_name, group=grp.getgrgid(os.getgid()).gr_name)
    calls = []
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})

    def task(check_mode=False, **over):
        plugin = action.ActionModule.__new__(action.ActionModule)
        plugin._task = Task(dict(args, **over), check_mode)
        plugin._loader = plugin._templar = None

        def execute(module_name, module_args, task_vars):
            calls.append(dict(module_args))
            return run_module(consul_tls_files, module_args, check_mode=check_mode)
        plugin._execute_module = execute
        return plugin.run(task_vars={})
    return dict(task=task, calls=calls, dir=d, args=args)


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_made_once_signed_on_the_controller_then_one_call(tls):
    plan = tls['task'](check_mode=True)
    assert plan['changed'] and plan['certificate_due'] == ['missing'] and not tls['dir'].exists()
    made = tls['task']()
    assert made['changed'] and len(tls['calls']) == 3  # the check, then request and certificate
    key = (tls['dir'] / 'agent-key.pem').read_text()
    assert mode(tls['dir']) == 0o750 and mode(tls['dir'] / 'agent-key.pem') == 0o640 and mode(tls['dir'] / 'agent.pem') == 0o644
    cert = x509.load_pem_x509_certificate((tls['dir'] / 'agent.pem').read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == tls['args']['dns_names']
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'server.dc1.consul'
    again = tls['task']()
    assert not again['changed'] and again['certificate_due'] == [] and len(tls['calls']) == 4
    assert (tls['dir'] / 'agent-key.pem').read_text() == key
    # the CA key never went to the agent
    assert all('ca_key' not in call and tls['args']['ca_key'] not in repr(call) for call in tls['calls'])


def test_another_ca_or_other_names_issue_again_with_the_same_key(tls):
    tls['task']()
    key = (tls['dir'] / 'agent-key.pem').read_text()
    ca_cert, ca_key = make_ca('Another CA')
    moved = tls['task'](ca_cert=ca_cert, ca_key=ca_key)
    assert moved['certificate_due'] == ['not signed by the CA of this run'] and moved['changed']
    renamed = tls['task'](ca_cert=ca_cert, ca_key=ca_key, dns_names=['client.dc1.consul', 'localhost'])
    assert renamed['certificate_due'] == ['names differ']
    assert (tls['dir'] / 'agent-key.pem').read_text() == key


def test_expiring_within_renew_days_is_issued_again(tls):
    tls['task']()  # valid 90 days
    key = (tls['dir'] / 'agent-key.pem').read_text()
    assert tls['task'](renew_days=100)['certificate_due'] == ['expires within 100 days']
    assert tls['task'](renew_days=100, cert_days=200)['certificate_due'] == ['expires within 100 days']
    assert tls['task'](renew_days=100)['certificate_due'] == []
    assert (tls['dir'] / 'agent-key.pem').read_text() == key


def test_an_unreadable_key_stops_and_stays(tls):
    tls['dir'].mkdir(mode=0o750)
    (tls['dir'] / 'agent-key.pem').write_text('not a key\n')
    result = tls['task']()
    assert result['failed'] and 'agent-key.pem is not an unencrypted PEM private key' in result['msg']
    assert (tls['dir'] / 'agent-key.pem').read_text() == 'not a key\n' and not (tls['dir'] / 'agent.pem').exists()


def test_the_module_refuses_a_ca_key(tls, run_module):
    result = run_module(consul_tls_files, tls['args'])
    assert result['failed'] and 'ca_key is for the controller' in result['msg'] and not tls['dir'].exists()


class FakePKI:
    """Stands in for community.hashi_vault's vault_write lookup: signs what it is sent with ``ca`` (cert, key)."""

    def __init__(self, ca):
        self.ca, self.calls = ca, []

    def run(self, terms, variables=None, data=None):
        from ansible_collections.keyfleet.encryption.plugins.plugin_utils._consul_tls import sign_request
        self.calls.append((terms, dict(data)))
        return [{'data': {'certificate': sign_request(data['csr'], self.ca[0], self.ca[1], 30)}}]


@pytest.fixture
def pki(tls, monkeypatch):
    def use(ca):
        fake = FakePKI(ca)
        monkeypatch.setattr(action.lookup_loader, 'get', lambda name, **kw: fake if name == 'community.hashi_vault.vault_write' else None)
        return fake
    return use


def test_pki_signs_and_no_ca_key_is_used(tls, pki):
    ca_cert, ca_key = make_ca('keyfleet lab Consul CA (OpenBao PKI)')
    fake = pki((ca_cert, ca_key))
    made = tls['task'](ca_cert=ca_cert, ca_key=None, pki={'mount_point': 'pki', 'role': 'consul-server'})
    assert made['changed'] and not made.get('failed'), made
    (path,), data = fake.calls[0]
    assert path == 'pki/sign/consul-server' and data['common_name'] == 'server.dc1.consul'
    assert data['alt_names'] == 'node1.server.dc1.consul,localhost' and data['ip_sans'] == '127.0.0.1'
    cert = x509.load_pem_x509_certificate((tls['dir'] / 'agent.pem').read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_cert.encode()))
    assert all('ca_key' not in c or not c['ca_key'] for c in tls['calls'])


def test_a_pki_certificate_from_another_ca_is_not_written(tls, pki):
    trusted_cert, dummy = make_ca('the CA the agents trust')
    pki(make_ca('another CA'))
    failed = tls['task'](ca_cert=trusted_cert, ca_key=None, pki={'role': 'consul-server'})
    assert failed['failed'] and 'does not chain to the CA the agents are given' in failed['msg']
    assert not (tls['dir'] / 'agent.pem').exists()
