#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_tls_files
short_description: A Consul agent's TLS files, its key made on the agent and its certificate signed on the controller
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Writes the CA certificate, makes the agent's private key (ECDSA P-256) on the agent when there is none, and checks
    the agent's certificate. A certificate that is missing, expires within O(renew_days), was not signed by the CA, is
    not for the agent's key or names, is not for both server and client authentication, or is a CA certificate
    (C(CA:TRUE) or C(keyCertSign)) is issued again.
  - The action plugin of the same name does the whole job in one task. Its first call to the agent writes the CA
    certificate and the key and returns a signing request when a certificate is due; the controller signs it with
    O(ca_key), which never leaves the controller - or, with O(pki), an OpenBao / HashiCorp Vault PKI role signs it
    and no CA key exists outside the secret store; a second call writes the certificate. An agent whose files are
    fine costs one call.
  - What the certificate says is decided on the controller, from the task's O(dns_names) and O(ip_addresses), as
    subject CN the first DNS name, exactly those names, C(CA:FALSE), key usage C(digitalSignature) (and
    C(keyEncipherment) for an RSA key), extended key usage C(serverAuth) and C(clientAuth). The request only brings
    its public key (EC P-256 or P-384, or RSA of 2048 bits or more). A request that asks for anything else (other
    names or subject, a CA, other usages or extensions, a weaker key) is refused with a message naming the agent
    and what it asked for, and nothing is signed. A certificate a PKI issued is held to the same rule before it is
    written.
  - The names are checked before anything is written, on the controller by the action plugin and again by this
    module; ASCII DNS names only (see O(dns_names)), IP addresses that parse.
  - The files are inert until the agent's settings name them (M(keyfleet.encryption.consul_agent_stage)). An agent
    that already runs with TLS is reloaded (never restarted) when a file changed, which loads a renewed certificate.
  - An existing key is never replaced; one that cannot be read stops the module.
requirements:
  - The Python cryptography library (3.1 or later) on the agent and on the controller.
  - hvac (the Python library, on the controller) when a PKI signs (O(pki)), through community.hashi_vault.
extends_documentation_fragment:
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
    details: Reports the files that would be written and whether a certificate would be issued; signs nothing.
  diff_mode:
    support: none
