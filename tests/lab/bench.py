"""Benchmark of a running-cluster migration on the lab's real Consul cluster.

  bench.py INVENTORY LOG PLAYBOOK [JSON]   run PLAYBOOK, print its Markdown tables, keep the figures in JSON
  bench.py table JSON...                   one comparison table of the runs

Reads the timestamps of the Ansible log (ANSIBLE_LOG_PATH) and the summary lines of the playbook: wall time per
step, restarts per node, seconds from each restart to the health gate passing, and each stage call's own time on
its host (waits, consul validate, systemctl restart, gate). Ansible time per agent and stage is the stage's wall
time less the time on the hosts along the restart order (each batch counts with its slowest host), divided by
the agents: what the controller and the connection cost, with Consul's and systemd's own time taken out.
Older summaries without the host time fall back to taking out the gate waits only.
"""
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime


def run(inventory, log, playbook, out=None):
    task = ''
    env = dict(os.environ, ANSIBLE_LOG_PATH=log)
    start = time.time()
    subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory,
                    playbook], env=env, check=True, stdout=subprocess.DEVNULL)
    total = time.time() - start
    stamps, summary, batches = [], [], []
    with open(log) as f:
        for line in f:
            msg = re.search(r'"msg": "(\S+: .*?found stage.*)"', line)
            if msg:  # continuation lines of a result carry no timestamp
                summary.append(msg.group(1).replace('\\n', ' '))
                continue
            m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) .*?\| (PLAY \[.*?\])', line)
            if m:
                stamps.append((datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S,%f').timestamp(), m.group(2)))
                # each serial batch of a stage play is a PLAY line of its own: note its hosts
                s = re.search(r'(clients|servers|leader).*stage (\d)', m.group(2))
                batches.append({'stage': int(s.group(2)), 'hosts': []} if s else None)
                continue
            r = re.search(r'\| (?:changed|ok): \[(\S+)\]', line)
            if r and batches and batches[-1] is not None and 'Bring the agent' in task:
                batches[-1]['hosts'].append(r.group(1))
            t = re.search(r'\| TASK \[(.*?)\]', line)
            if t:
                task = t.group(1)
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
    steps = dict((name, nxt[1] - t) for (name, t), nxt in zip(order, order[1:] + [('end', start + total)]))
    nodes = {}
    for line in summary:
        m = re.match(r'(\S+): .*?(\d+) restart\(s\), health gate passed after (.*?) s(?:, stage calls took (.*) s on the host)?', line)
        if m:
            numbers = [[float(g) for g in (group or '').split(', ') if g.strip() not in ('-', '')] for group in m.group(3, 4)]
            nodes[m.group(1)] = {'restarts': int(m.group(2)), 'gates': numbers[0], 'host': numbers[1]}
    # time on the hosts along the restart order, per stage: each batch counts with its slowest host
    on_hosts = {}
    for b in (b for b in batches if b and b['hosts']):
        seconds = [nodes[h]['host'][b['stage'] - 1] for h in b['hosts'] if len(nodes.get(h, {}).get('host', [])) >= b['stage']]
        on_hosts[b['stage']] = on_hosts.get(b['stage'], 0.0) + max(seconds or [0.0])
    print('| step | wall time (s) |\n|---|---|')
    for name, _t in order:
        print('| %s | %.1f |' % (name, steps[name]))
    print('| whole playbook | %.1f |\n' % total)
    print('| node | restarts | gate passed after (s), per stage | stage call on the host (s), per stage |\n|---|---|---|---|')
    for name, n in sorted(nodes.items()):
        print('| %s | %s | %s | %s |' % (name, n['restarts'], ', '.join('%.3f' % g for g in n['gates']),
                                         ', '.join('%.3f' % g for g in n['host'])))
    result = {'total': total, 'steps': steps, 'nodes': nodes, 'on_hosts': on_hosts}
    if out:
        with open(out, 'w') as f:
            json.dump(result, f)
    return result


def table(*files):
    print('| run | agents | whole playbook (s) | stages 1, 2, 3 (s) | restarts per agent | gate, mean (s) '
          '| on the hosts along the restart order, stages 1, 2, 3 (s) | Ansible per agent and stage (s) |\n'
          '|---|---|---|---|---|---|---|---|')
    for path in files:
        with open(path) as f:
            r = json.load(f)
        agents = len(r['nodes'])
        stages = [r['steps'].get('stage %d' % s, 0.0) for s in (1, 2, 3)]
        gates = [n['gates'] for n in r['nodes'].values()]
        on_hosts = r.get('on_hosts') or {}
        if on_hosts:
            taken = [on_hosts.get(str(s), 0.0) for s in (1, 2, 3)]
        else:  # a summary without the host time: take out the gate waits only
            taken = [sum(g[i] for g in gates if len(g) > i) for i in range(3)]
        overhead = [(w - t) / agents for w, t in zip(stages, taken)]
        allgates = [x for g in gates for x in g]
        print('| %s | %d | %.1f | %s | %s | %.2f | %s | %s |' % (
            os.path.basename(path)[:-5], agents, r['total'], ', '.join('%.1f' % s for s in stages),
            '/'.join(sorted(set(str(n['restarts']) for n in r['nodes'].values()))),
            sum(allgates) / max(len(allgates), 1),
            ', '.join('%.1f' % t for t in taken) if on_hosts else '-', ', '.join('%.1f' % o for o in overhead)))


if __name__ == '__main__':
    if sys.argv[1] == 'table':
        table(*sys.argv[2:])
    else:
        run(*sys.argv[1:])
