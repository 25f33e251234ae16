#!/usr/bin/env bash
# `make test` after the lab image and the collection link are ready (the Makefile's test target).
# The static checks and the scenarios that time nothing run side by side (the Aspera, Resilio and
# MCollective scenarios on podman networks of their own, the Swarm one on a private dockerd); then the Consul
# running-cluster scenarios, whose watchers time every restart, run one at a time once every other track has ended
# (the MCollective track may still be finishing; see below). Every log is printed in full.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
logs=.build/test-logs
rm -rf "$logs" && mkdir -p "$logs"

failure_digest() {  # LOG: the failed tasks again, at the end, where a CI summary that keeps only the tail shows them
  echo "=== the failed tasks of this scenario (full output above)"
  # Ansible's failed tasks, and the verifier's (pytest) failed tests.
  grep -n -B2 -A25 -E '^(fatal|failed): |FAILED! =>|^ERROR! |^E   |^FAILED ' "$1" | cut -c1-400 | tail -n 120
}

scenarios() {  # run molecule test for each scenario given, stop at the first failure
  local s
  for s in "$@"; do
    echo "=== molecule scenario $s ($(date -u +%T))"
    molecule test -s "$s" 2>&1 | tee "$logs/scenario-$s.log"
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "$s" >>"$logs/failed"; failure_digest "$logs/scenario-$s.log"; echo "=== molecule scenario $s FAILED ($(date -u +%T))"; return 1; }
  done
  echo "=== molecule done ($(date -u +%T))"
}

