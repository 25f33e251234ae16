# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ansible-core floor (plugin_utils/_support.py), and every place that states it agrees with it."""

from __future__ import annotations

import os
import re

import yaml

from ansible_collections.keyfleet.encryption.plugins.filter.ansible_core_problems import ansible_core_problems
from ansible_collections.keyfleet.encryption.plugins.plugin_utils import _support

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def _read(*path):
    with open(os.path.join(TOP, *path)) as f:
        return f.read()


def test_supported_versions_pass():
    for version in ('2.17.0', '2.17.14', '2.18.3', '2.19.14', '2.20.0rc1', '2.21.5', '2.22.0.dev0', '3.0.0'):
        assert ansible_core_problems(version) == [], version


def test_older_versions_are_refused_with_the_fix():
    for version in ('2.16.19', '2.15.0', '2.9.27', '1.9.6'):
        problems = ansible_core_problems(version)
        assert len(problems) == 1 and 'ansible-core %s' % version in problems[0], problems
        assert 'ansible-core>=2.17' in problems[0]


def test_unreadable_version_is_refused():
    for version in (None, '', 'devel', 'v2'):
        assert len(ansible_core_problems(version)) == 1, version


def test_runtime_metas_and_readme_state_the_same_floor():
    floor = '.'.join(str(p) for p in _support.MINIMUM)
    runtime = yaml.safe_load(_read('meta', 'runtime.yml'))
    assert runtime['requires_ansible'] == '>=%s.0' % floor
    for role in sorted(os.listdir(os.path.join(TOP, 'roles'))):
        meta = yaml.safe_load(_read('roles', role, 'meta', 'main.yml'))
        assert str(meta['galaxy_info']['min_ansible_version']) == floor, role
    readme = _read('README.md')
    for version in _support.TESTED:
        assert re.search(r'^\| *ansible-core %s\b' % re.escape('.'.join(map(str, version))), readme, re.M), version
    for name in os.listdir(os.path.join(TOP, 'tests', 'sanity')):
        line = re.match(r'^ignore-(\d+)\.(\d+)\.txt$', name)
        assert line and (int(line.group(1)), int(line.group(2))) in _support.TESTED, name


def test_every_playbook_and_role_entry_point_checks_first():
    """The first task of each role entry point, and the first play of each playbook, is the check."""
    check = 'keyfleet.encryption.ansible_core_problems'
    for role in sorted(os.listdir(os.path.join(TOP, 'roles'))):
        specs = yaml.safe_load(_read('roles', role, 'meta', 'argument_specs.yml'))['argument_specs']
        for entry in specs:
            tasks = yaml.safe_load(_read('roles', role, 'tasks', entry + '.yml'))
            assert check in str(tasks[0]), '%s entry point %s does not check ansible-core first' % (role, entry)
    for name in sorted(os.listdir(os.path.join(TOP, 'playbooks'))):
        if not name.endswith('.yml') or name.startswith('_'):
            continue
        plays = yaml.safe_load(_read('playbooks', name))
        first = plays[0]
        assert first.get('ansible.builtin.import_playbook') == '_core_version.yml', (
            'playbook %s does not import _core_version.yml first' % name)
    assert check in _read('playbooks', '_core_version.yml')
