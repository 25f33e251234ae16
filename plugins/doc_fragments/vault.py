# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Connection and auth of the KV escrow (plugins/plugin_utils/_vault.py).

    The names, variables, environment variables and ini keys are community.hashi_vault's, so a play set up for that
    collection's lookups keeps working; the options are this collection's own, and its docs render without it.
    """

    DOCUMENTATION = r"""
options:
  url:
    description:
      - URL of the OpenBao or HashiCorp Vault server, for example V(https://bao.example.com:8200).
      - When it is set nowhere else, E(VAULT_ADDR) is used, after the variables, E(ANSIBLE_HASHI_VAULT_ADDR) and the ini
        setting (as community.hashi_vault does). Without any, the escrow stops and says which variables give it.
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_ADDR
    ini:
      - section: hashi_vault_collection
        key: url
    vars:
      - name: ansible_hashi_vault_url
      - name: ansible_hashi_vault_addr
  proxies:
    description:
      - Proxy to reach the server through - one URL for both C(http) and C(https), or a dict of scheme to URL (also
        given as a string that reads as a dict).
      - Unset, the proxy environment variables of the Python library requests apply (E(HTTPS_PROXY) and the others).
    type: raw
    env:
      - name: ANSIBLE_HASHI_VAULT_PROXIES
    ini:
      - section: hashi_vault_collection
        key: proxies
    vars:
      - name: ansible_hashi_vault_proxies
  ca_cert:
    description:
      - File of the CA certificate that signed the server's certificate.
      - When it is set nowhere else, E(VAULT_CACERT) is used. Unset, the system's CA bundle verifies the server.
      - A file that does not exist stops the escrow before any request.
    type: str
    aliases: [cacert]
    env:
      - name: ANSIBLE_HASHI_VAULT_CA_CERT
    ini:
      - section: hashi_vault_collection
        key: ca_cert
    vars:
      - name: ansible_hashi_vault_ca_cert
  validate_certs:
    description:
      - Whether the server's TLS certificate is verified. Turning it off lets anyone between the controller and the
        server read and change the escrow; give the O(ca_cert) instead.
      - Unset, the inverse of E(VAULT_SKIP_VERIFY) when that is a boolean, else V(true).
    type: bool
    vars:
      - name: ansible_hashi_vault_validate_certs
  namespace:
    description:
      - Namespace (HashiCorp Vault Enterprise, OpenBao) that holds the KV engine and the auth method.
      - When it is set nowhere else, E(VAULT_NAMESPACE) is used.
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_NAMESPACE
    ini:
      - section: hashi_vault_collection
        key: namespace
    vars:
      - name: ansible_hashi_vault_namespace
  timeout:
    description:
      - Seconds each request to the server may take. Unset, the hvac library's default (30).
    type: int
    env:
      - name: ANSIBLE_HASHI_VAULT_TIMEOUT
    ini:
      - section: hashi_vault_collection
        key: timeout
    vars:
      - name: ansible_hashi_vault_timeout
  auth_method:
    description:
      - How the escrow logs in - V(token) (a token given, or read from a file) or V(approle) (O(role_id) and
        O(secret_id), what an AWX credential injects).
      - community.hashi_vault's other methods (V(userpass), V(ldap), V(jwt), V(cert), V(aws_iam), V(azure), V(gcp),
        V(none)) are not supported by the escrow; naming one stops the run with a message that says so. Log in with
        it outside Ansible and give the token.
    type: str
    default: token
    env:
      - name: ANSIBLE_HASHI_VAULT_AUTH_METHOD
    ini:
      - section: hashi_vault_collection
        key: auth_method
    vars:
      - name: ansible_hashi_vault_auth_method
  mount_point:
    description:
      - Mount point of the auth method; unset, its default (V(approle)). Not used by O(auth_method=token).
      - The KV engine's mount point is another option, O(engine_mount_point) of the escrow.
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_MOUNT_POINT
    ini:
      - section: hashi_vault_collection
        key: mount_point
    vars:
      - name: ansible_hashi_vault_mount_point
  token:
    description:
      - The token of O(auth_method=token). Never shown in a message, a warning or a log line.
      - The first found is used - this option, the variable, E(ANSIBLE_HASHI_VAULT_TOKEN), E(VAULT_TOKEN), then the
        file O(token_path)/O(token_file).
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_TOKEN
    vars:
      - name: ansible_hashi_vault_token
  token_path:
    description:
      - Directory of the token file read when no token is given. Unset, the home directory (E(HOME)).
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_TOKEN_PATH
    ini:
      - section: hashi_vault_collection
        key: token_path
    vars:
      - name: ansible_hashi_vault_token_path
  token_file:
    description:
      - Name of the token file in O(token_path), as the C(bao) and C(vault) CLIs write it at login.
    type: str
    default: .vault-token
    env:
      - name: ANSIBLE_HASHI_VAULT_TOKEN_FILE
    ini:
      - section: hashi_vault_collection
        key: token_file
    vars:
      - name: ansible_hashi_vault_token_file
  role_id:
    description: The role id of O(auth_method=approle).
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_ROLE_ID
    ini:
      - section: hashi_vault_collection
        key: role_id
    vars:
      - name: ansible_hashi_vault_role_id
  secret_id:
    description:
      - The secret id of O(auth_method=approle); unset for a role that binds none. Never shown in a message.
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_SECRET_ID
    vars:
      - name: ansible_hashi_vault_secret_id
"""
