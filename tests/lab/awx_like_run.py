# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a playbook as AWX runs a job: ansible-runner, a fresh private data directory and a fresh home directory
that are thrown away afterwards, the job id as the extra var awx_job_id. Credentials come from the environment,
as AWX injects them.

    python3 awx_like_run.py INVENTORY JOB_ID PLAYBOOK [KEY=VALUE extra vars...]

Prints one JSON object: status, rc, the changed and failed counts per host, and the job's output.
"""

import json
import os
import shutil
import sys
import tempfile

import ansible_runner


def main():
    inventory, job_id, playbook = sys.argv[1:4]
    extravars = dict(arg.split('=', 1) for arg in sys.argv[4:])
    extravars['awx_job_id'] = int(job_id)
    private = tempfile.mkdtemp(prefix='awx-job-%s.' % job_id)
    home = tempfile.mkdtemp(prefix='awx-home-%s.' % job_id)
    try:
        os.makedirs(os.path.join(private, 'project'))
        with open(os.path.join(private, 'project', 'job.yml'), 'w') as f:
            f.write('- name: The job\n  ansible.builtin.import_playbook: %s\n' % playbook)
        os.environ['HOME'] = home
        run = ansible_runner.run(private_data_dir=private, playbook='job.yml', inventory=os.path.abspath(inventory),
                                 extravars=extravars, quiet=True, ident='job-%s' % job_id,
                                 envvars={'ANSIBLE_FORCE_COLOR': 'False', 'ANSIBLE_NOCOLOR': 'True'})
        stats = run.stats or {}
        out = {'status': run.status, 'rc': run.rc, 'changed': stats.get('changed', {}), 'failures': stats.get('failures', {}),
               'stdout': run.stdout.read(), 'left_in_home': sorted(os.listdir(home))}
    finally:
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
