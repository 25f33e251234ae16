"""Lab only: helpers the molecule verifiers share (testinfra hosts, Consul and journal reads)."""

import base64
import json
import os

# How long after its `Started` line a restarted agent may still be missing from a
# peer's view. Measured on the lab's Consul 1.8.7: no sample off by more than 0.5 s.
REJOIN_GRACE = 2.0
# How long after its `Started` line a restarted agent (or, for every node, a restarted
# leader) may still lack a leader or fail a catalog read: the election and the RPC
# reconnects. Measured on the lab's Consul 1.8.7 with the staged TLS flags: see docs.
RPC_GRACE = 10.0


# A lab cluster with ACLs (default deny) leaves its management token here (consul_cluster.yml).
TOKEN_HEADERS = ("h={}; import os; os.path.exists('/root/.lab-consul-token') and "
                 "h.update({'X-Consul-Token': open('/root/.lab-consul-token').read().strip()});")


def consul_get(host, path):
    """GET the agent's HTTP API from inside the node (no curl in the image), with the lab's token if it has one."""
    cmd = host.run("python3 -c \"import sys,urllib.request as u; %s sys.stdout.write(u.urlopen("
                   "u.Request('http://127.0.0.1:8500%s', headers=h), timeout=5).read().decode())\"" % (TOKEN_HEADERS, path))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout) if cmd.stdout else None


def hosts(nodes):
    """testinfra hosts by node name, for tests that look at several nodes at once."""
    import testinfra
    return dict((n, testinfra.get_host('podman://' + n)) for n in nodes)


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
    outside that peer's restart window and its own."""
    def in_window(node, t):
        return any(a <= t <= b + grace for a, b in windows_by_node[node])

    bad = []
    for node, samples in samples_by_node.items():
        for s in samples:
            if in_window(node, s['t']):
                # The node's own restart: it may not answer yet, or answer before it has
                # rejoined (peers missing from its list), as seen once on a client agent.
                continue
            if not s['ok']:
                bad.append((node, s['t'], 'own agent not answering: %s' % s.get('error')))
                continue
            for peer in windows_by_node:
                status = s['members'].get(peer)
                if status != 1 and not in_window(peer, s['t']):
                    bad.append((node, s['t'], '%s seen with status %s' % (peer, status)))
    return bad


def leader_windows(samples_by_node, windows_by_node):
    """Restart windows of nodes that were the leader when they went down."""
    known = sorted((s['t'], s['leader']) for samples in samples_by_node.values() for s in samples if s.get('leader'))
    out = []
    for node, windows in windows_by_node.items():
        for a, b in windows:
            before = [leader for t, leader in known if t < a]
            if before and before[-1] == node:
                out.append((node, a, b))
    return out


def rpc_failure_samples(samples_by_node, windows_by_node, grace=RPC_GRACE, clients=()):
    """Samples without a known leader or with a failed catalog read, outside the restart
    window of the node itself and of the leader that was restarted.

    A client agent sends all its RPC through one server and switches only when a call to it
    fails: its samples are also excused in the window of any server's restart (measured: one
    failed sample, the call that found its server gone).
    """
    leaders = leader_windows(samples_by_node, windows_by_node)
    servers = [n for n in windows_by_node if n not in clients]

    def excused(node, t, te):
        # A sample spans [t, te]: its leader and catalog calls come after the member list, so a
        # sample begun just before a restart can fail inside it (seen once in CI: members read,
        # then "connection refused" as the agent stopped).
        own = [node] + (servers if node in clients else [])
        return any(a <= te and t <= b + grace for n in own for a, b in windows_by_node[n]) or \
            any(a <= te and t <= b + grace for dummy, a, b in leaders)

    return [(node, s['t'], s.get('error') or 'no leader')
            for node, samples in samples_by_node.items() for s in samples
            if not (s['ok'] and s.get('leader') and s.get('catalog')) and not excused(node, s['t'], s.get('te', s['t']))]


TLS_DIR = '/etc/consul.d/tls'

