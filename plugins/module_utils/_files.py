# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""File helpers shared by the modules. Private to this collection."""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat
import tempfile

try:
    from ansible.module_utils.compat import selinux as _selinux
except ImportError:  # no libselinux on this host: nothing to label
    _selinux = None


def owner_ids(owner, group=None):
    """(uid, gid) of a user and group given by name or number; no group: the user's primary group.
    Raises KeyError for a user or group the host does not have."""
    user = pwd.getpwuid(int(owner)) if str(owner).isdigit() else pwd.getpwnam(owner)
    if not group:
        return user.pw_uid, user.pw_gid
    return user.pw_uid, int(group) if str(group).isdigit() else grp.getgrnam(group).gr_gid


def attrs_differ(path, uid, gid, mode):
    """Whether ``path`` has another owner, group or mode."""
    st = os.stat(path)
    return (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) != (uid, gid, mode)


def set_attrs(path, uid, gid, mode):
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def _selinux_context(path):
    """The SELinux context a file written at ``path`` must get: the one the file has now, else the policy's
    default for the path - what AnsibleModule.atomic_move gives a replaced file. None without SELinux."""
    if _selinux is None:
        return None
    try:
        if not _selinux.is_selinux_enabled():
            return None
        rc, context = _selinux.lgetfilecon_raw(path) if os.path.lexists(path) else _selinux.matchpathcon(path, 0)
    except OSError:
        return None
    return context if rc == 0 else None


def _target(path):
    """The file a write to ``path`` replaces: ``path`` itself or, for a symbolic link, the file the link leads
    to (through every link of a chain), as copy and lineinfile follow links. A dangling link's target is made
    when its directory exists. Raises OSError naming the link for a link loop or a target in no directory."""
    link = os.path.islink(path)
    target = os.path.realpath(path) if link else path
    # Only a regular file is replaced: a device, socket, pipe or directory (perhaps behind a link) never is.
    if os.path.lexists(target) and not os.path.islink(target) and not stat.S_ISREG(os.lstat(target).st_mode):
        raise OSError(errno.EINVAL, '%s is not a regular file%s; refusing to replace it'
                      % (target, ' (the symbolic link %s leads there)' % path if link else ''))
    if not link:
        return path
    try:
        os.stat(path)
    except FileNotFoundError:
        if not os.path.isdir(os.path.dirname(target)):
            raise FileNotFoundError(errno.ENOENT, 'the symbolic link %s points to %s, whose directory does not exist'
                                    % (path, target))
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, 'symbolic link loop: %s leads back to itself, there is no file to write' % path)
        raise
    return target


def write_private(path, data, mode=0o600, uid=0, gid=0, prepare=None, sync_dir=False):
    """Write ``data`` (text or bytes) to ``path`` atomically: the one way this collection writes a file.

    The temporary file beside ``path`` gets ``mode``, its owner (``uid``/``gid``; None keeps the writer's) and
    the SELinux context of the file it replaces before anything is written, so a secret is never readable by
    anybody else, not even for a moment, and a reader sees the old file or the new one, never half of one.
    ``prepare(tmp)`` may set further attributes on the temporary file before it is renamed. ``sync_dir`` also
    makes the rename durable (the escrow, whose loss loses keys).

    A symbolic link is followed, as copy and lineinfile do: the file it leads to is replaced (with ``mode``,
    the owner and that file's SELinux context), the link stays a link. So a caller that reads ``path`` with
    open() or os.stat() reads the file this writes.
    """
    path = _target(path)
    directory = os.path.dirname(path) or '.'
    context = _selinux_context(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path))
    try:
        os.fchmod(fd, mode)
        if uid is not None or gid is not None:
            os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
        if context:
            _selinux.lsetfilecon(tmp, context)
        with os.fdopen(fd, 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if prepare is not None:
            prepare(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if sync_dir:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
