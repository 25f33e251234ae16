# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.keyfleet.encryption.plugins.module_utils import _systemd_env as _resilio
from ansible_collections.keyfleet.encryption.plugins.modules import env_master_key

KEY = 'new "key" 100% \\ $x'
UNIT = 'resilio-connect-server.service'


class FakeSystemd:
    """systemctl show / daemon-reload over files in a temporary directory; the running process's
    environment is a dict (None: not running)."""

    def __init__(self, tmp_path):
        self.dir = tmp_path / 'system'
        self.dir.mkdir()
        self.fragment = self.dir / UNIT
        self.fragment.write_text('[Service]\nExecStart=/bin/true\n')
        self.envfiles = []
        self.process = None
        self.reloads = 0
        self.loaded_dropins = []

    def run_command(self, args, **kwargs):
        if args[1] == 'daemon-reload':
            self.reloads += 1
            d = self.dir / (UNIT + '.d')
            self.loaded_dropins = sorted(str(p) for p in d.glob('*.conf')) if d.exists() else []
            return 0, '', ''
        assert args[1:3] == ['show', UNIT]
        out = 'LoadState=loaded\nFragmentPath=%s\nDropInPaths=%s\nEnvironmentFiles=%s\nMainPID=%d\n' % (
            self.fragment, ' '.join(self.loaded_dropins), '\n'.join('%s (ignore_errors=no)' % p for p in self.envfiles),
            4242 if self.process is not None else 0)
        return 0, out, ''

    def args(self, **kw):
        return dict(dict(unit='resilio-connect-server', name='RESILIO_MPASSWD', value=KEY, systemd_dir=str(self.dir)), **kw)


@pytest.fixture
def systemd(tmp_path, monkeypatch):
    fake = FakeSystemd(tmp_path)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda module, args, **kw: fake.run_command(args, **kw))
    monkeypatch.setattr(_resilio, 'process_environment', lambda pid: fake.process)
    return fake


def dropin(systemd):
    return systemd.dir / (UNIT + '.d') / '99-keyfleet-master-key.conf'


def test_four_passes_write_once_private_and_reload_once(systemd, four_pass, leaked):
    check, apply, check2, apply2 = four_pass(env_master_key, systemd.args(method='dropin'))
    assert [r['changed'] for r in (check, apply, check2, apply2)] == [True, True, False, False]
    assert systemd.reloads == 1
    path = dropin(systemd)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _resilio.dropin_environment(path.read_text()) == {'RESILIO_MPASSWD': KEY}
    assert apply['diff']['before'] == 'RESILIO_MPASSWD: not set\n'
    for r in (check, apply, check2, apply2):
        assert not leaked(KEY, r) and not leaked('key" 100', r)
        assert r['running'] is False and r['process_has_value'] is None and r['restart_needed'] is False


def test_check_mode_writes_nothing(systemd, run_module):
    assert run_module(env_master_key, systemd.args(), check_mode=True)['changed']
    assert not dropin(systemd).exists() and systemd.reloads == 0


def test_a_different_value_in_the_unit_file_is_refused_and_nothing_changes(systemd, run_module, leaked):
    systemd.fragment.write_text('[Service]\nEnvironment="RESILIO_MPASSWD=old secret"\n')
    r = run_module(env_master_key, systemd.args(data_lost='the whole database'))
    assert r['failed'] and str(systemd.fragment) in r['msg'] and 'the whole database' in r['msg']
    assert not leaked('old secret', r) and not leaked(KEY, r)
    assert r['conflicts'] == [str(systemd.fragment)]
    assert not dropin(systemd).exists() and systemd.reloads == 0


def test_a_running_process_with_another_value_is_refused(systemd, run_module):
    systemd.process = {'RESILIO_MPASSWD': 'set by srvctrl'}
    r = run_module(env_master_key, systemd.args())
    assert r['failed'] and 'the running process (PID 4242)' in r['msg']
    assert not dropin(systemd).exists()


def test_our_own_dropin_counts_before_daemon_reload(systemd, run_module):
    """A run stopped after writing and before daemon-reload: a later run with another key is still refused."""
    run_module(env_master_key, systemd.args(method='dropin'))
    systemd.loaded_dropins = []
    r = run_module(env_master_key, systemd.args(method='dropin', value='another'))
    assert r['failed'] and str(dropin(systemd)) in r['msg']


