# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: ansible_core_problems
author: keyfleet maintainers (@keyfleet)
short_description: Refuse an ansible-core older than the collection supports
version_added: 1.0.0
description:
  - Takes the version of ansible-core that runs the play (C(ansible_version.full)) and returns one sentence when it
    is older than the oldest version this collection supports (2.17), or cannot be read.
  - Older ansible-core only warns about the collection's C(requires_ansible) and then runs, templating unset settings
    differently. Every playbook and role entry point of the collection asserts this first.
options:
  _input:
    description: The ansible-core version, as C(ansible_version.full) gives it.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Stop on an ansible-core older than keyfleet.encryption supports
  ansible.builtin.assert:
    that: ansible_version.full | keyfleet.encryption.ansible_core_problems == []
    fail_msg: "{{ ansible_version.full | keyfleet.encryption.ansible_core_problems | join(' ') }}"
    quiet: true
"""

RETURN = r"""
_value:
  description: One sentence when the version is not supported, else an empty list.
  type: list
  elements: str
"""

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._support import ansible_core_problems


class FilterModule:
    def filters(self):
        return {'ansible_core_problems': ansible_core_problems}
