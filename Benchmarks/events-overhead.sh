#!/usr/bin/env bash
# What recording and pushing events costs delivery: COUNT due webhook messages delivered by
# `herald run --once` to nginx on 127.0.0.1, three times in one run on the same machine:
#   - events off (no events section),
#   - events on, pushed to a second nginx location answering 200,
#   - events on, the CRM's location answering 503 throughout (events wait in the queue).
# The three take turns for ROUNDS rounds (so a machine that slows down over the run slows each
# alike) and each is quoted at its best round. Prints msgs/s of each, how many events reached
# the CRM during its best run, and the ratios.
#
#   Benchmarks/events-overhead.sh [COUNT]      (default 100000; WORKERS=64, ROUNDS=2 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
WORKERS=${WORKERS:-64}
ROUNDS=${ROUNDS:-2}

source Benchmarks/common.sh
bench_setup nginx-light time sqlite3 bc

WORK=$(mktemp -d /tmp/herald-events-bench.XXXXXX)
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

NGINX_LOCATIONS='location /events { return 200 "ok\n"; } location /events-down { return 503 "down\n"; }'
bench_nginx "$WORK"
export BENCH_HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
bench_messages "$COUNT" "$WORK/messages.ndjson"

# run NAME EVENTS_YAML: a fresh queue, COUNT messages enqueued, one `herald run --once`;
# prints the seconds it took.
run() {
  local name=$1 events=$2 start
  rm -rf "${WORK:?}/$name"
  mkdir -p "$WORK/$name/Config"
  cat > "$WORK/$name/Config/herald.yaml" <<YAML
database: var/herald.sqlite
templates: $PWD/Templates
workers: $WORKERS
lease: 2m
retry: {max_attempts: 3, initial: 1s, max: 10s}
intake: {drop_folder: off, socket: off}
$events
channels:
  webhook:
    transport: network
    endpoints:
      bench: {url: "http://127.0.0.1:$PORT/hook", secret: "\${BENCH_HOOK_SECRET}", timeout: 10s}
YAML
  HERALD_LOG_LEVEL=warning "$BIN/herald" enqueue "$WORK/messages.ndjson" --config "$WORK/$name/Config/herald.yaml" > /dev/null
  start=$(date +%s.%N)
  HERALD_LOG_LEVEL=error "$BIN/herald" run --once --workers "$WORKERS" --config "$WORK/$name/Config/herald.yaml" 2>"$WORK/$name.err"
  echo "$(date +%s.%N) - $start" | bc -l
}
db() { sqlite3 "$WORK/$1/var/herald.sqlite" "$2"; }
check() {
  [ "$(db "$1" "SELECT count(*) FROM messages WHERE state = 'sent'")" -eq "$COUNT" ] || { echo "bench: $1: not everything was sent"; exit 1; }
}

declare -A best events_yaml pushed recorded
events_yaml[off]=""
events_yaml[on]="events: {url: \"http://127.0.0.1:$PORT/events\", secret: \"\${BENCH_HOOK_SECRET}\"}"
events_yaml[down]="events: {url: \"http://127.0.0.1:$PORT/events-down\", secret: \"\${BENCH_HOOK_SECRET}\"}"
for round in $(seq 1 "$ROUNDS"); do
  for name in off on down; do
    echo "bench: round $round, $name"
    seconds=$(run "$name" "${events_yaml[$name]}")
    check "$name"
    if [ -z "${best[$name]:-}" ] || [ "$(echo "$seconds < ${best[$name]}" | bc -l)" -eq 1 ]; then
      best[$name]=$seconds
      recorded[$name]=$(db "$name" "SELECT count(*) FROM events")
      pushed[$name]=$(db "$name" "SELECT count(*) FROM events WHERE position <= coalesce((SELECT position FROM event_pushes), 0)")
    fi
  done
done
off_s=${best[off]} on_s=${best[on]} down_s=${best[down]}

rate() { echo "$COUNT / $1" | bc -l; }
printf '\n== Events overhead (%s webhook messages, %s workers, %s cores, best of %s rounds) ==\n' "$COUNT" "$WORKERS" "$(nproc)" "$ROUNDS"
printf 'events off                      %.0f msgs/s\n' "$(rate "$off_s")"
printf 'events pushed to nginx          %.0f msgs/s  (%s events recorded, %s accepted by the end of the run)\n' "$(rate "$on_s")" "${recorded[on]}" "${pushed[on]}"
printf 'events on, CRM answering 503    %.0f msgs/s  (%s events recorded, %s accepted)\n' "$(rate "$down_s")" "${recorded[down]}" "${pushed[down]}"
printf 'ratio pushed / off              %.3f\n' "$(echo "$off_s / $on_s" | bc -l)"
printf 'ratio CRM down / off            %.3f\n' "$(echo "$off_s / $down_s" | bc -l)"
printf 'summary: pushed/off %.3f (target >= 0.85), CRM down/off %.3f (target >= 0.90)\n' \
  "$(echo "$off_s / $on_s" | bc -l)" "$(echo "$off_s / $down_s" | bc -l)"
