# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # The option every Aspera module has, so module_defaults for group/keyfleet.encryption.aspera can set it
    # once: module_defaults passes a group's options to every member, and a module fails on one it lacks.
    DOCUMENTATION = r"""
options:
  install_dir:
    description:
      - Where IBM Aspera HSTS is installed.
      - The commands and files this module uses that are not given are taken under it, in the vendor's layout
        (C(bin/askmscli), C(bin/asconfigurator), C(etc/aspera.conf), C(etc/redis/aspera_31415.conf)).
      - Set it once for every Aspera module with C(module_defaults) for C(group/keyfleet.encryption.aspera).
    type: path
    default: /opt/aspera
"""

    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/keyfleet.encryption.aspera) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - keyfleet.encryption.aspera
"""
