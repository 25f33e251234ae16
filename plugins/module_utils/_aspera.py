# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""IBM Aspera HSTS: what the Aspera helpers share. askmscli is in _askmscli, aspera.conf and asconfigurator
in _aspera_conf; the Redis client the Aspera Redis is reached with is the generic _redis.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import os

# Where HSTS installs on Linux; every Aspera module takes it as install_dir (doc fragment
# keyfleet.encryption.aspera), so module_defaults for group/keyfleet.encryption.aspera moves them all at once.
ASPERA_DIR = '/opt/aspera'

# Path options the modules take under install_dir when they are not given.
LAYOUT = {
    'askmscli': 'bin/askmscli',
    'asconfigurator': 'bin/asconfigurator',
    'asnodeadmin': 'bin/asnodeadmin',
    'aspera_conf': 'etc/aspera.conf',
    # The documented file; the vendor does not say it follows a changed port.
    'redis_conf': 'etc/redis/aspera_31415.conf',
    'stash_file': 'etc/askms.stash',
    'marker': 'etc/.keyfleet-stash',
}
# keyfleet's own records on the host, under its state directory (etc under install_dir unless given).
STATE_DIR = 'etc'
RECORDS = {'marker': '.keyfleet-stash', 'token_switch': '.keyfleet-token-switch'}
# The path options each module takes, by layout key: what module_defaults must give a module when a path is not
# where install_dir puts it.
MODULE_PATHS = {
    'aspera_config': {'conf': 'aspera_conf', 'asconfigurator': 'asconfigurator'},
    'aspera_keystore': {'askmscli': 'askmscli'},
    'aspera_secret': {'askmscli': 'askmscli'},
    'aspera_redis_password': {'conf': 'redis_conf'},
    'aspera_stash_password': {'askmscli': 'askmscli', 'stash_file': 'stash_file', 'marker': 'marker'},
}

INSTALL_DIR_SPEC = dict(install_dir=dict(type='path', default=ASPERA_DIR))


class AsperaError(Exception):
    pass


def install_paths(params, **options):
    """Fill each path option left unset (``option=layout key``) from params['install_dir']."""
    for option, key in options.items():
        if params.get(option) is None:
            params[option] = os.path.join(params['install_dir'], LAYOUT[key])
    return params


def layout(install_dir, given=None):
    """Every path of an installation at ``install_dir``, the one place the roles and modules take them from.

    ``given`` holds paths an operator set (a missing or empty one is not set): a tool, a file of LAYOUT, ``bin_dir``
    (the tools' directory) or ``state_dir`` (keyfleet's records). Returns the paths (LAYOUT's keys, ``bin_dir``,
    ``state_dir``, RECORDS' keys) and ``module_args``: for each module, the path options whose path is not the one the
    module takes under install_dir itself, to give it through module_defaults.
    """
    given = dict((k, v) for k, v in (given or {}).items() if v)
    unknown = sorted(set(given) - set(LAYOUT) - set(RECORDS) - {'bin_dir', 'state_dir'})
    if unknown:
        raise AsperaError('unknown Aspera path %s (one of %s)' % (', '.join(unknown), ', '.join(
            sorted(set(LAYOUT) | set(RECORDS) | {'bin_dir', 'state_dir'}))))
    own = dict((key, os.path.join(install_dir, rel)) for key, rel in LAYOUT.items())
    paths = dict(own, install_dir=install_dir)
    paths['bin_dir'] = given.get('bin_dir') or os.path.join(install_dir, 'bin')
    paths['state_dir'] = given.get('state_dir') or os.path.join(install_dir, STATE_DIR)
    for key, rel in LAYOUT.items():
        if rel.startswith('bin/'):
            paths[key] = os.path.join(paths['bin_dir'], rel[len('bin/'):])
    for key, name in RECORDS.items():
        paths[key] = os.path.join(paths['state_dir'], name)
    paths.update((k, v) for k, v in given.items() if k in LAYOUT or k in RECORDS)
    paths['module_args'] = dict(
        (module, dict((option, paths[key]) for option, key in options.items() if paths[key] != own.get(key)))
        for module, options in MODULE_PATHS.items())
    return paths
