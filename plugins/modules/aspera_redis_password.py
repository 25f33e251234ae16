#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: aspera_redis_password
short_description: Make the IBM Aspera Redis require a password, and keep it across restarts
version_added: 1.0.0
author: keyfleet maintainers (@keyfleet)
description:
  - Follows the vendor's procedure without its C(asredis) session - hands the Redis configuration file
    (C(aspera_31415.conf)) to the user Redis runs as, sends C(CONFIG SET requirepass), C(AUTH) and
    C(CONFIG REWRITE), then gives the file back to its owner, group and mode (from O(conf_owner),
    O(conf_group), O(conf_mode), else as they were).
  - The password travels over the Redis socket only (this module speaks the Redis protocol itself), never
    in a command line, where C(redis-cli -a) would put it.
  - Redis 6.2 and later rewrite the file through a temporary file beside it, so the directory has to be
    writable by Redis too; when C(CONFIG REWRITE) is refused for that reason, the directory is handed over
    the same way for the rewrite and given back.
  - Nothing happens when Redis already takes O(password) and the file already sets it.
  - With O(probe_only), only checks that Redis answers and that O(password), O(current_password) or no
    password is accepted, so a play can stop before changing any host.
extends_documentation_fragment:
  - keyfleet.encryption.aspera
  - keyfleet.encryption.aspera.action_group
  - keyfleet.encryption.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  password:
    description: The new Redis password. Never logged or returned.
    type: str
    required: true
  current_password:
    description: The password Redis requires now, if it requires one and it is not O(password).
    type: str
  host:
    description: Redis address.
    type: str
    default: 127.0.0.1
  port:
    description: Redis port.
    type: int
    default: 31415
  conf:
    description:
      - The Redis configuration file Redis was started with.
      - Unset, C(etc/redis/aspera_31415.conf) under O(install_dir).
    type: path
  redis_user:
    description: The user Redis runs as, who must be able to write O(conf) for C(CONFIG REWRITE).
    type: str
    default: asperadaemon
  conf_owner:
    description: Owner of O(conf) afterwards. The vendor gives it back to V(root).
    type: str
    default: root
  conf_group:
    description: Group of O(conf) afterwards; the one it had when not given. Redis must still be able to read it.
    type: str
  conf_mode:
    description: Mode of O(conf) afterwards, for example V(0640) (it now holds the password); the one it had when not given.
    type: raw
  probe_only:
    description: Only check that Redis is reachable and a known password (or none) is accepted.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Redis password, persisted
  keyfleet.encryption.aspera_redis_password:
    password: "{{ lookup('keyfleet.encryption.escrow', 'aspera_redis_password_' ~ inventory_hostname, kind='password') }}"
    conf_group: asperadaemon
    conf_mode: "0640"
  no_log: true
"""

RETURN = r"""
auth:
  description: Which password Redis accepted before any change, V(new), V(current) or V(none).
  returned: success
  type: str
runtime_changed:
  description: Whether C(CONFIG SET requirepass) was (or would be) sent.
  returned: success
  type: bool
persisted_changed:
  description: Whether the configuration file was (or would be) rewritten.
  returned: success
  type: bool
directory_handed_over:
  description: Whether Redis needed the configuration directory too for C(CONFIG REWRITE) (Redis 6.2 and later).
  returned: when the file was rewritten
  type: bool
