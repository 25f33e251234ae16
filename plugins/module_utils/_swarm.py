# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Docker Swarm autolock through the Engine API on a unix socket (private to this collection).

The API, not the docker CLI: the unlock key goes in a request body and comes back in a response
body, never through argv, and no CLI version has to match the engine.
Endpoints: GET /info, GET /swarm, GET /swarm/unlockkey, POST /swarm/update, POST /swarm/unlock.
"""

from __future__ import annotations

import hashlib
import http.client as http_client
import json
import re
import socket
import time
from urllib.parse import quote, urlencode

# The swarm spec label that records the last rotation id, so a rotation happens once per id
# whichever controller runs it.
ROTATION_LABEL = 'io.keyfleet.unlock-key-rotation'
DEFAULT_HOST = 'unix:///var/run/docker.sock'


class DockerError(Exception):
    def __init__(self, message, status=None):
        super(DockerError, self).__init__(message)
        self.status = status


class _UnixConnection(http_client.HTTPConnection):
    def __init__(self, path, timeout):
        http_client.HTTPConnection.__init__(self, 'localhost', timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def socket_path(docker_host):
    """The socket path of a unix:// docker host; other schemes are refused."""
    if not docker_host.startswith('unix://') or len(docker_host) <= len('unix://'):
        raise DockerError('docker_host must be a unix socket (unix:///path/docker.sock), got %r: the unlock key '
                          'would otherwise cross a network' % docker_host)
    return docker_host[len('unix://'):]


def fingerprint(key):
    """A short, non-reversible name for a key, safe to print."""
    return hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]


class SwarmClient:
    def __init__(self, docker_host=DEFAULT_HOST, timeout=60):
        self.path = socket_path(docker_host)
        self.timeout = timeout

    def request(self, method, path, body=None, query=None):
        if query:
            path += '?' + urlencode(query)
        conn = _UnixConnection(self.path, self.timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode('utf-8')
                headers['Content-Type'] = 'application/json'
            conn.request(method, quote(path, safe='/?=&'), body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            status = resp.status
        except (OSError, socket.error, http_client.HTTPException) as e:
            raise DockerError('cannot talk to the Docker engine at unix://%s: %s' % (self.path, e))
        finally:
            conn.close()
        try:
            payload = json.loads(raw.decode('utf-8')) if raw.strip() else None
        except ValueError:
            payload = raw.decode('utf-8', 'replace')
        if status >= 400:
            message = payload.get('message') if isinstance(payload, dict) else payload
            raise DockerError('%s %s: %s' % (method, path.split('?')[0], message), status)
        return payload

    def swarm_info(self):
        return (self.request('GET', '/info') or {}).get('Swarm') or {}

    def inspect(self):
        return self.request('GET', '/swarm')

    def unlock_key(self):
        return (self.request('GET', '/swarm/unlockkey') or {}).get('UnlockKey') or ''

    def update(self, version, spec, rotate_unlock_key=False):
        query = {'version': version, 'rotateWorkerToken': 'false', 'rotateManagerToken': 'false',
                 'rotateManagerUnlockKey': 'true' if rotate_unlock_key else 'false'}
        self.request('POST', '/swarm/update', body=spec, query=query)

    def unlock(self, key):
        self.request('POST', '/swarm/unlock', body={'UnlockKey': key})


def wait_for_leader(client, wait=30, clock=time.monotonic, sleep=time.sleep):
    """The swarm as its leader reports it, once there is one.

    Managers that were all locked elect a leader only once enough of them are unlocked; until then the
    engine answers 503 (no leader). Any other error, or no leader within ``wait`` seconds, is raised.
    """
    end = clock() + wait
    while True:
        try:
            return client.inspect()
        except DockerError as e:
            if e.status is None or e.status < 500 or clock() >= end:
                raise
        sleep(0.5)


def autolock_of(spec):
    return bool((spec.get('EncryptionConfig') or {}).get('AutoLockManagers'))


def plan(current_autolock, labels, want_autolock, rotation_id):
    """What an update must do: (autolock to set or None, rotate the key, rotation label to set or None).

    A rotation id is remembered in the spec labels: a rotation runs once per id. Turning autolock
    on makes a new key anyway, so the id is only recorded then.
    """
    set_autolock = want_autolock if want_autolock != current_autolock else None
    label = None
    rotate = False
    if want_autolock and rotation_id and (labels or {}).get(ROTATION_LABEL) != rotation_id:
        label = rotation_id
        rotate = current_autolock  # a key that exists already is replaced
    return set_autolock, rotate, label


def unlock_with(client, keys, wait=30, clock=time.monotonic, sleep=time.sleep):
    """Unlock with the first key that works; returns its index. Raises DockerError when none does."""
    errors = []
    for index, key in enumerate(keys):
        try:
            client.unlock(key)
        except DockerError as e:
            if e.status == 409:  # "swarm is not locked": unlocked meanwhile (another run, an operator)
                return index
            if e.status is not None and e.status < 500:  # 401 invalid key, 400 malformed key
                errors.append('key %d (%s): %s' % (index, fingerprint(key), e))
                continue
            raise
        end = clock() + wait
        while clock() < end:
            if client.swarm_info().get('LocalNodeState') == 'active':
                return index
            sleep(0.5)
        raise DockerError('the manager accepted key %d but is still not active after %s s' % (index, wait))
    raise DockerError('no escrowed unlock key unlocks this manager (%s). A manager of this swarm that runs unlocked '
                      'reports the current key, which this run escrows: run again. If none runs, unlock this one with '
                      'the key you kept (docker swarm unlock).' % '; '.join(errors))


# A rotation id is a swarm spec label value: kept short and plain.
ROTATION_ID = re.compile(r'^[\w.:-]{1,63}$')


def input_problems(state, rotation_id, prefix='swarm_autolock_'):
    """The state and rotation id asked for, each problem naming the variable (prefix: the playbook's variables, or ''
    for the module's options)."""
    problems = []
    # The playbook turns autolock on or off; the module also has state=unlocked, for every manager.
    states = ('present', 'absent') if prefix else ('present', 'absent', 'unlocked')
    if state not in states:
        problems.append('%sstate must be %s (got %s)' % (prefix, ' or '.join(states), state))
    if rotation_id not in (None, '') and (state != 'present' or not ROTATION_ID.match(str(rotation_id))):
        problems.append('%srotation_id, when set, needs %sstate=present and 1-63 letters, digits, . _ : - (got %s); '
                        '%srotation_id is only for %sstate=present: a key is rotated while autolock is on'
                        % (prefix, prefix, rotation_id, prefix, prefix))
    return problems


def summary(result):
    """The line a play prints about the swarm after the task: autolock, the key's fingerprint, what happened."""
    if 'autolock' not in result:
        return result.get('msg') or ''
    line = 'autolock ' + ('on' if result['autolock'] else 'off')
    if result.get('key_fingerprint'):
        line += ', unlock key ' + result['key_fingerprint']
    if result.get('rotated'):
        line += ' (rotated)'
    if result.get('escrowed'):
        line += ', escrowed now'
    return line
