#!/usr/bin/env bash
# `make bench-client-rpc` (docs/consul-benchmark.md): do clients notice server restarts during the upshift?
# A fresh cluster of 3 servers + BENCH_RPC_CLIENTS clients (default 4, containers bench1..N as make bench-fleet);
# while consul_encrypt_running_cluster runs with the standard containers.podman.podman connection, every client
# samples its local agent in two ways at once:
#   cli:     `consul catalog nodes` then `consul kv put` (the consul CLI), again 0.2 s after each pair;
#   watcher: the molecule scenarios' watcher itself (tests/lab/playbooks/files/keyfleet-watch.py: urllib,
#            /v1/agent/members, /v1/status/leader, /v1/catalog/nodes, 0.4 s timeout, every 0.5 s); a sample
#            fails as labcheck.rpc_failure_samples has it (no answer, no leader, or a failed catalog read).
# The client agents' own journals count, for both ways together, every HTTP request the agent failed
# (`agent.http: Request error`) and every RPC it saw fail (`agent.client: RPC failed to server`).
# Each failure goes in the window of the restart it falls in (from the agents' journals: systemd's Stopping
# and Started lines, 0.5 s before to 2 s after): its own agent's, the leader's (the server that last logged
# `cluster leadership acquired` before the restart began), another server's, another client's.
# BENCH_RPC_KEEP=DIR keeps the raw data (journals, calls, samples) there.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
clients=${BENCH_RPC_CLIENTS:-4}
work=$(mktemp -d)
# shellcheck source=tests/lab/bench-cluster.sh
. tests/lab/bench-cluster.sh
trap 'bench_rm; rm -rf "$work"' EXIT
export KEYFLEET_ESCROW_FILE=$work/escrow.vault ANSIBLE_COLLECTIONS_PATH=$work/coll
mkdir -p "$work/coll/ansible_collections/keyfleet" "$work/raw"
ln -s "$top" "$work/coll/ansible_collections/keyfleet/encryption"
n=$((3 + clients)) inv=$work/inventory.yml
bench_cluster "$clients" "$inv"

for i in $(seq 4 $n); do
  podman cp tests/lab/playbooks/files/keyfleet-watch.py "bench$i:/usr/local/bin/keyfleet-watch"
  podman exec "bench$i" systemd-run --quiet --unit keyfleet-watch /usr/bin/python3 /usr/local/bin/keyfleet-watch /tmp/watch.jsonl
  # each line: start and end of the call, read/write, ok or the CLI's error
  podman exec -d "bench$i" bash -c 'while true; do
      s=$(date +%s.%N); consul catalog nodes >/dev/null 2>/tmp/e && r=ok || r=$(head -c 200 /tmp/e | tr "\n" " ")
      echo "$s $(date +%s.%N) read $r" >> /tmp/calls
      s=$(date +%s.%N); consul kv put "watch/$(hostname)" x >/dev/null 2>/tmp/e && r=ok || r=$(head -c 200 /tmp/e | tr "\n" " ")
      echo "$s $(date +%s.%N) write $r" >> /tmp/calls
      sleep 0.2; done' >/dev/null
done
start=$(date +%s)
ansible-playbook -i "$inv" keyfleet.encryption.consul_encrypt_running_cluster > "$work/upshift.log" || {
  tail -40 "$work/upshift.log"; echo "the upshift failed" >&2; exit 1; }
echo "upshift of 3 servers + $clients clients: $(( $(date +%s) - start )) s"
sleep 2
for i in $(seq 4 $n); do
  podman exec "bench$i" pkill -f /tmp/calls || true
  podman exec "bench$i" systemctl stop keyfleet-watch || true
  podman exec "bench$i" cat /tmp/calls > "$work/raw/bench$i.calls"
  podman exec "bench$i" cat /tmp/watch.jsonl > "$work/raw/bench$i.watch"
done
for i in $(seq 1 $n); do
  podman exec "bench$i" journalctl -o short-unix --no-pager -u consul > "$work/raw/bench$i.journal"
