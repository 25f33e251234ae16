# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab only: containers.podman.podman with pipelining.

The collection's plugin runs `podman exec` without -i, so a module cannot be piped in and every
task costs a mount, a temporary directory, a copy, a chmod, the run and a cleanup, each a podman
call. With `podman exec -i` a task is one podman call. Nothing else changes: the modules run
inside the same containers with the same interpreter.
"""

from __future__ import annotations

import shlex

from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect

from ansible_collections.containers.podman.plugins.connection.podman import (
    DOCUMENTATION as _PODMAN_DOCUMENTATION, Connection as PodmanConnection)

DOCUMENTATION = _PODMAN_DOCUMENTATION.replace('name: podman', 'name: podman_pipelined', 1)

# containers.podman 1.19 and later (the `ansible` 13 and 14 packages) pipe a module in themselves (podman exec -i)
# and keep the user in an option, no longer in self.user: then this plugin adds nothing.
_PIPELINES_ITSELF = getattr(PodmanConnection, 'has_pipelining', False)


class Connection(PodmanConnection):

    transport = 'podman_pipelined'
    has_pipelining = True

    def _connect(self):
        if _PIPELINES_ITSELF:
            return super()._connect()
        # No `podman mount` per task: with pipelining only copy/template put files (through podman cp).
        ConnectionBase._connect(self)
        self._mount_point = None
        self._connected = True

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        if _PIPELINES_ITSELF:
            return super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        args = ['exec', '-i'] if in_data is not None else ['exec']
        if self.user:
            args.extend(('--user', self.user))
        return self._podman(args, shlex.split(to_native(cmd, errors='surrogate_or_strict')), in_data)
