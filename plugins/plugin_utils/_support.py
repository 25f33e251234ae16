# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ansible-core versions this collection supports: the one place the floor is defined.

meta/runtime.yml, the role metas and the README's version table say the same (a unit test compares them).
Older ansible-core only warns about requires_ansible and then runs - and templates differently (before 2.19 a
template of ``none`` renders ``""``, so an unset setting reads as set) - so every playbook and role entry point
asks this rule first.
"""

from __future__ import annotations

import re

MINIMUM = (2, 17)
TESTED = ((2, 17), (2, 18), (2, 19), (2, 20), (2, 21))


def _text(version):
    return '.'.join(str(part) for part in version)


def ansible_core_problems(version):
    """One sentence when ``version`` (ansible_version.full, e.g. '2.17.14') is older than MINIMUM or unreadable."""
    match = re.match(r'^(\d+)\.(\d+)', str(version if version is not None else ''))
    if not match:
        return ['the ansible-core version %r cannot be read; keyfleet.encryption needs ansible-core %s or later '
                '(pip install "ansible-core>=%s")' % (version, _text(MINIMUM), _text(MINIMUM))]
    if (int(match.group(1)), int(match.group(2))) < MINIMUM:
        return ['this run uses ansible-core %s; keyfleet.encryption needs ansible-core %s or later, because older '
                'versions template unset settings differently and would run the plays wrongly. Upgrade the '
                'controller (pip install "ansible-core>=%s") or use the execution environment of '
                'meta/execution-environment.yml.' % (version, _text(MINIMUM), _text(MINIMUM))]
    return []
