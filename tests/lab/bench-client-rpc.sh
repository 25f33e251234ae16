#!/usr/bin/env bash
# `make bench-client-rpc` (docs/consul-benchmark.md): do clients notice server restarts during the upshift?
# A fresh cluster of 3 servers + BENCH_RPC_CLIENTS clients (default 4, containers bench1..N as make bench-fleet);
# every client reads the catalog and writes a KV key through its local agent every 0.2 s while
# consul_encrypt_running_cluster runs with the standard containers.podman.podman connection. Each failed call is
# put in the window of the restart it falls in (its own agent's, the leader's, another server's) from the
# agents' journals.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
clients=${BENCH_RPC_CLIENTS:-4}
work=$(mktemp -d)
# shellcheck source=tests/lab/bench-cluster.sh
. tests/lab/bench-cluster.sh
trap 'bench_rm; rm -rf "$work"' EXIT
export KEYFLEET_ESCROW_FILE=$work/escrow.vault ANSIBLE_COLLECTIONS_PATH=$work/coll
mkdir -p "$work/coll/ansible_collections/keyfleet"
ln -s "$top" "$work/coll/ansible_collections/keyfleet/encryption"
n=$((3 + clients)) inv=$work/inventory.yml
bench_cluster "$clients" "$inv"

for i in $(seq 4 $n); do
  podman exec -d "bench$i" bash -c 'while true; do
      consul catalog nodes >/dev/null 2>/tmp/e && echo "$(date +%s.%N) read ok" >> /tmp/calls || echo "$(date +%s.%N) read $(head -c 200 /tmp/e)" >> /tmp/calls
      consul kv put "watch/$(hostname)" x >/dev/null 2>/tmp/e && echo "$(date +%s.%N) write ok" >> /tmp/calls || echo "$(date +%s.%N) write $(head -c 200 /tmp/e)" >> /tmp/calls
      sleep 0.2; done' >/dev/null
done
start=$(date +%s)
ansible-playbook -i "$inv" keyfleet.encryption.consul_encrypt_running_cluster > "$work/upshift.log"
echo "upshift of 3 servers + $clients clients: $(( $(date +%s) - start )) s"
sleep 2
for i in $(seq 1 $n); do
  kind=client; [ "$i" -le 3 ] && kind=server
  podman exec "bench$i" journalctl -u consul -o short-unix --no-pager \
    | awk -v h="bench$i" -v k="$kind" '/systemd.*Stopping consul/ {s=$1} /systemd.*Started consul/ && s {print h, k, s, $1; s=0}'
done > "$work/restarts"
for i in $(seq 4 $n); do
  podman exec "bench$i" pkill -f /tmp/calls || true
  podman exec "bench$i" cat /tmp/calls | sed "s/^/bench$i /"
done > "$work/calls"
python3 - "$work/restarts" "$work/calls" <<'EOF'
import sys
restarts = [line.split() for line in open(sys.argv[1])]
# a fresh cluster restarts all 3 servers in each stage, the leader last: every third server restart is the leader's
servers = sorted((r for r in restarts if r[1] == 'server'), key=lambda r: float(r[2]))
leader_restarts = [tuple(r) for r in servers[2::3]]
calls = [line.rstrip('\n').split(' ', 3) for line in open(sys.argv[2])]
start = min(float(r[2]) for r in restarts)
calls = [c for c in calls if float(c[1]) >= start - 1]
counts = {}
for host, t, op, outcome in calls:
    t = float(t)
    # a failure up to 2 s after a restart ended still belongs to it (a client learns its servers after start)
    hits = [r for r in restarts if float(r[2]) - 0.5 <= t <= float(r[3]) + 2.0]
    if any(r[0] == host for r in hits):
        window = 'own agent restarting'
    elif any(tuple(r) in leader_restarts for r in hits):
        window = 'leader restart'
    elif any(r[1] == 'server' for r in hits):
        window = 'other server restart'
    elif hits:
        window = 'another client restarting'
    else:
        window = 'no restart'
    key = (window, 'ok' if outcome == 'ok' else 'failed')
    counts[key] = counts.get(key, 0) + 1
print('%d calls by %d clients; %d server restarts, %d of them of the leader'
      % (len(calls), len(set(c[0] for c in calls)), len(servers), len(leader_restarts)))
print('| window | calls | failed |\n|---|---|---|')
for window in ('no restart', 'another client restarting', 'other server restart', 'leader restart', 'own agent restarting'):
    ok, failed = counts.get((window, 'ok'), 0), counts.get((window, 'failed'), 0)
    print('| %s | %d | %d |' % (window, ok + failed, failed))
EOF
