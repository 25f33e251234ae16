# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller half of keyfleet.encryption.consul_tls_files: the CA signs on the controller.

One task: the agent writes its CA file and key and sends a signing request when its certificate is
due; the CA key (never sent to the agent) signs it here; a second call writes the certificate.
An agent whose files are fine costs one call.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import HAS_CRYPTOGRAPHY, TLSError
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._consul_tls import check_issued, pki_sign_data, sign_request

MODULE = 'keyfleet.encryption.consul_tls_files'


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        ca_key, days, pki = args.pop('ca_key', None), int(args.pop('cert_days', 365)), args.pop('pki', None)
        if 'certificate' in args or 'changed_files' in args:
            return dict(result, failed=True, msg='certificate and changed_files are set by the action plugin')
        first = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        csr = first.pop('csr', None)
        result.update(first)
        if first.get('failed') or not csr:
            return result
        if not (ca_key or pki) or not HAS_CRYPTOGRAPHY:
            return dict(result, failed=True, msg='a certificate is due (%s), and signing needs ca_key or pki and the Python '
                        'cryptography library on the controller' % '; '.join(first.get('certificate_due', [])))
        try:
            if pki:
                certificate = self._pki_sign(pki, csr, args, days, task_vars)
            else:
                certificate = sign_request(csr, args['ca_cert'], ca_key, days)
        except TLSError as e:
            return dict(result, failed=True, msg=str(e))
        second = self._execute_module(module_name=MODULE, task_vars=task_vars, module_args=dict(
            args, certificate=certificate, changed_files=first.get('changed_files', [])))
        result.update(second)
        result['changed_files'] = sorted(set(first.get('changed_files', []) + second.get('changed_files', [])))
        result['certificate_due'] = first.get('certificate_due', [])
        result['changed'] = bool(result['changed_files'])
        return result

    def _pki_sign(self, pki, csr, args, days, task_vars):
        """The PKI role signs the request, through community.hashi_vault (its connection and auth options)."""
        from ansible.errors import AnsibleError

        mount, role = (pki.get('mount_point') or 'pki').strip('/'), pki.get('role')
        if not role:
            raise TLSError('pki needs the role that signs')
        path = '%s/sign/%s' % (mount, role)
        data = pki_sign_data(csr, args['dns_names'], args.get('ip_addresses') or ['127.0.0.1'], days)
        try:
            write = lookup_loader.get('community.hashi_vault.vault_write', loader=self._loader, templar=self._templar)
            response = write.run([path], variables=task_vars, data=data)[0]
        except AnsibleError as e:
            raise TLSError('the PKI role %s did not sign the request: %s' % (path, e))
        certificate = ((response or {}).get('data') or {}).get('certificate')
        if not certificate:
            raise TLSError('the PKI role %s returned no certificate' % path)
        check_issued(certificate, args['ca_cert'], csr)
        return certificate
