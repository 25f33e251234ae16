#!/usr/bin/env python
"""Samples the command line of every process every 20 ms and appends each new one to a log, so a
test can assert that no secret ever appeared in argv (visible to every user in the process list)."""
import os
import time

seen = set()
with open('/var/log/keyfleet-argv.log', 'a') as log:
    while True:
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    line = f.read().replace(b'\0', b' ').strip()
            except OSError:
                continue
            if line and line not in seen:
                seen.add(line)
                log.write(line.decode('utf-8', 'replace') + '\n')
                log.flush()
        time.sleep(0.02)