aspera=() others=() mco=() consul_new=() after_checks=() alone=()
for d in molecule/*/; do
  s=$(basename "$d")
  case $s in
    aspera_*) aspera+=("$s") ;;
    resilio* | swarm*) others+=("$s") ;;
    mcollective*) mco+=("$s") ;;
    # No watcher times anything in these: they run beside the others (consul_escrow_kv's OpenBao on a port of its own).
    consul_gossip_new | consul_tls_new | consul_gossip_adopt | consul_escrow_kv) consul_new+=("$s") ;;
    # Times nothing either, and on containers and a network of its own (ae1-5): after the static checks, the
    # track that ends first.
    consul_auto_encrypt) after_checks+=("$s") ;;
    # Runs under the oldest and the newest ansible-core instead (scenario_on below).
    consul_encrypt_running) ;;
    *) alone+=("$s") ;;
  esac
done

declare -A track_pid
track() {  # track [-n NICENESS] NAME COMMAND...: run in the background into its own log
  local nice=0
  if [ "$1" = -n ]; then nice=$2; shift 2; fi
  local name=$1; shift
  ( renice -n "$nice" -p "$BASHPID" >/dev/null; "$@" >"$logs/$name.log" 2>&1; echo $? >"$logs/$name.rc" ) &
  track_pid[$name]=$!
}
checks() {  # stop at the first failure, and name it where the end-of-run summary finds it
  local c
  for c in "ansible-lint --profile production" "tests/lab/ansible-test.sh sanity" "tests/lab/ansible-test.sh units" \
    tests/lab/package.sh tests/lab/docs.sh tests/lab/escrow-kv.sh; do
    $c || { echo "=== check FAILED: $c" | tee -a "$logs/checks-failed"; return 1; }
  done
}
checks_then_scenarios() {  # the static checks, then the scenarios of after_checks, whether the checks passed or not
  local rc=0
  checks || rc=1
  scenarios "${after_checks[@]}" || rc=1
  return "$rc"
}
# The other ansible-core lines (tests/lab/versions.sh): sanity and units on 2.17, 2.18, 2.20 and 2.21, then the
# escrow tests on the oldest and the newest with the collection installed from its tarball. A track of its own:
# on a fresh machine (ansible-test makes its venvs) it took 13 min, about the 14 min the checks track ends before the
# longest scenario track, so after the checks it would have lengthened the phase; the scenario tracks mostly wait.
versions() {
  local rc=0
  echo "=== sanity and units, ansible-core 2.17, 2.18, 2.20, 2.21 ($(date -u +%T))"
  tests/lab/versions.sh checks || rc=1
  local v
  for v in 2.17 2.21; do
    echo "=== escrow-kv.sh, ansible-core $v, from the tarball ($(date -u +%T))"
    # A fresh build and install: the scenario on this version later uses the same one.
    { tests/lab/versions.sh install "$v" >/dev/null && tests/lab/versions.sh escrow "$v"; } || rc=1
  done
  echo "=== versions done ($(date -u +%T))"
  return "$rc"
}
scenario_on() {  # VERSION: the running-cluster upshift under that ansible-core, keyfleet.encryption from the tarball
  local s=consul_encrypt_running v=$1
  echo "=== molecule scenario $s, ansible-core $v, from the tarball ($(date -u +%T))"
  tests/lab/versions.sh scenario "$v" 2>&1 | tee "$logs/scenario-$s-$v.log"
  [ "${PIPESTATUS[0]}" = 0 ] || { echo "$s-$v" >>"$logs/failed"; failure_digest "$logs/scenario-$s-$v.log"; echo "=== molecule scenario $s, ansible-core $v FAILED ($(date -u +%T))"; return 1; }
}

echo "=== side by side ($(date -u +%T)): lint, sanity, units, then ${after_checks[*]} | 2.17 to 2.21 | ${aspera[*]} | ${others[*]} | ${mco[*]} | ${consul_new[*]}"
# The phase ends with its longest tracks (mcollective, then consul-new; the others ended 3 to 10 min before them):
# the rest yield the CPU to them and take what is left - the same work, ended sooner. None of them times anything.
# Not the checks: galaxy-importer gives its ansible-lint 180 s, which a niced run on a loaded machine overran.
track checks checks_then_scenarios
track -n 10 versions versions
track -n 5 aspera scenarios "${aspera[@]}"
track -n 5 others scenarios "${others[@]}"
# A track of its own: it waits on podman exec more than it computes.
track mcollective scenarios "${mco[@]}"
track consul-new scenarios "${consul_new[@]}"
# The one-at-a-time phase starts when every other track has ended and passed: the MCollective track, the longest,
# may still be finishing (one core of podman execs and mco requests for its last minutes). The watchers tolerated
# that in the lab (consul_encrypt_running on 2.21 passed beside a whole mcollective_aes run); a quiet machine but
# for it, and 3 to 4 minutes sooner.
for t in checks versions aspera others consul-new; do wait "${track_pid[$t]}"; done
early=0
for t in checks versions aspera others consul-new; do [ "$(cat "$logs/$t.rc")" = 0 ] || early=1; done
alone_rc=skipped
if [ "$early" = 0 ]; then
  echo "=== one at a time ($(date -u +%T)): ${alone[*]}, consul_encrypt_running on ansible-core 2.17 and 2.21"
  if { scenarios "${alone[@]}" && scenario_on 2.17 && scenario_on 2.21; }; then alone_rc=0; else alone_rc=1; fi
fi
wait "${track_pid[mcollective]}"
failed=0
for t in checks versions aspera others mcollective consul-new; do
  echo "===== $t: exit $(cat "$logs/$t.rc")"
  cat "$logs/$t.log"
  [ "$(cat "$logs/$t.rc")" = 0 ] || failed=1
done
[ "$alone_rc" = 1 ] && failed=1
if [ "$failed" != 0 ]; then
  # Again at the end: what failed, for a reader who sees only the tail.
  [ "$(cat "$logs/checks.rc")" = 0 ] || {
    echo "=== the static checks, or the scenarios after them, failed"
    if [ -f "$logs/checks-failed" ]; then
      cat "$logs/checks-failed"
      # The check's own last lines, before the scenarios that ran after it.
      grep -n -B40 -m1 '^=== check FAILED' "$logs/checks.log" | cut -c1-400
    else tail -n 60 "$logs/checks.log"; fi
  }
  [ "$(cat "$logs/versions.rc")" = 0 ] || { echo "=== the checks on ansible-core 2.17, 2.18, 2.20, 2.21 failed; their failures:"; grep -E '^(ERROR|FATAL|FAILED|E  )|\[versions\].*FAILED' "$logs/versions.log" | tail -n 60; }
  if [ -f "$logs/failed" ]; then
    while read -r s; do echo "=== $s failed"; failure_digest "$logs/scenario-$s.log"; done <"$logs/failed"
  fi
  [ "$alone_rc" = skipped ] && echo "=== the one-at-a-time scenarios did not run: a track before them failed"
  echo "make test: FAILED"; exit 1
fi
echo "make test: all passed"
