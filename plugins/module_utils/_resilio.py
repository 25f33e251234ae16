# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Resilio Connect: the ATA (agent-to-agent) token policy. The master keys are environment variables of the
services, handled by the vendor-neutral _systemd_env.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import re

from ansible.module_utils.parsing.convert_bool import boolean

# -- ATA (agent-to-agent) token policy ---------------------------------------------------------

DHE_PSK_CIPHERS = ('DHE-PSK-AES128-GCM-SHA256', 'DHE-PSK-AES256-GCM-SHA384')
MODES = ('compatibility', 'enforced', 'disabled')


def ata_policy_errors(policy, install, prefix='resilio_ata_'):
    """Every rule of the vendor's ATA token policy that ``policy`` breaks, each naming the variable.

    policy: rotation_minutes, overlap_hours, lifetime_minutes, mode, tunnel_ciphers (list or
    ';'-separated), disabled_confirmed. install: 'upgrade' (from before 3.6) or 'new'.
    """
    errors = []

    def number(key):
        value = policy.get(key)
        if value is None or isinstance(value, bool):
            errors.append('%s%s: a number is required' % (prefix, key))
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            errors.append('%s%s: %r is not a number' % (prefix, key, value))
            return None

    rotation, overlap, lifetime = number('rotation_minutes'), number('overlap_hours'), number('lifetime_minutes')
    if rotation is not None and rotation < 5:
        errors.append('%srotation_minutes: %s is below the minimum of 5 minutes' % (prefix, policy['rotation_minutes']))
    if overlap is not None and overlap > 24:
        errors.append('%soverlap_hours: %s is above the maximum of 24 hours' % (prefix, policy['overlap_hours']))
    if overlap is not None and lifetime is not None and not lifetime > 2 * overlap * 60:
        errors.append('%slifetime_minutes: %s must be more than twice the overlap (%s hours = %s minutes), or agents '
                      'become unstable' % (prefix, policy['lifetime_minutes'], policy['overlap_hours'], int(2 * overlap * 60)))
    mode = policy.get('mode')
    expected = 'compatibility' if install == 'upgrade' else 'enforced'
    if mode not in MODES:
        errors.append('%smode: %r is not one of %s' % (prefix, mode, ', '.join(MODES)))
    elif mode == 'disabled' and not boolean(policy.get('disabled_confirmed') or False, strict=False):
        errors.append('%smode: disabled turns agent-to-agent tokens off; set %sdisabled_confirmed to true to mean it'
                      % (prefix, prefix))
    elif mode not in (expected, 'disabled'):
        errors.append('%smode: %s is wrong for %s; use %s' % (
            prefix, mode, 'an upgrade from before 3.6' if install == 'upgrade' else 'a fresh installation', expected))
    ciphers = policy.get('tunnel_ciphers') or []
    if isinstance(ciphers, str):
        ciphers = [c.strip() for c in ciphers.split(';') if c.strip()]
    missing = [c for c in DHE_PSK_CIPHERS if c not in ciphers]
    if mode != 'disabled' and missing:
        errors.append('%stunnel_ciphers: agent profiles must carry %s for ATA tokens (missing %s); with only SRP agents '
                      'do not connect to each other' % (prefix, ';'.join(DHE_PSK_CIPHERS), ', '.join(missing)))
    return errors


# -- the master keys' input (keyfleet.encryption.resilio_master_key, for resilio_mc and resilio_agent) ---------

ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
UNIT_NAME = re.compile(r'^[A-Za-z0-9@_.:-]+$')
# The variable the Management Console reads its master password from when its configuration names none.
MC_DEFAULT_ENV = 'RESILIO_MPASSWD'


def master_key_problems(o, prefix):
    """The options of one component's master key (o: env, unit, method, environment_file, value), each problem
    naming the variable with prefix (resilio_mc_ or resilio_agent_). The value is a secret: never in a message."""
    wrong = []
    if not ENV_NAME.match(str(o.get('env') or '')):
        wrong.append('%skey_env must be an environment variable name (got %s)' % (prefix, o.get('env')))
    if not UNIT_NAME.match(str(o.get('unit') or '')):
        wrong.append('%sunit must be a unit name (got %s)' % (prefix, o.get('unit')))
    if o.get('method') not in ('dropin', 'environment_file'):
        wrong.append('%skey_method must be dropin or environment_file (got %s)' % (prefix, o.get('method')))
    path = o.get('environment_file') or ''
    if path and not str(path).startswith('/'):
        wrong.append('%senvironment_file must be empty or an absolute path (got %s)' % (prefix, path))
    value = o.get('value')
    if value is not None and (not isinstance(value, str) or '\n' in value):
        wrong.append('%skey, when given, must be one line' % prefix)
    return ['%s. Nothing was changed.' % '; '.join(wrong)] if wrong else []


def mc_config_problems(config, env, allow_change, config_file, prefix='resilio_mc_'):
    """The Management Console's configuration (config: its parsed JSON, None when there is none yet) keeps the
    name of the master password variable: the name cannot change once the data is encrypted."""
    if config is None or boolean(allow_change or False, strict=False):
        return []
    named = ((config.get('security') or {}) if isinstance(config, dict) else {}).get('mpasswd_env') or MC_DEFAULT_ENV
    if named == env:
        return []
    return ['%s names %s as the master password variable, not %skey_env=%s; the name cannot be changed once the data '
            'is encrypted. Nothing was changed.' % (config_file, named, prefix, env)]
