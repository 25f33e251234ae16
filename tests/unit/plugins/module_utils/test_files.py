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
