#!/usr/bin/env bash
# The cluster set-up on one machine: Redis, PostgreSQL, three server instances (a, b, c) and nginx in
# front (deploy/nginx.conf), all throwaway in a temp folder. Ctrl-C stops everything.
#   bash scripts/cluster-local.sh           serves http://127.0.0.1:$CLUSTER_PORT (default 8080)
#   bash scripts/cluster-local.sh --check   starts it, checks health (every instance), WebSocket and SSE
#                                           through nginx, stops it; exits 0 when all passed
# CLUSTER_INSTANCES (default 3) sets how many instances. Everything else in the environment
# (OPENAI_BASE_URL, LLM_MODEL, ALLOWED_HOSTS, LEASE_MS…) reaches the instances.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=${1:-serve}
case $MODE in serve | --check) ;; *)
  echo "usage: $0 [--check]" >&2
  exit 2
  ;;
esac
CLUSTER_PORT=${CLUSTER_PORT:-8080}
ALL_IDS=(a b c d e f g h i)
IDS=("${ALL_IDS[@]:0:${CLUSTER_INSTANCES:-3}}")
URL="http://127.0.0.1:$CLUSTER_PORT"

say() { printf '%s\n' "$*" >&2; }
die() {
  say "cluster-local: $*"
  exit 1
}

bash "$ROOT/scripts/ensure-services.sh"
PG_BIN=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/es-cluster-XXXXXX")
# PostgreSQL's user must reach its folder inside.
chmod 711 "$WORK"
declare -A PID=()
PG_STARTED=0

# PostgreSQL refuses to run as root: then its commands run as the postgres user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A bare number: console.log would colour it when FORCE_COLOR is set (as under Playwright).
free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(s.address().port+'\\n');s.close()})"
}

# wait_until SECONDS WHAT PID COMMAND…: until COMMAND succeeds; fails when PID exits or time is up.
wait_until() {
  local end=$((SECONDS + $1)) what=$2 pid=$3
  shift 3
  until "$@" >/dev/null 2>&1; do
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || die "$what exited (see its log below)"
    [ $SECONDS -lt $end ] || die "timed out waiting for $what"
    sleep 0.1
  done
}

