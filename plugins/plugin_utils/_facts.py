# -*- coding: utf-8 -*-
# Copyright (c) keyfleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Facts a host returned under the name of a variable the run decides with. Private.

A module's result may carry ``ansible_facts``; Ansible stores them as the host's facts and, by default
(INJECT_FACTS_AS_VARS), as variables of that host that take precedence over the inventory's and the role's. A
compromised host can so answer any task with ``ansible_facts: {keyfleet_escrow_file: ...}`` and, when it is the
first host of the play, steer every run_once decision: which CA signs, where the escrow is written, which caller
ids exist. No module of this collection returns such facts, so one found is refused, naming the host.
"""

from __future__ import annotations


def injected_fact_problems(facts_by_host, prefixes):
    """One sentence per host whose facts hold a name starting with one of ``prefixes`` (or ``ansible_`` + it, which
    Ansible also sets as a variable). facts_by_host: {host: fact names}."""
    if not isinstance(facts_by_host, dict):
        raise TypeError('facts_by_host must be a dict of host to fact names, not %s' % type(facts_by_host).__name__)
    prefixes = tuple(str(p) for p in prefixes or ())
    problems = []
    for host in sorted(facts_by_host, key=str):
        names = facts_by_host[host] or []
        if isinstance(names, dict):
            names = list(names)
        bad = sorted(str(n) for n in names if isinstance(n, str) and (n.startswith(prefixes) or ('ansible_' + n).startswith(prefixes)))
        if bad:
            problems.append('host %s returned facts named as variables this run decides with (%s): a host that answers '
                            'a task with such facts would override the inventory and the role (which CA signs, where '
                            'the escrow is, which callers exist). Nothing this collection runs returns them; treat %s '
                            'as compromised, and clear its facts (meta: clear_facts, or the fact cache) once it is clean'
                            % (host, ', '.join(bad), host))
    return problems
