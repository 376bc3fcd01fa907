# Shared by the benchmark scripts: install what a benchmark needs, build release.
#   bench_setup PACKAGE...    sets BIN to the release binaries' folder
bench_setup() {
  local need=() package
  for package in "$@"; do dpkg -s "$package" >/dev/null 2>&1 || need+=("$package"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "bench: installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  echo "bench: building (release)"
  swift build -c release >/dev/null
  BIN=$(swift build -c release --show-bin-path)
}

#   bench_nginx WORK          starts nginx on a free 127.0.0.1 port answering POST /hook with 200
#                             (and NGINX_LOCATIONS, more location blocks, if set);
#                             sets PORT and NGINX_PID (stop it with kill "$NGINX_PID")
bench_nginx() {
  local work=$1
  PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$PORT;
    location /hook { return 200 "ok\n"; }
    ${NGINX_LOCATIONS:-}
  }
}
NGINX
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -e "$work/nginx/error.log"
  for _ in $(seq 50); do [ -s "$work/nginx/nginx.pid" ] && break; sleep 0.1; done
  NGINX_PID=$(cat "$work/nginx/nginx.pid")
  echo "bench: nginx on 127.0.0.1:$PORT (pid $NGINX_PID)"
}

#   bench_webhook_work        a work folder (WORK, removed at exit with the nginx it starts) whose
#                             Config/herald.yaml delivers webhooks to that nginx with WORKERS workers
#                             (a 10 min lease, no drop folder); sets WORK, PORT and NGINX_PID
bench_webhook_work() {
  WORK=$(mktemp -d /tmp/herald-bench.XXXXXX)
  NGINX_PID=""
  trap '[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
  mkdir -p "$WORK/Config"
  bench_nginx "$WORK"
  export BENCH_HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
  cat > "$WORK/Config/herald.yaml" <<YAML
database: var/herald.sqlite
templates: $PWD/Templates
workers: $WORKERS
lease: 10m
retry: {max_attempts: 3, initial: 1s, max: 10s}
intake: {drop_folder: off}
channels:
  webhook:
    transport: network
    endpoints:
      bench: {url: "http://127.0.0.1:$PORT/hook", secret: "\${BENCH_HOOK_SECRET}", timeout: 60s}
YAML
}

#   bench_postgres WORK       initdb a cluster in WORK/pg (as the postgres user when run as root:
#                             PostgreSQL refuses root), start it on a free 127.0.0.1 port with its
#                             default (durable) settings; sets PGPORT and PG_PID (stop: kill -INT "$PG_PID")
bench_postgres() {
  local work=$1 bin as=()
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PGPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$work/pg"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$work/pg"; chmod 755 "$work"
    as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  fi
  "${as[@]}" "$bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  "${as[@]}" "$bin/postgres" -D "$work/pg/data" -p "$PGPORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$work/pg" -c max_connections=200 -c shared_buffers=256MB >"$work/pg/log" 2>&1 &
  PG_PID=$!
  for _ in $(seq 100); do psql -h 127.0.0.1 -p "$PGPORT" -U postgres -Atc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
  echo "bench: postgres on 127.0.0.1:$PGPORT (pid $PG_PID)"
}

#   pg DB SQL                 one statement through psql, unaligned output
pg() { psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$1" -Atc "$2"; }

#   bench_messages COUNT FILE  COUNT webhook messages for the hot-lead-alert template, NDJSON
bench_messages() {
  echo "bench: writing $1 messages"
  /usr/bin/python3 - "$1" > "$2" <<'PY'
import json, sys
for n in range(int(sys.argv[1])):
    print(json.dumps({"key": f"bench-{n}", "channel": "webhook", "template": "hot-lead-alert",
                      "to": {"endpoint": "bench"}, "campaign": "bench",
                      "data": {"lead": "Sarah Jones", "event": "downloaded the guide and read 3 posts", "n": n}}))
PY
}
