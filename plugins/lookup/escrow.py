# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: escrow
author: keyfleet maintainers (@keyfleet)
short_description: Named secrets generated once and escrowed in an Ansible Vault file or an OpenBao / Vault KV engine
version_added: 1.0.0
description:
  - Returns the secret stored under each name in the escrow - by default an Ansible Vault encrypted file on the
    controller, or with O(backend=kv) a KV version 2 engine of OpenBao or HashiCorp Vault (docs/escrow.md).
  - A name the escrow does not hold yet is generated, written to the escrow file and only then returned,
    so no host can receive a secret that is not escrowed. Afterwards the value never changes.
  - The file is encrypted with Ansible Vault, using the vault secrets the play runs with
    (C(--vault-id), C(--vault-password-file), E(ANSIBLE_VAULT_PASSWORD_FILE)). Without one the lookup fails.
  - The file is written atomically with mode V(0600), under an exclusive lock, so forks asking at the
    same time all get the same value.
  - With O(backend=kv) each secret is one KV secret at O(kv_path)/<name> of the engine at O(engine_mount_point). It is
    written with check-and-set (C(cas=0) to create), so controllers that race to generate it all get the one written
    first. The server, its seal and the token's capabilities on the path are checked each time the escrow is opened,
    so a server that is down or sealed, or a token without permission, stops the run at its first escrow lookup.
    Connection and authentication options (token, AppRole and the others) are those of community.hashi_vault, with
    the same environment variables and variables. It needs the Python library C(hvac) on the controller.
  - Check mode does not change this; a secret asked for in check mode is generated and escrowed, so
    the plan shows and later applies one and the same value.