# Run inside a node: one connection to a server's RPC port. Consul's first byte picks the
# protocol (agent/pool: RPCTLS = 3, RPCConsul = 0). Prints JSON: did the server keep the connection
# (accepted) and, for TLS, the names in its certificate (verified against the CA and
# server_name by Python's ssl module).
RPC_PROBE = r"""
import json, socket, ssl, sys
target, mode, server_name, with_cert = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == 'cert'
out = {'accepted': False, 'names': [], 'error': ''}
raw = socket.create_connection((target, 8300), timeout=5)
try:
    if mode == 'tls':
        raw.sendall(b'\x03')
        ctx = ssl.create_default_context(cafile='%(d)s/consul-agent-ca.pem')
        if with_cert:
            ctx.load_cert_chain('%(d)s/consul-agent.pem', '%(d)s/consul-agent-key.pem')
        conn = ctx.wrap_socket(raw, server_hostname=server_name)
        out['names'] = [v for k, v in conn.getpeercert().get('subjectAltName', ())]
    else:
        raw.sendall(b'\x00')
        conn = raw
    conn.settimeout(2)
    try:
        data = conn.recv(1)   # the server waits for a request: a timeout means it kept us
        out['error'] = 'closed' if not data else 'data'
    except socket.timeout:
        out['accepted'] = True
except (ssl.SSLError, OSError) as e:
    out['error'] = repr(e)
print(json.dumps(out))
""" % {'d': TLS_DIR}


def rpc_probe(host, target, mode='tls', server_name='server.dc1.consul', with_cert=True):
    """What ``target``'s RPC port does with a probe from ``host``; ``server_name`` is the name TLS verifies."""
    cmd = host.run('python3 -c %s %s %s %s %s', RPC_PROBE, target, mode, server_name, 'cert' if with_cert else 'none')
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def assert_rpc_tls_enforced(client, server, dc_domain='dc1.consul'):
    """From ``client``: TLS with its certificate is accepted by ``server`` under the name
    server.<dc_domain>; without a certificate the handshake is refused; plain RPC is closed."""
    name = 'server.' + dc_domain
    ok = rpc_probe(client, server, server_name=name)
    assert ok['accepted'], ok
    assert {name, '%s.%s' % (server, name)} <= set(ok['names'])
    certless = rpc_probe(client, server, server_name=name, with_cert=False)
    assert not certless['accepted'] and 'CERTIFICATE' in certless['error'], certless
    plain = rpc_probe(client, server, server_name=name, mode='plain')
    assert not plain['accepted'] and plain['error'] == 'closed', plain


def consul_get_tls(host, path):
    """GET the agent's HTTPS API from inside the node with the agent's own certificate."""
    cmd = host.run("python3 -c %s %s", (
        "import ssl,sys,urllib.request as u;"
        "c=ssl.create_default_context(cafile='%(d)s/consul-agent-ca.pem');"
        "c.load_cert_chain('%(d)s/consul-agent.pem','%(d)s/consul-agent-key.pem');"
        "sys.stdout.write(u.urlopen('https://127.0.0.1:8501'+sys.argv[1],context=c,timeout=5).read().decode())"
    ) % {'d': TLS_DIR}, path)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout) if cmd.stdout else None


def cert_names(host, path=TLS_DIR + '/consul-agent.pem'):
    """Subject alternative names of a certificate on the node, read with python3-cryptography."""
    cmd = host.run('python3 -c %s %s', (
        "import sys; from cryptography import x509;"
        "c=x509.load_pem_x509_certificate(open(sys.argv[1],'rb').read());"
        "s=c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value;"
        "print('\\n'.join(['DNS:'+n for n in s.get_values_for_type(x509.DNSName)]"
        "+['IP:'+str(i) for i in s.get_values_for_type(x509.IPAddress)]))"), path)
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.split()


def assert_tls_full(me):
    """The agent's own view (/v1/agent/self): certificates and all three verify flags on."""
    d = me['DebugConfig']
    assert (d['VerifyIncoming'], d['VerifyOutgoing'], d['VerifyServerHostname']) == (True, True, True)
    assert d['CAFile'] == TLS_DIR + '/consul-agent-ca.pem' and d['CertFile'] == TLS_DIR + '/consul-agent.pem'


