#!/usr/bin/env bash
# Memory and pace at scale: `herald run --once` drains COUNT queued webhook messages to nginx on
# 127.0.0.1. Prints the peak RSS (from /usr/bin/time, and sampled every 2 s so growth shows), and
# the delivery rate over the first and the last 100,000 messages, taken from Herald's own record
# (the attempts' started_at), so a queue that slows as sent rows pile up shows as a ratio.
# Targets: peak RSS <= 60 MB; the last 100,000 within 10 % of the first.
#
#   Benchmarks/drain-throughput.sh [COUNT]      (default 1000000; WORKERS=64 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
WORKERS=${WORKERS:-64}
SLICE=$(( COUNT / 10 < 100000 ? COUNT / 10 : 100000 ))

source Benchmarks/common.sh
bench_setup nginx-light time sqlite3 bc

bench_webhook_work
bench_messages "$COUNT" "$WORK/messages.ndjson"
echo "bench: herald enqueue $COUNT"
"$BIN/herald" enqueue "$WORK/messages.ndjson" --config "$WORK/Config/herald.yaml" > /dev/null
rm "$WORK/messages.ndjson"

echo "bench: herald run --once --workers $WORKERS"
HERALD_LOG_LEVEL=warning /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.txt" \
  "$BIN/herald" run --once --workers "$WORKERS" --config "$WORK/Config/herald.yaml" &
TIME_PID=$!
sleep 0.5
RUN_PID=$(pgrep -P "$TIME_PID" herald || true)
: > "$WORK/rss.txt"
while kill -0 "$TIME_PID" 2>/dev/null; do
  if [ -n "$RUN_PID" ] && rss=$(awk '/VmRSS/ {print $2}' "/proc/$RUN_PID/status" 2>/dev/null); then
    echo "$rss" >> "$WORK/rss.txt"
    echo "bench:   RSS $((rss / 1024)) MB"
  fi
  sleep 2
done
wait "$TIME_PID"
read -r run_s rss_kb user_s sys_s < "$WORK/time.txt"

DB="$WORK/var/herald.sqlite"
sent=$(sqlite3 "$DB" "SELECT count(*) FROM messages WHERE state = 'sent'")
[ "$sent" = "$COUNT" ] || { echo "bench: only $sent of $COUNT sent" >&2; exit 1; }
# Each slice's rate: SLICE attempts over the span of their started_at (ms), in attempt order.
slice_rate() {
  sqlite3 "$DB" "SELECT $SLICE * 1000.0 / (max(started_at) - min(started_at))
                 FROM (SELECT started_at FROM attempts ORDER BY started_at $1 LIMIT $SLICE)"
}
first=$(slice_rate ASC)
last=$(slice_rate DESC)
rss_first=$(head -n 3 "$WORK/rss.txt" | tail -n 1)
rss_last=$(tail -n 2 "$WORK/rss.txt" | head -n 1)

printf '\n== Draining %s queued webhook messages (%s workers) ==\n' "$COUNT" "$WORKERS"
printf 'whole run                 %.1f s, %.0f msgs/s, CPU %.1f us per message\n' "$run_s" \
  "$(echo "$COUNT / $run_s" | bc -l)" "$(echo "($user_s + $sys_s) * 1000000 / $COUNT" | bc -l)"
printf 'first %s               %.0f msgs/s (attempt record)\n' "$SLICE" "$first"
printf 'last %s                %.0f msgs/s (attempt record)\n' "$SLICE" "$last"
printf 'RSS                       peak %.1f MB; sampled %.1f MB early, %.1f MB late\n' \
  "$(echo "$rss_kb / 1024" | bc -l)" "$(echo "${rss_first:-0} / 1024" | bc -l)" "$(echo "${rss_last:-0} / 1024" | bc -l)"
printf 'summary: peak RSS %.1f MB (target <= 60); last/first slice rate %.3f (target >= 0.90)\n' \
  "$(echo "$rss_kb / 1024" | bc -l)" "$(echo "$last / $first" | bc -l)"
