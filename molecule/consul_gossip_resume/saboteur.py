"""Lab only: stop one agent in the middle of gossip stage 2, as a crash would.

Polls every node's own flags (podman exec); as soon as one node runs at stage 2,
stops consul on the current leader if it is still at stage 1 (the leader goes last,
so it is untouched yet), else on any node still at stage 1. Writes what it did as JSON.
"""
import json
import subprocess
import sys
import time

PROBE = ("import json,urllib.request as u;"
         "s=json.load(u.urlopen('http://127.0.0.1:8500/v1/agent/self',timeout=2));"
         "l=json.load(u.urlopen('http://127.0.0.1:8500/v1/status/leader',timeout=2));"
         "d=s['DebugConfig'];"
         "print(json.dumps([s['Stats']['serf_lan']['encrypted'],d['EncryptVerifyOutgoing'],d['AdvertiseAddrLAN'],l]))")


def probe(node):
    r = subprocess.run(['podman', 'exec', node, 'python3', '-c', PROBE], capture_output=True, text=True, check=False)
    if r.returncode:
        return None
    enc, vout, addr, leader = json.loads(r.stdout)
    return {'stage': (2 if vout else 1) if enc == 'true' else 0, 'addr': addr, 'leader': leader}


def main(out, nodes, deadline=600):
    end = time.time() + deadline
    while time.time() < end:
        seen = {n: probe(n) for n in nodes}
        if any(s and s['stage'] == 2 for s in seen.values()):
            behind = [n for n, s in seen.items() if s and s['stage'] == 1]
            leader_addr = next((s['leader'] for s in seen.values() if s and s['leader']), '')
            leader = [n for n in behind if leader_addr.startswith(seen[n]['addr'] + ':')]
            victim = (leader or behind)[0]
            subprocess.run(['podman', 'exec', victim, 'systemctl', 'stop', 'consul'], check=True)
            with open(out, 'w') as f:
                json.dump({'stopped': victim, 'at': time.time(), 'seen': seen}, f)
            return 0
        time.sleep(0.2)
    return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2:]))
