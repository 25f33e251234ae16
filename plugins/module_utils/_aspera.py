# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""IBM Aspera HSTS: what the Aspera helpers share. askmscli is in _askmscli, aspera.conf and asconfigurator
in _aspera_conf; the Redis client the Aspera Redis is reached with is the generic _redis.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

ASPERA_BIN = '/opt/aspera/bin'


class AsperaError(Exception):
    pass
