# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""keyfleet.encryption.escrow_copy: one escrow into another, on the controller, each secret verified."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

from ansible_collections.keyfleet.encryption.plugins.module_utils._escrow_args import ESCROW_OPTIONS
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import EscrowError


class ActionModule(ActionBase):

    def _open(self, task_vars, which):
        options = self._task.args.get(which)
        if not isinstance(options, dict) or set(options) - set(ESCROW_OPTIONS):
            raise EscrowError('%s must be a dict of %s' % (which, ', '.join(ESCROW_OPTIONS)))
        lookup = lookup_loader.get('keyfleet.encryption.escrow', loader=self._loader, templar=self._templar)
        return lookup.open_escrow(task_vars, **options)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        result.update(changed=False, copied=[], present=[], verified=0)
        try:
            source = self._open(task_vars or {}, 'source')
            dest = self._open(task_vars or {}, 'dest')
            if str(source) == str(dest):
                raise EscrowError('source and dest are the same escrow (%s)' % source)
            for name in source.names():
                entry = source.entry(name)
                if self._task.check_mode:
                    held = dest.entry(name)
                    if held not in (None, entry):
                        raise EscrowError('escrow secret %r is stored in both escrows with different values or history' % name)
                    result['copied' if held is None else 'present'].append(name)
                    result['verified'] += held == entry
                    continue
                # adopt writes only where dest holds nothing, and refuses a different entry
                result['copied' if dest.adopt(name, entry) else 'present'].append(name)
                if dest.entry(name) != entry:
                    raise EscrowError('escrow secret %r read back from %s differs from %s' % (name, dest, source))
                result['verified'] += 1
        except EscrowError as e:
            result.update(failed=True, msg='keyfleet.encryption.escrow_copy: %s' % e)
            return result
        result['changed'] = bool(result['copied'])
        result['msg'] = '%s -> %s: %d copied, %d already there, %d verified' % (
            source, dest, len(result['copied']), len(result['present']), result['verified'])
        return result
