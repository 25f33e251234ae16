"""Lab only: the CA rotation of this scenario, run as an operator would, three times.

    rotate_runs.py OUT_DIR LABCHECK_DIR CA_A_FILE NODE... -- ANSIBLE_PLAYBOOK_ARGV...

1. The rotation playbook, killed (SIGKILL to the ansible-playbook process, as a controller that dies; its
   workers run in sessions of their own and end with the task they are in) as soon as the certificate file
   of any agent is no longer signed by CA A: a poller inside every node reads its file every 0.05 s. The
   state then is kept.
2. The same command again: it must finish.
3. Again: it must change nothing.
Before and after each run: every node's TLS files, what its ports serve and its consul start/reload
counts (labcheck.node_tls_state). Writes OUT_DIR/rotation.json (certificates only, never a key) and
each run's output to OUT_DIR/rotate-<n>.log. Exits 0 when it could run all three, whatever they did:
the verifier judges.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

POLL = r"""
import sys, time
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding
a = x509.load_pem_x509_certificate(sys.argv[1].encode()).public_key()
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        c = x509.load_pem_x509_certificate(open('/etc/consul.d/tls/consul-agent.pem', 'rb').read())
    except Exception:  # being replaced
        c = None
    if c is not None:
        try:
            if isinstance(a, ec.EllipticCurvePublicKey):
                a.verify(c.signature, c.tbs_certificate_bytes, ec.ECDSA(c.signature_hash_algorithm))
            else:
                a.verify(c.signature, c.tbs_certificate_bytes, padding.PKCS1v15(), c.signature_hash_algorithm)
        except InvalidSignature:
            print(time.time(), flush=True)
            sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
"""


def unblock_term():
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def name_who_terminates():
    """A SIGTERM to this script (once seen in the lab, sender unknown) says who sent it, then ends it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    def wait():
        info = signal.sigwaitinfo({signal.SIGTERM})
        try:
            with open('/proc/%d/cmdline' % info.si_pid, 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
        except OSError:
            cmd = '(gone)'
        sys.stderr.write('rotate_runs.py: SIGTERM from pid %d: %s\n' % (info.si_pid, cmd))
        sys.stderr.flush()
        os._exit(128 + signal.SIGTERM)
    threading.Thread(target=wait, daemon=True).start()


def main():
    name_who_terminates()
    sep = sys.argv.index('--')
    out_dir, labcheck_dir, ca_a_file = sys.argv[1:4]
    nodes = sys.argv[4:sep]
    argv = sys.argv[sep + 1:]
    sys.path.insert(0, labcheck_dir)
    import labcheck
    import testinfra
    hosts = dict((n, testinfra.get_host('podman://' + n)) for n in nodes)
    with open(ca_a_file) as f:
        ca_a = f.read()

    def state():
        return dict((n, labcheck.node_tls_state(h)) for n, h in hosts.items())

    def recap(text):
        return '\n'.join(line for line in text.splitlines() if re.match(r'^\S+\s+: ok=\d+', line))

    evidence = {'ca_a': ca_a, 'runs': [], 'states': {'before': state()}}

    def run(n, kill_on=None):
        log = os.path.join(out_dir, 'rotate-%d.log' % n)
        t0 = time.time()
        with open(log, 'w') as f:
            proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=unblock_term)
            trigger = None
            while proc.poll() is None:
                for node, poller in (kill_on or {}).items():
                    if poller.poll() == 0:
                        trigger = {'node': node, 't': float(poller.stdout.readline() or 0)}
                        proc.send_signal(signal.SIGKILL)
                        break
                if trigger:
                    break
                time.sleep(0.02)
            rc = proc.wait()
        t1 = time.time()
        with open(log) as f:
            text = f.read()
        evidence['runs'].append({'n': n, 'rc': rc, 't0': t0, 't1': t1, 'trigger': trigger, 'recap': recap(text),
                                 'tail': text[-6000:]})
        return rc

    # 1: the pollers first (each checks its file is A's before it waits), then the run.
    pollers = dict((n, subprocess.Popen(['podman', 'exec', n, 'python3', '-c', POLL, ca_a, '900'], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, universal_newlines=True, preexec_fn=unblock_term))
                   for n in nodes)
    time.sleep(1.0)
    evidence['pollers_running'] = [n for n, p in pollers.items() if p.poll() is None]
    run(1, kill_on=pollers)
    evidence['states']['killed'] = state()
    # 2: the same command finishes the rotation; the pollers still waiting see their node's new certificate.
    run(2)
    for p in pollers.values():
        if p.poll() is None:
            p.kill()
        p.wait()
    evidence['states']['second'] = state()
    # 3: nothing left to do.
    run(3)
    evidence['states']['third'] = state()
    with open(os.path.join(out_dir, 'rotation.json'), 'w') as f:
        json.dump(evidence, f)


if __name__ == '__main__':
    main()
