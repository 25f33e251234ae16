# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The escrow lookup only reads: what a keyfleet.encryption.escrow_secret task stored, never a write of its own."""

from __future__ import annotations

import sys

import pytest

from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import open_escrow

try:  # ansible-core 2.19+: only a string marked as a template is one; before, every string is
    from ansible.template import trust_as_template
except ImportError:
    def trust_as_template(value):
        return value

PW = (('default', VaultSecret(b'pw')),)


pytestmark = pytest.mark.usefixtures('collection_loader')


def loader_with(secrets):
    loader = DataLoader()
    loader.set_vault_secrets(list(secrets))
    return loader


def lookup(secrets=PW, variables=None):
    loader = loader_with(secrets)
    return lookup_loader.get('keyfleet.encryption.escrow', loader=loader,
                             templar=Templar(loader=loader, variables=variables or {}))


def store(path, name, kind, value=None, **kwargs):
    """What an escrow_secret task would have stored (the writing itself is tested with that action)."""
    return open_escrow(loader_with(PW), str(path)).ensure(name, kind, value=value, **kwargs)[0]


def tree(directory):
    return sorted(str(p.relative_to(directory)) for p in directory.rglob('*'))


def test_lookup_returns_what_is_stored_in_the_order_of_the_names(tmp_path):
    path = tmp_path / 'e.vault'
    a, b = store(path, 'a', 'password', length=12), store(path, 'b', 'password', length=12)
    assert len(a) == 12 and a != b
    assert lookup().run(['a', 'b'], variables={}, kind='password', file=str(path)) == [a, b]
    assert lookup().run(['b', 'a'], variables={}, file=str(path)) == [b, a]
    assert store(path, 'ca', 'pem', value='PEM') == 'PEM'
    assert lookup().run(['ca'], variables={}, kind='pem', file=str(path)) == ['PEM']


def test_a_name_not_held_fails_and_names_the_task_that_stores_it(tmp_path):
    path = tmp_path / 'e.vault'
    held = store(path, 'a', 'gossip_key')
    before = path.read_bytes()
    with pytest.raises(AnsibleLookupError, match="holds no secret 'b'.*keyfleet.encryption.escrow_secret task stores it"):
        lookup().run(['a', 'b'], variables={}, kind='gossip_key', file=str(path))
    # missing=empty: the held one, and '' for the other; never a generated one
    assert lookup().run(['a', 'b'], variables={}, kind='gossip_key', missing='empty', file=str(path)) == [held, '']
    assert lookup().run(['b'], variables={}, kind='pem', missing='empty', file=str(path)) == ['']
    assert path.read_bytes() == before
    assert open_escrow(loader_with(PW), str(path)).names() == ['a']


@pytest.mark.parametrize('missing', ['error', 'empty'])
def test_a_read_never_creates_the_escrow_file_nor_its_directory(tmp_path, missing):
    path = tmp_path / 'not-yet' / 'e.vault'
    if missing == 'error':
        with pytest.raises(AnsibleLookupError, match="holds no secret 'a'"):
            lookup().run(['a'], variables={}, kind='gossip_key', file=str(path))
    else:
        assert lookup().run(['a'], variables={}, kind='gossip_key', missing=missing, file=str(path)) == ['']
    assert tree(tmp_path) == []


def test_a_read_of_an_existing_escrow_leaves_its_bytes_as_they_are(tmp_path):
    path = tmp_path / 'e.vault'
    store(path, 'a', 'gossip_key')
    store(path, 'k', 'key256', generation='r1')
    before, listing = path.read_bytes(), tree(tmp_path)
    for dummy in range(3):
        lookup().run(['a', 'k'], variables={}, file=str(path))
        lookup().run(['a', 'nothing'], variables={}, missing='empty', file=str(path))
    assert path.read_bytes() == before and tree(tmp_path) == listing


@pytest.mark.parametrize('option', [dict(value='x'), dict(generation='r2'), dict(pending=True), dict(promote=True),
                                    dict(store=False), dict(length=40), dict(chars='abcdefghijk'), dict(read_only=True)])
def test_the_writing_options_of_old_are_refused_not_ignored(tmp_path, option):
    # Ignored, generation='r2' would return the held key as if it were the rotated one.
    path = tmp_path / 'e.vault'
    held = store(path, 'k', 'gossip_key', generation='r1')
    before = path.read_bytes()
    with pytest.raises(AnsibleLookupError, match='unknown option %s: this lookup only reads.*escrow_secret' % list(option)[0]):
        lookup().run(['k'], variables={}, kind='gossip_key', file=str(path), **option)
    assert path.read_bytes() == before
    assert lookup().run(['k'], variables={}, kind='gossip_key', file=str(path)) == [held]