def test_allow_change_replaces_and_warns(systemd, run_module, monkeypatch):
    # where a module's warnings end up depends on what the process imported before (controller code or not)
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda module, msg: warnings.append(msg))
    systemd.fragment.write_text('[Service]\nEnvironment=RESILIO_MPASSWD=old\n')
    systemd.process = {'RESILIO_MPASSWD': 'old'}
    r = run_module(env_master_key, systemd.args(method='dropin', allow_change=True, data_lost='X and Y'))
    assert r['changed'] and r['replaced'] and r['restart_needed'] and r['process_has_value'] is False
    assert any('X and Y' in w for w in warnings)
    assert r['diff']['after'] == 'RESILIO_MPASSWD: set (value hidden), replaced\n'
    assert _resilio.dropin_environment(dropin(systemd).read_text()) == {'RESILIO_MPASSWD': KEY}


def test_an_overriding_environment_file_is_named_even_with_allow_change(systemd, tmp_path, run_module):
    envfile = tmp_path / 'default'
    envfile.write_text('RESILIO_MPASSWD=old\n')
    systemd.envfiles = [str(envfile)]
    r = run_module(env_master_key, systemd.args(method='dropin', allow_change=True))
    assert r['failed'] and 'would still come from %s' % envfile in r['msg']
    assert not dropin(systemd).exists()


def test_running_process_with_the_value_needs_no_restart(systemd, run_module):
    run_module(env_master_key, systemd.args())
    systemd.process = {'RESILIO_MPASSWD': KEY, 'PATH': '/bin'}
    r = run_module(env_master_key, systemd.args())
    assert not r['changed'] and r['process_has_value'] and not r['restart_needed']
    systemd.process = {'PATH': '/bin'}
    assert run_module(env_master_key, systemd.args())['restart_needed']


def test_environment_file_keeps_other_lines(systemd, tmp_path, four_pass):
    envfile = tmp_path / 'resilio-agent.env'
    envfile.write_text('# site settings\nHTTP_PROXY=http://proxy:3128\n')
    os.chmod(str(envfile), 0o644)
    results = four_pass(env_master_key, systemd.args(method='environment_file', path=str(envfile), name='RESILIO_KEY'))
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert _resilio.environment_file(envfile.read_text()) == {'HTTP_PROXY': 'http://proxy:3128', 'RESILIO_KEY': KEY}
    assert stat.S_IMODE(os.stat(str(envfile)).st_mode) == 0o600  # it now holds a secret
    assert 'EnvironmentFile=%s' % envfile in dropin(systemd).read_text()
    assert KEY not in dropin(systemd).read_text()


def test_a_file_with_the_value_but_loose_mode_is_rewritten(systemd, run_module):
    run_module(env_master_key, systemd.args())
    os.chmod(str(dropin(systemd)), 0o644)
    assert run_module(env_master_key, systemd.args())['changed']
    assert stat.S_IMODE(os.stat(dropin(systemd)).st_mode) == 0o600


def test_unknown_unit_and_bad_name(systemd, run_module, monkeypatch):
    r = run_module(env_master_key, systemd.args(name='1BAD'))
    assert r['failed'] and 'not a valid environment variable name' in r['msg']
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda self, args, **kw: (0, 'LoadState=not-found\n', ''))
    r = run_module(env_master_key, systemd.args())
    assert r['failed'] and 'not found' in r['msg']


def test_upsert_environment_file():
    text = 'A=1\nexport RESILIO_KEY=old\n# RESILIO_KEY=comment\nRESILIO_KEY=dup\nB=2'
    out = _resilio.upsert_environment_file(text, 'RESILIO_KEY', 'v')
    assert out == 'A=1\nRESILIO_KEY="v"\n# RESILIO_KEY=comment\nB=2\n'
    assert _resilio.upsert_environment_file('', 'K', 'v').endswith('K="v"\n')


def test_show_parsing():
    props = _resilio.parse_show('A=1\nEnvironmentFiles=/etc/a (ignore_errors=no)\nEnvironmentFiles=/etc/b (ignore_errors=yes)\n')
    assert _resilio.show_environment_files(props['EnvironmentFiles']) == ['/etc/a', '/etc/b']


def envfile(systemd):
    return systemd.dir / (UNIT + '.d') / '99-keyfleet-master-key.env'


def test_the_default_is_an_environment_file_nobody_else_can_read(systemd, four_pass, leaked):
    results = four_pass(env_master_key, systemd.args())
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert _resilio.environment_file(envfile(systemd).read_text()) == {'RESILIO_MPASSWD': KEY}
    assert stat.S_IMODE(os.stat(envfile(systemd)).st_mode) == 0o600
    # No Environment= anywhere in the unit: that is a D-Bus property every local user can read.
    assert dropin(systemd).read_text().endswith('[Service]\nEnvironmentFile=%s\n' % envfile(systemd))
    assert 'RESILIO_MPASSWD' not in dropin(systemd).read_text() + systemd.fragment.read_text()
    assert not any(leaked(KEY, r) for r in results)


