#!/usr/bin/env bash
# A real Docker engine (Debian's docker.io) for the swarm_autolock tests, on a private socket:
#   dockerd.sh start|stop|restart|clean DIR
# One engine per DIR; several DIRs make several engines on the host (the swarm scenario's three managers).
# DIR holds the socket (DIR/docker.sock), data, exec root, pid file and log. No iptables rules and no
# docker0 bridge (--iptables=false --bridge=none): the swarm control plane needs neither, and the lab's
# podman networks run beside it. `clean` stops it and removes DIR and anything it left behind.
set -euo pipefail
cmd=$1 dir=$2
sock=$dir/docker.sock pidfile=$dir/docker.pid

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
  mkdir -p "$dir"
  running && return 0
  # setsid: the engine outlives the Ansible task that starts it.
  setsid dockerd --data-root "$dir/data" --exec-root "$dir/exec" -H "unix://$sock" --pidfile "$pidfile" \
    --iptables=false --ip6tables=false --bridge=none >>"$dir/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 120); do
    if [ -S "$sock" ] && curl -fsS --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "dockerd did not answer on $sock within 60 s; its log:" >&2
  tail -n 30 "$dir/dockerd.log" >&2
  exit 1
}

stop() {
  running || return 0
  local pid
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
}

case $cmd in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  clean)
    stop
    # containerd shims and mounts under the exec root, then the interfaces a swarm may create.
    pkill -f -- "$dir/exec" 2>/dev/null || true
    grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    # The bridge and the veths on it are the host's, shared by the engines beside DIR: removed with the last one.
    if ! pgrep -f -- "dockerd --data-root ${dir%/*}/" >/dev/null && ip link show docker_gwbridge >/dev/null 2>&1; then
      ip -o link show master docker_gwbridge | awk -F': ' '{print $2}' | cut -d@ -f1 | xargs -r -n1 ip link delete 2>/dev/null || true
      ip link delete docker_gwbridge
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop|restart|clean DIR" >&2; exit 2 ;;
esac
