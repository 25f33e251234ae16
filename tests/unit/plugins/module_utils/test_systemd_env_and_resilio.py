# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.keyfleet.encryption.plugins.module_utils._resilio import ata_policy_errors
from ansible_collections.keyfleet.encryption.plugins.module_utils._systemd_env import (
    SystemdEnvError, dropin_assignment, dropin_environment, environment_file, render_dropin, render_environment_file)

# Checked against the lab's systemd 252: a unit with render_dropin()'s drop-in gets exactly this value.
NASTY = 'p@ss w0rd "q" \\ 100% $HOME `id` ;#'


def test_dropin_round_trip_keeps_every_character():
    text = render_dropin('RESILIO_MPASSWD', NASTY)
    assert '%%' in text  # a bare % would be a systemd specifier
    assert dropin_environment(text) == {'RESILIO_MPASSWD': NASTY}


def test_environment_file_round_trip():
    assert environment_file(render_environment_file('RESILIO_KEY', NASTY)) == {'RESILIO_KEY': NASTY}


def test_dropin_environment_reads_several_assignments_and_sections():
    text = ('[Unit]\nEnvironment=NOT=service\n[Service]\n# comment\nEnvironment=A=1 "B=two words" C=\'x y\'\n'
            'Environment="A=3"\n')
    assert dropin_environment(text) == {'A': '3', 'B': 'two words', 'C': 'x y'}


def test_empty_environment_resets():
    assert dropin_environment('[Service]\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n') == {'B': '2'}


def test_environment_file_comments_export_and_quotes():
    text = '# c\n; c\nexport A=1\nB="x \\"y\\""\nC=\'lit \\n\'\nnot a line\n'
    assert environment_file(text) == {'A': '1', 'B': 'x "y"', 'C': 'lit \\n'}


@pytest.mark.parametrize('name, value, message', [
    ('1BAD', 'x', 'not a valid environment variable name'),
    ('GOOD', '', 'the value is empty'),
    ('GOOD', 'a\nb', 'newline'),
])
def test_refused(name, value, message):
    with pytest.raises(SystemdEnvError, match=message):
        dropin_assignment(name, value)


GOOD = dict(rotation_minutes=60, overlap_hours=1, lifetime_minutes=180, mode='enforced',
            tunnel_ciphers='DHE-PSK-AES128-GCM-SHA256;DHE-PSK-AES256-GCM-SHA384')


def test_good_policy():
    assert ata_policy_errors(GOOD, 'new') == []
    assert ata_policy_errors(dict(GOOD, mode='compatibility'), 'upgrade') == []


@pytest.mark.parametrize('change, install, message', [
    (dict(rotation_minutes=4), 'new', 'resilio_ata_rotation_minutes: 4 is below the minimum of 5 minutes'),
    (dict(overlap_hours=25, lifetime_minutes=4000), 'new', 'resilio_ata_overlap_hours: 25 is above the maximum of 24 hours'),
    (dict(lifetime_minutes=120), 'new', 'resilio_ata_lifetime_minutes: 120 must be more than twice the overlap'),
    (dict(mode='compatibility'), 'new', 'resilio_ata_mode: compatibility is wrong for a fresh installation; use enforced'),
    (dict(mode='enforced'), 'upgrade', 'resilio_ata_mode: enforced is wrong for an upgrade from before 3.6; use compatibility'),
    (dict(mode='disabled'), 'new', 'set resilio_ata_disabled_confirmed to true'),
    (dict(mode='off'), 'new', "resilio_ata_mode: 'off' is not one of"),
    (dict(tunnel_ciphers=['SRP']), 'new', 'resilio_ata_tunnel_ciphers: agent profiles must carry'),
    (dict(rotation_minutes='soon'), 'new', "resilio_ata_rotation_minutes: 'soon' is not a number"),
])
def test_each_rule_named(change, install, message):
    errors = ata_policy_errors(dict(GOOD, **change), install)
    assert len(errors) == 1 and message in errors[0], errors


def test_every_violation_reported_at_once():
    bad = dict(rotation_minutes=1, overlap_hours=30, lifetime_minutes=10, mode='enforced', tunnel_ciphers='SRP')
    assert len(ata_policy_errors(bad, 'upgrade')) == 5


def test_disabled_confirmed_needs_no_ciphers():
    assert ata_policy_errors(dict(GOOD, mode='disabled', disabled_confirmed=True, tunnel_ciphers=''), 'new') == []
