#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: env_master_key
short_description: Give a systemd service a master key in an environment variable, and never change it by accident
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Sets an environment variable that holds a master key (for example C(RESILIO_MPASSWD) of the Resilio Connect
    Management Console or C(RESILIO_KEY) of an agent) for a systemd service, in a drop-in
    C(<systemd_dir>/<unit>.d/<dropin>.conf) or in an EnvironmentFile, written atomically with mode V(0600),
    owner root. Runs C(systemctl daemon-reload) when a file changed. It does not restart the service; it says
    whether the running process lacks the value (RV(restart_needed)).
  - The environment file is written before the drop-in that names it, so a drop-in never names a file that is
    not there. When a write fails the module fails without C(daemon-reload) and leaves the unit as it was. A drop-in
    being changed keeps its old content, and a file written before the failure gets its old content, owner and
    mode back, or goes if this run made it (unless a unit file or drop-in names it).
  - Data encrypted with such a key cannot be read with another. So before changing anything the module reads
    every place the unit gets the variable from (the unit file, its drop-ins, its environment files) and the
    environment of the running process, and if any of them holds a different value it fails and changes
    nothing, unless O(allow_change).
  - The value is never returned, logged or shown in a diff.
extends_documentation_fragment:
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff says whether the variable is set, never its value.
options:
  unit:
    description: The systemd unit, for example C(resilio-connect-server.service). C(.service) is added when no suffix is given.
    type: str
    required: true
  name:
    description: The environment variable.
    type: str
    required: true
  value:
    description: The master key (from the escrow). Never logged or returned.
    type: str
    required: true
  method:
    description:
      - V(environment_file) writes it into the file O(path) (other variables in it are kept) and makes the unit
        load that file through the drop-in O(dropin) (C(EnvironmentFile=)). A C(Environment=) line of the variable in
        that drop-in (an earlier run with V(dropin)) goes, the value unchanged. Another unit file or drop-in that
        still sets it with C(Environment=) fails the task, naming the file.
      - V(dropin) writes the variable into O(dropin) as C(Environment=). B(Any local user can read it) through
        D-Bus (C(systemctl show -p Environment UNIT), see systemd.exec(5)); only for services that need it so.
    type: str
    choices: [environment_file, dropin]
    default: environment_file
  path:
    description:
      - The environment file, for O(method=environment_file). Written with mode V(0600), owner root.
      - A symbolic link is followed, as C(ansible.builtin.copy) does. The file it points to is written, the link stays.
      - Default C(<systemd_dir>/<unit>.d/<dropin>.env), beside the drop-in; systemd reads only C(*.conf) there as
        drop-ins.
    type: path
  dropin:
    description:
      - Name of the drop-in file, without C(.conf). Drop-ins apply in the order of their names and a later
        C(Environment=) wins, so the default sorts late.
    type: str
    default: 99-keyfleet-master-key
  systemd_dir:
    description: Where drop-ins are written.
    type: path
    default: /etc/systemd/system
  allow_change:
    description:
      - B(Makes the data the service encrypted with the old value unreadable.) Replace a different value that is
        already set. For the Resilio Management Console that is everything it encrypts in its database (users,
        API and bootstrap tokens, SMTP/LDAP/Azure AD configuration, storage connectors, webhooks, job secrets,
        password hashes) and it will not start on that database again; for an agent the job keys, cloud access
        keys and its Management Console token, and it must be approved again on the Management Console.
    type: bool
    default: false
  data_lost:
    description: What becomes unreadable when the value changes, for the failure message and the warning.
    type: str
    default: the data the service encrypted with the previous value
  systemctl:
    description: The systemctl command.
    type: str
    default: systemctl
notes:
  - The running process is read from C(/proc/<MainPID>/environ), so the module runs as root.
"""

EXAMPLES = r"""
- name: The Management Console's master password, escrowed before any host sees it
  keyfleet.encryption.env_master_key:
    unit: resilio-connect-server
    name: RESILIO_MPASSWD
    value: "{{ lookup('keyfleet.encryption.escrow', 'resilio_mpasswd_' ~ inventory_hostname, kind='password', length=40) }}"
  register: mc_key

- name: An agent's key in its environment file
  keyfleet.encryption.env_master_key:
    unit: resilio-agent
    name: RESILIO_KEY
    value: "{{ agent_key }}"
    method: environment_file
    path: /etc/default/resilio-agent
"""

RETURN = r"""
files:
  description: The files the module manages (the drop-in, and the environment file).
  returned: always
  type: list
  elements: str
replaced:
  description: A different value was set (the module failed unless O(allow_change)).
  returned: success
  type: bool
conflicts:
  description: Places that set a different value (file paths, or the running process), never the values.
  returned: always
  type: list
  elements: str
running:
  description: The service has a main process.
  returned: success
  type: bool
process_has_value:
  description: The running process has the variable with this value; null when the service is not running.
  returned: success
  type: bool
