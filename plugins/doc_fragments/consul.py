# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Addresses of the agent's HTTP API, as seen from the managed host, tried in order until one answers.
      - Unset, E(CONSUL_HTTP_ADDR) on the managed host, as the consul CLI reads it (an address without a scheme is
        C(http://), or C(https://) when E(CONSUL_HTTP_SSL) is true).
      - Give an HTTPS address first and the plain HTTP one second to follow an agent whose API moves to HTTPS
        during a migration. The address that answered is tried first next time.
    type: list
    elements: str
    default: [http://127.0.0.1:8500]
  token:
    description:
      - ACL token sent as C(X-Consul-Token). Never logged.
      - Unset, E(CONSUL_HTTP_TOKEN) on the managed host.
    type: str
  ca_path:
    description:
      - CA certificate file to verify an HTTPS O(url) with.
      - Unset, E(CONSUL_CACERT) on the managed host.
    type: path
  client_cert:
    description:
      - Certificate presented to an HTTPS address, for agents with C(verify_incoming) on.
      - The agent's own certificate works; so does any client certificate of the cluster CA.
      - Unset, E(CONSUL_CLIENT_CERT) on the managed host.
    type: path
  client_key:
    description:
      - Private key of O(client_cert).
      - Unset, E(CONSUL_CLIENT_KEY) on the managed host.
    type: path
  validate_certs:
    description: Verify the agent's certificate when O(url) is HTTPS.
    type: bool
    default: true
  timeout:
    description: Seconds one HTTP request may take.
    type: float
    default: 5.0
  tls_client_certs:
    description:
      - How the cluster's clients get their TLS certificates, which decides how an agent's TLS stage is read.
      - V(per_agent) - each agent has a certificate file signed by the controller's CA or the PKI.
      - V(auto_encrypt) - clients get theirs from the servers (C(auto_encrypt.tls)); servers sign with
        C(auto_encrypt.allow_tls), and a server is below TLS stage 1 until it runs with it. A client is at stage 1
        until it runs with C(auto_encrypt.tls), then at stage 3. See C(docs/consul-tls.md).
    type: str
    choices: [per_agent, auto_encrypt]
    default: per_agent
"""

    # The modules that talk to the agent's HTTP API share these options: set them once with
    # module_defaults for group/keyfleet.encryption.consul.
    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/keyfleet.encryption.consul) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - keyfleet.encryption.consul
"""
