"""Benchmark of a running-cluster migration on the lab's real Consul cluster.

Run by `make bench` (the lab scenario consul_gossip_running must be created and prepared:
tests/lab/bench.sh does that, once per playbook). Reads the timestamps of the Ansible log and the summary
lines of the playbook and prints a Markdown table: wall time per stage, restarts per
node, seconds from each restart to the health gate passing.
"""
import os
import re
import subprocess
import sys
import time
from datetime import datetime


def main(inventory, log, playbook='keyfleet.encryption.consul_gossip_running_cluster'):
    env = dict(os.environ, ANSIBLE_LOG_PATH=log)
    start = time.time()
    subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory,
                    playbook], env=env, check=True, stdout=subprocess.DEVNULL)
    total = time.time() - start
    stamps, summary = [], []
    with open(log) as f:
        for line in f:
            msg = re.search(r'"msg": "(node\d: .*?found stage.*)"', line)
            if msg:  # continuation lines of a result carry no timestamp
                summary.append(msg.group(1).replace('\\n', ' '))
                continue
            m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) .*?\| (PLAY \[.*?\])', line)
            if m:
                stamps.append((datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S,%f').timestamp(), m.group(2)))
    stage_start = {}
    for t, name in stamps:
        s = re.search(r'stage (\d)', name)
        if s:
            key = 'stage %s' % s.group(1)
        elif 'summary' in name:
            key = 'summary'
        elif 'TLS files' in name:
            key = 'TLS files, every agent at once'
        else:
            key = 'preflight'
        stage_start.setdefault(key, t)
    order = sorted(stage_start.items(), key=lambda kv: kv[1])
    print('| step | wall time (s) |\n|---|---|')
    for (name, t), nxt in zip(order, order[1:] + [('end', start + total)]):
        print('| %s | %.1f |' % (name, nxt[1] - t))
    print('| whole playbook | %.1f |\n' % total)
    print('| node | restarts | gate passed after (s), per stage |\n|---|---|---|')
    for line in summary:
        m = re.match(r'(node\d): .*?(\d+) restart\(s\), health gate passed after (.*) s', line)
        if m:
            print('| %s | %s | %s |' % m.groups())


if __name__ == '__main__':
    main(*sys.argv[1:])
