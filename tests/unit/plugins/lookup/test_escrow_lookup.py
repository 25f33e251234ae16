# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar, trust_as_template


def lookup(secrets, variables=None):
    loader = DataLoader()
    loader.set_vault_secrets(secrets)
    return lookup_loader.get('keyfleet.encryption.escrow', loader=loader,
                             templar=Templar(loader=loader, variables=variables or {}))


def test_lookup_generates_and_reuses(tmp_path):
    path = str(tmp_path / 'e.vault')
    secrets = [('default', VaultSecret(b'pw'))]
    first = lookup(secrets).run(['a', 'b'], variables={}, kind='password', length=12, file=path)
    assert [len(v) for v in first] == [12, 12] and first[0] != first[1]
    assert lookup(secrets).run(['a', 'b'], variables={}, kind='password', file=path) == first


def test_lookup_file_from_variable(tmp_path):
    path = tmp_path / 'from-var.vault'
    lookup([('default', VaultSecret(b'pw'))]).run(['a'], variables={'keyfleet_escrow_file': str(path)})
    assert path.exists()


def test_lookup_without_vault_secret_says_how_to_give_one(tmp_path):
    with pytest.raises(AnsibleLookupError, match='no vault secret in this run.*--vault-id'):
        lookup([]).run(['a'], variables={}, file=str(tmp_path / 'e.vault'))


def test_lookup_with_wrong_password(tmp_path):
    path = str(tmp_path / 'e.vault')
    lookup([('default', VaultSecret(b'pw'))]).run(['a'], variables={}, file=path)
    with pytest.raises(AnsibleLookupError, match='cannot decrypt escrow file'):
        lookup([('default', VaultSecret(b'other'))]).run(['a'], variables={}, file=path)


def test_lookup_pem_store_and_read_and_generation(tmp_path):
    path = str(tmp_path / 'e.vault')
    secrets = [('default', VaultSecret(b'pw'))]
    assert lookup(secrets).run(['ca'], variables={}, kind='pem', file=path) == ['']
    assert lookup(secrets).run(['ca'], variables={}, kind='pem', value='PEM', file=path) == ['PEM']
    assert lookup(secrets).run(['ca'], variables={}, kind='pem', file=path) == ['PEM']
    with pytest.raises(AnsibleLookupError, match='value is only for kind=pem, text or password'):
        lookup(secrets).run(['k'], variables={}, kind='gossip_key', value='x', file=path)
    # an existing password is escrowed as given; the generated one it replaces is kept as previous
    generated = lookup(secrets).run(['p'], variables={}, kind='password', file=path)[0]
    assert lookup(secrets).run(['p'], variables={}, kind='password', value='set by hand', file=path) == ['set by hand']
    assert lookup(secrets).run(['p'], variables={}, kind='password', value='', file=path) == ['set by hand']
    assert generated != 'set by hand'
    old = lookup(secrets).run(['k'], variables={}, kind='gossip_key', file=path)
    new = lookup(secrets).run(['k'], variables={}, kind='gossip_key', generation='r1', file=path)
    assert new != old
    assert lookup(secrets).run(['k'], variables={}, kind='gossip_key', generation='r1', file=path) == new


def test_lookup_file_is_a_template_resolved_in_one_place(tmp_path):
    variables = {'keyfleet_escrow_file': trust_as_template('{{ base }}/escrow.vault'), 'base': str(tmp_path)}
    lookup([('default', VaultSecret(b'pw'))], variables).run(['a'], variables=variables)
    assert (tmp_path / 'escrow.vault').exists()
    assert not [p for p in tmp_path.rglob('*') if '{{' in str(p)]


def test_lookup_pending_rotation_store_and_promote(tmp_path):
    path = str(tmp_path / 'e.vault')
    secrets = [('default', VaultSecret(b'pw'))]
    old = lookup(secrets).run(['k'], variables={}, kind='gossip_key', file=path)
    planned = lookup(secrets).run(['k'], variables={}, kind='gossip_key', generation='A', pending=True, store=False, file=path)
    new = lookup(secrets).run(['k'], variables={}, kind='gossip_key', generation='A', pending=True, file=path)
    assert planned != new and new != old
    assert lookup(secrets).run(['k'], variables={}, kind='gossip_key', file=path) == old
    assert lookup(secrets).run(['k'], variables={}, kind='gossip_key', generation='A', promote=True, file=path) == new
    assert lookup(secrets).run(['k'], variables={}, kind='gossip_key', file=path) == new
    with pytest.raises(AnsibleLookupError, match='pending and promote need a generation'):
        lookup(secrets).run(['k'], variables={}, kind='gossip_key', promote=True, file=path)


@pytest.mark.parametrize('job_vars, job_env', [
    ({'awx_job_id': 42}, {}),
    ({'tower_job_id': '7'}, {}),
    ({}, {'AWX_ISOLATED_DATA_DIR': '/runner/artifacts/1'}),
])
def test_a_job_of_awx_or_ansible_runner_may_not_create_a_file_escrow(tmp_path, monkeypatch, job_vars, job_env):
    for name, value in job_env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / 'e.vault'
    secrets = [('default', VaultSecret(b'pw'))]
    with pytest.raises(AnsibleLookupError, match='throw-away environment: the escrow file .* does not exist and would be '
                                                 'created there .* keyfleet_escrow_backend=kv'):
        lookup(secrets).run(['a'], variables=dict(job_vars), file=str(path))
    assert not path.exists()
    # A file on storage that outlives the job, said so, is used; one that exists already (a mounted volume) too.
    first = lookup(secrets).run(['a'], variables=dict(job_vars, keyfleet_escrow_file_persistent=True), file=str(path))
    assert lookup(secrets).run(['a'], variables=dict(job_vars), file=str(path)) == first


def test_outside_a_job_a_new_file_escrow_is_made(tmp_path, monkeypatch):
    monkeypatch.delenv('AWX_ISOLATED_DATA_DIR', raising=False)
    path = tmp_path / 'e.vault'
    lookup([('default', VaultSecret(b'pw'))]).run(['a'], variables={'awx_job_id': ''}, file=str(path))
    assert path.exists()


def test_the_kv_backend_without_a_url_says_which_variables_give_it(monkeypatch):
    pytest.importorskip('hvac')
    for name in ('VAULT_ADDR', 'ANSIBLE_HASHI_VAULT_ADDR'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(AnsibleLookupError, match='option url was not set.*the server url comes from ansible_hashi_vault_url'):
        lookup([('default', VaultSecret(b'pw'))]).run(['a'], variables={'keyfleet_escrow_backend': 'kv'})


def test_read_only_returns_what_is_held_and_writes_nothing(tmp_path):
    path = tmp_path / 'e.vault'
    secrets = [('default', VaultSecret(b'pw'))]
    # No escrow yet: an empty answer, and no file (nor directory) made for it.
    assert lookup(secrets).run(['a'], variables={}, read_only=True, file=str(path / 'x.vault')) == ['']
    assert not (path / 'x.vault').exists()
    held = lookup(secrets).run(['a'], variables={}, kind='gossip_key', file=str(path))
    before = path.read_bytes()
    # Any kind is read as it is; a name not held stays absent, never generated.
    assert lookup(secrets).run(['a', 'b'], variables={}, read_only=True, kind='password', file=str(path)) == held + ['']
    assert path.read_bytes() == before
    assert lookup(secrets).run(['b'], variables={}, kind='pem', file=str(path)) == ['']
