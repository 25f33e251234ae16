#!/usr/bin/env bash
# `make bench-ca-rotate` (docs/consul-benchmark.md): a CA rotation (keyfleet.encryption.consul_tls_ca_rotate) on a
# fresh cluster of 3 servers + BENCH_CA_CLIENTS clients (default 2) of real Consul 1.8.7 that the running-cluster
# playbook first moved to full TLS. A watcher on every agent reads the leader and the catalog through its local agent
# over HTTPS every 0.25 s, with the CA file and the agent's certificate as they are at that moment (read again for
# each call). Prints: restarts per agent, failed watcher calls, seconds in which an agent knew no leader, and the
# wall time of each step. Containers and cluster: tests/lab/bench-cluster.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
clients=${BENCH_CA_CLIENTS:-2}
work=$(mktemp -d)
# shellcheck source=tests/lab/bench-cluster.sh
. tests/lab/bench-cluster.sh
trap 'bench_rm; rm -rf "$work"' EXIT
export KEYFLEET_ESCROW_FILE=$work/escrow.vault ANSIBLE_COLLECTIONS_PATH=$work/coll
mkdir -p "$work/coll/ansible_collections/keyfleet"
ln -s "$top" "$work/coll/ansible_collections/keyfleet/encryption"
n=$((3 + clients)) inv=$work/inventory.yml
bench_cluster "$clients" "$inv"
ansible-playbook -i "$inv" keyfleet.encryption.consul_tls_running_cluster > "$work/upshift.log" \
  || { tail -n 60 "$work/upshift.log"; exit 1; }

cat > "$work/watch.py" <<'PY'
import json, ssl, sys, time, urllib.request
D = '/etc/consul.d/tls/'
def get(path):
    ctx = ssl.create_default_context(cafile=D + 'consul-agent-ca.pem')  # the CA file as it is now
    ctx.load_cert_chain(D + 'consul-agent.pem', D + 'consul-agent-key.pem')
    with urllib.request.urlopen('https://127.0.0.1:8501' + path, context=ctx, timeout=1) as r:
        return json.load(r)
with open('/var/tmp/ca-watch.jsonl', 'a', buffering=1) as f:
    while True:
        t = time.time()
        s = {'t': t, 'leader': '', 'ok': False}
        try:
            s['leader'] = get('/v1/status/leader')
            get('/v1/catalog/nodes')
            s['ok'] = True
        except Exception as e:
            s['error'] = str(e)[:200]
        f.write(json.dumps(s) + '\n')
        time.sleep(max(0.0, 0.25 - (time.time() - t)))
PY
for i in $(seq 1 $n); do
  podman cp "$work/watch.py" "bench$i:/usr/local/bin/ca-watch.py"
  podman exec "bench$i" sh -c 'journalctl -u consul -o cat | grep -c "^Started" > /var/tmp/starts-before'
  podman exec "bench$i" systemd-run --unit ca-watch /usr/bin/python3 /usr/local/bin/ca-watch.py >/dev/null
done
sleep 2
start=$(date +%s.%N)
ANSIBLE_LOG_PATH=$work/rotate.log ansible-playbook -i "$inv" keyfleet.encryption.consul_tls_ca_rotate \
  -e consul_tls_ca_rotation_id=bench > "$work/rotate.out" || { tail -n 60 "$work/rotate.out"; exit 1; }
end=$(date +%s.%N)
sleep 2
for i in $(seq 1 $n); do
  podman exec "bench$i" systemctl stop ca-watch
  podman exec "bench$i" sh -c 'echo "$(cat /var/tmp/starts-before) $(journalctl -u consul -o cat | grep -c "^Started")"' \
    | sed "s/^/bench$i /" >> "$work/starts"
  podman exec "bench$i" cat /var/tmp/ca-watch.jsonl | sed "s/^/bench$i /" >> "$work/samples"
done
python3 - "$work" "$start" "$end" "$n" <<'PY'
import json, re, sys, datetime
work, start, end, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
starts = dict((l.split()[0], int(l.split()[2]) - int(l.split()[1])) for l in open(work + '/starts'))
samples = {}
for line in open(work + '/samples'):
    host, js = line.split(' ', 1)
    s = json.loads(js)
    if start <= s['t'] <= end:
        samples.setdefault(host, []).append(s)
failed = sum(1 for ss in samples.values() for s in ss if not s['ok'])
# Seconds without a leader: per agent, the time between a sample that knew none and the next sample.
noleader = 0.0
for ss in samples.values():
    for a, b in zip(ss, ss[1:]):
        if a['ok'] and not a['leader']:
            noleader += b['t'] - a['t']
steps, marks = {}, []
for line in open(work + '/rotate.log'):
    m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) .*TASK \[(.*?)\]', line)
    if m:
        t = datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S,%f').replace(tzinfo=datetime.timezone.utc).timestamp()
        marks.append((t, m.group(2)))
def first(word):
    return next((t for t, name in marks if word in name), None)
bounds = [('read every agent and plan', first('Stop on an ansible-core'), first('Step trust_both')),
          ('trust_both (A+B, reload, gates)', first('Step trust_both'), first('Step certificates')),
          ('certificates (B, reload, gates)', first('Step certificates'), first('Step trust_new')),
          ('trust_new (B alone, reload, gates)', first('Step trust_new'), first("Make the new CA the escrow")),
          ('escrow promotion', first("Make the new CA the escrow"), end)]
print('### CA rotation, 3 servers + %d clients (%s, real Consul 1.8.7)' % (n - 3, datetime.date.today()))
print()
print('| figure | value |')
print('|---|---|')
print('| restarts per agent | %s |' % ', '.join('%s %d' % (h, c) for h, c in sorted(starts.items())))
print('| watcher calls (every 0.25 s, HTTPS, all agents) | %d |' % sum(len(ss) for ss in samples.values()))
print('| failed watcher calls | %d |' % failed)
print('| seconds an agent knew no leader (summed over agents) | %.1f |' % noleader)
for name, a, b in bounds:
    print('| wall time, %s | %s |' % (name, '%.1f s' % (b - a) if a and b else '-'))
print('| wall time, whole run | %.1f s |' % (end - start))
if failed:
    print()
    for h, ss in sorted(samples.items()):
        for s in ss:
            if not s['ok']:
                print('- %s %.2f %s' % (h, s['t'], s.get('error')))
PY
