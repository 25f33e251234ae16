"""Lab only: helpers the molecule verifiers share (testinfra hosts, Consul and journal reads)."""

import json
import os

# How long after its `Started` line a restarted agent may still be missing from a
# peer's view. Measured on the lab's Consul 1.8.7: no sample off by more than 0.5 s.
REJOIN_GRACE = 2.0


def consul_get(host, path):
    """GET the agent's HTTP API from inside the node (no curl in the image)."""
    cmd = host.run("python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen("
                   "\"http://127.0.0.1:8500%s\", timeout=5).read().decode())'" % path)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout) if cmd.stdout else None


def node_name(host):
    return host.backend.get_hostname()


def consul_starts(host):
    """(stop time, start time) pairs of consul.service from the journal, and the start count."""
    out = host.check_output('journalctl -u consul.service -o json --output-fields=MESSAGE')
    windows, starts, stopping = [], 0, None
    for line in out.splitlines():
        e = json.loads(line)
        msg = e.get('MESSAGE') or ''
        t = int(e['__REALTIME_TIMESTAMP']) / 1e6
        if msg.startswith('Stopping consul.service'):
            stopping = t
        elif msg.startswith('Started consul.service'):
            starts += 1
            if stopping is not None:
                windows.append((stopping, t))
                stopping = None
    if stopping is not None:  # stopped and not started again
        windows.append((stopping, float('inf')))
    return windows, starts


def watch_samples(host, path='/var/log/keyfleet-watch.jsonl'):
    return [json.loads(line) for line in host.file(path).content_string.splitlines() if line.strip()]


def partition_samples(samples_by_node, windows_by_node, grace=REJOIN_GRACE):
    """Samples in which a node saw a peer as not alive (or could not answer itself)
    outside that peer's (or its own) restart window."""
    def in_window(node, t):
        return any(a <= t <= b + grace for a, b in windows_by_node[node])

    bad = []
    for node, samples in samples_by_node.items():
        for s in samples:
            if not s['ok']:
                if not in_window(node, s['t']):
                    bad.append((node, s['t'], 'own agent not answering: %s' % s.get('error')))
                continue
            for peer in windows_by_node:
                status = s['members'].get(peer)
                if status != 1 and not in_window(peer, s['t']):
                    bad.append((node, s['t'], '%s seen with status %s' % (peer, status)))
    return bad


def escrow_secret(name):
    """Decrypt the scenario's escrow with the lab vault password (as the play did)."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    with open(os.environ['ANSIBLE_VAULT_PASSWORD_FILE'], 'rb') as f:
        secret = VaultSecret(f.read().strip())
    with open(os.environ['KEYFLEET_ESCROW_FILE'], 'rb') as f:
        data = json.loads(VaultLib([('default', secret)]).decrypt(f.read()))
    return data['secrets'][name]['value']


def assert_gossip_fully_encrypted(host):
    """Gossip encrypted with both verify flags on, as the running agent reports it."""
    me = consul_get(host, '/v1/agent/self')
    assert me['Stats']['serf_lan']['encrypted'] == 'true'
    assert me['DebugConfig']['EncryptVerifyIncoming'] is True
    assert me['DebugConfig']['EncryptVerifyOutgoing'] is True


def assert_members_alive(host, nodes):
    """Exactly ``nodes`` are members, all alive, from this node's view."""
    members = consul_get(host, '/v1/agent/members')
    assert sorted((m['Name'], m['Status']) for m in members) == [(n, 1) for n in sorted(nodes)]