def assert_tls_files(host):
    names = ('consul-agent-key.pem', 'consul-agent.pem', 'consul-agent-ca.pem')
    key, cert, ca = (host.file('%s/%s' % (TLS_DIR, n)) for n in names)
    assert (key.user, key.group, key.mode) == ('root', 'consul', 0o640)
    assert (cert.mode, ca.mode) == (0o644, 0o644)
    cfg = host.file('/etc/consul.d/keyfleet-tls.json')
    assert (cfg.user, cfg.group, cfg.mode) == ('root', 'consul', 0o640)


def escrow_secret(name):
    """The current value of an escrowed secret."""
    return escrow_entry(name)['value']


def escrow_entry(name, path=None):
    """Decrypt the scenario's escrow (or a copy of it at ``path``) with the lab vault password (as the play did)."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    with open(os.environ['ANSIBLE_VAULT_PASSWORD_FILE'], 'rb') as f:
        secret = VaultSecret(f.read().strip())
    with open(path or os.environ['KEYFLEET_ESCROW_FILE'], 'rb') as f:
        data = json.loads(VaultLib([('default', secret)]).decrypt(f.read()))
    return data['secrets'][name]


def assert_gossip_fully_encrypted(host):
    """Gossip encrypted with both verify flags on, as the running agent reports it."""
    me = consul_get(host, '/v1/agent/self')
    assert me['Stats']['serf_lan']['encrypted'] == 'true'
    assert me['DebugConfig']['EncryptVerifyIncoming'] is True
    assert me['DebugConfig']['EncryptVerifyOutgoing'] is True


def assert_members_alive(host, nodes, get=consul_get):
    """Exactly ``nodes`` are members, all alive, from this node's view."""
    members = get(host, '/v1/agent/members')
    assert sorted((m['Name'], m['Status']) for m in members) == [(n, 1) for n in sorted(nodes)]


# -- checks shared by the running-cluster scenarios (3 servers + client node4) --------------

def stop_watchers_and_collect(hosts):
    """Stop every watcher; (restart windows, samples) by node."""
    for h in hosts.values():
        h.run('systemctl stop keyfleet-watch')
    windows = dict((n, consul_starts(h)[0]) for n, h in hosts.items())
    samples = dict((n, watch_samples(h)) for n, h in hosts.items())
    return windows, samples


def restarts_since_prepare(host):
    before = int(host.file('/var/tmp/keyfleet-starts-before').content_string)
    return consul_starts(host)[1] - before


def assert_clients_first(hosts, client, servers, stages=3):
    """In every stage the client restarts before the servers, and only after every server
    finished the stage before."""
    windows = dict((n, consul_starts(h)[0][-stages:]) for n, h in hosts.items())
    for stage in range(stages):
        client_stop = windows[client][stage][0]
        assert all(client_stop < windows[s][stage][0] for s in servers), stage
        if stage:
            assert all(client_stop > windows[s][stage - 1][1] for s in servers), stage


def assert_kv_intact(host, get=consul_get):
    entries = get(host, '/v1/kv/keyfleet/?recurse=true')
    values = sorted(base64.b64decode(e['Value']).decode() for e in entries)
    assert values == sorted('value-%d' % i for i in range(20))


def assert_secrets_not_logged(secrets, expect=('ESTABLISH',)):
    """None of ``secrets`` (nor a line of a PEM secret, nor the JSON-escaped form) is in the play log."""
    with open(os.environ['ANSIBLE_LOG_PATH']) as f:
        log = f.read()
    for marker in expect:  # the log really holds the verbose output
        assert marker in log
    for secret in secrets:
        # Of a PEM key, the first line of the body: it holds the private part (later lines of an
        # EC key hold the public key, which is rightly printed).
        lines = [l for l in secret.splitlines() if l and not l.startswith('-----')][:1] or [secret]
        for piece in lines:
            # As written, with JSON's escapes (quotes, backslashes), and with escaped slashes.
            for form in (piece, json.dumps(piece)[1:-1], piece.replace('/', '\\/')):
                assert form not in log


