# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small Redis client (the RESP protocol, enough for AUTH, CONFIG SET, CONFIG REWRITE and PING) and the
redis.conf tokenizer, so a password goes over the socket and never on a command line.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations


class RedisError(Exception):
    pass


class RedisReplyError(RedisError):
    """Redis answered with an error (-ERR, -WRONGPASS, -NOAUTH ...)."""


class Redis(object):
    """A minimal RESP client, so a password goes over the socket and never into argv
    (redis-cli -a would show it in the process list)."""

    def __init__(self, host='127.0.0.1', port=31415, timeout=5.0):
        import socket
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except (OSError, IOError) as e:
            raise RedisError('Redis at %s:%s is not reachable: %s' % (host, port, e))
        self.reader = self.sock.makefile('rb')

    def close(self):
        try:
            self.reader.close()
            self.sock.close()
        except (OSError, IOError):
            pass

    def command(self, *args):
        parts = [a if isinstance(a, bytes) else str(a).encode('utf-8') for a in args]
        msg = b'*%d\r\n' % len(parts) + b''.join(b'$%d\r\n%s\r\n' % (len(p), p) for p in parts)
        self.sock.sendall(msg)
        return self._reply()

    def _reply(self):
        line = self.reader.readline()
        if not line.endswith(b'\r\n'):
            raise RedisError('Redis closed the connection')
        kind, rest = line[:1], line[1:-2]
        if kind == b'+':
            return rest.decode('utf-8', 'replace')
        if kind == b'-':
            raise RedisReplyError(rest.decode('utf-8', 'replace'))
        if kind == b':':
            return int(rest)
        if kind == b'$':
            n = int(rest)
            if n < 0:
                return None
            data = self.reader.read(n + 2)
            return data[:-2]
        if kind == b'*':
            n = int(rest)
            return None if n < 0 else [self._reply() for dummy in range(n)]
        raise RedisError('Redis sent a reply this client does not know: %r' % line[:40])


def redis_config_args(line):
    """Split one redis.conf line as Redis does (sdssplitargs): "double quotes" with \\n, \\xHH ...
    escapes, 'single quotes' with \\' only, and bare words. Returns a list of bytes."""
    escapes = {'n': b'\n', 'r': b'\r', 't': b'\t', 'b': b'\b', 'a': b'\a'}
    args, i, n = [], 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return args
        cur, quote = bytearray(), None
        while i < n:
            c = line[i]
            if quote == '"':
                if c == '\\' and i + 3 < n and line[i + 1] == 'x' and all(
                        h in '0123456789abcdefABCDEF' for h in line[i + 2:i + 4]):
                    cur += bytes([int(line[i + 2:i + 4], 16)])
                    i += 3
                elif c == '\\' and i + 1 < n:
                    i += 1
                    cur += escapes.get(line[i], line[i].encode('utf-8'))
                elif c == '"':
                    if i + 1 < n and not line[i + 1].isspace():
                        raise RedisError('unbalanced quotes in Redis configuration line')
                    quote = 'done'
                else:
                    cur += c.encode('utf-8')
            elif quote == "'":
                if c == '\\' and i + 1 < n and line[i + 1] == "'":
                    i += 1
                    cur += b"'"
                elif c == "'":
                    if i + 1 < n and not line[i + 1].isspace():
                        raise RedisError('unbalanced quotes in Redis configuration line')
                    quote = 'done'
                else:
                    cur += c.encode('utf-8')
            elif c.isspace():
                break
            elif c in '"\'' and not cur:
                quote = c
            else:
                cur += c.encode('utf-8')
            i += 1
            if quote == 'done':
                break
        if quote in ('"', "'"):
            raise RedisError('unbalanced quotes in Redis configuration line')
        args.append(bytes(cur))


def persisted_requirepass(conf_text):
    """The requirepass a Redis configuration file sets (the last one wins), as bytes, or None."""
    value = None
    for line in conf_text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        args = redis_config_args(stripped)
        if args and args[0].lower() == b'requirepass':
            value = args[1] if len(args) > 1 else b''
    return value
