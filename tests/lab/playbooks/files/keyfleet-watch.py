"""Lab only: sample this node's view of the Consul cluster every 0.5 s.

Each line of the output file is JSON: {"t": unix time the sample began, "te": when it ended
(its three calls take up to 0.4 s each), "ok": agent answered,
"members": {name: status code}, "leader": leader's node name or "" (none known),
"catalog": a catalog read through this node (server RPC) succeeded}.
Runs until stopped (systemd-run transient unit).
"""
import json
import os
import sys
import time
import urllib.request

API = 'http://127.0.0.1:8500'
# A lab cluster with ACLs (default deny) leaves its management token here, root-only.
TOKEN_FILE = '/root/.lab-consul-token'
HEADERS = {}
if os.path.exists(TOKEN_FILE):
    with open(TOKEN_FILE) as tf:
        HEADERS['X-Consul-Token'] = tf.read().strip()


def get(path):
    with urllib.request.urlopen(urllib.request.Request(API + path, headers=HEADERS), timeout=0.4) as r:
        return json.load(r)


out = sys.argv[1] if len(sys.argv) > 1 else '/var/log/keyfleet-watch.jsonl'
with open(out, 'a', buffering=1) as f:
    while True:
        t = time.time()
        sample = {'t': t, 'ok': False, 'members': {}, 'leader': '', 'catalog': False}
        try:
            members = get('/v1/agent/members')
            sample['members'] = {m['Name']: m['Status'] for m in members}
            sample['ok'] = True
            addr = (get('/v1/status/leader') or '').rsplit(':', 1)[0]
            sample['leader'] = next((m['Name'] for m in members if addr and m['Addr'] == addr), '')
            get('/v1/catalog/nodes')
            sample['catalog'] = True
        except Exception as e:  # agent restarting or no leader: recorded, not fatal
            sample['error'] = str(e)
        sample['te'] = time.time()
        f.write(json.dumps(sample) + '\n')
        time.sleep(max(0.0, 0.5 - (time.time() - t)))
