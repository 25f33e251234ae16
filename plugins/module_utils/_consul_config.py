# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Consul configuration fragments: read, compare with secrets masked, validate, write.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

MASK = '********'
# Settings the agent gets on its command line go into a file of their own for `consul validate`.
COMMAND_LINE_FILE = '000-keyfleet-command-line.json'


class ConfigError(Exception):
    pass


def masked(content, secret_names, other=None):
    """``content`` with secret values replaced, marking those that differ from ``other``."""
    out = {}
    for k, v in content.items():
        if k in secret_names:
            out[k] = MASK if other is None or other.get(k) == v else MASK + ' (changes)'
        else:
            out[k] = v
    return out


def changed_keys(before, after):
    return sorted(k for k in set(before) | set(after) if before.get(k, object()) != after.get(k, object()))


def read_current(path):
    """The fragment's settings, None when there is no file, {} when it is not a JSON object (replaced as a whole).

    A file that cannot be read stops: it is not "absent".
    """
    try:
        with open(path) as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    except (IOError, OSError) as e:
        raise ConfigError('cannot read %s: %s' % (path, e))
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def render(content):
    return json.dumps(content, indent=2, sort_keys=True) + '\n'


def validate_dir(run_command, consul, config_dir, replaced, extra):
    """`consul validate` on a 0700 copy of ``config_dir`` where each name of ``replaced`` has the given text.

    ``extra`` holds settings the agent gets on its command line. Returns None, or consul's complaint.
    """
    tmp = tempfile.mkdtemp(prefix='keyfleet-consul-validate-')
    try:
        if os.path.isdir(config_dir):
            for entry in os.listdir(config_dir):
                src = os.path.join(config_dir, entry)
                # Consul loads only .json and .hcl files from a config dir.
                if os.path.isfile(src) and entry.endswith(('.json', '.hcl')):
                    shutil.copy(src, os.path.join(tmp, entry))
        for name, text in replaced.items():
            with open(os.path.join(tmp, name), 'w') as f:
                f.write(text)
        if extra:
            with open(os.path.join(tmp, COMMAND_LINE_FILE), 'w') as f:
                f.write(render(extra))
        rc, out, err = run_command([consul, 'validate', tmp])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return None if rc == 0 else (out + err).strip()
