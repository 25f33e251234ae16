# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab only: containers.podman.podman with pipelining, and without a podman call per task.

The collection's plugin runs `podman exec` without -i, so a module cannot be piped in and every
task costs a mount, a temporary directory, a copy, a chmod, the run and a cleanup, each a podman
call. With `podman exec -i` a task is one podman call.

A podman call costs about 0.2 s of CPU (the podman client, conmon, runc exec), as much as the module
it runs: on the suite's two cores that was a third of the work. As root, a task instead enters the
container's namespaces with nsenter (util-linux) and runs with the container's environment only, as
podman exec gives it: the same containers, the same interpreter, the same files, processes and
network. The container's init PID, ID and environment are read once with podman inspect and kept
in a file; each task checks that process still runs (its PID and start time), and asks podman again
otherwise (a container recreated or restarted). Files are still copied with podman.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect
from ansible.utils.display import Display

from ansible_collections.containers.podman.plugins.connection.podman import (
    DOCUMENTATION as _PODMAN_DOCUMENTATION, Connection as PodmanConnection)

DOCUMENTATION = _PODMAN_DOCUMENTATION.replace('name: podman', 'name: podman_pipelined', 1)

# containers.podman 1.19 and later (the `ansible` 13 and 14 packages) pipe a module in themselves (podman exec -i)
# and keep the user in an option, no longer in self.user: then this plugin adds nothing.
_PIPELINES_ITSELF = getattr(PodmanConnection, 'has_pipelining', False)
display = Display()


def _started(pid):
    """When the process started (clock ticks since boot, /proc/PID/stat field 22)."""
    with open('/proc/%d/stat' % pid) as f:
        return int(f.read().rsplit(')', 1)[1].split()[19])


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

    def _remote_user(self):
        # Older containers.podman keep it in self.user, newer ones (2.20's and 2.21's lines) only as an option.
        user = getattr(self, 'user', None)
        if user is None:
            try:
                user = self.get_option('remote_user')
            except KeyError:
                user = None
        return user

    def _target(self):
        """(pid, env) of the container's init, or None: podman exec then."""
        if os.geteuid() != 0 or self._remote_user() or os.environ.get('KEYFLEET_LAB_PODMAN_EXEC'):
            return None
        name = self._container_id
        cache = os.path.join(tempfile.gettempdir(), 'keyfleet-lab-nsenter', '%s.json' % name.replace('/', '_'))
        try:
            with open(cache) as f:
                known = json.load(f)
            if _started(known['pid']) == known['started']:  # the same process: PIDs are reused, start times not
                return known['pid'], known['env']
        except (OSError, ValueError, KeyError, TypeError):
            pass
        # Not through the parent's helpers: their names differ between containers.podman releases.
        try:
            p = subprocess.run([self.get_option('podman_executable') or 'podman', 'inspect', '--format', '{{json .}}', name],
                               capture_output=True, check=False)
        except OSError:
            return None
        rc, out = p.returncode, p.stdout
        if rc != 0:
            return None
        try:
            info = json.loads(out)
            info = info[0] if isinstance(info, list) else info
            known = dict(pid=int(info['State']['Pid']), id=info['Id'], env=list(info['Config']['Env'] or []))
        except (ValueError, KeyError, TypeError, IndexError):
            return None
        if known['pid'] <= 0 or (info['Config'].get('WorkingDir') or '/') != '/':
            return None
        try:
            known['started'] = _started(known['pid'])
        except (OSError, ValueError, IndexError):
            return None
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with tempfile.NamedTemporaryFile('w', dir=os.path.dirname(cache), delete=False) as f:
            json.dump(known, f)
        os.replace(f.name, cache)  # whole: another worker may be reading it
        return known['pid'], known['env']

    def _nsenter(self, target, argv, in_data):
        pid, env = target
        local_cmd = ['nsenter', '--target', str(pid), '--all', '--root', '--wd', 'env', '-i'] + env + argv
        display.vvv('NSENTER %s' % (local_cmd,), host=self._container_id)
        p = subprocess.Popen([to_bytes(a, errors='surrogate_or_strict') for a in local_cmd], shell=False,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout, stderr = p.communicate(input=in_data)
        return p.returncode, stdout, stderr

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        target = self._target()
        if target is not None:
            ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
            return self._nsenter(target, shlex.split(to_native(cmd, errors='surrogate_or_strict')), in_data)
        if _PIPELINES_ITSELF:
            return super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        args = ['exec', '-i'] if in_data is not None else ['exec']
        if self.user:
            args.extend(('--user', self.user))
        return self._podman(args, shlex.split(to_native(cmd, errors='surrogate_or_strict')), in_data)
