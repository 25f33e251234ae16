#!/usr/bin/env bash
# `make bench-auto-encrypt`: the running-cluster TLS upshift (keyfleet.encryption.consul_tls_running_cluster) with
# client certificates per agent (the default) against auto_encrypt (consul_tls_client_certs=auto_encrypt), each on a
# fresh plain cluster of 3 servers + BENCH_AE_CLIENTS clients (default 12) of the lab's real Consul (containers
# bench1..N, tests/lab/bench-cluster.sh). While the playbook runs, a watcher on every agent reads the leader and
# the catalog through its local agent over plain HTTP (127.0.0.1:8500, timeout 1 s) every 0.25 s: the cluster
# starts plain, and an auto_encrypt client keeps HTTP (it has no HTTPS port).
# Prints per mode: restarts per agent (systemd's "Started consul.service" since the playbook began), failed watcher
# calls (all, and those outside the sampling agent's own restart window: its Stopping..Started + 2 s), seconds in
# which some agent knew no leader, the wall time of the playbook and of its plays, and the Consul version.
# A mode whose playbook fails prints its log tail and its figures so far; the script then goes on, and exits 1.
# BENCH_AE_MODES="per_agent auto_encrypt" (the default) picks the modes and their order.
# BENCH_AE_KEEP=DIR keeps the raw data (journals, samples, logs) there.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
clients=${BENCH_AE_CLIENTS:-12}
work=$(mktemp -d)
# shellcheck source=tests/lab/bench-cluster.sh
. tests/lab/bench-cluster.sh
trap 'bench_rm; rm -rf "$work"' EXIT
export ANSIBLE_COLLECTIONS_PATH=$work/coll
mkdir -p "$work/coll/ansible_collections/keyfleet"
ln -s "$top" "$work/coll/ansible_collections/keyfleet/encryption"
n=$((3 + clients)) inv=$work/inventory.yml

cat > "$work/watch.py" <<'PY'
import json, time, urllib.error, urllib.request
def get(path):
    try:
        with urllib.request.urlopen('http://127.0.0.1:8500' + path, timeout=1) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # keep the agent's reason (No cluster leader, rpc error ...)
        raise RuntimeError('%s: HTTP %d %s' % (path, e.code, e.read(200).decode(errors='replace').strip()))
    except Exception as e:
        raise RuntimeError('%s: %s' % (path, e))
with open('/var/tmp/ae-watch.jsonl', 'a', buffering=1) as f:
    while True:
        t = time.time()
        s = {'t': t, 'leader': '', 'ok': False}
        try:
            s['leader'] = get('/v1/status/leader')
            get('/v1/catalog/nodes')
            s['ok'] = True
        except Exception as e:
            s['error'] = str(e)[:200]
        s['te'] = time.time()
        f.write(json.dumps(s) + '\n')
        time.sleep(max(0.0, 0.25 - (time.time() - t)))
PY

