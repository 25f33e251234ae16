# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: aspera_content_protection_plan
author: keyfleet maintainers (@keyfleet)
short_description: Which content-protection secret each IBM Aspera user must get in its keystore
version_added: 1.0.0
description:
  - From aspera.conf, the secret that applies to each user (its own, else its group's, else the node's),
    because askmscli keeps content-protection secrets per user only.
  - A node-level secret is given to O(users) and to every user aspera.conf names; a group-level one to
    every member of the group on the host (secondary members and users whose primary group it is).
  - Returns C(plan) (user to secret; keep it out of logs) and C(errors) (users that do not exist, users
    two of whose groups give different secrets).
options:
  _input:
    description: The text of aspera.conf.
    type: str
    required: true
  users:
    description: The transfer users of the node.
    type: list
    elements: str
    required: true
  getent_group:
    description: The host's groups, as C(ansible.builtin.getent database=group) returns them.
    type: dict
    required: true
  getent_passwd:
    description: The host's users, as C(ansible.builtin.getent database=passwd) returns them.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan
  ansible.builtin.set_fact:
    aspera_cp: "{{ conf_text | keyfleet.encryption.aspera_content_protection_plan(aspera_transfer_users,
      ansible_facts.getent_group, ansible_facts.getent_passwd) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description:
    - C(plan) (user to secret), C(errors) (messages), and C(sources) - every plain-text secret under its own name
      (C(node), C(group_<name>), C(user_<name>)), to escrow before aspera.conf loses it.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import AsperaError
from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera_conf import content_protection_plan, content_protection_sources


def members(getent_group, getent_passwd):
    """group -> users, with the users whose primary group it is."""
    out = {}
    gids = {}
    for group, fields in getent_group.items():
        listed = fields[2] if len(fields) > 2 and fields[2] else ''
        out[group] = [u for u in listed.split(',') if u]
        gids[str(fields[1])] = group
    for user, fields in getent_passwd.items():
        group = gids.get(str(fields[2]))
        if group and user not in out[group]:
            out[group].append(user)
    return out


def aspera_content_protection_plan(conf, users, getent_group, getent_passwd):
    try:
        plan, errors = content_protection_plan(conf, users, members(getent_group, getent_passwd), set(getent_passwd))
        sources = content_protection_sources(conf)
    except AsperaError as e:
        raise AnsibleFilterError('aspera_content_protection_plan: %s' % e)
    return dict(plan=plan, errors=errors, sources=sources)


class FilterModule(object):
    def filters(self):
        return {'aspera_content_protection_plan': aspera_content_protection_plan}
