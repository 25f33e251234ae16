"""Lab: run commands side by side, each in its own process, and report each one.

stdin: JSON {name: {"argv": [...], "may_fail": bool}}. stdout: JSON {name: {"rc", "stdout", "stderr"}}, the
output without its trailing newline (as ansible.builtin.command gives it). Exits 1 when a command that may not
fail did (or ran out of time), after printing every result.
"""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 300


def run(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired as e:
        return {'rc': -1, 'stdout': '', 'stderr': 'timed out after %d s: %s' % (TIMEOUT, e)}
    return {'rc': p.returncode, 'stdout': p.stdout.rstrip('\r\n'), 'stderr': p.stderr.rstrip('\r\n')}


def main():
    spec = json.load(sys.stdin)
    with ThreadPoolExecutor(max_workers=max(len(spec), 1)) as pool:
        futures = {name: pool.submit(run, cmd['argv']) for name, cmd in spec.items()}
        results = {name: f.result() for name, f in futures.items()}
    json.dump(results, sys.stdout)
    return 1 if any(r['rc'] != 0 and not spec[n].get('may_fail') for n, r in results.items()) else 0


if __name__ == '__main__':
    sys.exit(main())
