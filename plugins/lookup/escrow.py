# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: escrow
author: keyfleet maintainers (@keyfleet)
short_description: Read named secrets from the escrow - an Ansible Vault file or an OpenBao / Vault KV engine
version_added: 1.0.0
description:
  - Returns the secret stored under each name in the escrow - by default an Ansible Vault encrypted file on the
    controller, or with O(backend=kv) a KV version 2 engine of OpenBao or HashiCorp Vault (docs/escrow.md).
  - Only reads. Reads are lookups, writes are tasks - a secret is generated, stored, rotated or promoted only by the
    M(keyfleet.encryption.escrow_secret) task (and copied by M(keyfleet.encryption.escrow_copy)), which reports
    C(changed) and writes nothing in check mode. Templating this lookup never writes the escrow.
  - A name the escrow does not hold fails the lookup, or returns an empty string with O(missing=empty) (a report that
    names what is missing). A read that fails (a wrong vault password, HTTP 401/403, a damaged file) always fails;
    it is never taken as absent.
  - The file is encrypted with Ansible Vault, using the vault secrets the play runs with
    (C(--vault-id), C(--vault-password-file), E(ANSIBLE_VAULT_PASSWORD_FILE)). Without one the lookup fails.
  - A read takes a shared lock where it can and works on read-only storage.
  - With O(backend=kv) each secret is one KV secret at O(kv_path)/<name> of the engine at O(engine_mount_point). The
    server, its seal, the mount (KV version 2) and the token's capabilities on the path are checked each time the
    escrow is opened, so a server that is down or sealed, or a token without permission, stops the run at its first
    escrow read.
  - The connection and auth options (O(url), O(auth_method) and the others) are the escrow's own. They have the names,
    variables (C(ansible_hashi_vault_*)), environment variables (E(ANSIBLE_HASHI_VAULT_ADDR), E(VAULT_ADDR),
    E(VAULT_TOKEN) and the others) and ini settings of community.hashi_vault, which the escrow does not need, so a play
    set up for that collection's lookups reaches the same server the same way. The auth methods are V(token) and
    V(approle).
options:
  _terms:
    description: Names of the secrets.
    required: true
    type: list
    elements: str
  kind:
    description:
      - When set, each secret must be of this kind (as M(keyfleet.encryption.escrow_secret) stored it); another kind
        fails rather than return a secret of the wrong shape.
    type: str
    choices: [gossip_key, key256, password, pem, text]
  missing:
    description:
      - What a name the escrow does not hold gives - V(error) fails the lookup, V(empty) returns an empty string.
    type: str
    default: error
    choices: [error, empty]
  history:
    description:
      - Return each name's current value followed by its previous values, newest first (V(kind) required), in one
        flat list; a name the escrow does not hold adds nothing. For example the CAs a Consul CA rotation may start
        from. Use C(query) (or C(wantlist=true)).
    type: bool
    default: false
    version_added: 1.0.0
  file:
    description:
      - Path of the escrow file on the controller. Its directory is created with mode V(0700) when the first
        secret is stored.
      - A relative path is taken from the directory of the playbook (C(playbook_dir)), as Ansible's own file lookups
        do, never from the shell's working directory, so runs from two directories use one escrow. C(~) is the
        controller user's home. A template such as V({{ inventory_dir }}/escrow.vault) is resolved like any other variable.
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
requirements:
  - hvac (the Python library, on the controller) for O(backend=kv)
extends_documentation_fragment:
  - keyfleet.encryption.vault
notes:
  - The connection and auth options apply only to O(backend=kv).
  - community.hashi_vault's options C(retries), C(retry_action), C(token_validate) and those of its other auth methods
    are not read by the escrow.
  - Keep the escrow file and its vault password backed up. They are the only copy of keys that
    cannot be changed later (for example a Resilio master password).
"""

EXAMPLES = r"""
- name: Escrow the Consul gossip key (the task that writes), then read it anywhere
  keyfleet.encryption.escrow_secret:
    name: consul_gossip_dc1
    kind: gossip_key
  run_once: true
  delegate_to: localhost

- name: Read it
  ansible.builtin.set_fact:
    consul_gossip_key: "{{ lookup('keyfleet.encryption.escrow', 'consul_gossip_dc1', kind='gossip_key') }}"
  no_log: true

- name: The same key, escrowed in OpenBao through an AppRole (what an AWX credential gives)
  ansible.builtin.set_fact:
    consul_gossip_key: "{{ lookup('keyfleet.encryption.escrow', 'consul_gossip_dc1') }}"
  no_log: true
  vars:
    keyfleet_escrow_backend: kv
    ansible_hashi_vault_url: https://bao.example.com:8200
    ansible_hashi_vault_ca_cert: /etc/pki/bao-ca.pem
    ansible_hashi_vault_auth_method: approle
    # ansible_hashi_vault_role_id and _secret_id, or ANSIBLE_HASHI_VAULT_ROLE_ID / _SECRET_ID in the environment

