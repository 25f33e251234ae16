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
      - Give an HTTPS address first and the plain HTTP one second to follow an agent whose API moves to HTTPS
        during a migration. The address that answered is tried first next time.
    type: list
    elements: str
    default: [http://127.0.0.1:8500]
  token:
    description: ACL token sent as C(X-Consul-Token). Never logged.
    type: str
  ca_path:
    description: CA certificate file to verify an HTTPS O(url) with.
    type: path
  client_cert:
    description:
      - Certificate presented to an HTTPS address, for agents with C(verify_incoming) on.
      - The agent's own certificate works; so does any client certificate of the cluster CA.
    type: path
  client_key:
    description: Private key of O(client_cert).
    type: path
  validate_certs:
    description: Verify the agent's certificate when O(url) is HTTPS.
    type: bool
    default: true
  timeout:
    description: Seconds one HTTP request may take.
    type: float
    default: 5.0
"""
