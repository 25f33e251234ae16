"""Lab only: sample this node's view of the Consul cluster every 0.5 s.

    keyfleet-watch [--https] [--interval SECONDS] [--timeout SECONDS] [OUTPUT]

Each line of the output file is JSON: {"t": unix time the sample began, "te": when it ended
(its three calls time out after 0.4 s each, or --timeout), "ok": agent answered,
"members": {name: status code}, "leader": leader's node name or "" (none known),
"catalog": a catalog read through this node (server RPC) succeeded}.
With --https the calls go to the agent's HTTPS port (8501) and each call reads the agent's CA file,
certificate and key anew (a CA rotation replaces them while the watcher runs): the agent's certificate
is verified against the CA file as it is at that moment, and the agent's own certificate is sent as the
client certificate (verify_incoming covers HTTPS on 1.8.7). Its calls time out after 1 s (or --timeout).
Runs until stopped (systemd-run transient unit).
"""
import json
import os
import ssl
import sys
import time
import urllib.request

TLS_DIR = '/etc/consul.d/tls'
# A lab cluster with ACLs (default deny) leaves its management token here, root-only.
TOKEN_FILE = '/root/.lab-consul-token'
HEADERS = {}
if os.path.exists(TOKEN_FILE):
    with open(TOKEN_FILE) as tf:
        HEADERS['X-Consul-Token'] = tf.read().strip()

args = sys.argv[1:]
HTTPS = '--https' in args
args = [a for a in args if a != '--https']


def option(name, default):
    if name not in args:
        return default
    i = args.index(name)
    value = float(args[i + 1])
    del args[i:i + 2]
    return value


INTERVAL = option('--interval', 0.5)
TIMEOUT = option('--timeout', 1.0 if HTTPS else 0.4)
API = 'https://127.0.0.1:8501' if HTTPS else 'http://127.0.0.1:8500'


def context():
    """The TLS context of one call: the CA file, certificate and key as they are now."""
    ctx = ssl.create_default_context(cafile=TLS_DIR + '/consul-agent-ca.pem')
    ctx.load_cert_chain(TLS_DIR + '/consul-agent.pem', TLS_DIR + '/consul-agent-key.pem')
    return ctx


def get(path):
    kw = {'context': context()} if HTTPS else {}
    with urllib.request.urlopen(urllib.request.Request(API + path, headers=HEADERS), timeout=TIMEOUT, **kw) as r:
        return json.load(r)


out = args[0] if args else '/var/log/keyfleet-watch.jsonl'
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
        time.sleep(max(0.0, INTERVAL - (time.time() - t)))
