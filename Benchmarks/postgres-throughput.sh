#!/usr/bin/env bash
# Herald on PostgreSQL: COUNT due webhook messages delivered to nginx on 127.0.0.1 by one
# `herald run --once` and by two at once, with, in the same run on the same server:
#   - the engine's limit: a raw claim-100-with-SKIP-LOCKED + mark-done loop through postgres-nio
#     on Herald's schema (herald-bench pg-claim-loop),
#   - Herald on SQLite, the same messages to the same nginx,
#   - idle-to-delivery latency with NOTIFY: one message enqueued into an idle queue, from its
#     insert (created_at) until its attempt ended (started_at + duration), both Herald's record.
# Prints msgs/s and the ratios.
#
#   Benchmarks/postgres-throughput.sh [COUNT]      (default 100000; WORKERS=64 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
WORKERS=${WORKERS:-64}
LATENCY_SAMPLES=${LATENCY_SAMPLES:-40}

source Benchmarks/common.sh
bench_setup nginx-light postgresql time bc

WORK=$(mktemp -d /tmp/herald-pgbench.XXXXXX)
NGINX_PID=""
PG_PID=""
RUN_PID=""
cleanup() {
  [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  if [ -n "$PG_PID" ]; then kill -INT "$PG_PID" 2>/dev/null || true; wait "$PG_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/Config"
bench_nginx "$WORK"
bench_postgres "$WORK"

export BENCH_HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
config() {  # config NAME DATABASE [POLL]
  cat > "$WORK/Config/$1.yaml" <<YAML
database: "$2"
templates: $PWD/Templates
workers: $WORKERS
lease: 2m
poll_interval: ${3:-1s}
retry: {max_attempts: 3, initial: 1s, max: 10s}
intake: {drop_folder: off, socket: off}
channels:
  webhook:
    transport: network
    endpoints:
      bench: {url: "http://127.0.0.1:$PORT/hook", secret: "\${BENCH_HOOK_SECRET}", timeout: 10s}
YAML
}
url() { echo "postgres://postgres@127.0.0.1:$PGPORT/$1?sslmode=disable&pool=10"; }

bench_messages "$COUNT" "$WORK/messages.ndjson"

# CPU seconds the server's processes used so far: the postmaster's own and its reaped
# children's (a backend's time is counted when it exits, so read this after the pool closed).
pg_cpu() { awk -v tick="$(getconf CLK_TCK)" '{print ($14 + $15 + $16 + $17) / tick}' "/proc/$PG_PID/stat"; }

# run_herald NAME PROCESSES: enqueue COUNT messages, then PROCESSES `herald run --once` at once;
# prints the seconds from the first start to the last exit; the herald processes' CPU seconds
# go to WORK/NAME.cpu (one line each).
run_herald() {
  local name=$1 processes=$2 pids=() start
  HERALD_LOG_LEVEL=warning "$BIN/herald" enqueue "$WORK/messages.ndjson" --config "$WORK/Config/$name.yaml" > /dev/null 2>"$WORK/$name.enqueue.err"
  start=$(date +%s.%N)
  for n in $(seq "$processes"); do
    HERALD_LOG_LEVEL=warning /usr/bin/time -f '%U %S' -o "$WORK/$name.cpu.$n" \
      "$BIN/herald" run --once --workers "$WORKERS" --config "$WORK/Config/$name.yaml" 2>>"$WORK/$name.run.err" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  echo "$(date +%s.%N) - $start" | bc -l
}
# herald_cpu NAME: microseconds of herald CPU per message over its processes
herald_cpu() { cat "$WORK/$1".cpu.* | awk -v count="$COUNT" '{s += $1 + $2} END {printf "%.0f", s * 1000000 / count}'; }

for db in one two raw latency; do pg postgres "CREATE DATABASE $db" >/dev/null; done
config one "$(url one)"; config two "$(url two)"; config sqlite var/herald.sqlite

echo "bench: herald on PostgreSQL, one process"
server_before=$(pg_cpu)
one_s=$(run_herald one 1)
sleep 1  # the pool's backends exit and are reaped
one_server_us=$(echo "($(pg_cpu) - $server_before) * 1000000 / $COUNT" | bc -l)
echo "bench: herald on PostgreSQL, two processes"
two_s=$(run_herald two 2)
echo "bench: herald on SQLite"
sqlite_s=$(run_herald sqlite 1)
echo "bench: raw postgres-nio claim+done loop, $COUNT rows"
server_before=$(pg_cpu)
"$BIN/herald-bench" pg-claim-loop "$(url raw)" "$COUNT" > "$WORK/raw.txt"
sleep 1
raw_server_us=$(echo "($(pg_cpu) - $server_before) * 1000000 / $COUNT" | bc -l)
raw_rps=$(awk '/raw_pg_claim_done_rows_per_s/ {print $2}' "$WORK/raw.txt")

one_sent=$(pg one "SELECT count(*) FROM messages WHERE state = 'sent'")
two_sent=$(pg two "SELECT count(*) FROM messages WHERE state = 'sent'")
two_attempts=$(pg two "SELECT count(*) FROM attempts")
two_split=$(pg two "SELECT string_agg(n::text, ' + ') FROM (SELECT count(*) AS n FROM attempts GROUP BY worker ORDER BY 1 DESC) w")

echo "bench: idle-to-delivery latency, $LATENCY_SAMPLES messages one at a time into an idle queue (poll 30 s, NOTIFY on)"
config latency "$(url latency)" 30s
HERALD_LOG_LEVEL=warning "$BIN/herald" run --workers 8 --config "$WORK/Config/latency.yaml" 2>"$WORK/latency.err" &
RUN_PID=$!
sleep 3
for n in $(seq "$LATENCY_SAMPLES"); do
  echo "{\"key\": \"idle-$n\", \"channel\": \"webhook\", \"template\": \"hot-lead-alert\", \"to\": {\"endpoint\": \"bench\"}, \"data\": {\"lead\": \"Sarah Jones\", \"event\": \"opened\", \"n\": $n}}" \
    | HERALD_LOG_LEVEL=warning "$BIN/herald" enqueue - --config "$WORK/Config/latency.yaml" > /dev/null
  sleep 0.3
done
sleep 2
kill -TERM "$RUN_PID"; wait "$RUN_PID" || true; RUN_PID=""
latency=$(pg latency "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a.started_at + a.duration_us / 1000.0 - m.created_at),
                             percentile_cont(0.9) WITHIN GROUP (ORDER BY a.started_at + a.duration_us / 1000.0 - m.created_at), count(*)
                      FROM attempts a JOIN messages m ON m.id = a.message_id")
IFS='|' read -r lat_p50 lat_p90 lat_n <<<"$latency"

rate() { echo "$COUNT / $1" | bc -l; }
printf '\n== Herald on PostgreSQL (%s webhook messages, %s workers, %s cores) ==\n' "$COUNT" "$WORKERS" "$(nproc)"
printf 'one process                     %.0f msgs/s  (%s sent)\n' "$(rate "$one_s")" "$one_sent"
printf '  CPU per message                 herald %s µs, PostgreSQL server %.0f µs  (the run, enqueue excluded)\n' "$(herald_cpu one)" "$one_server_us"
printf 'two processes                   %.0f msgs/s  (%s sent, %s attempts: %s)\n' "$(rate "$two_s")" "$two_sent" "$two_attempts" "$two_split"
printf 'peer: raw claim+done loop       %.0f rows/s  (PostgreSQL server %.0f µs CPU per row, its insert included)\n' "$raw_rps" "$raw_server_us"
printf 'herald on SQLite                %.0f msgs/s\n' "$(rate "$sqlite_s")"
printf 'ratio one process / raw loop    %.3f\n' "$(echo "$(rate "$one_s") / $raw_rps" | bc -l)"
printf 'ratio two / one process         %.3f\n' "$(echo "$one_s / $two_s" | bc -l)"
printf 'ratio PostgreSQL / SQLite       %.3f\n' "$(echo "$sqlite_s / $one_s" | bc -l)"
printf 'idle-to-delivery p50 / p90      %.1f ms / %.1f ms  (%s messages)\n' "$lat_p50" "$lat_p90" "$lat_n"
printf 'summary: one process/raw loop %.3f (target >= 0.5), two/one %.3f (>= 1), PostgreSQL/SQLite %.3f, idle-to-delivery p50 %.1f ms (<= 50)\n' \
  "$(echo "$(rate "$one_s") / $raw_rps" | bc -l)" "$(echo "$one_s / $two_s" | bc -l)" "$(echo "$sqlite_s / $one_s" | bc -l)" "$lat_p50"
[ "$one_sent" -eq "$COUNT" ] && [ "$two_sent" -eq "$COUNT" ] || { echo "bench: not everything was sent"; exit 1; }