options:
  dir:
    description: The directory of the files, made C(0750) when missing.
    type: path
    required: true
  ca_cert:
    description: The CA certificate (PEM), written to O(ca_file).
    type: str
    required: true
  signer_cert:
    description:
      - The CA certificate (PEM) that signs the agent's certificate, and that the certificate on the agent must be
        signed by. Defaults to O(ca_cert).
      - During a CA rotation O(ca_cert) holds the old and the new CA (the agents trust both) and this is the new CA.
    type: str
    version_added: 1.0.0
  ca_only:
    description:
      - Write only O(ca_file) (and reload); the agent's key and certificate are neither read nor checked. The trust
        steps of a CA rotation (old and new CA, then the new CA alone).
    type: bool
    default: false
    version_added: 1.0.0
  ca_key:
    description:
      - The CA's private key (PEM). Used by the action plugin on the controller to sign; never sent to the agent.
    type: str
  cert_days:
    description: Days a new certificate is valid. Used on the controller.
    type: int
    default: 365
  pki:
    description:
      - Sign with this PKI role of OpenBao / HashiCorp Vault instead of O(ca_key). Used on the controller, through
        community.hashi_vault's C(vault_write) lookup, so its connection and auth options (the play's variables
        C(ansible_hashi_vault_*) and its environment variables) apply.
      - The certificate the PKI issues must chain to O(ca_cert) (the PKI's CA, read before any host changed), be for
        the request's key and carry no more than the controller decided (names, C(CA:FALSE), key usages);
        otherwise nothing is written.
    type: dict
    suboptions:
      mount_point:
        description: Mount point of the PKI engine.
        type: str
        default: pki
      role:
        description: The PKI role that signs (one for servers, one for clients).
        type: str
        required: true
  ca_file:
    description: The CA certificate file (C(0644)).
    type: path
    required: true
  cert_file:
    description: The agent's certificate file (C(0644)).
    type: path
    required: true
  key_file:
    description: The agent's private key file (C(0640), readable by O(group)).
    type: path
    required: true
  dns_names:
    description:
      - The certificate's DNS names, the common name first (for servers C(server.<dc>.<domain>) first).
      - ASCII only, labels of letters, digits and C(-) (not first or last), 1-63 characters each, 253 at most in all,
        no wildcard; the first at most 64 characters (the common name). An internationalized name is given in its
        IDNA form (C(xn--...)).
      - Exactly one of O(dns_names) and O(agent).
    type: list
    elements: str
  agent:
    description:
      - The agent the certificate is for; its DNS names are then those C(consul tls cert create) gives -
        C(server.<datacenter>.<domain>), C(<node_name>.server.<datacenter>.<domain>) and C(localhost) for a server,
        C(client.<datacenter>.<domain>) and C(localhost) for a client - under the same rule as O(dns_names).
      - Exactly one of O(dns_names) and O(agent).
    type: dict
    suboptions:
      server:
        description: Whether the agent is a server.
        type: bool
        required: true
      node_name:
        description: The node name the agent reports.
        type: str
        required: true
      datacenter:
        description: The agent's datacenter.
        type: str
        required: true
      domain:
        description: The agent's DNS domain (a trailing dot does not count).
        type: str
        required: true
  ip_addresses:
    description: The certificate's IP addresses; each must parse as an IPv4 or IPv6 address.
    type: list
    elements: str
    default: [127.0.0.1]
  renew_days:
    description: A certificate that expires within this many days is issued again.
    type: int
    default: 30
  certificate:
    description: A certificate signed for this agent's request, to write. Set by the action plugin.
    type: str
  changed_files:
    description: Files an earlier call of the same task wrote. Set by the action plugin; they count for O(reload).
    type: list
    elements: path
    default: []
  owner:
    description: Owner of the files.
    type: str
    default: root
  group:
    description: Group of the files (the agent reads the key through it).
    type: str
    default: consul
  reload:
    description: Reload O(service) when a file changed. V(true) for an agent that already runs with TLS.
    type: bool
    default: false
  service:
    description: The agent's systemd unit.
    type: str
    default: consul
"""

EXAMPLES = r"""
- name: TLS files of a server agent
  keyfleet.encryption.consul_tls_files:
    dir: /etc/consul.d/tls
    ca_cert: "{{ consul_ca_cert_pem }}"
    ca_key: "{{ consul_ca_key_pem }}"
    ca_file: /etc/consul.d/tls/consul-agent-ca.pem
    cert_file: /etc/consul.d/tls/consul-agent.pem
    key_file: /etc/consul.d/tls/consul-agent-key.pem
    dns_names: [server.dc1.consul, node1.server.dc1.consul, localhost]
  no_log: true
"""

RETURN = r"""
changed_files:
  description: Files written (in check mode, that would be).
  returned: always
  type: list
  elements: path
certificate_due:
  description: Why the certificate is (or would be) issued again; empty when it is fine.
  returned: always
  type: list
  elements: str
  sample: [expires within 30 days]
csr:
  description: The signing request for the controller (only from the module, the action plugin consumes it).
  returned: when a certificate is due, outside check mode, and O(certificate) is not set
  type: str
reloaded:
  description: Whether the agent was reloaded.
  returned: always
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.keyfleet.encryption.plugins.module_utils._consul_tls import (
    CRYPTOGRAPHY_ERROR, HAS_CRYPTOGRAPHY, TLSError, agent_dns_names, certificate_problems, load_certificate, load_key, name_problems,
    names_refusal, new_key_pem, signing_request_pem)
from ansible_collections.keyfleet.encryption.plugins.module_utils._files import attrs_differ, owner_ids, set_attrs, write_private


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


class _Done(Exception):
    """Nothing more to write (ca_only)."""


class Files:
    """Writes a file when its content, owner or mode differ, and notes what it wrote."""

    def __init__(self, module, uid, gid):
        self.module, self.uid, self.gid, self.changed = module, uid, gid, []

    def ensure_dir(self, path, mode):
        exists = os.path.isdir(path)
        if exists and not attrs_differ(path, self.uid, self.gid, mode):
            return
        if not self.module.check_mode:
            if not exists:
                os.makedirs(path, mode)
            set_attrs(path, self.uid, self.gid, mode)
        self.changed.append(path)

    def ensure(self, path, text, mode, current):
        """``current``: what the file holds now (None: no file)."""
        if current == text:
            if not attrs_differ(path, self.uid, self.gid, mode):
                return
            if not self.module.check_mode:
                set_attrs(path, self.uid, self.gid, mode)
        elif not self.module.check_mode:
            write_private(path, text, mode, self.uid, self.gid)
        self.changed.append(path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dir=dict(type='path', required=True),
            ca_cert=dict(type='str', required=True),
            signer_cert=dict(type='str'),
            ca_only=dict(type='bool', default=False),
            ca_key=dict(type='str', no_log=True),
            cert_days=dict(type='int', default=365),
            pki=dict(type='dict', options=dict(mount_point=dict(type='str', default='pki'),
                                               role=dict(type='str', required=True))),
            ca_file=dict(type='path', required=True),
            cert_file=dict(type='path', required=True),
            key_file=dict(type='path', required=True),
            dns_names=dict(type='list', elements='str'),
            agent=dict(type='dict', options=dict(server=dict(type='bool', required=True),
                                                 node_name=dict(type='str', required=True),
                                                 datacenter=dict(type='str', required=True),
                                                 domain=dict(type='str', required=True))),
            ip_addresses=dict(type='list', elements='str', default=['127.0.0.1']),
            renew_days=dict(type='int', default=30),
            certificate=dict(type='str'),
            changed_files=dict(type='list', elements='path', default=[]),
            owner=dict(type='str', default='root'),
            group=dict(type='str', default='consul'),
            reload=dict(type='bool', default=False),
            service=dict(type='str', default='consul'),
        ),
        supports_check_mode=True,
        required_one_of=[('dns_names', 'agent')],
        mutually_exclusive=[('dns_names', 'agent')],
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=str(CRYPTOGRAPHY_ERROR))
    p = module.params
    if p['ca_key']:
        module.fail_json(msg='ca_key is for the controller: run keyfleet.encryption.consul_tls_files as a task, '
                             'where its action plugin signs and keeps the CA key off the agent')
    if p['agent']:
        p['dns_names'] = agent_dns_names(**p['agent'])
    # the names, by the same rule as the action plugin's, before anything is written
    problems = name_problems(p['dns_names'], p['ip_addresses'])
    if problems:
        module.fail_json(msg=names_refusal(problems))
    try:
        uid, gid = owner_ids(p['owner'], p['group'])
    except KeyError as e:
        module.fail_json(msg='no such user or group on the host: %s' % e)
    files = Files(module, uid, gid)
    result = dict(changed=False, changed_files=[], certificate_due=[], reloaded=False)
    try:
        load_certificate(p['ca_cert'], 'ca_cert')
        ca = load_certificate(p['signer_cert'] or p['ca_cert'], 'signer_cert' if p['signer_cert'] else 'ca_cert')
        files.ensure_dir(p['dir'], 0o750)
        files.ensure(p['ca_file'], p['ca_cert'], 0o644, read(p['ca_file']))
        if p['ca_only']:
            raise _Done()

        current_key = read(p['key_file'])
        key_pem = new_key_pem() if current_key is None else current_key
        files.ensure(p['key_file'], key_pem, 0o640, current_key)
        key = load_key(key_pem, p['key_file'])

        cert_pem = p['certificate'] or read(p['cert_file'])
        # a certificate just signed is checked for what it is for; its validity is what was asked for
        due = ['missing'] if cert_pem is None else certificate_problems(
            load_certificate(cert_pem, p['cert_file']), key, ca, p['dns_names'], p['ip_addresses'],
            None if p['certificate'] else p['renew_days'])
        if p['certificate']:
            if due:  # what the controller signed must fit this agent, or nothing is written
                module.fail_json(msg='the signed certificate does not fit this agent: %s' % '; '.join(due))
            files.ensure(p['cert_file'], cert_pem, 0o644, read(p['cert_file']))
        elif due:
            result['certificate_due'] = due
            files.changed.append(p['cert_file'])
            if not module.check_mode:
                result['csr'] = signing_request_pem(key, p['dns_names'], p['ip_addresses'])
    except _Done:
        pass
    except (TLSError, OSError) as e:
        module.fail_json(msg=str(e), **result)

    result['changed_files'] = files.changed
    result['changed'] = bool(files.changed)
    # a pending certificate is written by the next call, which reloads once for both
    if p['reload'] and (files.changed or p['changed_files']) and 'csr' not in result and not module.check_mode:
        rc, out, err = module.run_command([module.get_bin_path('systemctl', required=True), 'reload', p['service']])
        if rc != 0:
            module.fail_json(msg='systemctl reload %s failed: %s' % (p['service'], (out + err).strip()), **result)
        result['reloaded'] = True
    module.exit_json(**result)


if __name__ == '__main__':
    main()