def test_a_key_in_our_dropin_moves_to_the_environment_file_unchanged(systemd, run_module):
    run_module(env_master_key, systemd.args(method='dropin'))
    systemd.loaded_dropins = [str(dropin(systemd))]
    moved = run_module(env_master_key, systemd.args())
    assert moved['changed'] and not moved['replaced']
    assert _resilio.environment_file(envfile(systemd).read_text()) == {'RESILIO_MPASSWD': KEY}
    assert 'Environment=' not in dropin(systemd).read_text().replace('EnvironmentFile=', '')


def test_a_copy_in_another_unit_file_is_named_not_left_readable(systemd, run_module):
    systemd.fragment.write_text('[Service]\nEnvironment="RESILIO_MPASSWD=%s"\n' % KEY.replace('\\', '\\\\').replace('"', '\\"'))
    r = run_module(env_master_key, systemd.args())
    assert r['failed'] and 'also set with Environment= in %s' % systemd.fragment in r['msg']
    assert not dropin(systemd).exists() and not envfile(systemd).exists()


def test_an_unreadable_source_stops_instead_of_counting_as_absent(systemd, run_module, monkeypatch):
    real_open = open

    def eacces(path, *a, **kw):
        if str(path) == str(systemd.fragment):
            raise PermissionError(13, 'Permission denied', str(path))
        return real_open(path, *a, **kw)

    monkeypatch.setattr('builtins.open', eacces)
    r = run_module(env_master_key, systemd.args())
    assert r['failed'] and 'cannot read %s' % systemd.fragment in r['msg'] and 'Permission denied' in r['msg']
    assert not dropin(systemd).exists()


def test_an_unreadable_process_environment_stops(tmp_path, monkeypatch):
    def eacces(path, *a, **kw):
        raise PermissionError(13, 'Permission denied', str(path))

    monkeypatch.setattr('builtins.open', eacces)
    with pytest.raises(_resilio.SystemdEnvError, match='cannot read the environment of process 4242.*Permission denied'):
        _resilio.process_environment(4242, proc=str(tmp_path))
    monkeypatch.undo()
    assert _resilio.process_environment(4242, proc=str(tmp_path)) is None  # gone: no such file


# -- the order of the writes, and a write that fails (issue 25, case 8) --------------------------------

def record_writes(monkeypatch, fail=None):
    """env_master_key's writes, in order; a write to the path ``fail`` raises (the directory not writable)."""
    writes = []
    real = env_master_key.write_private

    def write(path, *args, **kwargs):
        if fail is not None and str(path) == str(fail):
            raise PermissionError(13, 'Permission denied', str(path))
        real(path, *args, **kwargs)
        writes.append(str(path))
    monkeypatch.setattr(env_master_key, 'write_private', write)
    return writes


def test_the_environment_file_is_written_before_the_dropin_that_names_it(systemd, run_module, monkeypatch):
    writes = record_writes(monkeypatch)
    assert run_module(env_master_key, systemd.args())['changed']
    assert writes == [str(envfile(systemd)), str(dropin(systemd))] and systemd.reloads == 1


def test_a_failed_environment_file_write_leaves_no_dropin(systemd, run_module, monkeypatch, leaked):
    """The drop-in used to come first: it named a file that was never written, and after the next
    daemon-reload the unit no longer started."""
    record_writes(monkeypatch, fail=envfile(systemd))
    r = run_module(env_master_key, systemd.args())
    assert r['failed'] and 'cannot write %s' % envfile(systemd) in r['msg'] and 'Permission denied' in r['msg']
    assert 'the unit is as it was' in r['msg'] and not r['changed'] and not leaked(KEY, r)
    assert not dropin(systemd).exists() and not envfile(systemd).exists() and systemd.reloads == 0
    assert not dropin(systemd).parent.exists()  # not even the empty directory this run made


def test_a_failed_environment_file_write_keeps_the_old_dropin(systemd, run_module, monkeypatch):
    run_module(env_master_key, systemd.args(method='dropin'))
    systemd.loaded_dropins = [str(dropin(systemd))]
    old = dropin(systemd).read_text()
    record_writes(monkeypatch, fail=envfile(systemd))
    r = run_module(env_master_key, systemd.args())
    assert r['failed'] and 'cannot write %s' % envfile(systemd) in r['msg']
    assert dropin(systemd).read_text() == old and not envfile(systemd).exists() and systemd.reloads == 1


def test_a_failed_dropin_write_removes_the_environment_file_it_would_have_named(systemd, run_module, monkeypatch):
    record_writes(monkeypatch, fail=dropin(systemd))
    r = run_module(env_master_key, systemd.args())
    assert r['failed'] and 'cannot write %s' % dropin(systemd) in r['msg'] and not r['changed']
    assert not dropin(systemd).exists() and not envfile(systemd).exists() and systemd.reloads == 0


