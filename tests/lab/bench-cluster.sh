# shellcheck shell=bash
# Sourced by bench-fleet.sh and bench-client-rpc.sh, from the checkout's top: the standard podman connection,
# the bench containers' cleanup, and a fresh Consul cluster (containers bench1..N on the network keyfleet-bench,
# apart from the molecule scenarios' names).
image=${KEYFLEET_LAB_IMAGE:-localhost/keyfleet-lab}:latest
unset ANSIBLE_CONNECTION_PLUGINS ANSIBLE_PIPELINING
export ANSIBLE_VAULT_PASSWORD_FILE=$PWD/tests/lab/vault-password ANSIBLE_FORCE_COLOR=0
podman network exists keyfleet-bench || podman network create keyfleet-bench >/dev/null

bench_rm() {  # remove every bench container
  podman ps -aq --filter label=keyfleet-bench | xargs -r podman rm -f -t 0 >/dev/null 2>&1 || true
}

bench_cluster() {  # CLIENTS INVENTORY: a fresh unencrypted cluster of 3 servers and CLIENTS clients, its inventory
  local n=$(( 3 + $1 )) inv=$2 i
  bench_rm
  printf 'consul:\n  vars:\n    ansible_connection: containers.podman.podman\n    ansible_python_interpreter: /usr/bin/python3\n    lab_consul_servers: [bench1, bench2, bench3]\n  hosts:\n' > "$inv"
  for i in $(seq 1 "$n"); do
    podman run -d --name "bench$i" --hostname "bench$i" --network keyfleet-bench --systemd always \
      --label keyfleet-bench "$image" /sbin/init >/dev/null
    printf '    bench%d:\n' "$i" >> "$inv"
  done
  ansible-playbook -i "$inv" tests/lab/playbooks/consul_cluster.yml >/dev/null
}
