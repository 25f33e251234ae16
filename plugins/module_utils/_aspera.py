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
    'aspera_conf': 'etc/aspera.conf',
    # The documented file; the vendor does not say it follows a changed port.
    'redis_conf': 'etc/redis/aspera_31415.conf',
    'stash_file': 'etc/askms.stash',
    'marker': 'etc/.keyfleet-stash',
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
