# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import errno
import fcntl
import os
import stat
import threading

import pytest

from ansible.parsing.vault import VaultSecret
from ansible_collections.keyfleet.encryption.plugins.plugin_utils._escrow import Escrow, EscrowError, VaultCodec, generate


# The escrow's write operations return (value, status); most promises here are about the value.
def _get(escrow, name, kind, **kwargs):
    return escrow.ensure(name, kind, **kwargs)[0]


def _put(escrow, name, kind, value, **kwargs):
    return escrow.ensure(name, kind, value=value, **kwargs)[0]


def _pending(escrow, *args, **kwargs):
    return escrow.pending(*args, **kwargs)[0]


def _promote(escrow, *args, **kwargs):
    return escrow.promote(*args, **kwargs)[0]


def make_escrow(path, password=b'right', secrets=None):
    return Escrow(str(path), VaultCodec(secrets or [('default', VaultSecret(password))]))


def test_file_is_vault_0600_and_never_plain(tmp_path):
    path = tmp_path / 'escrow.vault'
    value = _get(make_escrow(path), 'redis', 'password', length=24)
    raw = path.read_bytes()
    assert raw.startswith(b'$ANSIBLE_VAULT;1.1;AES256')
    assert value.encode() not in raw
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) != 0 and not [p for p in os.listdir(tmp_path) if p.startswith('.')]


def test_wrong_vault_password_is_a_clear_error(tmp_path):
    path = tmp_path / 'escrow.vault'
    _get(make_escrow(path), 'k', 'key256')
    with pytest.raises(EscrowError, match='cannot decrypt escrow file .* with the vault secrets of this run .*: wrong vault password'):
        _get(make_escrow(path, b'wrong'), 'k', 'key256')


def test_plain_file_is_refused_not_overwritten(tmp_path):
    path = tmp_path / 'escrow.vault'
    path.write_text('{"secrets": {}}')
    with pytest.raises(EscrowError, match='not Ansible Vault encrypted'):
        _get(make_escrow(path), 'k', 'key256')
    assert path.read_text() == '{"secrets": {}}'