- name: Is the Redis password escrowed? (empty when not)
  ansible.builtin.debug:
    msg: "{{ lookup('keyfleet.encryption.escrow', 'redis_password', missing='empty') | length > 0 }}"
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
from ansible.release import __version__
from ansible.utils.display import Display

from ansible_collections.keyfleet.encryption.plugins.plugin_utils import _vault
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import (
    EscrowError,
    KVEscrow,
    ephemeral_controller,
    open_escrow,
    resolve_escrow_path,
)
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._support import ansible_core_problems

display = Display()


def _refuse_old_core():
    """Defense in depth: --start-at-task skips the playbooks' first-task check of the ansible-core floor."""
    problems = ansible_core_problems(__version__)
    if problems:
        raise EscrowError('the escrow is not used: %s' % ' '.join(problems))


class LookupModule(LookupBase):

    def open_escrow(self, variables, **direct):
        """The escrow of this run. The one place its backend and path are resolved: the action plugins call it too.

        The path may be a template ("{{ playbook_dir }}/escrow.vault"), as any other variable.
        """
        _refuse_old_core()
        self.set_options(var_options=variables, direct=direct)
        if self.get_option('backend') == 'kv':
            return self._open_kv()
        path = self.get_option('file')  # type str: templated first
        if self._templar is not None:
            path = self._templar.template(path)
        escrow = open_escrow(self._loader, resolve_escrow_path(path, (variables or {}).get('playbook_dir')))
        job = ephemeral_controller(variables, os.environ)
        if job and not escrow.exists() and not self.get_option('file_persistent'):
            raise EscrowError('this run is a job of %s, which runs in a throw-away environment: the escrow file %s does '
                              'not exist and would be created there and lost with the only copy of the keys. Use '
                              'keyfleet_escrow_backend=kv (OpenBao / Vault), or put the file on storage that outlives the '
                              'job and set keyfleet_escrow_file_persistent=true (docs/escrow.md).' % (job, escrow.path))
        return escrow

    def kv_settings(self):
        """The KV connection settings of the options set last (plugin_utils/_vault.py: resolve).

        A value may be a template ("{{ vault_token }}"), resolved as the escrow file's path is.
        """
        options = {}
        for name in _vault.OPTIONS:
            value = self.get_option(name)
            if isinstance(value, str) and self._templar is not None:
                value = self._templar.template(value)
            options[name] = value
        return _vault.resolve(options, os.environ)

    def _open_kv(self):
        """A logged-in client (the escrow's own options, community.hashi_vault's names), checked before use."""
        settings = self.kv_settings()
        hidden = _vault.hide(settings)
        problems = _vault.problems(settings)
        if problems:  # a url or path option that holds a credential by mistake is not shown either
            raise EscrowError(_vault.redact('the KV escrow cannot connect: %s' % ' '.join(problems), hidden))
        try:
            client = _vault.connect(settings)
        except ImportError as e:
            raise EscrowError('keyfleet_escrow_backend=kv needs the Python library hvac on the controller '
                              '(meta/execution-environment.yml lists it): %s' % e)
        # The escrow redacts its own errors and warnings (these credentials, and the token a login gets): the actions
        # that use it show them as they are.
        escrow = KVEscrow(client, self.get_option('engine_mount_point'), self.get_option('kv_path'), settings['url'],
                          hidden=hidden)
        escrow.login(_vault.authenticator(settings), settings['auth_method'])
        for warning in escrow.probe():  # settings of the mount that drop history: warned by name
            display.warning(warning)
        return escrow

    def run(self, terms, variables=None, **kwargs):
        try:
            _refuse_old_core()
            self.set_options(var_options=variables, direct=kwargs)
            # Ansible drops an option a lookup does not define without a word: a template still passing the writing
            # options of old (generation=, pending=, value=) would get the held value and take it for a new one.
            unknown = sorted(set(kwargs) - set(self._options))
            if unknown:
                raise EscrowError('unknown option %s: this lookup only reads. A keyfleet.encryption.escrow_secret task '
                                  'generates, stores, rotates or promotes a secret.' % ', '.join(unknown))
            escrow = self.open_escrow(variables, **kwargs)
            kind, missing = self.get_option('kind'), self.get_option('missing')
            values = []
            if self.get_option('history'):
                if not kind:
                    raise EscrowError('history needs kind')
                for name in terms:
                    values.extend(escrow.history(name, kind))
                return values
            for name in terms:
                value = escrow.read(name, kind)
                if value is None and missing == 'error':
                    raise EscrowError('%s holds no secret %r. A keyfleet.encryption.escrow_secret task stores it '
                                      '(the roles run one before any host uses it).' % (escrow, name))
                values.append(value or '')
            return values
        except EscrowError as e:
            raise AnsibleLookupError('keyfleet.encryption.escrow: %s' % e)
