# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""File helpers shared by the modules. Private to this collection."""

from __future__ import annotations

import grp
import os
import pwd
import stat
import tempfile


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


def write_private(path, text, mode=0o600, uid=0, gid=0):
    """Write ``text`` to ``path`` atomically. The temporary file is created with ``mode`` and gets its
    owner before anything is written, so a secret is never readable by anybody else, not even for a
    moment, and a reader sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or '.', prefix='.%s.' % os.path.basename(path))
    try:
        os.fchmod(fd, mode)
        os.fchown(fd, uid, gid)
        with os.fdopen(fd, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
