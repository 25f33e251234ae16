# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import sys

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.text.converters import to_bytes


@pytest.fixture
def run_module(monkeypatch, capsys):
    """Run a module's main() with ``args`` as Ansible would; its JSON result as the module emits it.

    AnsibleModule masks the values of no_log arguments in every result, so "the secret is not in the
    result" would hold even for a module that echoes its secret. Masking is turned off here: a test
    that looks for a secret sees what the module wrote, and fails when the module leaks it. The
    invocation (the arguments Ansible echoes back, masked by Ansible itself) is left out.
    """
    monkeypatch.setattr(basic, 'remove_values', lambda value, no_log_strings: value)

    def run(module, args, check_mode=False, diff=True):
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        monkeypatch.setattr(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args})))
        monkeypatch.setattr(basic, '_ANSIBLE_PROFILE', 'legacy', raising=False)
        # Each module run is a process of its own in Ansible. ansible-core before 2.19 keeps a module's warnings
        # in a process-wide list that exit_json does not empty: without this, one test's warnings showed up in the
        # next test's result (a list before 2.19, a dict since; both have clear()).
        module_warnings._global_warnings.clear()
        module_warnings._global_deprecations.clear()
        with pytest.raises(SystemExit):
            module.main()
        result = json.loads(capsys.readouterr().out)
        result.pop('invocation', None)
        return result
    return run


@pytest.fixture
def four_pass(run_module):
    """check, apply, check again, apply again (as community.crypto tests its modules)."""
    def run(module, args):
        return [run_module(module, args, check_mode=cm) for cm in (True, False, True, False)]
    return run


def strings(value):
    """Every string in a result, keys included, as the module wrote it (not JSON-escaped: a secret
    with a quote or a backslash would never be found in json.dumps output)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings(v)
    elif isinstance(value, str):
        yield value


@pytest.fixture
def leaked():
    """leaked(secret, *results): whether ``secret`` appears in any string of the results."""
    return lambda secret, *results: any(secret in text for result in results for text in strings(result))


@pytest.fixture(scope='module')
def collection_loader():
    """The action finds the escrow lookup through lookup_loader, which finds a collection's plugins only through
    Ansible's collection loader. ansible-test units installs it; plain pytest (PYTHONPATH=.build/coll) does not, so
    it is installed here as ansible-test does, and removed again afterwards. Collection packages imported before it
    get the metadata it would have read."""
    from ansible.utils.collection_loader import AnsibleCollectionConfig
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder, _AnsibleCollectionPkgLoader

    if AnsibleCollectionConfig.collection_finder is not None:
        yield
        return
    import ansible_collections.keyfleet.encryption as collection
    finder = _AnsibleCollectionFinder(paths=[os.path.dirname(os.path.dirname(os.path.dirname(list(collection.__path__)[0])))])
    finder._install()
    for name, module in list(sys.modules.items()):
        if name.startswith('ansible_collections.') and name.count('.') == 2 and getattr(module, '_collection_meta', None) is None:
            path = list(module.__path__)[0]
            module.__file__ = module.__file__ or os.path.join(path, '__synthetic__')  # as the loader names it
            _AnsibleCollectionPkgLoader(name, [os.path.dirname(path)])._load_module(module)
    yield
    finder._remove()
