#!/usr/bin/env bash
# roundtrip.sh CLIENT SERVER READER_CONFIG...: a request from alice (her client configuration) to
# SERVER, its reply read with each READER_CONFIG on CLIENT. Prints one line per step:
#   served <server output or error>
#   <config> <what it read, or the error>
# Runs the aes-roundtrip double (installed in /usr/local/bin by the scenario) inside the containers.
set -uo pipefail
client=$1 server=$2; shift 2
req=$(podman exec -u alice "$client" aes-roundtrip request /home/alice/.mcollective "uptime please" 2>&1)
rep=$(printf '%s' "$req" | podman exec -i "$server" aes-roundtrip serve /etc/mcollective/server.cfg 2>&1)
echo "served $(printf '%s' "$rep" | head -c 60)"
for cfg in "$@"; do
  user=$(basename "$(dirname "$cfg")")
  echo "$cfg $(printf '%s' "$rep" | podman exec -i -u "$user" "$client" aes-roundtrip reply "$cfg" 2>&1)"
done