failed_modes=0
run_mode() {  # MODE [EXTRA ANSIBLE-PLAYBOOK ARGUMENTS]
  local mode=$1 d=$work/$1 i rc=0 start end
  shift
  mkdir -p "$d/raw"
  export KEYFLEET_ESCROW_FILE=$d/escrow.vault
  echo "=== $mode: a fresh plain cluster of 3 servers + $clients clients ($(date -u +%T))" >&2
  bench_cluster "$clients" "$inv"
  podman exec bench1 consul version | head -1 > "$d/raw/version"
  for i in $(seq 1 "$n"); do
    podman cp "$work/watch.py" "bench$i:/usr/local/bin/ae-watch.py"
    podman exec "bench$i" systemd-run --quiet --unit ae-watch /usr/bin/python3 /usr/local/bin/ae-watch.py
  done
  sleep 2
  echo "=== $mode: consul_tls_running_cluster $* ($(date -u +%T))" >&2
  start=$(date +%s.%N)
  ANSIBLE_LOG_PATH=$d/raw/play.log ansible-playbook -i "$inv" keyfleet.encryption.consul_tls_running_cluster "$@" \
    > "$d/raw/play.out" 2>&1 || rc=$?
  end=$(date +%s.%N)
  echo "$start $end $rc" > "$d/raw/run"
  sleep 2
  for i in $(seq 1 "$n"); do
    podman exec "bench$i" systemctl stop ae-watch || true
    podman exec "bench$i" cat /var/tmp/ae-watch.jsonl > "$d/raw/bench$i.watch"
    podman exec "bench$i" journalctl -o short-unix --no-pager -u consul > "$d/raw/bench$i.journal"
    [ "$rc" = 0 ] || podman exec "bench$i" consul members > "$d/raw/bench$i.members" 2>&1 || true
  done
  if [ -n "${BENCH_AE_KEEP:-}" ]; then mkdir -p "$BENCH_AE_KEEP/$mode"; cp "$d"/raw/* "$BENCH_AE_KEEP/$mode/"; fi
  if [ "$rc" != 0 ]; then
    failed_modes=$((failed_modes + 1))
    echo "### $mode: the playbook FAILED (rc $rc); its output's last 60 lines:"
    tail -n 60 "$d/raw/play.out"
    echo
    echo "members not alive, as each agent sees them at the end (consul members):"
    for i in $(seq 1 "$n"); do grep -v " alive " "$d/raw/bench$i.members" | grep -v "^Node" | sed "s/^/  bench$i sees: /" || true; done
    echo
  fi
  python3 - "$d/raw" "$n" "$start" "$end" "$mode" "$rc" "$*" <<'PY' || echo "the figures of $mode could not be computed (raw data: BENCH_AE_KEEP)"
import datetime, json, re, sys
raw, n, start, end, mode, rc, args = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), *sys.argv[5:]
hosts = ['bench%d' % i for i in range(1, n + 1)]
servers, clients = hosts[:3], hosts[3:]
starts, windows, leadership = {}, {}, []
for h in hosts:
    stopping, starts[h], windows[h] = None, 0, []
    for line in open('%s/%s.journal' % (raw, h)):
        f = line.split(None, 2)
        if len(f) < 3 or not re.match(r'^\d+\.\d+$', f[0]):
            continue
        t, msg = float(f[0]), f[2]
        if 'cluster leadership acquired' in msg:
            leadership.append((t, h))
        if t < start:
            continue
        if re.match(r'systemd\[\d+\]: Stopping consul', msg):
            stopping = t
        elif re.match(r'systemd\[\d+\]: Started consul', msg):
            starts[h] += 1
            windows[h].append((stopping if stopping is not None else t, t + 2.0))
            stopping = None
    if stopping is not None:  # stopped and not started again before the journal was read
        windows[h].append((stopping, end + 2.0))
leadership.sort()
def leader_at(t):
    before = [h for lt, h in leadership if lt <= t]
    return before[-1] if before else None
samples = {}
for h in hosts:
    for line in open('%s/%s.watch' % (raw, h)):
        s = json.loads(line)
        if start <= s['t'] <= end:
            samples.setdefault(h, []).append(s)
def overlaps(s, w):
    return w[0] <= s.get('te', s['t']) and s['t'] <= w[1]
def in_own_window(h, s):
    return any(overlaps(s, w) for w in windows[h])
def no_leader(s):
    return (s['ok'] and not s['leader']) or 'No cluster leader' in s.get('error', '')
def where(h, s):
    if in_own_window(h, s):
        return 'own agent restarting'
    hits = [(o, w) for o in hosts if o != h for w in windows[o] if overlaps(s, w)]
    for o, w in hits:
        if o in servers and leader_at(w[0]) == o:
            return 'the leader restarting'
    if any(o in servers for o, w in hits):
        return 'another server restarting'
    return 'another client restarting' if hits else 'no restart'
def kind(e):
    e = re.sub(r'\d+\.\d+\.\d+\.\d+:\d+', 'ADDR', e or '')
    return e[:90]
calls = sum(len(ss) for ss in samples.values())
failed = [(h, s) for h, ss in samples.items() for s in ss if not s['ok']]
outside = [(h, s) for h, s in failed if not in_own_window(h, s)]
noleader_seconds = {int(s['t']) for ss in samples.values() for s in ss if no_leader(s)}
noleader_sum = 0.0
for ss in samples.values():
    for a, b in zip(ss, ss[1:]):
        if no_leader(a):
            noleader_sum += b['t'] - a['t']
# Plays from the log: PLAY [name] lines; the run is split by stage (each stage: check, clients, servers, leader).
marks = []
for line in open(raw + '/play.log'):
    m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) .*?\| PLAY \[(.*?)\] \*', line)
    if m:
        t = datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S,%f').timestamp()
        marks.append((t, m.group(2)))
plays = [(name, t, (marks[i + 1][0] if i + 1 < len(marks) else end)) for i, (t, name) in enumerate(marks)]
def part(name):
    m = re.search(r'stage (\d)', name)
    if m:
        return 'stage ' + m.group(1)
    for key, label in (('preflight', 'preflight'), ('validate', 'preflight'), ('TLS files', 'TLS files'),
                       ('summary', 'summary'), ('ansible-core', 'ansible-core check')):
        if key in name:
            return label
    return name
def restarts(group):
    counts = [starts[h] for h in group]
    return ', '.join('%d x%d' % (c, counts.count(c)) for c in sorted(set(counts)))
print('### consul_tls_running_cluster, %s, 3 servers + %d clients (%s UTC, %s)%s'
      % (mode, len(clients), datetime.datetime.utcfromtimestamp(start).strftime('%Y-%m-%d %H:%M'),
         open(raw + '/version').read().strip(), '' if rc == '0' else ', THE PLAYBOOK FAILED (rc %s)' % rc))
print()
print('| figure | value |')
print('|---|---|')
print('| extra arguments | %s |' % (args or '-'))
print('| restarts per agent, servers (restarts x agents) | %s |' % restarts(servers))
print('| restarts per agent, clients (restarts x agents) | %s |' % restarts(clients))
print('| restarts, all agents | %d |' % sum(starts.values()))
print('| watcher calls (every 0.25 s, HTTP 127.0.0.1:8500, timeout 1 s, all agents) | %d |' % calls)
print('| failed watcher calls | %d (servers %d, clients %d) |'
      % (len(failed), sum(h in servers for h, s in failed), sum(h in clients for h, s in failed)))
print('| failed watcher calls outside the own agent\'s restart window (Stopping..Started + 2 s) | %d |' % len(outside))
print('| seconds in which some agent knew no leader (distinct wall-clock seconds) | %d |' % len(noleader_seconds))
print('| seconds an agent knew no leader (summed over agents) | %.1f |' % noleader_sum)
groups = {}
for name, a, b in plays:
    p = part(name)
    groups.setdefault(p, [a, b])[1] = b
for p, (a, b) in groups.items():
    print('| wall time, %s | %.1f s |' % (p, b - a))
for name, a, b in plays:
    if 'stage' in name and ('clients' in name or 'servers' in name or 'leader' in name):
        print('| wall time, play "%s" | %.1f s |' % (name.replace('|', '/'), b - a))
print('| wall time, whole playbook | %.1f s |' % (end - start))
if failed:
    print()
    print('failed watcher calls by the restart window they fall in (Stopping..Started + 2 s; the leader from the'
          ' servers\' journals), and what the local agent answered:')
    by = {}
    for h, s in failed:
        by.setdefault(where(h, s), []).append((h, s))
    for w in ('own agent restarting', 'the leader restarting', 'another server restarting', 'another client restarting',
              'no restart'):
        if w in by:
            kinds = {}
            for h, s in by[w]:
                kinds[kind(s.get('error'))] = kinds.get(kind(s.get('error')), 0) + 1
            print('- %s: %d (servers %d, clients %d): %s' % (w, len(by[w]), sum(h in servers for h, s in by[w]),
                  sum(h in clients for h, s in by[w]), '; '.join('%s x%d' % kv for kv in sorted(kinds.items(), key=lambda kv: -kv[1]))))
    print()
    print('each server restart (from its Stopping line, UTC), and the failed calls of the other agents in its window:')
    for w, o in sorted((w, o) for o in servers for w in windows[o]):
        n_other = sum(1 for h, s in failed if h != o and not in_own_window(h, s) and overlaps(s, w))
        print('- %s %s%s, down %.1f s: %d' % (datetime.datetime.utcfromtimestamp(w[0]).strftime('%H:%M:%S'), o,
              ' (leader)' if leader_at(w[0]) == o else '', w[1] - 2.0 - w[0], n_other))
print()
PY
}

for mode in ${BENCH_AE_MODES:-per_agent auto_encrypt}; do
  case $mode in
    per_agent) run_mode per_agent ;;
    auto_encrypt) run_mode auto_encrypt -e consul_tls_client_certs=auto_encrypt ;;
    *) echo "unknown mode $mode (per_agent, auto_encrypt)" >&2; exit 2 ;;
  esac
done
[ "$failed_modes" = 0 ]
