# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller half of keyfleet.encryption.consul_tls_files: the CA signs on the controller.

One task: the agent writes its CA file and key and sends a signing request when its certificate is
due; the CA key (never sent to the agent) signs it here; a second call writes the certificate.
An agent whose files are fine costs one call.

What is signed is the controller's decision, not the agent's: the names are the task's dns_names and
ip_addresses (templated on the controller), checked before the first call to the agent; the request
only brings its public key, and one that asks for more than that is refused (plugin_utils/_consul_tls.py).
"""

from __future__ import annotations

from ansible.module_utils.common.validation import check_type_list
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import (
    HAS_CRYPTOGRAPHY, TLSError, agent_dns_names, name_problems, names_refusal)
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._consul_tls import check_issued, check_request, pki_sign_data, sign_request

MODULE = 'keyfleet.encryption.consul_tls_files'
# A hundred years: past that a date overflows, and no agent certificate should live so long.
MAX_CERT_DAYS = 36500


def _names(value):
    """A list option as the module will read it (a comma-separated string is a list; numbers are strings)."""
    if value is None:
        return []
    try:
        value = check_type_list(value)
    except TypeError:
        return value  # name_problems says what is wrong with it
    return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        agent = 'consul agent %s' % task_vars.get('inventory_hostname', '(this host)')
        ca_key, days, pki = args.pop('ca_key', None), args.pop('cert_days', 365), args.pop('pki', None)
        if 'certificate' in args or 'changed_files' in args:
            return dict(result, failed=True, msg='certificate and changed_files are set by the action plugin')
        try:
            days = int(days)
        except (TypeError, ValueError):
            days = None
        if days is None or not 1 <= days <= MAX_CERT_DAYS:
            return dict(result, failed=True, msg='cert_days (consul_tls_cert_days) must be a number of days from 1 to %d, not %r'
                        % (MAX_CERT_DAYS, self._task.args.get('cert_days')))
        named = args.pop('agent', None)
        if named is not None:  # the names consul tls cert create gives the agent
            if 'dns_names' in args:
                return dict(result, failed=True, msg='give dns_names or agent, not both')
            try:
                args['dns_names'] = agent_dns_names(boolean(named['server']), named['node_name'], named['datacenter'],
                                                    named['domain'])
            except (KeyError, TypeError, AttributeError, ValueError):
                return dict(result, failed=True, msg='agent needs server, node_name, datacenter and domain, not %r' % (named,))
        # The controller's names, checked before anything is written on the agent; the module sees the same lists.
        dns_names, ip_addresses = _names(args.get('dns_names')), _names(args.get('ip_addresses', ['127.0.0.1']))
        problems = name_problems(dns_names, ip_addresses)
        if problems:
            return dict(result, failed=True, msg=names_refusal(problems, agent))
        args['dns_names'], args['ip_addresses'] = dns_names, ip_addresses

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
                certificate = self._pki_sign(pki, csr, args, days, agent, task_vars)
            else:
                certificate = sign_request(csr, args.get('signer_cert') or args['ca_cert'], ca_key, days, dns_names, ip_addresses, agent)
        except TLSError as e:
            return dict(result, failed=True, msg=str(e))
        # What the agent says it wrote is only used as a list of strings: a hostile answer cannot crash the action.
        written = [f for f in first.get('changed_files') or [] if isinstance(f, str)] \
            if isinstance(first.get('changed_files'), list) else []
        second = self._execute_module(module_name=MODULE, task_vars=task_vars, module_args=dict(
            args, certificate=certificate, changed_files=written))
        result.update(second)
        result['changed_files'] = sorted(set(written + [f for f in second.get('changed_files') or [] if isinstance(f, str)]))
        result['certificate_due'] = first.get('certificate_due', [])
        result['changed'] = bool(result['changed_files'])
        return result

    def _pki_sign(self, pki, csr, args, days, agent, task_vars):
        """The PKI role signs the request, through community.hashi_vault (its connection and auth options).

        The request is held to the policy before the PKI sees it, and the certificate after: a PKI role may copy
        the request's names (use_csr_sans) or give more than the controller decided."""
        from ansible.errors import AnsibleError

        if not isinstance(pki, dict) or not pki.get('role'):
            raise TLSError('pki needs the role that signs')
        mount, role = (pki.get('mount_point') or 'pki').strip('/'), pki['role']
        path = '%s/sign/%s' % (mount, role)
        check_request(csr, args['dns_names'], args['ip_addresses'], agent)
        data = pki_sign_data(csr, args['dns_names'], args['ip_addresses'], days)
        try:
            write = lookup_loader.get('community.hashi_vault.vault_write', loader=self._loader, templar=self._templar)
            response = write.run([path], variables=task_vars, data=data)[0]
        except AnsibleError as e:
            raise TLSError('the PKI role %s did not sign the request of %s: %s' % (path, agent, e))
        certificate = ((response if isinstance(response, dict) else {}).get('data') or {}).get('certificate')
        if not certificate:
            raise TLSError('the PKI role %s returned no certificate for %s' % (path, agent))
        check_issued(certificate, args.get('signer_cert') or args['ca_cert'], csr, args['dns_names'], args['ip_addresses'], agent)
        return certificate