@pytest.mark.parametrize('kwargs, message', [
    (dict(kind='nope'), 'unknown secret kind'),
    (dict(kind='password', length=4), 'at least 8'),
    (dict(kind='password', chars='ab'), 'at least 10 distinct'),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(EscrowError, match=message):
        generate(**kwargs)


def test_password_uses_the_given_characters():
    value = generate('password', length=64, chars='0123456789')
    assert len(value) == 64 and set(value) <= set('0123456789')


def _header(path):
    return path.read_bytes().split(b'\n', 1)[0]


def test_the_escrow_keeps_the_vault_id_it_was_created_with(tmp_path):
    path = tmp_path / 'escrow.vault'
    prod = ('prod', VaultSecret(b'prod-pw'))
    dev = ('dev', VaultSecret(b'dev-pw'))
    first = _get(make_escrow(path, secrets=[prod]), 'a', 'key256')
    assert _header(path) == b'$ANSIBLE_VAULT;1.2;AES256;prod'
    # dev loaded first (the one Ansible would encrypt with): a write keeps prod's id and password
    _get(make_escrow(path, secrets=[dev, prod]), 'b', 'key256')
    assert _header(path) == b'$ANSIBLE_VAULT;1.2;AES256;prod'
    assert _get(make_escrow(path, secrets=[prod]), 'a', 'key256') == first
    # an unlabelled (1.1) file stays unlabelled and keeps the password that opened it
    plain = tmp_path / 'plain.vault'
    _get(make_escrow(plain, secrets=[('default', VaultSecret(b'pw'))]), 'a', 'key256')
    _get(make_escrow(plain, secrets=[dev, ('default', VaultSecret(b'pw'))]), 'b', 'key256')
    assert _header(plain) == b'$ANSIBLE_VAULT;1.1;AES256'
    assert make_escrow(plain, secrets=[('default', VaultSecret(b'pw'))]).read('b', 'key256')


def test_an_escrow_whose_vault_id_is_not_loaded_stops_and_names_it(tmp_path):
    path = tmp_path / 'escrow.vault'
    _get(make_escrow(path, secrets=[('prod', VaultSecret(b'same'))]), 'a', 'key256')
    before = path.read_bytes()
    with pytest.raises(EscrowError, match="created with vault id 'prod', and this run has no secret for that id "
                                          r"\(loaded: dev\)\. Add --vault-id prod@"):
        _get(make_escrow(path, secrets=[('dev', VaultSecret(b'same'))]), 'b', 'key256')
    assert path.read_bytes() == before


@pytest.mark.parametrize('damage', [
    lambda raw: raw[:len(raw) // 2],                        # truncated
    lambda raw: raw.replace(b'\n', b'\nzz', 1),             # not hex
    lambda raw: raw.split(b'\n', 1)[0] + b'\n',             # header only
])
def test_a_damaged_escrow_is_not_reported_as_a_wrong_password(tmp_path, damage):
    path = tmp_path / 'escrow.vault'
    _get(make_escrow(path), 'a', 'key256')
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(EscrowError, match='is damaged: it has an Ansible Vault header but not a valid Vault body'):
        _get(make_escrow(path), 'a', 'key256')


def test_an_escrow_behind_a_symlink_stays_where_the_link_points(tmp_path):
    target = tmp_path / 'safe' / 'escrow.vault'
    target.parent.mkdir()
    link = tmp_path / 'escrow.vault'
    link.symlink_to(target)
    value = _get(make_escrow(link), 'a', 'key256')
    _get(make_escrow(link), 'b', 'key256')
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert _get(make_escrow(target), 'a', 'key256') == value


def test_reading_an_escrow_that_does_not_exist_writes_nothing(tmp_path):
    path = tmp_path / 'new' / 'escrow.vault'
    e = make_escrow(path)
    assert e.read('a', 'key256') is None and e.history('a', 'pem') == [] and e.names() == [] and e.entry('a') is None
    assert _pending(e, 'a', 'gossip_key', 'R1', write=False)
    assert not (tmp_path / 'new').exists()
    value = _get(e, 'a', 'key256')
    assert e.read('a', 'key256') == value and e.names() == ['a']


# -- read-only storage (issue 25, case 6) ---------------------------------
def _entry(value='v1'):
    return {'kind': 'key256', 'value': value, 'created': '2026-01-01T00:00:00Z', 'previous': []}


def _written(tmp_path, keep_lock=False):
    """An escrow holding 'a', as on storage that became read-only after the last write (no lock file unless kept)."""
    e = make_escrow(tmp_path / 'escrow.vault')
    assert e.adopt('a', _entry()) is True
    if not keep_lock:
        os.remove(str(tmp_path / 'escrow.vault.lock'))
    return e


def _refuse_writes(monkeypatch, under, err):
    """What read-only storage (EROFS) or a directory the user may not write (EACCES) does; the tests run as root,
    whom chmod does not stop."""
    real_open, real_mkdir = os.open, os.mkdir
    write = os.O_CREAT | os.O_WRONLY | os.O_RDWR

    def fake_open(path, flags, *args, **kwargs):
        if os.fspath(path).startswith(str(under)) and flags & write:
            raise OSError(err, os.strerror(err), os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if os.fspath(path).startswith(str(under)):
            raise OSError(err, os.strerror(err), os.fspath(path))
        return real_mkdir(path, *args, **kwargs)
    monkeypatch.setattr(os, 'open', fake_open)
    monkeypatch.setattr(os, 'mkdir', fake_mkdir)


@pytest.mark.parametrize('err', [errno.EROFS, errno.EACCES])
def test_an_escrow_on_storage_it_cannot_write_is_read_without_a_lock_file(tmp_path, monkeypatch, err):
    e = _written(tmp_path)
    _refuse_writes(monkeypatch, tmp_path, err)
    assert e.read('a', 'key256') == 'v1' and e.history('a', 'key256') == ['v1']
    assert e.entry('a') == _entry() and e.names() == ['a'] and e.read('b') is None
    e.probe()
    assert sorted(os.listdir(str(tmp_path))) == ['escrow.vault']  # no lock file made
    # A write still needs the lock: it stops, names the file and writes nothing.
    with pytest.raises(EscrowError, match=r'cannot lock escrow file .*escrow\.vault to write it'):
        e.adopt('b', _entry('v2'))
    assert e.read('b') is None


def test_a_read_on_read_only_storage_takes_the_existing_lock_file_shared(tmp_path, monkeypatch):
    e = _written(tmp_path, keep_lock=True)
    _refuse_writes(monkeypatch, tmp_path, errno.EROFS)
    assert e.read('a', 'key256') == 'v1' and e.names() == ['a']


def _in_thread(func):
    done = []
    thread = threading.Thread(target=lambda: done.append(func()))
    thread.daemon = True
    thread.start()
    return thread, done


def test_reads_share_the_lock_and_wait_for_a_writer(tmp_path):
    e = _written(tmp_path, keep_lock=True)
    fd = os.open(str(tmp_path / 'escrow.vault.lock'), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # another reader
        thread, done = _in_thread(lambda: e.read('a', 'key256'))
        thread.join(5)
        while_shared = list(done)
        fcntl.flock(fd, fcntl.LOCK_UN)
        thread.join(5)
        assert while_shared == ['v1'], 'a read waited for another read'
        fcntl.flock(fd, fcntl.LOCK_EX)  # a writer
        thread, done = _in_thread(lambda: e.read('a', 'key256'))
        thread.join(0.5)
        assert thread.is_alive() and not done, 'a read did not wait for a writer'
        fcntl.flock(fd, fcntl.LOCK_UN)
        thread.join(5)
        assert done == ['v1']
    finally:
        os.close(fd)


def test_an_escrow_file_that_may_not_be_read_is_an_error_never_absent(tmp_path, monkeypatch):
    e = _written(tmp_path)
    path = str(tmp_path / 'escrow.vault')
    real_stat, real_fopen = os.stat, open

    def no_file(file, *args, **kwargs):
        if os.fspath(file) == path:
            raise PermissionError(errno.EACCES, 'Permission denied', path)
        return real_fopen(file, *args, **kwargs)
    monkeypatch.setattr('builtins.open', no_file)
    with pytest.raises(EscrowError, match=r'escrow file .*escrow\.vault cannot be read: permission denied'):
        e.read('a', 'key256')
    monkeypatch.undo()

    def no_dir(file, *args, **kwargs):  # a directory the user may not search
        if os.fspath(file) == path:
            raise PermissionError(errno.EACCES, 'Permission denied', path)
        return real_stat(file, *args, **kwargs)
    monkeypatch.setattr(os, 'stat', no_dir)
    for read in (lambda: e.read('a', 'key256'), e.names, e.probe, e.exists):
        with pytest.raises(EscrowError, match=r'escrow file .*escrow\.vault cannot be read: permission denied'):
            read()


def test_a_read_never_makes_the_lock_file(tmp_path):
    # A restored escrow has no lock file: a read (check mode, the posture report) must leave the directory as it was.
    path = tmp_path / 'escrow.vault'
    make_escrow(path).ensure('a', 'key256')
    os.remove(str(path) + '.lock')
    before = sorted(os.listdir(str(tmp_path)))
    assert make_escrow(path).read('a') and make_escrow(path).ensure('a', 'key256', write=False)[1] == 'present'
    assert sorted(os.listdir(str(tmp_path))) == before
