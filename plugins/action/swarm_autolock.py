# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller half of keyfleet.encryption.swarm_autolock: the unlock key lives in the escrow.

The escrow's keys go to the module as a no_log argument; a key the module reports (new, rotated,
or not escrowed yet) is stored in the escrow and removed from the result before the task
reports anything, so success means the key is escrowed and no output holds it.
"""

from __future__ import annotations

import re

from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

from ansible_collections.keyfleet.encryption.plugins.module_utils._swarm import summary
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import EscrowError

KEY_FIELD = '_keyfleet_unlock_key'
# What `docker swarm unlock-key` prints; anything else (a masked placeholder, say) is never escrowed.
KEY_PATTERN = re.compile(r'^SWMKEY-1-[A-Za-z0-9+/]{20,}=*$')


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        if 'unlock_keys' in args:
            result.update(failed=True, msg='unlock_keys comes from the escrow; do not set it')
            return result
        name = args.get('escrow_name') or 'swarm_unlock_key'
        result['escrow_name'] = name
        direct = {'file': args['escrow_file']} if args.get('escrow_file') else {}
        try:
            escrow = lookup_loader.get('keyfleet.encryption.escrow', loader=self._loader,
                                       templar=self._templar).open_escrow(task_vars, **direct)
            args['unlock_keys'] = escrow.history(name, 'text')
        except EscrowError as e:
            result.update(failed=True, msg='keyfleet.encryption.swarm_autolock: %s' % e)
            return result

        module_result = self._execute_module(module_name='keyfleet.encryption.swarm_autolock',
                                             module_args=args, task_vars=task_vars)
        key = module_result.pop(KEY_FIELD, None)
        index = module_result.pop(KEY_FIELD + '_index', None)
        if key is None and isinstance(index, int) and 0 <= index < len(args['unlock_keys']):
            key = args['unlock_keys'][index]  # a previous escrowed key is the one the swarm runs with
        result.update(module_result)
        if key and not KEY_PATTERN.match(key):
            result.update(failed=True, msg='the engine returned something that is not a swarm unlock key; nothing was escrowed')
            return result
        if key and not result.get('failed'):
            if self._task.check_mode:
                result['msg'] = 'would store the current unlock key in the escrow as %r' % name
            else:
                try:
                    # The swarm made this key (autolock on, or a rotation): it replaces the escrowed one, kept as previous.
                    dummy, status = escrow.ensure(name, 'text', value=key, replace=True)
                    result['changed'] = result.get('changed') or status != 'present'
                except EscrowError as e:
                    result.update(failed=True, escrowed=False,
                                  msg='the swarm has an unlock key the escrow could not store (%s). Nothing is lost '
                                      'while a manager runs: fix the escrow and run again to store it.' % e)
        result['summary'] = summary(result)
        return result
