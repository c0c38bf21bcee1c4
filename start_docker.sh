#!/usr/bin/env bash
# Build and start ASCEP with docker compose, wait until /api/health answers, print the URLs.
#   ./start_docker.sh          build + start (detached)
#   ./start_docker.sh down     stop and remove the containers (Redis' data volume is kept)
#   ./start_docker.sh fresh    stop, delete Redis' data volume (rules, config, history), start again
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

die() { echo "start_docker: $*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "docker is not installed (https://docs.docker.com/engine/install/)"
docker info >/dev/null 2>&1 || die "the Docker engine is not running (or this user may not use it)"
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
else
    die "docker compose is not available"
fi

case "${1:-up}" in
    down) exec "${compose[@]}" down ;;
    fresh) "${compose[@]}" down --volumes ;;
    up) ;;
    *) die "usage: ./start_docker.sh [up|down|fresh]" ;;
esac

if [ -z "${SECRET_KEY:-}" ]; then
    SECRET_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
    export SECRET_KEY
    echo "start_docker: SECRET_KEY not set; generated a random one for this run" >&2
fi
if [ -z "${JWT_SECRET:-}" ]; then
    JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
    export JWT_SECRET
    echo "start_docker: JWT_SECRET not set; generated a random one for this run (tokens end with it)" >&2
fi

"${compose[@]}" build
"${compose[@]}" up -d

url="http://127.0.0.1:5000"
echo "start_docker: waiting for $url/api/health ..." >&2
for _ in $(seq 1 90); do
    # AUTH_MODE=required in production: a short read token, minted inside the gateway's container
    token="$("${compose[@]}" exec -T gateway python -m ascep.gateway.auth.cli token --scopes read --ttl 300 2>/dev/null || true)"
    if [ -n "$token" ] && curl -fsS -H "Authorization: Bearer $token" "$url/api/health" >/dev/null 2>&1; then
        cat <<URLS
ASCEP is up:
  dashboard      $url/
  API            $url/api/services
  health         $url/api/health
  latency        $url/api/latency
  Socket.IO      $url/socket.io/
Logs: ${compose[*]} logs -f     Stop: ./start_docker.sh down
Access is required (ASCEP_ENV=production). Create the first administrator once:
  ${compose[*]} exec gateway python -m ascep.gateway.auth.cli user add admin --scopes admin
then sign in on the dashboard, or: curl -d grant_type=password -d username=admin ... $url/api/auth/token
URLS
        exit 0
    fi
    sleep 2
done
"${compose[@]}" ps
die "the gateway did not report healthy within 180 s; see: ${compose[*]} logs"
