# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: aspera_token_key_removal
author: keyfleet maintainers (@keyfleet)
short_description: Whether a run removes IBM Aspera's old token encryption keys, or how long they stay
version_added: 1.0.0
description:
  - Tokens made with an old C(token_encryption_key) stay valid for C(token_life_seconds) (the longest any level of
    aspera.conf sets; 86400 where the node sets none) after asperanoded switched to dynamic keys. The old keys go
    once that time has passed, at once when O(old_expired), or after a wait of at most O(expiry_wait) seconds.
  - Returns the decision, and C(problems) - one sentence per input that does not allow a decision, naming what to
    change. Nothing is to be removed while there is a problem.
options:
  _input:
    description: The settings of aspera.conf, as RV(keyfleet.encryption.aspera_config#module:found) returns them.
    type: list
    elements: dict
    required: true
  switched_at:
    description:
      - When asperanoded switched to dynamic keys, in seconds since the epoch, as recorded on the host.
      - Empty or V(null) when not recorded yet (check mode); then the whole life is left.
    type: raw
  old_expired:
    description: The operator confirms that every token made with an old key has expired.
    type: bool
    default: false
  expiry_wait:
    description: Seconds this run may wait for the old tokens to expire.
    type: int
    default: 0
  now:
    description: The time to count from, in seconds since the epoch; the controller's clock when not given.
    type: int
"""

EXAMPLES = r"""
- name: When the old token keys go
  ansible.builtin.set_fact:
    aspera_token_key_removal: >-
      {{ aspera_token_key_switch.found | keyfleet.encryption.aspera_token_key_removal(switched_at=switch_time,
         old_expired=aspera_token_key_old_expired, expiry_wait=aspera_token_key_expiry_wait) }}

- name: The decision could be made
  ansible.builtin.assert:
    that: aspera_token_key_removal.problems == []
    fail_msg: "{{ aspera_token_key_removal.problems | join(' ') }}"
"""

RETURN = r"""
_value:
  description:
    - C(problems) (sentences), C(old) (the levels that set C(token_encryption_key), each C(level) and C(name)),
      C(life) and C(left) (seconds), C(remove) (whether this run removes them), C(wait) (seconds to wait first, 0 for
      none) and C(message) (why they are kept, empty when they go or there are none).
  type: dict
"""

import time

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera_conf import token_key_removal


def aspera_token_key_removal(found, switched_at=None, old_expired=False, expiry_wait=0, now=None):
    if not isinstance(found, list) or not all(isinstance(e, dict) and 'param' in e for e in found):
        raise AnsibleFilterError('aspera_token_key_removal: the input must be the found list of aspera_config')
    return token_key_removal(found, switched_at, int(time.time()) if now is None else now, boolean(old_expired, strict=False), expiry_wait)


class FilterModule:
    def filters(self):
        return {'aspera_token_key_removal': aspera_token_key_removal}