# -- Aspera (the lab doubles of tests/lab/aspera-doubles.md and the real Redis) --------------

def sha256(text):
    import hashlib
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def sha512(text):
    import hashlib
    return hashlib.sha512(text.encode('utf-8')).hexdigest()


def askms_newest_hash(host, category, user=None):
    """The SHA-512 askmscli -H reports for the newest version of a secret, or None."""
    out = host.check_output('/opt/aspera/bin/askmscli %s-H %s' % ('-u %s ' % user if user else '', category))
    lines = [l.split()[-1] for l in out.splitlines() if l.startswith('v')]
    return lines[-1] if lines else None


REDIS_PROBE = r"""
import os, socket, sys
s = socket.create_connection(('127.0.0.1', 31415), 5)
def cmd(*a):
    s.sendall(b'*%d\r\n' % len(a) + b''.join(b'$%d\r\n%s\r\n' % (len(x), x) for x in a))
    return s.recv(4096).split(b'\r\n')[0].decode()
pw = os.environ.get('LAB_REDIS_PASSWORD')
if pw:
    print(cmd(b'AUTH', pw.encode()))
print(cmd(b'PING'))
"""


def redis_ping(host, password=None):
    """What Redis answers to [AUTH password and] PING, from inside the node; the password goes
    through the environment of the test's own process."""
    env = "LAB_REDIS_PASSWORD=%s " % _shell_quote(password) if password else ''
    return host.check_output("%spython3 -c %s" % (env, _shell_quote(REDIS_PROBE))).splitlines()


def _shell_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def unit_starts(host, unit):
    out = host.check_output('journalctl -u %s -o cat' % unit)
    return sum(1 for l in out.splitlines() if l.startswith('Started '))


def assert_secrets_not_in_argv(host, secrets, expect=('askmscli',)):
    """No secret ({name: value}) in any command line the sampler saw; and it did see the tools run.

    Stops the sampler first: the test's own commands (testinfra runs them through sh -c) come after.
    Run it before any test that hands a secret to the node.
    """
    host.run('systemctl stop keyfleet-argv')
    log = host.file('/var/log/keyfleet-argv.log').content_string
    for marker in expect:
        assert marker in log
    leaks = ['%s: %s' % (name, line.replace(value, '<%s>' % name))
             for name, value in secrets.items() for line in log.splitlines() if value in line]
    assert leaks == []


# -- TLS material as the agents hold and serve it (the CA rotation of consul_tls_running) ------

# Run inside a node: its certificate file, CA file, the certificate its HTTPS port (8501) and its RPC port
# (8300, servers only) serve, not verified (a rotation's state is read whatever it is), with the agent's
# own certificate as the client certificate; and how often consul.service started and reloaded (systemd's
# lines) and how often the agent caught a hangup (its own). Prints JSON.
NODE_TLS_STATE = r"""
import json, socket, ssl, subprocess
d = '%(d)s'
def read(name):
    try:
        return open(d + '/' + name).read()
    except OSError:
        return ''
def served(port, rpc):
    out = {'pem': '', 'error': ''}
    try:
        # HTTPS on the client address (the lab's: 127.0.0.1), RPC on the bind address.
        raw = socket.create_connection((socket.gethostname() if rpc else '127.0.0.1', port), timeout=3)
        if rpc:
            raw.sendall(b'\x03')
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.load_cert_chain(d + '/consul-agent.pem', d + '/consul-agent-key.pem')
        conn = ctx.wrap_socket(raw)
        out['pem'] = ssl.DER_cert_to_PEM_cert(conn.getpeercert(True))
        conn.close()
    except Exception as e:
        out['error'] = repr(e)
    return out
journal = subprocess.run(['journalctl', '-u', 'consul.service', '-o', 'cat'], stdout=subprocess.PIPE,
                         universal_newlines=True).stdout.splitlines()
print(json.dumps({'cert': read('consul-agent.pem'), 'ca': read('consul-agent-ca.pem'),
                  'https': served(8501, False), 'rpc': served(8300, True),
                  'starts': sum(1 for l in journal if l.startswith('Started')),
                  'reloads': sum(1 for l in journal if l.startswith('Reloaded')),
                  'hangups': sum(1 for l in journal if 'hangup' in l)}))
""" % {'d': TLS_DIR}


