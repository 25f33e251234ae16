# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.keyfleet.encryption.plugins.module_utils import _files


def test_the_file_has_its_mode_before_the_secret_is_in_it(tmp_path, monkeypatch):
    path = str(tmp_path / 'secret')
    seen = []
    real_fdopen = os.fdopen

    def fdopen(fd, *args, **kwargs):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))  # before a byte is written
        return real_fdopen(fd, *args, **kwargs)
    monkeypatch.setattr(_files.os, 'fdopen', fdopen)
    _files.write_private(path, 's3cret', 0o640, None, None)  # mkstemp's own 0600 would hide a late chmod
    assert seen == [0o640] and stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert open(path).read() == 's3cret'


def test_bytes_prepare_and_nothing_left_behind(tmp_path):
    path = str(tmp_path / 'escrow.vault')
    prepared = []
    _files.write_private(path, b'\x00payload', 0o640, None, None, prepare=prepared.append, sync_dir=True)
    assert open(path, 'rb').read() == b'\x00payload' and stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert len(prepared) == 1 and not os.path.exists(prepared[0])  # the temporary file was renamed
    assert os.listdir(str(tmp_path)) == ['escrow.vault']


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / 'conf'
    path.write_text('old')

    def boom(tmp):
        raise OSError('disk full')
    with pytest.raises(OSError):
        _files.write_private(str(path), 'new', prepare=boom, uid=None, gid=None)
    assert path.read_text() == 'old' and os.listdir(str(tmp_path)) == ['conf']


def test_the_selinux_context_of_the_file_it_replaces(tmp_path, monkeypatch):
    calls = []

    class FakeSelinux:
        @staticmethod
        def is_selinux_enabled():
            return 1

        @staticmethod
        def lgetfilecon_raw(path):
            return [0, 'system_u:object_r:etc_t:s0']

        @staticmethod
        def matchpathcon(path, mode):
            return [0, 'system_u:object_r:default_t:s0']

        @staticmethod
        def lsetfilecon(path, context):
            calls.append((os.path.basename(path).startswith('.conf.'), context))
            return 0
    monkeypatch.setattr(_files, '_selinux', FakeSelinux)
    path = tmp_path / 'conf'
    _files.write_private(str(path), 'a', uid=None, gid=None)  # new: the policy's default for the path
    _files.write_private(str(path), 'b', uid=None, gid=None)  # replaced: the context it had
    assert calls == [(True, 'system_u:object_r:default_t:s0'), (True, 'system_u:object_r:etc_t:s0')]


# -- a symbolic link is followed, as copy and lineinfile do (issue 25, case 9) --------------------------

def test_a_symlink_stays_a_link_and_its_target_is_written(tmp_path):
    (tmp_path / 'real').mkdir()
    (tmp_path / 'etc').mkdir()
    target = tmp_path / 'real' / 'server.cfg'
    target.write_text('securityprovider = psk\n')
    target.chmod(0o644)
    link = tmp_path / 'etc' / 'server.cfg'
    link.symlink_to('../real/server.cfg')
    _files.write_private(str(link), 'securityprovider = aes_security\n', 0o640, None, None, sync_dir=True)
    assert link.is_symlink() and os.readlink(str(link)) == '../real/server.cfg'
    assert target.read_text() == 'securityprovider = aes_security\n'
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o640
    # the temporary file went beside the target (the rename must not cross a file system), none is left
    assert os.listdir(str(tmp_path / 'etc')) == ['server.cfg'] and os.listdir(str(tmp_path / 'real')) == ['server.cfg']


def test_a_chain_of_links_writes_the_last_target(tmp_path):
    target = tmp_path / 'target'
    target.write_text('old')
    (tmp_path / 'b').symlink_to(target)
    (tmp_path / 'a').symlink_to(tmp_path / 'b')
    _files.write_private(str(tmp_path / 'a'), 'new', uid=None, gid=None)
    assert (tmp_path / 'a').is_symlink() and (tmp_path / 'b').is_symlink() and target.read_text() == 'new'


def test_a_dangling_link_creates_its_target(tmp_path):
    link = tmp_path / 'server.cfg'
    link.symlink_to('missing.cfg')
    _files.write_private(str(link), 'x', 0o600, None, None)
    assert link.is_symlink() and (tmp_path / 'missing.cfg').read_text() == 'x'
    assert stat.S_IMODE(os.stat(str(tmp_path / 'missing.cfg')).st_mode) == 0o600


def test_a_dangling_link_into_a_missing_directory_is_a_clear_error(tmp_path):
    link = tmp_path / 'server.cfg'
    link.symlink_to(tmp_path / 'gone' / 'server.cfg')
    with pytest.raises(OSError, match='symbolic link .*server.cfg points to .*gone/server.cfg, whose directory does not exist'):
        _files.write_private(str(link), 'x', uid=None, gid=None)
    assert link.is_symlink() and os.listdir(str(tmp_path)) == ['server.cfg']


def test_a_symlink_loop_is_a_clear_error(tmp_path):
    (tmp_path / 'a').symlink_to('b')
    (tmp_path / 'b').symlink_to('a')
    with pytest.raises(OSError, match='symbolic link loop'):
        _files.write_private(str(tmp_path / 'a'), 'x', uid=None, gid=None)
    assert sorted(os.listdir(str(tmp_path))) == ['a', 'b'] and (tmp_path / 'a').is_symlink()


def test_the_selinux_context_is_the_targets(tmp_path, monkeypatch):
    asked = []

    class FakeSelinux:
        @staticmethod
        def is_selinux_enabled():
            return 1

        @staticmethod
        def lgetfilecon_raw(path):
            asked.append(('get', path))
            return [0, 'system_u:object_r:etc_t:s0']

        @staticmethod
        def matchpathcon(path, mode):
            asked.append(('match', path))
            return [0, 'system_u:object_r:default_t:s0']

        @staticmethod
        def lsetfilecon(path, context):
            return 0
    monkeypatch.setattr(_files, '_selinux', FakeSelinux)
    target = tmp_path / 'target'
    target.write_text('old')
    (tmp_path / 'link').symlink_to('target')
    (tmp_path / 'dangling').symlink_to('new')
    _files.write_private(str(tmp_path / 'link'), 'a', uid=None, gid=None)
    _files.write_private(str(tmp_path / 'dangling'), 'b', uid=None, gid=None)
    assert asked == [('get', str(target)), ('match', str(tmp_path / 'new'))]


def test_only_a_regular_file_is_replaced_never_a_device_or_directory_behind_a_link(tmp_path):
    # A link to a device (as to /dev/null) must not turn the device into a file holding the secret.
    fifo = tmp_path / 'fifo'
    os.mkfifo(str(fifo))
    (tmp_path / 'dir').mkdir()
    for target in ('fifo', 'dir'):
        link = tmp_path / ('to-' + target)
        link.symlink_to(target)
        with pytest.raises(OSError, match='is not a regular file.*refusing to replace it'):
            _files.write_private(str(link), "SECRET\n", 0o600, None, None)
    assert stat.S_ISFIFO(os.lstat(str(fifo)).st_mode) and (tmp_path / 'dir').is_dir()
