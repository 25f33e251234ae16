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

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import HAS_CRYPTOGRAPHY, TLSError
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._consul_tls import sign_request

MODULE = 'keyfleet.encryption.consul_tls_files'
CONTROLLER_ONLY = ('ca_key', 'cert_days')


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        ca_key, days = args.pop('ca_key', None), int(args.pop('cert_days', 365))
        if 'certificate' in args or 'changed_files' in args:
            return dict(result, failed=True, msg='certificate and changed_files are set by the action plugin')
        first = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        csr = first.pop('csr', None)
        result.update(first)
        if first.get('failed') or not csr:
            return result
        if not ca_key or not HAS_CRYPTOGRAPHY:
            return dict(result, failed=True, msg='a certificate is due (%s), and signing needs ca_key and the Python '
                        'cryptography library on the controller' % '; '.join(first.get('certificate_due', [])))
        try:
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