def test_a_secret_of_another_kind_is_refused(tmp_path):
    path = tmp_path / 'e.vault'
    key = store(path, 'k', 'gossip_key')
    with pytest.raises(AnsibleLookupError, match="escrow secret 'k' is of kind 'gossip_key', not 'password'"):
        lookup().run(['k'], variables={}, kind='password', file=str(path))
    with pytest.raises(AnsibleLookupError, match="is of kind 'gossip_key', not 'pem'"):
        lookup().run(['k'], variables={}, kind='pem', missing='empty', file=str(path))
    assert lookup().run(['k'], variables={}, kind='gossip_key', file=str(path)) == [key]
    assert lookup().run(['k'], variables={}, file=str(path)) == [key]  # no kind: read as it is


def test_lookup_file_from_variable(tmp_path):
    path = tmp_path / 'from-var.vault'
    key = store(path, 'a', 'key256')
    assert lookup().run(['a'], variables={'keyfleet_escrow_file': str(path)}) == [key]


def test_lookup_file_is_a_template_resolved_in_one_place(tmp_path):
    key = store(tmp_path / 'escrow.vault', 'a', 'key256')
    variables = {'keyfleet_escrow_file': trust_as_template('{{ base }}/escrow.vault'), 'base': str(tmp_path)}
    assert lookup(PW, variables).run(['a'], variables=variables) == [key]
    lookup(PW, variables).run(['b'], variables=variables, missing='empty')
    assert not [p for p in tmp_path.rglob('*') if '{{' in str(p)]


def test_a_relative_file_is_taken_from_the_playbook_directory_not_the_working_directory(tmp_path, monkeypatch):
    play, elsewhere = tmp_path / 'play', tmp_path / 'elsewhere'
    play.mkdir()
    elsewhere.mkdir()
    key = store(play / 'escrow' / 'e.vault', 'a', 'gossip_key')
    variables = {'playbook_dir': str(play), 'keyfleet_escrow_file': 'escrow/e.vault'}
    for cwd in (elsewhere, tmp_path, play / 'escrow'):
        monkeypatch.chdir(cwd)
        assert lookup().run(['a'], variables=dict(variables)) == [key]
        assert lookup().run(['a'], variables={'playbook_dir': str(play)}, file='escrow/e.vault') == [key]
    assert tree(elsewhere) == []


def test_a_relative_file_without_a_playbook_directory_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store(tmp_path / 'e.vault', 'a', 'gossip_key')
    with pytest.raises(AnsibleLookupError, match="escrow file 'e.vault' is a relative path and this run has no playbook "
                                                 "directory.*absolute path"):
        lookup().run(['a'], variables={}, file='e.vault')
    with pytest.raises(AnsibleLookupError, match='relative path'):
        lookup().run(['a'], variables={'keyfleet_escrow_file': 'e.vault'}, missing='empty')