restart_needed:
  description: The service runs without this value and must be restarted (or stopped and started) to get it.
  returned: success
  type: bool
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._files import write_private
from ansible_collections.keyfleet.encryption.plugins.module_utils import _systemd_env as resilio
from ansible_collections.keyfleet.encryption.plugins.module_utils._systemd_env import SystemdEnvError


def read(path):
    """The file's text, or None when it does not exist. Any other failure (permission denied) is no
    "absent": it would turn the guard off, so it stops the module."""
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None
    except (IOError, OSError) as e:
        raise SystemdEnvError('cannot read %s: %s' % (path, e))


def private(path):
    """The file exists with mode 0600, owner and group root."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_mode & 0o7777 == 0o600 and st.st_uid == 0 and st.st_gid == 0


class UnitEnvironment:
    """Where a unit gets its environment from, and what its running process has."""

    def __init__(self, module, unit, own_dropin, own_files):
        self.module = module
        self.own_dropin = own_dropin
        self.own_files = own_files
        props = ['LoadState', 'FragmentPath', 'DropInPaths', 'EnvironmentFiles', 'MainPID']
        cmd = [module.params['systemctl'], 'show', unit] + ['--property=%s' % p for p in props]
        rc, out, err = module.run_command(cmd)
        if rc != 0:
            module.fail_json(msg='systemctl show %s failed: %s' % (unit, (err or out).strip()))
        show = resilio.parse_show(out)
        if show.get('LoadState') == 'not-found':
            module.fail_json(msg='unit %s not found (unit): install the service first' % unit)
        self.fragment = show.get('FragmentPath') or None
        self.dropins = (show.get('DropInPaths') or '').split()
        self.envfiles = resilio.show_environment_files(show.get('EnvironmentFiles'))
        try:
            self.pid = int(show.get('MainPID') or 0)
        except ValueError:
            self.pid = 0
        try:
            self.process = resilio.process_environment(self.pid) if self.pid > 0 else None
        except SystemdEnvError as e:
            module.fail_json(msg=str(e))

    def sources(self, overrides):
        """[(kind, path, text)] in systemd's order; ``overrides`` {path: text} are the files as they
        will be. The module's own files count even when systemd has not loaded them yet (a run stopped
        before daemon-reload)."""
        dropins = set(self.dropins)
        envfiles = list(self.envfiles)
        for path in self.own_files:
            if path == self.own_dropin:
                dropins.add(path)
            elif path not in envfiles:
                envfiles.append(path)
        dropins = sorted(dropins, key=lambda p: (os.path.basename(p), p))
        out = [('unit', self.fragment, read(self.fragment))] if self.fragment else []
        out += [('unit', p, overrides[p] if p in overrides else read(p)) for p in dropins]
        out += [('envfile', p, overrides[p] if p in overrides else read(p)) for p in envfiles]
        return out


def undo(env, done):
    """Put back the files ``done`` [(path, text before or None, os.stat before)], newest first, after a later write
    failed: a file that had other content gets it back with its owner and mode, a file this run made goes -
    unless the unit file or a drop-in names it (it was missing before: removing it again would leave a unit that
    names a missing file). Returns the files left changed: (path, why)."""
    try:
        named = set(env.envfiles)
        for path in (env.own_dropin, env.fragment):
            named.update(resilio.dropin_environment_files(read(path) or '') if path else [])
    except SystemdEnvError:
        named = None  # which files the unit names is unknown: keep every file
    left = []
    for path, text, st in reversed(done):
        try:
            if text is not None:
                write_private(path, text, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            elif named is None or path in named:
                left.append((path, 'kept: the unit names it'))
            else:
                os.unlink(path)
        except OSError as e:
            left.append((path, 'not put back: %s' % e))
    return left


def write_in_order(env, order, wanted, stale):
    """Write the ``stale`` files of ``wanted`` in ``order``. A failed write leaves the unit as it was: the one
    that failed is as it was (every write is atomic), the files written before it are put back (see undo), and a
    directory this run made for them goes when it is empty. Returns None, or (message, whether a file is left
    changed)."""
    directory = os.path.dirname(env.own_dropin)
    made_dir = not os.path.isdir(directory)
    done = []
    for path in order:
        if path not in stale:
            continue
        try:
            if made_dir and not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
            before = read(path)
            st = os.stat(path) if before is not None else None
            write_private(path, wanted[path])
        except (SystemdEnvError, OSError) as e:
            left = undo(env, done)
            if made_dir:
                try:
                    os.rmdir(directory)
                except OSError:
                    pass
            return ('cannot write %s: %s. No daemon-reload ran; the unit is as it was%s.' % (
                path, e, ''.join('; %s: %s' % item for item in left)), bool(left))
        done.append((path, before, st))
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            unit=dict(type='str', required=True),
            name=dict(type='str', required=True),
            value=dict(type='str', required=True, no_log=True),
            method=dict(type='str', default='environment_file', choices=['environment_file', 'dropin']),
            path=dict(type='path'),
            dropin=dict(type='str', default='99-keyfleet-master-key'),
            systemd_dir=dict(type='path', default='/etc/systemd/system'),
            allow_change=dict(type='bool', default=False),
            data_lost=dict(type='str', default='the data the service encrypted with the previous value'),
            systemctl=dict(type='str', default='systemctl'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name, value = p['name'], p['value']
    unit = p['unit'] if '.' in p['unit'] else p['unit'] + '.service'
    if '/' in unit or '/' in p['dropin']:
        module.fail_json(msg='unit and dropin are names, not paths')
    dropin = os.path.join(p['systemd_dir'], unit + '.d', p['dropin'] + '.conf')
    envfile = p['path'] or os.path.join(p['systemd_dir'], unit + '.d', p['dropin'] + '.env')
    try:
        resilio.check_name(name)
        resilio.check_value(value)
        if p['method'] == 'dropin':
            wanted = {dropin: resilio.render_dropin(name, value)}
        else:
            wanted = {
                dropin: '# Managed by keyfleet.encryption: the file that holds this service\'s master key.\n'
                        '[Service]\nEnvironmentFile=%s\n' % envfile,
                envfile: resilio.upsert_environment_file(read(envfile) or '', name, value),
            }
    except SystemdEnvError as e:
        module.fail_json(msg='%s (name, value): %s' % (name, e))
    result = dict(changed=False, files=sorted(wanted), conflicts=[])

    env = UnitEnvironment(module, unit, dropin, sorted(wanted))
    try:
        before = env.sources({})
        conflicts = []
        for kind, path, text in before:
            if text is None:
                continue
            found = (resilio.dropin_environment if kind == 'unit' else resilio.environment_file)(text)
            if name in found and found[name] != value:
                conflicts.append(path)
        if env.process is not None and name in env.process and env.process[name] != value:
            conflicts.append('the running process (PID %d)' % env.pid)
        after = env.sources(wanted)
        after_value, after_path = resilio.configured_value(name, after)
        # Environment= is a unit property any local user reads over D-Bus: with an EnvironmentFile, no unit
        # file or drop-in may keep a copy of the key.
        exposed = [] if p['method'] == 'dropin' else [
            path for kind, path, text in after
            if kind == 'unit' and text is not None and name in resilio.dropin_environment(text)]
    except SystemdEnvError as e:
        module.fail_json(msg='cannot read the environment of %s: %s' % (unit, e))
    result['conflicts'] = conflicts
    if conflicts and not p['allow_change']:
        module.fail_json(msg='%s of %s is already set to a different value (%s). Nothing was changed. A change would '
                             'make this unreadable - %s. Use the value that is set (escrow it), or allow_change to replace it.'
                         % (name, unit, '; '.join(conflicts), p['data_lost']), **result)
    if exposed:
        module.fail_json(msg='%s of %s is also set with Environment= in %s, which any local user can read through D-Bus '
                             '(systemctl show -p Environment). Remove it there; keyfleet keeps it in %s. Nothing was changed.'
                         % (name, unit, ', '.join(exposed), envfile), **result)
    if after_value != value:
        module.fail_json(msg='%s of %s would still come from %s, which overrides %s (environment files override '
                             'Environment=, a later drop-in overrides an earlier one). Nothing was changed.'
                         % (name, unit, after_path, p['dropin']), **result)

    was_set = resilio.configured_value(name, before)[0] is not None
    try:
        stale = [path for path, text in wanted.items() if read(path) != text or not private(path)]
    except SystemdEnvError as e:
        module.fail_json(msg=str(e), **result)
    result['changed'] = bool(stale)
    if stale and not module.check_mode:
        # The environment file first, the drop-in that names it last: a drop-in naming a file that was never
        # written stops the unit from starting after the next daemon-reload.
        failed = write_in_order(env, [path for path in wanted if path != dropin] + [dropin], wanted, stale)
        if failed:
            result['changed'] = failed[1]
            module.fail_json(msg=failed[0], **result)
        rc, out, err = module.run_command([p['systemctl'], 'daemon-reload'])
        if rc != 0:
            module.fail_json(msg='systemctl daemon-reload failed: %s' % (err or out).strip(), **result)
    if conflicts:
        module.warn('%s of %s was replaced%s; this can no longer be read - %s.' % (
            name, unit, ' (check mode: would be)' if module.check_mode else '', p['data_lost']))
    running = env.process is not None
    result.update(
        replaced=bool(conflicts),
        running=running,
        process_has_value=(env.process.get(name) == value) if running else None,
        restart_needed=running and env.process.get(name) != value,
    )
    if module._diff:
        result['diff'] = dict(
            before_header=unit, after_header=unit,
            before='%s: %s\n' % (name, ('set (value hidden)' if was_set else 'not set')),
            after='%s: %s\n' % (name, 'set (value hidden)' + (', replaced' if conflicts else '')))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
