#!/usr/bin/env bash
# bench/runtimes.sh: the engine runtime and the swarm runtime side by side
# in one run, through serve's API and router on the same host: deploy time
# of a one-replica trial tenant, five activations from passivation (zero
# replicas on swarm) and the router's throughput on the tenant's /healthz
# under wrk. The swarm is a one-node swarm on loopback, left afterwards if
# this run made it. Prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/appfactory ] || { echo "runtimes: run make build first" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null || { echo "runtimes: needs wrk (apt-get install wrk)" >&2; exit 1; }; }
joined=""
if [ "$(docker info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
  docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null; joined=1
fi
DIRS=() PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${DIRS[@]}"; do rm -rf "$d"; done
  [ -n "$joined" ] && docker swarm leave --force >/dev/null 2>&1 || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
jget() { python3 -c "import sys,json;print(json.load(sys.stdin)[\"$1\"])"; }
pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p/100)+1; printf "%.0f", a[i]*1000}'; }

run() {
  local rt=$1 d port token base pid aid tid slug t0 deploy acts=() rps=() p99=()
  d=$(mktemp -d /tmp/af-bench-runtimes.XXXXXX); DIRS+=("$d"); port=$(free_port); base=http://127.0.0.1:$port
  bin/appfactory admin create --data-dir "$d" --email bench@example.com --password 'correct horse battery staple' >/dev/null
  token=$(bin/appfactory token create --data-dir "$d" --email bench@example.com 2>/dev/null | tail -1)
  setsid bin/appfactory serve --addr "127.0.0.1:$port" --data-dir "$d" --domain localhost --runtime "$rt" --idle-timeout 1h >"$d/serve.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  api() { curl -s -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' ${3:+-d "$3"} "$base$2"; }
  state() { api GET "/api/v1/tenants/$tid" | jget state; }
  wait_state() { for _ in $(seq 1 1200); do [ "$(state)" = "$1" ] && return 0; sleep 0.05; done; echo "runtimes: $rt tenant never $1" >&2; tail -5 "$d/serve.log" >&2; exit 1; }
  aid=$(api POST /api/v1/apps '{"name":"Bench '"$rt"'","platform":"contentapp","version":"2.0","components":[],"environment":"trial","replicas":1,"model":{"title":"Bench Docs","doctypes":[{"name":"Contract","fields":[{"name":"amount","type":"number"}]}]}}' | jget id)
  t0=$(date +%s.%N)
  tid=$(api POST "/api/v1/apps/$aid/deploy" '{}' | jget id); slug=$(api GET "/api/v1/tenants/$tid" | jget slug)
  wait_state running
  deploy=$(echo "$(date +%s.%N) - $t0" | bc)
  for _ in 1 2 3 4 5; do
    api POST "/api/v1/tenants/$tid/passivate" '{}' >/dev/null; wait_state passivated; sleep 1
    acts+=("$(curl -s -o /dev/null -w '%{time_total}' -m 60 -H 'Accept: application/json' -H "Host: $slug.localhost:$port" "$base/healthz")")
  done
  for c in 16 64; do
    out=$(wrk -t2 -c"$c" -d8s --latency -H "Host: $slug.localhost:$port" "$base/healthz")
    rps+=("$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')"); p99+=("$(echo "$out" | awk '$1=="99%" {print $2}')")
  done
  api DELETE "/api/v1/tenants/$tid" >/dev/null; wait_state deleted
  printf '| %s | %.2f s | %s ms | %s ms | %s (p99 %s) | %s (p99 %s) |\n' "$rt" "$deploy" \
    "$(printf '%s\n' "${acts[@]}" | pct 50)" "$(printf '%s\n' "${acts[@]}" | pct 95)" "${rps[0]}" "${p99[0]}" "${rps[1]}" "${p99[1]}"
}

echo "| runtime | deploy | activation p50 | activation p95 | router req/s, 16 conns | router req/s, 64 conns |"
echo "|---|---|---|---|---|---|"
run docker
run swarm
