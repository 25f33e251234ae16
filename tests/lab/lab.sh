#!/usr/bin/env bash
# The keyfleet lab: host packages, the Python venv and a cached podman image of
# Debian bookworm with systemd as PID 1 and the real Consul 1.8.7 (Debian bullseye).
#
#   tests/lab/lab.sh deps    apt packages + .venv + a venv per other ansible-core line (idempotent)
#   tests/lab/lab.sh image   build localhost/keyfleet-lab unless the recipe is unchanged
#   tests/lab/lab.sh cluster SCENARIO   create and prepare a scenario's lab, print its inventory
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
state=${KEYFLEET_LAB_STATE:-/var/tmp/keyfleet-lab}
image=${KEYFLEET_LAB_IMAGE:-localhost/keyfleet-lab}
venv=${KEYFLEET_VENV:-$top/.venv}
mkdir -p "$state"

log() { printf '[lab] %s\n' "$*" >&2; }

debian_mirror() {
  # The mirror this machine already uses; CI machines are configured the same way.
  local m
  m=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
      | grep -v security | grep -oE 'https?://[^ ]+' | head -n 1)
  printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

containers_conf() {
  # crun cannot raise RLIMIT_NPROC here: runc with fixed ulimits (see shared/ENVIRONMENT.md).
  local n; n=$(ulimit -Hn)
  cat > "$state/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$n:$n", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
}

deps() {
  local need=()
  # dockerd and curl: the swarm_autolock scenario runs a real Docker engine on the host.
  for p in podman runc debootstrap rsync shellcheck dockerd curl; do command -v "$p" >/dev/null || need+=("$p"); done
  if [ "${#need[@]}" -gt 0 ]; then
    log "apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap rsync shellcheck docker.io curl >/dev/null
  fi
  local req="$top/tests/lab/requirements.txt" stamp="$venv/.keyfleet-req"
  if [ ! -x "$venv/bin/ansible-playbook" ] || ! cmp -s "$req" "$stamp"; then
    log "python venv $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
  fi
  # The other ansible-core lines (2.17, 2.18, 2.20, 2.21), each in .build/venv-<version> (same stamps).
  "$here/versions.sh" deps
  containers_conf
}

fetch_consul() {
  # Consul is in neither bookworm nor PyPI: take bullseye's .deb through a private
  # apt configuration so the host's sources stay untouched. No fallback: fail loudly.
  local d="$state/apt-bullseye" f
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$state/debs"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s bullseye main\n' "$(debian_mirror)" > "$d/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache")
  if ! ls "$state"/debs/consul_1.8.7*.deb >/dev/null 2>&1; then
    apt-get "${opts[@]}" update -qq || { log "FATAL: cannot read Debian bullseye package lists"; exit 1; }
    (cd "$state/debs" && apt-get "${opts[@]}" -qq download consul >&2) \
      || { log "FATAL: cannot download consul from Debian bullseye"; exit 1; }
  fi
  local debs=("$state"/debs/consul_1.8.7*.deb)
  f=${debs[0]}
  [ -e "$f" ] || { log "FATAL: no consul 1.8.7 .deb (bullseye now carries: $(ls "$state"/debs))"; exit 1; }
  printf '%s\n' "$f"
}

recipe_hash() {
  # The image is rebuilt only when its recipe (the functions below) or the files baked into it change.
  { declare -f debian_mirror fetch_consul image; [ ! -d "$here/image" ] || (cd "$here/image" && find . -type f | sort | xargs -r cat); } \
    | sha256sum | cut -c1-16
}

image() {
  deps
  export CONTAINERS_CONF="$state/containers.conf"
  local h; h=$(recipe_hash)
  if podman image exists "$image:$h"; then
    log "image $image:$h is current"
    podman tag "$image:$h" "$image:latest"
    return 0
  fi
  local deb; deb=$(fetch_consul)
  local root="$state/rootfs"
  rm -rf "$root"
  log "debootstrap bookworm"
  debootstrap --variant=minbase bookworm "$root" "$(debian_mirror)" >"$state/debootstrap.log" 2>&1 \
    || { tail -n 20 "$state/debootstrap.log"; exit 1; }
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cp "$deb" "$root/tmp/consul.deb"
  # python-is-python3: the Aspera doubles start with `#!/usr/bin/env python`, the shebang ansible-test allows.
  chroot "$root" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive;
    apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends systemd systemd-sysv dbus python3 iproute2 procps sudo \
      ca-certificates python3-cryptography python-is-python3 redis-server /tmp/consul.deb \
      mcollective mcollective-client rabbitmq-server >/dev/null &&
    apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/consul.deb' >"$state/chroot.log" 2>&1 \
    || { tail -n 30 "$state/chroot.log"; exit 1; }
  # Services start only when a scenario asks for them; the image carries no cluster state.
  chroot "$root" /bin/sh -c 'systemctl disable consul.service redis-server.service mcollective.service rabbitmq-server.service >/dev/null 2>&1 || true'
  if [ -d "$here/image" ]; then cp -a "$here/image/." "$root/"; fi
  # The Aspera doubles (tests/lab/aspera-doubles.md): the service user, Redis' data directory, and the
  # Redis configuration readable by Redis only (it will hold requirepass).
  chroot "$root" /bin/sh -c 'useradd --system --create-home --home-dir /home/asperadaemon --shell /usr/sbin/nologin asperadaemon &&
    install -d -o asperadaemon -g asperadaemon -m 0750 /var/lib/asperaredis &&
    chown root:asperadaemon /opt/aspera/etc/redis/aspera_31415.conf && chmod 0640 /opt/aspera/etc/redis/aspera_31415.conf' \
    || { log "FATAL: Aspera lab user and directories"; exit 1; }
  rm -f "$root/etc/resolv.conf"
  log "podman import $image:$h"
  tar -C "$root" -c . | podman import --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL=SIGRTMIN+3' - "$image:$h" >/dev/null
  podman tag "$image:$h" "$image:latest"
  rm -rf "$root"
}

cluster() {
  # A molecule scenario's containers, prepared (an unencrypted Consul cluster with data),
  # left running for the demo or the benchmark. Prints the scenario's inventory.
  local s=$1
  local log; log=$(mktemp)
  molecule destroy -s "$s" >/dev/null 2>&1 || true
  # Quiet unless it fails: the demo and the benchmark print only their own lines.
  { molecule create -s "$s" && ANSIBLE_VERBOSITY=0 molecule prepare -s "$s"; } >"$log" 2>&1 \
    || { cat "$log" >&2; rm -f "$log"; exit 1; }
  rm -f "$log"
  local dirs=(~/.ansible/tmp/molecule.*."$s")
  printf '%s/inventory\n' "${dirs[0]}"
}

case "${1:-}" in
  deps) deps ;;
  image) image ;;
  cluster) cluster "$2" ;;
  *) echo "usage: $0 deps|image|cluster SCENARIO" >&2; exit 2 ;;
esac
