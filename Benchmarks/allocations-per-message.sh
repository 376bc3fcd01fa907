#!/usr/bin/env bash
# CPU and heap allocations per delivered message on the webhook path (claim, render, deliver,
# settle): `herald run --once` delivers COUNT webhook messages to nginx with a malloc counter
# preloaded (Benchmarks/alloc-count.c), and the same run on an empty queue is subtracted, so
# start-up (migrations, opening the queue, loading templates) is not counted. Allocations are a
# count, not a time: the same binary and inputs give the same figure (within a few allocations
# per message of scheduling) on a loaded machine as on a quiet one, so a hot-path change shows
# through this machine's noise. CPU (user+sys, from /usr/bin/time) is printed beside it.
#
#   Benchmarks/allocations-per-message.sh [COUNT]      (default 20000; WORKERS=16 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-20000}
WORKERS=${WORKERS:-16}

source Benchmarks/common.sh
bench_setup nginx-light time gcc sqlite3 bc

bench_webhook_work
bench_messages "$COUNT" "$WORK/messages.ndjson"
gcc -O2 -shared -fPIC -o "$WORK/alloc-count.so" Benchmarks/alloc-count.c -ldl

# run COUNT: a fresh queue holding COUNT of the messages, drained; prints "allocations cpu_seconds".
run() {
  local count=$1 sent user sys
  rm -rf "$WORK/var"
  head -n "$count" "$WORK/messages.ndjson" > "$WORK/batch.ndjson"
  "$BIN/herald" enqueue "$WORK/batch.ndjson" --config "$WORK/Config/herald.yaml" > /dev/null 2>&1
  # The counter goes into herald alone (through env, which execs it), not into time.
  HERALD_LOG_LEVEL=warning /usr/bin/time -f "%U %S" -o "$WORK/time.txt" \
    env ALLOC_COUNT_FILE="$WORK/allocs" LD_PRELOAD="$WORK/alloc-count.so" \
    "$BIN/herald" run --once --workers "$WORKERS" --config "$WORK/Config/herald.yaml" >/dev/null
  sent=$(sqlite3 "$WORK/var/herald.sqlite" "SELECT count(*) FROM messages WHERE state = 'sent'")
  [ "$sent" = "$count" ] || { echo "bench: only $sent of $count sent" >&2; exit 1; }
  read -r user sys < "$WORK/time.txt"
  echo "$(cat "$WORK/allocs") $(echo "$user + $sys" | bc -l)"
}

echo "bench: empty queue, then $COUNT messages"
read -r allocs_empty cpu_empty <<<"$(run 0)"
read -r allocs_full cpu_full <<<"$(run "$COUNT")"
allocs_per=$(echo "($allocs_full - $allocs_empty) / $COUNT" | bc -l)
cpu_per=$(echo "($cpu_full - $cpu_empty) * 1000000 / $COUNT" | bc -l)
printf '\n== Herald per delivered webhook message (%s messages, %s workers) ==\n' "$COUNT" "$WORKERS"
printf 'heap allocations per message    %.1f  (run %s, start-up alone %s)\n' "$allocs_per" "$allocs_full" "$allocs_empty"
printf 'CPU per message (user+sys)      %.1f us\n' "$cpu_per"
printf 'summary: %.1f allocations and %.1f us CPU per message\n' "$allocs_per" "$cpu_per"
