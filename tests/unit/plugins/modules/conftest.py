# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes


@pytest.fixture
def run_module(monkeypatch, capsys):
    """Run a module's main() with ``args`` as Ansible would; its JSON result."""
    def run(module, args, check_mode=False, diff=True):
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        monkeypatch.setattr(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args})))
        monkeypatch.setattr(basic, '_ANSIBLE_PROFILE', 'legacy', raising=False)
        with pytest.raises(SystemExit):
            module.main()
        return json.loads(capsys.readouterr().out)
    return run


@pytest.fixture
def four_pass(run_module):
    """check, apply, check again, apply again (as community.crypto tests its modules)."""
    def run(module, args):
        return [run_module(module, args, check_mode=cm) for cm in (True, False, True, False)]
    return run
