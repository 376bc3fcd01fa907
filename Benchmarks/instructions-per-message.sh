#!/usr/bin/env bash
# Instructions and allocations per delivered message, counted rather than timed, so a change of
# a few percent on the hot path (claim, render, deliver, settle) shows through this machine's noise:
# `herald run --once` delivers COUNT webhook messages to nginx under valgrind's callgrind (every
# instruction the process ran) and again under dhat (every heap block it allocated). The same
# binary, inputs and settings give the same counts on a loaded machine as on a quiet one.
# What the process does once (start, migrations, open the queue) is measured on an empty queue
# and subtracted, so the figures are per message.
#
#   Benchmarks/instructions-per-message.sh [COUNT]      (default 2000; WORKERS=16 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-2000}
WORKERS=${WORKERS:-16}

source Benchmarks/common.sh
bench_setup nginx-light valgrind sqlite3 bc

WORK=$(mktemp -d /tmp/herald-bench.XXXXXX)
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

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
bench_messages "$COUNT" "$WORK/messages.ndjson"

# run TOOL COUNT: a fresh queue holding COUNT of the messages, drained under valgrind TOOL;
# prints the tool's total (instructions for callgrind, blocks allocated for dhat).
run() {
  local tool=$1 count=$2
  rm -rf "$WORK/var"
  head -n "$count" "$WORK/messages.ndjson" > "$WORK/batch.ndjson"
  "$BIN/herald" enqueue "$WORK/batch.ndjson" --config "$WORK/Config/herald.yaml" > /dev/null
  if [ "$tool" = callgrind ]; then
    HERALD_LOG_LEVEL=warning valgrind --tool=callgrind --callgrind-out-file="$WORK/out" \
      "$BIN/herald" run --once --workers "$WORKERS" --config "$WORK/Config/herald.yaml" 2>"$WORK/valgrind.log" >/dev/null
    awk '/^summary:/ {print $2}' "$WORK/out"
  else
    HERALD_LOG_LEVEL=warning valgrind --tool=dhat --dhat-out-file="$WORK/out" \
      "$BIN/herald" run --once --workers "$WORKERS" --config "$WORK/Config/herald.yaml" 2>"$WORK/valgrind.log" >/dev/null
    sed -n 's/.*Total:[^0-9]*[0-9,]* bytes in \([0-9,]*\) blocks.*/\1/p' "$WORK/valgrind.log" | tr -d ,
  fi
  local sent
  sent=$(sqlite3 "$WORK/var/herald.sqlite" "SELECT count(*) FROM messages WHERE state = 'sent'")
  [ "$sent" = "$count" ] || { echo "bench: only $sent of $count sent under $tool" >&2; exit 1; }
}

echo "bench: callgrind, empty queue and $COUNT messages"
ir_empty=$(run callgrind 0)
ir_full=$(run callgrind "$COUNT")
echo "bench: dhat, empty queue and $COUNT messages"
blocks_empty=$(run dhat 0)
blocks_full=$(run dhat "$COUNT")

ir_per=$(echo "($ir_full - $ir_empty) / $COUNT" | bc -l)
blocks_per=$(echo "($blocks_full - $blocks_empty) / $COUNT" | bc -l)
printf '\n== Herald per delivered webhook message (%s messages, %s workers, callgrind and dhat) ==\n' "$COUNT" "$WORKERS"
printf 'instructions per message        %.0f  (run %s, start-up alone %s)\n' "$ir_per" "$ir_full" "$ir_empty"
printf 'heap blocks per message         %.1f  (run %s, start-up alone %s)\n' "$blocks_per" "$blocks_full" "$blocks_empty"
printf 'summary: %.0f instructions and %.1f allocations per message\n' "$ir_per" "$blocks_per"
