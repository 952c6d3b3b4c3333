#!/usr/bin/env bash
# Build the image and start it, then the Compose set-up, and check each serves:
# for a machine with a Docker engine (CI's has none; tests/deploy rehearses both
# without one). Usage: bash deploy/check-container.sh
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-18000}

wait_ready() {
  for _ in $(seq 60); do
    if curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "not ready on port $1" >&2
  return 1
}

docker build -t voice-bridge:check .
name=voice-bridge-check-$$
docker run -d --rm --name "$name" -p "127.0.0.1:$port:8000" voice-bridge:check >/dev/null
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
wait_ready "$port"
[[ "$(docker exec "$name" id -u)" != 0 ]] || { echo "the image runs as root" >&2; exit 1; }
docker exec "$name" bridge user create check --password 'check password' >/dev/null
docker exec "$name" sh -c 'stat -c %a /data/bridge.db /data/bridge.key' | grep -qvx 600 \
  && { echo "files in /data are not 0600" >&2; exit 1; }
docker rm -f "$name" >/dev/null

export BRIDGE_SECRET_KEY=${BRIDGE_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')}
export POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')}
export BRIDGE_PUBLISH=127.0.0.1:$((port + 1))
project=voice-bridge-check-$$
trap 'docker compose -p "$project" down -v >/dev/null 2>&1 || true' EXIT
docker compose -p "$project" up -d --build
wait_ready $((port + 1))
curl -fsS "http://127.0.0.1:$((port + 1))/readyz" | grep -q '"bus"'
echo "the image and the Compose set-up both serve"