def test_tilde_is_the_controller_users_home(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    key = store(tmp_path / '.keyfleet' / 'escrow.vault', 'a', 'key256')
    assert lookup().run(['a'], variables={}) == [key]  # the default file, ~/.keyfleet/escrow.vault
    assert lookup().run(['a'], variables={'playbook_dir': '/nonexistent'}, file='~/.keyfleet/escrow.vault') == [key]


def test_lookup_without_vault_secret_says_how_to_give_one(tmp_path):
    with pytest.raises(AnsibleLookupError, match='no vault secret in this run.*--vault-id'):
        lookup([]).run(['a'], variables={}, file=str(tmp_path / 'e.vault'))
    with pytest.raises(AnsibleLookupError, match='no vault secret in this run'):
        lookup([]).run(['a'], variables={}, missing='empty', file=str(tmp_path / 'e.vault'))


@pytest.mark.parametrize('missing', ['error', 'empty'])
def test_a_wrong_password_fails_closed_never_absent(tmp_path, missing):
    path = tmp_path / 'e.vault'
    store(path, 'a', 'gossip_key')
    before = path.read_bytes()
    for names in (['a'], ['not-held']):
        with pytest.raises(AnsibleLookupError, match='cannot decrypt escrow file.*wrong vault password'):
            lookup([('default', VaultSecret(b'other'))]).run(names, variables={}, missing=missing, file=str(path))
    assert path.read_bytes() == before


def test_a_damaged_or_foreign_file_fails_closed_never_absent(tmp_path):
    path = tmp_path / 'e.vault'
    store(path, 'a', 'gossip_key')
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(AnsibleLookupError, match='is damaged'):
        lookup().run(['a'], variables={}, missing='empty', file=str(path))
    path.write_text('{"secrets": {}}')
    with pytest.raises(AnsibleLookupError, match='not Ansible Vault encrypted'):
        lookup().run(['a'], variables={}, missing='empty', file=str(path))


@pytest.mark.parametrize('job_vars, job_env', [
    ({'awx_job_id': 42}, {}),
    ({'tower_job_id': '7'}, {}),
    ({}, {'AWX_ISOLATED_DATA_DIR': '/runner/artifacts/1'}),
])
def test_a_job_of_awx_or_ansible_runner_without_a_file_escrow_fails(tmp_path, monkeypatch, job_vars, job_env):
    # The file a job would write is made by escrow_secret (refused there too: test_escrow_secret.py); a read in a
    # job where the file does not exist stops as well, with missing=empty too: the escrow is in the wrong place.
    for name, value in job_env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / 'e.vault'
    for missing in ('error', 'empty'):
        with pytest.raises(AnsibleLookupError, match='throw-away environment: the escrow file .* does not exist .* '
                                                     'keyfleet_escrow_backend=kv'):
            lookup().run(['a'], variables=dict(job_vars), missing=missing, file=str(path))
    # On storage that outlives the job, said so, a read of a file not made yet is an empty answer and makes nothing.
    assert lookup().run(['a'], variables=dict(job_vars, keyfleet_escrow_file_persistent=True), missing='empty',
                        file=str(path)) == ['']
    assert tree(tmp_path) == []
    # A file that exists (a mounted volume) is read.
    key = store(path, 'a', 'gossip_key')
    assert lookup().run(['a'], variables=dict(job_vars), file=str(path)) == [key]


def test_outside_a_job_an_absent_file_is_an_empty_answer(tmp_path, monkeypatch):
    monkeypatch.delenv('AWX_ISOLATED_DATA_DIR', raising=False)
    path = tmp_path / 'e.vault'
    assert lookup().run(['a'], variables={'awx_job_id': ''}, missing='empty', file=str(path)) == ['']
    assert not path.exists()


def test_the_kv_backend_without_a_url_says_which_variables_give_it(monkeypatch):
    # Before any request, and without hvac: the options are the escrow's own (tests/unit/plugins/plugin_utils/test_vault.py).
    for name in ('VAULT_ADDR', 'ANSIBLE_HASHI_VAULT_ADDR'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, 'hvac', None)
    with pytest.raises(AnsibleLookupError, match=r'the KV escrow cannot connect: the KV escrow has no server url: set '
                                                 r'ansible_hashi_vault_url \(or ANSIBLE_HASHI_VAULT_ADDR, or VAULT_ADDR\)'):
        lookup().run(['a'], variables={'keyfleet_escrow_backend': 'kv', 'ansible_hashi_vault_token': 's.x'})


@pytest.mark.parametrize('version', ['2.16.14', '2.15.0', 'devel'])
def test_an_ansible_core_below_the_floor_is_refused_even_where_the_first_task_was_skipped(tmp_path, monkeypatch, version):
    # --start-at-task skips the playbooks' first-task check of ansible-core: the escrow checks again for itself.
    import ansible_collections.keyfleet.encryption.plugins.lookup.escrow as lookup_module
    from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import EscrowError
    path = tmp_path / 'e.vault'
    store(path, 'a', 'password')
    monkeypatch.setattr(lookup_module, '__version__', version)
    with pytest.raises(AnsibleLookupError, match=r"keyfleet.encryption.escrow: the escrow is not used: .*ansible-core.*%s.*; "
                                                 r"keyfleet.encryption needs ansible-core 2\.17 or later" % version):
        lookup().run(['a'], variables={}, file=str(path))
    with pytest.raises(EscrowError, match='needs ansible-core 2.17 or later'):  # the actions open it this way
        lookup().open_escrow({}, file=str(path))


def test_the_ansible_core_running_the_tests_is_not_refused(tmp_path):
    from ansible.release import __version__
    from ansible_collections.keyfleet.encryption.plugins.plugin_utils._support import ansible_core_problems
    assert ansible_core_problems(__version__) == []
    assert lookup().run(['a'], variables={}, missing='empty', file=str(tmp_path / 'e.vault')) == ['']
