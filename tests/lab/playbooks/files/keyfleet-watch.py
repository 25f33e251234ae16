"""Lab only: sample this node's view of the Consul member list every 0.5 s.

Each line of the output file is JSON: {"t": unix time, "ok": agent answered,
"members": {name: status code}}. Runs until stopped (systemd-run transient unit).
"""
import json
import sys
import time
import urllib.request

out = sys.argv[1] if len(sys.argv) > 1 else '/var/log/keyfleet-watch.jsonl'
with open(out, 'a', buffering=1) as f:
    while True:
        t = time.time()
        sample = {'t': t, 'ok': False, 'members': {}}
        try:
            with urllib.request.urlopen('http://127.0.0.1:8500/v1/agent/members', timeout=0.4) as r:
                sample['members'] = {m['Name']: m['Status'] for m in json.load(r)}
                sample['ok'] = True
        except Exception as e:  # agent restarting: recorded, not fatal
            sample['error'] = str(e)
        f.write(json.dumps(sample) + '\n')
        time.sleep(max(0.0, 0.5 - (time.time() - t)))
