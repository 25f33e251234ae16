# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: posture_report
author: keyfleet maintainers (@keyfleet)
short_description: The fleet posture report's rows as a terminal table, Markdown or JSON
version_added: 1.0.0
description:
  - Renders the rows of P(keyfleet.encryption.posture_rows#filter), sorted by system, host and check, with the
    count of each status.
options:
  _input:
    description: The rows.
    type: list
    elements: dict
    required: true
  format:
    description: V(text) for the terminal, V(markdown) for a ticket, V(json) for tools (C({summary, rows})).
    type: str
    default: text
    choices: [text, markdown, json]
"""

EXAMPLES = r"""
- name: Show the report
  ansible.builtin.debug:
    msg: "{{ rows | keyfleet.encryption.posture_report('text') }}"
"""

RETURN = r"""
_value:
  description: The report.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keyfleet.encryption.plugins.plugin_utils._posture import render


def posture_report(rows, format='text'):  # pylint: disable=redefined-builtin
    try:
        return render(rows, format)
    except (ValueError, KeyError, TypeError) as e:
        raise AnsibleFilterError('keyfleet.encryption.posture_report: %s' % e)


class FilterModule:
    def filters(self):
        return {'posture_report': posture_report}
