# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""keyfleet.encryption.escrow_secret: the one task that writes a secret into the escrow, on the controller.

Reads are lookups, writes are tasks: a secret is generated, stored, rotated or promoted here, the task
reports changed, check mode writes nothing, and the value leaves the action only in the result of a task
that has no_log set.
"""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

# The fingerprint consul_agent_info gives keyring keys by: the roles compare the two.
from ansible_collections.keyfleet.encryption.plugins.module_utils._consul import key_fingerprint as fingerprint
from ansible_collections.keyfleet.encryption.plugins.module_utils._escrow_args import ESCROW_OPTIONS
from ansible_collections.keyfleet.encryption.plugins.module_utils._escrow_args import ESCROW_SECRET_SPEC as ARGUMENT_SPEC
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import EscrowError


class ActionModule(ActionBase):

    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        validated = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validated.error_messages:
            return dict(result, failed=True, msg='keyfleet.encryption.escrow_secret: %s' % '; '.join(validated.error_messages))
        args = validated.validated_parameters
        name, kind, generation = args['name'], args['kind'], args['generation']
        write = not self._task.check_mode
        try:
            if set(args['escrow']) - set(ESCROW_OPTIONS):
                raise EscrowError('escrow may set only %s' % ', '.join(ESCROW_OPTIONS))
            if (args['pending'] or args['promote']) and not generation:
                raise EscrowError('pending and promote need a generation (the rotation id)')
            if args['pending'] and args['promote']:
                raise EscrowError('pending and promote are two steps of a rotation: give one of them')
            if args['value'] is not None and args['promote']:
                raise EscrowError('promote makes the pending value current: value cannot be given with promote')
            lookup = lookup_loader.get('keyfleet.encryption.escrow', loader=self._loader, templar=self._templar)
            escrow = lookup.open_escrow(task_vars, **args['escrow'])
            if args['promote']:
                value, status = escrow.promote(name, kind, generation, write=write)
            elif args['pending']:
                value, status = escrow.pending(name, kind, generation, value=args['value'], write=write)
            else:
                value, status = escrow.ensure(name, kind, value=args['value'], generation=generation,
                                              keep_stored=args['keep_stored'], replace=args['replace'],
                                              length=args['length'], chars=args['chars'], write=write)
        except EscrowError as e:
            return dict(result, failed=True, msg='keyfleet.encryption.escrow_secret: %s' % e)
        # A run that keeps the stored value over a candidate says so: the candidate must not be used.
        # A pending rotation's candidate loses to the pending value held, as keep_stored's does.
        kept = (args['keep_stored'] or args['pending']) and args['value'] is not None and value != args['value']
        result.update(changed=status != 'present', status=status, name=name, fingerprint=fingerprint(value),
                      escrow=str(escrow), kept_stored=kept,
                      msg='%s: escrow secret %r (%s) %s%s' % (
                          escrow, name, fingerprint(value), status, ', a value held already wins' if kept else ''))
        if self._task.no_log or self._play_context.no_log:
            # Only a task whose result is never shown gets the value itself.
            result['value'] = value
        return result