options:
  _terms:
    description: Names of the secrets.
    required: true
    type: list
    elements: str
  kind:
    description:
      - What to generate when a name is not escrowed yet.
      - V(gossip_key) is 32 random bytes in base64, as C(consul keygen) makes.
      - V(key256) is a 256-bit key in base64.
      - V(password) is O(length) characters drawn from O(chars).
      - V(pem) is never generated. It stores what O(value) gives (a CA private key or certificate made
        with community.crypto); without O(value) the lookup returns the stored value or an empty string.
      - V(text) is stored like V(pem) - a secret that already exists (for example a plain-text secret being
        moved out of a configuration file), escrowed before it is removed from where it was.
      - Asking for a stored name with another kind fails rather than return a secret of the wrong shape.
    type: str
    default: key256
    choices: [gossip_key, key256, password, pem, text]
  generation:
    description:
      - A rotation id chosen by the operator (a date, a ticket number).
      - When the stored secret was made for another generation (or for none), a new one is generated
        and the old value is kept in the escrow as a previous value. The same generation always returns the
        same value, so a rotation happens once however often the play runs.
    type: str
  pending:
    description:
      - With O(generation), a rotation that stays pending until O(promote) - the new value is returned and kept apart,
        while every other lookup of the name still returns the value in use. The same generation returns the same new
        value (a stopped rotation resumes); another generation is refused while one is pending.
      - A generation used before (A, B, then A again) is refused, here and without O(pending).
    type: bool
    default: false
  promote:
    description: With O(generation), the pending rotation is done - its value becomes the current one (the old one is kept).
    type: bool
    default: false
  read_only:
    description:
      - Only read - return the value the escrow holds under each name, of whatever kind, or an empty string when it holds
        none. Nothing is generated or written, so a report (keyfleet.encryption.posture) can compare hosts with the
        escrow and name what is missing from it.
    type: bool
    default: false
    version_added: 1.0.0
  store:
    description:
      - V(false) (check mode) - with O(pending), a new value is made for the plan but nothing is written to the escrow.
    type: bool
    default: true
  value:
    description:
      - For O(kind=pem) and O(kind=text), the value to store. A different stored value is replaced and kept as a previous value.
      - For O(kind=password), a password that exists already (set by hand on a host) to escrow instead of generating
        one, stored the same way. An empty value generates as usual.
    type: str
  length:
    description: Length of a V(password). At least 8.
    type: int
    default: 32
  chars:
    description: Characters a V(password) is drawn from. At least 10 distinct ones.
    type: str
    default: ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789
  file:
    description:
      - Path of the escrow file on the controller. Its directory is created with mode V(0700).
      - A template such as V({{ playbook_dir }}/escrow.vault) is resolved like any other variable.
      - A symbolic link is followed; the file it points to is rewritten and the link stays.
      - The file keeps the vault id it was created with. A run that does not load that id's secret stops
        and says which id to add.
    type: str
    default: ~/.keyfleet/escrow.vault
    vars:
      - name: keyfleet_escrow_file
    env:
      - name: KEYFLEET_ESCROW_FILE
  file_persistent:
    description:
      - Under AWX, Automation Platform or ansible-runner (the extra var C(awx_job_id) or C(tower_job_id), or
        E(AWX_ISOLATED_DATA_DIR) in the environment) a job runs in a throw-away environment, and an escrow file that
        does not exist yet would be created there and lost with the only copy of the keys. The lookup then stops
        unless O(file) is on storage that outlives the job and this option says so. Use O(backend=kv) instead.
    type: bool
    default: false
    vars:
      - name: keyfleet_escrow_file_persistent
  backend:
    description:
      - Where the escrow lives. V(file) is O(file). V(kv) is a KV version 2 engine of OpenBao or HashiCorp Vault.
    type: str
    default: file
    choices: [file, kv]
    vars:
      - name: keyfleet_escrow_backend
    env:
      - name: KEYFLEET_ESCROW_BACKEND
  engine_mount_point:
    description: With O(backend=kv), the mount point of the KV version 2 engine.
    type: str
    default: secret
    vars:
      - name: keyfleet_escrow_engine_mount_point
    env:
      - name: KEYFLEET_ESCROW_ENGINE_MOUNT_POINT
  kv_path:
    description:
      - With O(backend=kv), the path under O(engine_mount_point) that holds the escrow; each secret is C(<kv_path>/<name>).
      - The token needs create, read and update on C(<mount>/data/<kv_path>/*), and read and list on
        C(<mount>/metadata/<kv_path>/*). It never needs delete or destroy - the escrow never removes a version.
    type: str
    default: keyfleet
    vars:
      - name: keyfleet_escrow_kv_path
    env:
      - name: KEYFLEET_ESCROW_KV_PATH
extends_documentation_fragment:
  - community.hashi_vault.connection
  - community.hashi_vault.connection.plugins
  - community.hashi_vault.auth
  - community.hashi_vault.auth.plugins
notes:
  - The connection and auth options apply only to O(backend=kv).
  - Keep the escrow file and its vault password backed up. They are the only copy of keys that
    cannot be changed later (for example a Resilio master password).
"""

EXAMPLES = r"""
- name: Consul gossip key, generated on first use
  ansible.builtin.set_fact:
    consul_gossip_key: "{{ lookup('keyfleet.encryption.escrow', 'consul_gossip_dc1', kind='gossip_key') }}"
  no_log: true

- name: Rotate the gossip key once, for the generation "2026-11"
  ansible.builtin.set_fact:
    consul_gossip_key: "{{ lookup('keyfleet.encryption.escrow', 'consul_gossip_dc1', kind='gossip_key', generation='2026-11') }}"
  no_log: true

- name: The same key, escrowed in OpenBao through an AppRole (what an AWX credential gives)
  ansible.builtin.set_fact:
    consul_gossip_key: "{{ lookup('keyfleet.encryption.escrow', 'consul_gossip_dc1', kind='gossip_key') }}"
  no_log: true
  vars:
    keyfleet_escrow_backend: kv
    ansible_hashi_vault_url: https://bao.example.com:8200
    ansible_hashi_vault_ca_cert: /etc/pki/bao-ca.pem
    ansible_hashi_vault_auth_method: approle
    # ansible_hashi_vault_role_id and _secret_id, or ANSIBLE_HASHI_VAULT_ROLE_ID / _SECRET_ID in the environment

- name: A 40 character password
  ansible.builtin.debug:
    msg: "{{ lookup('keyfleet.encryption.escrow', 'redis_password', kind='password', length=40) | length }}"
"""

RETURN = r"""
_raw:
  description: The secret of each name, in the order of the names.
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import (
    EscrowError,
    KVEscrow,
    ephemeral_controller,
    open_escrow,
)

display = Display()


class LookupModule(LookupBase):

    def open_escrow(self, variables, **direct):
        """The escrow of this run. The one place its backend and path are resolved: the action plugins call it too.

        The path may be a template ("{{ playbook_dir }}/escrow.vault"), as any other variable.
        """
        self.set_options(var_options=variables, direct=direct)
        if self.get_option('backend') == 'kv':
            return self._open_kv()
        path = self.get_option('file')  # type str: templated first, then made absolute by the escrow
        if self._templar is not None:
            path = self._templar.template(path)
        escrow = open_escrow(self._loader, path)
        job = ephemeral_controller(variables, os.environ)
        if job and not escrow.exists() and not self.get_option('file_persistent'):
            raise EscrowError('this run is a job of %s, which runs in a throw-away environment: the escrow file %s does '
                              'not exist and would be created there and lost with the only copy of the keys. Use '
                              'keyfleet_escrow_backend=kv (OpenBao / Vault), or put the file on storage that outlives the '
                              'job and set keyfleet_escrow_file_persistent=true (docs/escrow.md).' % (job, escrow.path))
        return escrow

    def _open_kv(self):
        """A logged-in client with community.hashi_vault's connection and auth options, checked before use."""
        from ansible_collections.community.hashi_vault.plugins.module_utils._authenticator import HashiVaultAuthenticator
        from ansible_collections.community.hashi_vault.plugins.module_utils._connection_options import HashiVaultConnectionOptions
        from ansible_collections.community.hashi_vault.plugins.module_utils._hashi_vault_common import (
            HashiVaultHelper,
            HashiVaultHVACError,
            HashiVaultOptionAdapter,
            HashiVaultValueError,
        )

        try:
            helper = HashiVaultHelper()
        except HashiVaultHVACError as e:
            raise EscrowError('keyfleet_escrow_backend=kv needs the Python library hvac on the controller '
                              '(meta/execution-environment.yml lists it): %s' % e.msg)
        adapter = HashiVaultOptionAdapter.from_ansible_plugin(self)
        connection = HashiVaultConnectionOptions(adapter, lambda action: None)
        try:
            connection.process_connection_options()
        except HashiVaultValueError as e:
            raise EscrowError('the KV escrow connection options are not valid: %s (the server url comes from '
                              'ansible_hashi_vault_url, ANSIBLE_HASHI_VAULT_ADDR or VAULT_ADDR)' % e)
        client = helper.get_vault_client(**connection.get_hvac_connection_options())
        escrow = KVEscrow(client, self.get_option('engine_mount_point'), self.get_option('kv_path'), self.get_option('url'))
        authenticator = HashiVaultAuthenticator(adapter, display.warning, display.deprecated)
        try:
            authenticator.validate()
            escrow.login(authenticator.authenticate, self.get_option('auth_method'))
        except (NotImplementedError, HashiVaultValueError) as e:
            raise EscrowError('%s: %s' % (escrow, e))
        escrow.probe()
        return escrow

    def run(self, terms, variables=None, **kwargs):
        try:
            escrow = self.open_escrow(variables, **kwargs)
        except EscrowError as e:
            raise AnsibleLookupError('keyfleet.encryption.escrow: %s' % e)
        kind, value = self.get_option('kind'), self.get_option('value')
        generation = self.get_option('generation')
        try:
            if self.get_option('read_only'):
                return [(escrow.entry(name) or {}).get('value') or '' for name in terms]
            if self.get_option('pending') or self.get_option('promote'):
                if not generation:
                    raise EscrowError('pending and promote need a generation (the rotation id)')
                if self.get_option('promote'):
                    return [escrow.promote(name, kind, generation) for name in terms]
                return [escrow.pending(name, kind, generation, store=self.get_option('store')) for name in terms]
            if kind in ('pem', 'text'):
                return [escrow.put(name, kind, value) if value else (escrow.read(name, kind) or '') for name in terms]
            if kind == 'password' and value:
                return [escrow.put(name, kind, value) for name in terms]
            if value is not None and kind != 'password':  # an empty password value generates
                raise EscrowError('value is only for kind=pem, text or password; kind %s is generated by the escrow' % kind)
            return [escrow.get(name, kind, self.get_option('length'), self.get_option('chars'), generation)
                    for name in terms]
        except EscrowError as e:
            raise AnsibleLookupError('keyfleet.encryption.escrow: %s' % e)