done
cp "$work/upshift.log" "$work/raw/"
if [ -n "${BENCH_RPC_KEEP:-}" ]; then mkdir -p "$BENCH_RPC_KEEP"; cp "$work"/raw/* "$BENCH_RPC_KEEP"/; fi

python3 - "$work/raw" "$n" <<'EOF'
import json, re, sys
raw, n = sys.argv[1], int(sys.argv[2])
hosts = ['bench%d' % i for i in range(1, n + 1)]
servers, clients = hosts[:3], hosts[3:]
restarts, leadership, agent_errors = [], [], []
for h in hosts:
    stopping = None
    for line in open('%s/%s.journal' % (raw, h)):
        f = line.split(None, 2)
        if len(f) < 3 or not re.match(r'^\d+\.\d+$', f[0]):
            continue
        t, msg = float(f[0]), f[2]
        if 'systemd' in msg and 'Stopping consul' in msg:
            stopping = t
        elif 'systemd' in msg and 'Started consul' in msg and stopping:
            restarts.append((h, 'server' if h in servers else 'client', stopping, t))
            stopping = None
        elif 'cluster leadership acquired' in msg:
            leadership.append((t, h))
        elif h in clients and 'agent.http: Request error' in msg:
            m = re.search(r'url=(\S+).*error="?([^"]*)', msg)
            agent_errors.append((h, t, t, 'http', m.group(1).split('?')[0] if m else '?', m.group(2) if m else msg.strip()))
        elif h in clients and 'RPC failed to server' in msg:
            m = re.search(r'method=(\S+) server=(\S+) error="?([^"]*)', msg)
            agent_errors.append((h, t, t, 'rpc', m.group(1) if m else '?', '%s: %s' % (m.group(2), m.group(3)) if m else msg.strip()))
leadership.sort()

def leader_at(t):
    before = [h for lt, h in leadership if lt <= t]
    return before[-1] if before else None

leader_restarts = [r for r in restarts if r[1] == 'server' and leader_at(r[2]) == r[0]]
first = min(r[2] for r in restarts)

def window(host, a, b):
    """The restart window a call that ran from a to b falls in, the most telling first."""
    hits = [r for r in restarts if r[2] - 0.5 <= b and a <= r[3] + 2.0]
    if any(r[0] == host for r in hits):
        return 'own agent restarting', None
    for r in hits:
        if r in leader_restarts:
            return 'leader restart', r
    for r in hits:
        if r[1] == 'server':
            return 'other server restart', r
    return ('another client restarting' if hits else 'no restart'), None

ways = {'cli read': [], 'cli write': [], 'watcher': []}
for h in clients:
    for line in open('%s/%s.calls' % (raw, h)):
        f = line.rstrip('\n').split(' ', 3)
        if len(f) == 4 and float(f[0]) >= first - 1:
            ways['cli ' + f[2]].append((h, float(f[0]), float(f[1]), f[3] == 'ok', f[3]))
    for line in open('%s/%s.watch' % (raw, h)):
        s = json.loads(line)
        if s['t'] >= first - 1:
            good = bool(s['ok'] and s['leader'] and s['catalog'])
            ways['watcher'].append((h, s['t'], s.get('te', s['t']), good, s.get('error') or ('no leader' if not s['leader'] else '')))
ways['agent: failed HTTP requests'] = [(h, a, b, False, '%s %s' % (u, e)) for h, a, b, k, u, e in agent_errors if k == 'http']
ways['agent: failed RPCs'] = [(h, a, b, False, '%s %s' % (u, e)) for h, a, b, k, u, e in agent_errors if k == 'rpc']

order = ('no restart', 'another client restarting', 'other server restart', 'leader restart', 'own agent restarting')
print('%d server restarts, %d of them of the leader (from its journal); %d client restarts'
      % (sum(r[1] == 'server' for r in restarts), len(leader_restarts), sum(r[1] == 'client' for r in restarts)))
print('calls (failed) by way and window; the agent rows count failures only, whichever sampler made the call\n')
print('| window | ' + ' | '.join(ways) + ' |\n|---|' + '---|' * len(ways))
per_restart = {}
for window_name in order:
    cells = []
    for way, calls in ways.items():
        total = failed = 0
        for h, a, b, good, text in calls:
            w, r = window(h, a, b)
            if w != window_name:
                continue
            total += 1
            if not good:
                failed += 1
                if r is not None:
                    per_restart.setdefault(r, []).append((h, way, a, text))
        cells.append('%d' % failed if way.startswith('agent') else '%d (%d)' % (total, failed))
    print('| %s | %s |' % (window_name, ' | '.join(cells)))
def cause(text):
    for key, name in (('No cluster leader', 'no cluster leader'), ('connection refused', 'connection refused'),
                      ('stream closed', 'stream closed'), ('EOF', 'EOF'), ('timed out', 'timed out (0.4 s)'),
                      ('HTTP Error 500', 'HTTP 500'), ('no leader', 'no leader known')):
        if key in text:
            return name
    return 'other'

print('\nfailures in server restart windows by cause (the watcher keeps only the HTTP status of a 500; the'
      ' agent rows give its message; agent RPC failures include those the agent retried and then answered):')
for kind in ('other server restart', 'leader restart'):
    print('- %s:' % kind)
    for way in ways:
        causes = {}
        for r, failures in per_restart.items():
            if (r in leader_restarts) == (kind == 'leader restart'):
                for h, w, a, text in failures:
                    if w == way:
                        causes[cause(text)] = causes.get(cause(text), 0) + 1
        print('    %s: %s' % (way, ', '.join('%s %d' % kv for kv in sorted(causes.items())) or 'none'))
print('\neach server restart (time from its Stopping line); the failed calls the samplers saw:')
for r in sorted((r for r in restarts if r[1] == 'server'), key=lambda r: r[2]):
    failures = per_restart.get(r, [])
    retried = sum(1 for f in failures if f[1] == 'agent: failed RPCs') - sum(1 for f in failures if f[1] == 'agent: failed HTTP requests')
    print('- %s (%s), down %.1f s: %d failed HTTP requests, %d more failed RPCs the agents retried'
          % (r[0], 'leader' if r in leader_restarts else 'not the leader', r[3] - r[2],
             sum(1 for f in failures if f[1] == 'agent: failed HTTP requests'), max(retried, 0)))
    for h, way, a, text in sorted(failures, key=lambda x: x[2]):
        if not way.startswith('agent'):
            print('    %+.2f s %s %s: %s' % (a - r[2], h, way, text[:150]))
EOF
