# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The options of keyfleet.encryption.escrow_secret, once: its action plugin and its documentation stub share them. Private."""

from __future__ import annotations

# The lookup's own options that a task may set to say which escrow; the connection and auth ones are the play's.
ESCROW_OPTIONS = ('backend', 'file', 'file_persistent', 'kv_path', 'engine_mount_point')
KINDS = ['gossip_key', 'key256', 'password', 'pem', 'text']

ESCROW_SECRET_SPEC = dict(
    name=dict(type='str', required=True),
    kind=dict(type='str', default='key256', choices=KINDS),
    value=dict(type='str', no_log=True),
    keep_stored=dict(type='bool', default=False),
    replace=dict(type='bool', default=False),
    generation=dict(type='str'),
    pending=dict(type='bool', default=False),
    promote=dict(type='bool', default=False),
    length=dict(type='int', default=32),
    chars=dict(type='str', no_log=False, default='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
    escrow=dict(type='dict', default={}),
)
