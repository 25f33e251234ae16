"""Verify that an interrupted migration stopped cleanly and resumed."""

import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lab'))
import labcheck  # noqa: E402

NODES = ['node1', 'node2', 'node3']


@pytest.fixture(scope='module')
def evidence():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'resume.json')) as f:
        return json.load(f)


def recap(out):
    return dict((m.group(1), (int(m.group(2)), int(m.group(3))))
                for m in re.finditer(r'^(node\d)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)', out, re.M))


@pytest.mark.parametrize('case, message', [
    ('key', 'consul_gossip_key must be 32 random bytes in base64'),
    ('member', 'members not among the hosts of this run (group consul): node3'),
    ('vault', 'no vault secret in this run'),
    ('keyring', 'node3: /var/lib/consul/serf/local.keyring has the primary key'),
])
def test_bad_input_is_named(evidence, case, message):
    assert message in ' '.join(evidence['bad'][case].split())


def test_bad_input_changed_no_host(evidence):
    # `test -e` exits 1: no node got a gossip settings file from the bad runs.
    assert evidence['files_after_bad'] == [1, 1, 1]


def test_first_run_stopped_on_the_crashed_node(evidence):
    first = evidence['first']
    assert first['rc'] != 0
    assert 'member %s is failed' % evidence['stopped'] in first['out'] or \
        'agent does not answer' in first['out']
    # Stopped in stage 2: stage 3 never began.
    assert 'stage 3' not in ''.join(re.findall(r'^PLAY \[.*\]', first['out'], re.M))


def test_crashed_node_was_not_touched(evidence):
    assert 'encrypt' not in evidence['stopped_settings']  # converge keeps the key out of the evidence
    # It was still at stage 1 when it went down and the play did not go on to it.
    assert evidence['stopped_settings']['encrypt_verify_outgoing'] is False
    assert evidence['stopped_settings']['encrypt_verify_incoming'] is False


def test_second_run_completed(evidence):
    assert evidence['second']['rc'] == 0
    assert all(failed == 0 for changed, failed in recap(evidence['second']['out']).values())


def test_third_run_changed_nothing(evidence):
    assert evidence['third']['rc'] == 0
    r = recap(evidence['third']['out'])
    assert sorted(r) == NODES and all(v == (0, 0) for v in r.values())


def test_encrypted_everywhere_and_all_alive(host):
    labcheck.assert_gossip_fully_encrypted(host)
    labcheck.assert_members_alive(host, NODES)


def posture(name):
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'posture-%s' % name, 'posture.json')) as f:
        report = json.load(f)
    return dict(((r['host'], r['check']), r) for r in report['rows']), report['summary']


def test_posture_of_the_half_migrated_cluster(evidence):
    rows, summary = posture('half')
    # Every agent read; the crash left the cluster between stages, which is 'todo', never an error.
    assert sorted(h for h, c in rows if c == 'gossip stage') == NODES
    stages = dict((h, rows[(h, 'gossip stage')]) for h in NODES)
    assert any(r['status'] == 'todo' for r in stages.values()), stages
    assert all(r['detail'][0] in '123' for r in stages.values()), stages
    assert summary['error'] == 0 and summary['missing'] == 0, summary
    # The key the agents encrypt with is the escrowed one, on every node.
    assert [rows[(h, 'gossip key')]['status'] for h in NODES] == ['ok'] * 3
    # The same table on the terminal and in Markdown for a ticket.
    out_dir = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'posture-half')
    with open(os.path.join(out_dir, 'posture.md')) as f:
        assert f.read().count('\n| consul | node') == len(rows)
    assert 'gossip stage' in evidence['posture']['half'] and 'todo' in evidence['posture']['half']


def test_posture_names_what_the_escrow_does_not_hold(evidence):
    rows, summary = posture('empty')
    assert [rows[(h, 'gossip key')]['status'] for h in NODES] == ['missing'] * 3
    assert summary['missing'] == 3
    assert not evidence['posture']['empty_escrow_made']  # read only: no escrow made where none was


def test_posture_reading_changed_nothing(evidence):
    # The escrow's bytes, every agent's settings and main PID, before and after the reports.
    assert evidence['posture']['before'] == evidence['posture']['after']
    assert 'MainPID=' in evidence['posture']['before'] and len(evidence['posture']['before'].splitlines()) == 7


def test_posture_of_the_migrated_cluster(evidence):
    rows, summary = posture('done')
    assert [rows[(h, 'gossip stage')]['status'] for h in NODES] == ['ok'] * 3
    assert [rows[(h, 'tls stage')]['status'] for h in NODES] == ['todo'] * 3  # this scenario adds no TLS
    assert summary == {'ok': 6, 'todo': 3, 'missing': 0, 'error': 0}
    assert re.search(r'^\s*"?\s*6 ok, 3 todo, 0 missing, 0 error', evidence['posture']['done'], re.M)