def test_a_failed_dropin_write_restores_a_changed_environment_file(systemd, tmp_path, run_module, monkeypatch):
    default = tmp_path / 'resilio-agent'
    default.write_text('HTTP_PROXY=http://proxy:3128\n')
    os.chmod(str(default), 0o644)
    record_writes(monkeypatch, fail=dropin(systemd))
    r = run_module(env_master_key, systemd.args(path=str(default)))
    assert r['failed'] and 'cannot write %s' % dropin(systemd) in r['msg']
    assert default.read_text() == 'HTTP_PROXY=http://proxy:3128\n' and stat.S_IMODE(os.stat(str(default)).st_mode) == 0o644
    assert not dropin(systemd).exists()


def test_a_failed_dropin_change_keeps_the_old_dropin_and_the_file_it_names(systemd, tmp_path, run_module, monkeypatch):
    """The drop-in is being changed, not created: "as it was" is the old drop-in, and the file it names stays."""
    first, second = tmp_path / 'first.env', tmp_path / 'second.env'
    run_module(env_master_key, systemd.args(path=str(first)))
    systemd.loaded_dropins, systemd.envfiles = [str(dropin(systemd))], [str(first)]
    old, old_env = dropin(systemd).read_text(), first.read_text()
    record_writes(monkeypatch, fail=dropin(systemd))
    r = run_module(env_master_key, systemd.args(path=str(second)))
    assert r['failed'] and 'cannot write %s' % dropin(systemd) in r['msg']
    assert dropin(systemd).read_text() == old and 'EnvironmentFile=%s' % first in old
    assert first.read_text() == old_env and not second.exists() and systemd.reloads == 1


def test_an_undo_never_removes_a_file_a_dropin_names(systemd, run_module, monkeypatch):
    """What the old order left behind: our drop-in names an environment file that is missing. A run that
    writes the file and then fails on the drop-in keeps the file: removing it would leave a drop-in that
    names a missing file, as before."""
    run_module(env_master_key, systemd.args())
    envfile(systemd).unlink()
    os.chmod(str(dropin(systemd)), 0o644)  # so the drop-in is rewritten too
    old = dropin(systemd).read_text()
    record_writes(monkeypatch, fail=dropin(systemd))
    r = run_module(env_master_key, systemd.args())
    assert r['failed'] and 'cannot write %s' % dropin(systemd) in r['msg'] and r['changed']
    assert '%s: kept: the unit names it' % envfile(systemd) in r['msg']
    assert dropin(systemd).read_text() == old
    assert _resilio.environment_file(envfile(systemd).read_text()) == {'RESILIO_MPASSWD': KEY}


def test_dropin_environment_files():
    text = '[Unit]\nEnvironmentFile=/not/service\n[Service]\nEnvironmentFile=-/etc/default/a\nEnvironmentFile=/etc/b c\n'
    assert _resilio.dropin_environment_files(text) == ['/etc/default/a', '/etc/b c']
    assert _resilio.dropin_environment_files(text + 'EnvironmentFile=\nEnvironmentFile=/x\n') == ['/x']


def test_an_environment_file_in_a_missing_directory_fails_before_any_dropin(systemd, tmp_path, run_module):
    missing = tmp_path / 'no' / 'such' / 'dir' / 'resilio.env'
    r = run_module(env_master_key, systemd.args(path=str(missing)))
    assert r['failed'] and 'cannot write %s' % missing in r['msg'] and 'No such file or directory' in r['msg']
    assert not dropin(systemd).exists() and not dropin(systemd).parent.exists() and systemd.reloads == 0


def test_a_file_that_cannot_be_put_back_is_named(systemd, tmp_path, run_module, monkeypatch, leaked):
    default = tmp_path / 'resilio-agent'
    default.write_text('HTTP_PROXY=http://proxy:3128\n')
    real, calls = env_master_key.write_private, []

    def write(path, *args, **kwargs):
        calls.append(str(path))
        if str(path) == str(dropin(systemd)) or calls.count(str(default)) > 1:  # the drop-in, then the put back
            raise OSError(28, 'No space left on device', str(path))
        real(path, *args, **kwargs)
    monkeypatch.setattr(env_master_key, 'write_private', write)
    r = run_module(env_master_key, systemd.args(path=str(default)))
    assert calls == [str(default), str(dropin(systemd)), str(default)]
    assert r['failed'] and r['changed'] and 'cannot write %s' % dropin(systemd) in r['msg']
    assert '%s: not put back: [Errno 28] No space left on device' % default in r['msg']
    assert not dropin(systemd).exists() and not leaked(KEY, r)