# stop NAME SIGNAL: signals one process and waits up to 20 s for it, then kills it.
stop() {
  local pid=${PID[$1]:-} i
  [ -n "$pid" ] || return 0
  kill -s "$2" "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -s KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  say "stopping…"
  # TERM, not QUIT: a graceful nginx would wait for every open stream to end.
  stop nginx TERM
  # SIGTERM: each instance hands its running runs to the others, as in a rolling deploy.
  local stoppers=()
  for id in "${IDS[@]}"; do
    stop "$id" TERM &
    stoppers+=($!)
  done
  wait "${stoppers[@]}" 2>/dev/null || true
  stop redis TERM
  if [ "$PG_STARTED" = 1 ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w -t 10 stop >/dev/null 2>&1 ||
      as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  # A failure shows the logs' ends; Ctrl-C (130) and SIGTERM (143) are the normal way out.
  if [ "$status" -ne 0 ] && [ "$status" -ne 130 ] && [ "$status" -ne 143 ]; then
    for f in "$WORK"/*.log "$WORK"/pg/postgres.log "$WORK"/nginx/logs/error.log; do
      [ -s "$f" ] && say "--- ${f#"$WORK"/} (last lines)" && tail -n 15 "$f" >&2
    done
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "building the server…"
# --check needs only the server; serving also builds the UI it serves.
if [ "$MODE" = --check ]; then node "$ROOT/scripts/build.mjs" --if-stale server >&2; else node "$ROOT/scripts/build.mjs" --if-stale >&2; fi

# Redis: in memory only, like a cache of live frames and commands should be.
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
  --logfile "$WORK/redis.log" </dev/null &
PID[redis]=$!
wait_until 10 redis "${PID[redis]}" redis-cli -p "$REDIS_PORT" ping

# PostgreSQL: a fresh cluster, user `app` without password on loopback. fsync=off: it is thrown away.
mkdir "$WORK/pg"
[ "$(id -u)" -ne 0 ] || chown postgres: "$WORK/pg"
as_pg "$PG_BIN/initdb" -D "$WORK/pg/data" -A trust -U app -E UTF8 --locale=C --no-sync >/dev/null
PG_PORT=$(free_port)
PG_STARTED=1
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/postgres.log" -w -t 20 start \
  -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off" >/dev/null
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U app events

# The instances: the same build and settings, each its own port and INSTANCE_ID. DATABASE_PATH is
# only for a server without cluster mode, so it never touches data/app.db.
declare -A PORT_OF=()
# --check always tries the built-in model, without a token.
CHECK_ENV=()
[ "$MODE" = serve ] || CHECK_ENV=(OPENAI_BASE_URL= API_TOKEN=)
for id in "${IDS[@]}"; do
  PORT_OF[$id]=$(free_port)
  env "${CHECK_ENV[@]}" PORT="${PORT_OF[$id]}" HOST=127.0.0.1 INSTANCE_ID="$id" \
    DATABASE_URL="postgres://app@127.0.0.1:$PG_PORT/events" REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
    TRUST_PROXY=loopback DATABASE_PATH="$WORK/$id.db" \
    node "$ROOT/server/dist/main.js" </dev/null >"$WORK/$id.log" 2>&1 &
  PID[$id]=$!
  # The first instance sets up the database alone; the others then start side by side.
  [ "$id" != "${IDS[0]}" ] || wait_until 30 "instance $id" "${PID[$id]}" curl -fsS "http://127.0.0.1:${PORT_OF[$id]}/healthz"
done
for id in "${IDS[@]}"; do
  wait_until 30 "instance $id" "${PID[$id]}" curl -fsS "http://127.0.0.1:${PORT_OF[$id]}/healthz"
done

# nginx: deploy/nginx.conf with this run's ports, in the foreground, everything in $WORK/nginx.
mkdir -p "$WORK/nginx/logs"
awk -v port="$CLUSTER_PORT" -v list="$(for id in "${IDS[@]}"; do
  printf '        server 127.0.0.1:%s max_fails=1 fail_timeout=5s;\\n' "${PORT_OF[$id]}"
done)" '
  /^[[:space:]]*server 127\.0\.0\.1:[0-9]+ / { next }
  /^[[:space:]]*listen 8080;/ { sub(/listen 8080;/, "listen 127.0.0.1:" port ";") }
  { print }
  /# instances/ { printf "%s", list }
' "$ROOT/deploy/nginx.conf" >"$WORK/nginx/nginx.conf"
NGINX_ARGS=(-p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log")
"$NGINX" -t -q "${NGINX_ARGS[@]}" -g "pid $WORK/nginx/nginx.pid;"
"$NGINX" "${NGINX_ARGS[@]}" -g "daemon off; pid $WORK/nginx/nginx.pid;" </dev/null &
PID[nginx]=$!
wait_until 10 nginx "${PID[nginx]}" curl -fsS "$URL/healthz"

if [ "$MODE" = serve ]; then
  say "cluster: $URL  Redis :$REDIS_PORT  PostgreSQL :$PG_PORT  logs: $WORK"
  for id in "${IDS[@]}"; do say "  instance $id: port ${PORT_OF[$id]}, pid ${PID[$id]}"; done
  say "kill -9 an instance to see its runs taken over; Ctrl-C stops everything"
  echo "$URL"
  # Until Ctrl-C, or until nginx or every instance is gone; an instance's end is only reported.
  while :; do
    wait -n "${PID[@]}" || true
    for name in "${!PID[@]}"; do
      kill -0 "${PID[$name]}" 2>/dev/null && continue
      say "$name exited"
      unset "PID[$name]"
      [ "$name" != nginx ] || die "nginx exited"
    done
    left=0
    for id in "${IDS[@]}"; do [ -z "${PID[$id]:-}" ] || left=1; done
    [ $left = 1 ] || die "no instance left"
  done
fi

# --check: health answers from every instance through nginx (round robin, no stickiness).
declare -A SEEN=()
answers=0
end=$((SECONDS + 30))
while [ ${#SEEN[@]} -lt ${#IDS[@]} ]; do
  [ $SECONDS -lt $end ] || die "health through nginx answered from ${!SEEN[*]} only, after $answers answers"
  body=$(curl -fsS --max-time 5 "$URL/api/v1/health") || die "GET /api/v1/health through nginx failed"
  answers=$((answers + 1))
  id=$(sed -n 's/.*"instance":"\([^"]*\)".*/\1/p' <<<"$body")
  if [ -n "$id" ]; then
    SEEN[$id]=1
  elif [ $answers -ge $((2 * ${#IDS[@]})) ]; then
    say "health carries no instance id (a server without cluster mode): $answers answers, all 200"
    SEEN=([unnamed]=1)
    break
  fi
done
say "ok: health through nginx from instance(s) ${!SEEN[*]}"

# WebSocket through nginx: the upgrade, then the server's hello frame.
curl -sS -i -N --http1.1 --max-time 2 -o "$WORK/ws.out" "$URL/api/v1/ws" \
  -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
  -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' 2>/dev/null || true
grep -aq '^HTTP/1.1 101' "$WORK/ws.out" || die "no WebSocket upgrade through nginx: $(head -c 300 "$WORK/ws.out")"
grep -aq '"type":"hello"' "$WORK/ws.out" || die "no hello frame through the WebSocket"
say "ok: WebSocket through nginx"

# SSE through nginx: frames arrive while the run is still going (nothing buffers them).
curl -sS -N --max-time 3 -o "$WORK/sse.out" -X POST "$URL/api/v1/events/extract/user_0007/llm-stream" \
  2>/dev/null || true
frames=$(grep -c '^data: ' "$WORK/sse.out" || true)
[ "$frames" -ge 2 ] || die "SSE through nginx gave $frames frames in 3 s: $(head -c 300 "$WORK/sse.out")"
grep -q '^data: {"type":"start"' "$WORK/sse.out" || die "SSE did not begin with the start frame"
grep -q '"type":"done"' "$WORK/sse.out" && die "the run finished within 3 s: cannot tell whether nginx buffered"
say "ok: SSE through nginx ($frames frames while the run was live)"