def node_tls_state(host):
    """NODE_TLS_STATE of a node (a testinfra host)."""
    cmd = host.run('python3 -c %s', NODE_TLS_STATE)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def pem_certs(text):
    """The PEM certificates in ``text``, each normalised (its lines, one newline at the end)."""
    import re
    return ['\n'.join(l.strip() for l in m.splitlines() if l.strip()) + '\n'
            for m in re.findall(r'-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----', text or '', re.S)]


def which_ca(cert_pem, cas):
    """The name, in ``cas`` ({name: CA PEM}), of the CA that issued the (first) certificate in ``cert_pem``,
    checked by its signature; '' when there is no certificate, '?' when none of them issued it."""
    from cryptography import x509
    certs = pem_certs(cert_pem)
    if not certs:
        return ''
    cert = x509.load_pem_x509_certificate(certs[0].encode())
    for name, ca_pem in cas.items():
        try:
            cert.verify_directly_issued_by(x509.load_pem_x509_certificate(pem_certs(ca_pem)[0].encode()))
            return name
        except Exception:  # another issuer (InvalidSignature, ValueError)
            continue
    return '?'


def ca_file_names(ca_text, cas):
    """The names (in ``cas``) of the certificates a CA file holds, in order; '?' for one not in ``cas``."""
    known = dict((pem_certs(pem)[0], name) for name, pem in cas.items())
    return [known.get(c, '?') for c in pem_certs(ca_text)]


def tls_state_summary(state, cas):
    """A NODE_TLS_STATE in the names of ``cas``: {'cert': issuer of the certificate file, 'ca': [the CA file's
    certificates], 'https': issuer of what 8501 serves, 'rpc': of what 8300 serves ('' when nothing)}."""
    return {'cert': which_ca(state['cert'], cas), 'ca': ca_file_names(state['ca'], cas),
            'https': which_ca(state['https']['pem'], cas), 'rpc': which_ca(state['rpc']['pem'], cas)}


# Run inside a node: one TLS connection to ``target``:``port`` with the given client certificate and key, the
# server verified against the node's CA file (names not checked: rpc_probe does). For the RPC port the first
# byte asks for TLS. Prints JSON: accepted (the server kept the connection 2 s: it waits for a request), the
# served certificate (PEM) and the error.
TLS_CLIENT_PROBE = r"""
import json, socket, ssl, sys
target, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {'accepted': False, 'pem': '', 'error': ''}
try:
    raw = socket.create_connection((target, port), timeout=5)
    if port == 8300:
        raw.sendall(b'\x03')
    ctx = ssl.create_default_context(cafile='%(d)s/consul-agent-ca.pem')
    ctx.check_hostname = False
    ctx.load_cert_chain(cert, key)
    conn = ctx.wrap_socket(raw)
    out['pem'] = ssl.DER_cert_to_PEM_cert(conn.getpeercert(True))
    conn.settimeout(2)
    try:
        data = conn.recv(1)
        out['error'] = 'closed' if not data else 'data'
    except socket.timeout:
        out['accepted'] = True
except (ssl.SSLError, OSError) as e:
    out['error'] = repr(e)
print(json.dumps(out))
""" % {'d': TLS_DIR}


def tls_client_probe(host, target, port=8300, cert=TLS_DIR + '/consul-agent.pem', key=TLS_DIR + '/consul-agent-key.pem'):
    """What ``target``:``port`` does with a TLS client on ``host`` that presents ``cert`` (a path on ``host``)."""
    cmd = host.run('python3 -c %s %s %s %s %s', TLS_CLIENT_PROBE, target, str(port), cert, key)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def stop_watcher_and_collect(hosts, unit, path):
    """Stop one kind of watcher on every node; its samples by node."""
    for h in hosts.values():
        h.run('systemctl stop %s', unit)
    return dict((n, watch_samples(h, path)) for n, h in hosts.items())