"""

import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyfleet.encryption.plugins.module_utils._aspera import INSTALL_DIR_SPEC, AsperaError, install_paths
from ansible_collections.keyfleet.encryption.plugins.module_utils._redis import Redis, RedisError, RedisReplyError, persisted_requirepass

NO_PASSWORD_SET = ('without any password configured', 'no password is set')


def authenticate(redis, password, current):
    """'new', 'current' or 'none' (Redis needs no password); raises when nothing known works."""
    tried = [('new', password)] + ([('current', current)] if current else [])
    for name, value in tried:
        try:
            redis.command('AUTH', value)
            return name
        except RedisReplyError as e:
            if any(s in str(e) for s in NO_PASSWORD_SET):
                return 'none'
    try:
        redis.command('PING')
        return 'none'
    except RedisReplyError:
        pass
    raise AsperaError('Redis requires a password and accepts neither the new password nor current_password%s'
                      % ('' if current else ' (not given)'))


def read_persisted(path):
    with open(path, 'rb') as f:
        return persisted_requirepass(f.read().decode('utf-8', 'surrogateescape'))


def rewrite(redis, conf, redis_user):
    """CONFIG REWRITE with the file (and if Redis needs it, its directory) handed to Redis' user.
    Returns whether the directory had to be handed over too."""
    directory = os.path.dirname(conf)
    st, dst = os.stat(conf), os.stat(directory)
    uid = pwd.getpwnam(redis_user).pw_uid
    handed = [(conf, st)]
    os.chown(conf, uid, -1)
    try:
        try:
            redis.command('CONFIG', 'REWRITE')
        except RedisReplyError as e:
            # Measured on Redis 7.0.15: "ERR Rewriting config file: Permission denied" with the file
            # handed over and not its directory; the rewritten file then comes out 0644.
            if 'ermission denied' not in str(e) and 'Rewriting config file' not in str(e):
                raise
            os.chown(directory, uid, -1)
            handed.append((directory, dst))
            redis.command('CONFIG', 'REWRITE')
    finally:
        # A rewrite through a temporary file leaves a new file owned by Redis' user: give both back.
        for path, old in handed:
            os.chown(path, old.st_uid, old.st_gid)
            os.chmod(path, old.st_mode & 0o7777)
    return len(handed) > 1


def main():
    module = AnsibleModule(
        argument_spec=dict(
            password=dict(type='str', required=True, no_log=True),
            current_password=dict(type='str', no_log=True),
            host=dict(type='str', default='127.0.0.1'),
            port=dict(type='int', default=31415),
            conf=dict(type='path'),
            redis_user=dict(type='str', default='asperadaemon'),
            conf_owner=dict(type='str', default='root'),
            conf_group=dict(type='str'),
            conf_mode=dict(type='raw'),
            probe_only=dict(type='bool', default=False),
            **INSTALL_DIR_SPEC
        ),
        supports_check_mode=True,
    )
    p = install_paths(module.params, conf='redis_conf')
    if len(p['password']) < 8:
        module.fail_json(msg='password: a Redis password needs at least 8 characters')
    if not os.path.isfile(p['conf']):
        module.fail_json(msg='the Redis configuration file %s does not exist (conf)' % p['conf'])
    try:
        pwd.getpwnam(p['redis_user'])
        pwd.getpwnam(p['conf_owner'])
        if p['conf_group']:
            grp.getgrnam(p['conf_group'])
    except KeyError as e:
        module.fail_json(msg='redis_user, conf_owner or conf_group names no such user or group: %s' % e)
    result = dict(changed=False, runtime_changed=False, persisted_changed=False)
    redis = None
    try:
        redis = Redis(p['host'], p['port'])
        result['auth'] = authenticate(redis, p['password'], p['current_password'])
        if p['probe_only']:
            module.exit_json(**result)
        result['runtime_changed'] = result['auth'] != 'new'
        result['persisted_changed'] = read_persisted(p['conf']) != p['password'].encode('utf-8')
        result['changed'] = result['runtime_changed'] or result['persisted_changed']
        if result['runtime_changed'] and not module.check_mode:
            redis.command('CONFIG', 'SET', 'requirepass', p['password'])
            redis.command('AUTH', p['password'])
        if result['persisted_changed'] and not module.check_mode:
            result['directory_handed_over'] = rewrite(redis, p['conf'], p['redis_user'])
            if read_persisted(p['conf']) != p['password'].encode('utf-8'):
                module.fail_json(msg='CONFIG REWRITE did not write the password to %s' % p['conf'], **result)
    except (AsperaError, RedisError, OSError, IOError) as e:
        module.fail_json(msg=str(e), **result)
    finally:
        if redis is not None:
            redis.close()
    # The owner the vendor wants, and the group/mode asked for; the file holds the password now.
    file_args = module.load_file_common_arguments(dict(path=p['conf'], owner=p['conf_owner'], group=p['conf_group'],
                                                       mode=p['conf_mode']))
    result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
