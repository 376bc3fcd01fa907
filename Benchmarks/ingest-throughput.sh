#!/usr/bin/env bash
# Ingest throughput: COUNT messages (default 1,000,000) into the queue
#   - through the socket API, one NDJSON stream on the unix socket (curl -T streams the file),
#   - through the drop folder, one NDJSON file picked up by `herald run --once`,
# with the raw SQLite limit in the same run: the same rows inserted through GRDB into Herald's
# schema, 500 per transaction, nothing parsed or validated (herald-bench insert-batched).
# The messages are due in 2030, so the dispatcher stays idle and only intake is measured.
# Prints msgs/s and peak RSS of each, and the ratios to the raw limit.
#
#   Benchmarks/ingest-throughput.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}

source Benchmarks/common.sh
bench_setup curl time sqlite3 bc

WORK=$(mktemp -d /tmp/herald-bench.XXXXXX)
RUN_PID=""
cleanup() {
  [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

export BENCH_HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
mkdir -p "$WORK/Config"
cat > "$WORK/Config/herald.yaml" <<YAML
database: var/herald.sqlite
templates: $PWD/Templates
intake:
  drop_folder: var/inbox
  socket: var/herald.sock
  poll: 100ms
channels:
  webhook:
    transport: outbox
    endpoints:
      bench: {url: "http://127.0.0.1:9/hook", secret: "\${BENCH_HOOK_SECRET}"}
YAML

echo "bench: writing $COUNT messages"
/usr/bin/python3 - "$COUNT" > "$WORK/messages.ndjson" <<'PY'
import sys
out = sys.stdout
for n in range(int(sys.argv[1])):
    out.write('{"key":"ingest-%d","channel":"webhook","template":"hot-lead-alert",'
              '"to":{"endpoint":"bench","name":"Sarah Jones"},"campaign":"bench","send_at":"2030-01-01T09:00:00Z",'
              '"data":{"lead":"Sarah Jones","event":"downloaded the guide and read 3 posts","n":%d,"score":87}}\n' % (n, n))
PY
echo "bench: $(du -m "$WORK/messages.ndjson" | cut -f1) MB of NDJSON"

peak_rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

echo "bench: socket API, one NDJSON stream"
HERALD_LOG_LEVEL=info "$BIN/herald" run --config "$WORK/Config/herald.yaml" > "$WORK/socket.log" 2>&1 &
RUN_PID=$!
for _ in $(seq 100); do [ -S "$WORK/var/herald.sock" ] && break; sleep 0.1; done
# curl times the exchange itself (-w), so the progress loop's sleeps do not count.
curl -sS --fail --unix-socket "$WORK/var/herald.sock" -X POST -T "$WORK/messages.ndjson" \
  -H 'Content-Type: application/x-ndjson' -H 'Expect:' http://herald/v1/messages -o "$WORK/results.ndjson" \
  -w '%{time_total}' > "$WORK/curl-time.txt" &
CURL_PID=$!
while kill -0 "$CURL_PID" 2>/dev/null; do
  sleep 1
  kill -0 "$CURL_PID" 2>/dev/null && echo "bench:   $(wc -l < "$WORK/results.ndjson") results"
done
wait "$CURL_PID"
socket_s=$(cat "$WORK/curl-time.txt")
socket_rss_kb=$(peak_rss_kb "$RUN_PID")
kill -TERM "$RUN_PID"; wait "$RUN_PID" || true; RUN_PID=""
socket_queued=$(grep -c '"status":"queued"' "$WORK/results.ndjson" || true)
socket_rows=$(sqlite3 "$WORK/var/herald.sqlite" "SELECT count(*) FROM messages")

echo "bench: drop folder, one NDJSON file, herald run --once"
rm -rf "$WORK/var"; mkdir -p "$WORK/var/inbox"
cp "$WORK/messages.ndjson" "$WORK/var/inbox/.bench.ndjson"
mv "$WORK/var/inbox/.bench.ndjson" "$WORK/var/inbox/bench.ndjson"
HERALD_LOG_LEVEL=info /usr/bin/time -f "%e %M" -o "$WORK/time.txt" \
  "$BIN/herald" run --once --config "$WORK/Config/herald.yaml" > "$WORK/drop.log" 2>&1 &
RUN_PID=$!
while kill -0 "$RUN_PID" 2>/dev/null; do
  sleep 1
  kill -0 "$RUN_PID" 2>/dev/null && grep -o 'position=[0-9]*' "$WORK/drop.log" | tail -1 | sed 's/^/bench:   /' || true
done
wait "$RUN_PID"; RUN_PID=""
read -r drop_s drop_rss_kb < "$WORK/time.txt"
drop_rows=$(sqlite3 "$WORK/var/herald.sqlite" "SELECT count(*) FROM messages")

echo "bench: raw SQLite batched insert of the same rows"
raw_rps=$("$BIN/herald-bench" insert-batched "$WORK/raw.sqlite" "$COUNT" | awk '/raw_insert_rows_per_s/ {print $2}')

socket_rps=$(echo "$COUNT / $socket_s" | bc -l)
drop_rps=$(echo "$COUNT / $drop_s" | bc -l)
printf '\n== Herald ingest (%s messages, %s cores) ==\n' "$COUNT" "$(nproc)"
printf 'socket API (NDJSON stream)   %8.0f msgs/s  %6.2f s  peak RSS %6.1f MB  rows %s, results queued %s\n' \
  "$socket_rps" "$socket_s" "$(echo "$socket_rss_kb / 1024" | bc -l)" "$socket_rows" "$socket_queued"
printf 'drop folder (run --once)     %8.0f msgs/s  %6.2f s  peak RSS %6.1f MB  rows %s\n' \
  "$drop_rps" "$drop_s" "$(echo "$drop_rss_kb / 1024" | bc -l)" "$drop_rows"
printf 'raw SQLite batched insert    %8.0f rows/s\n' "$raw_rps"
printf 'ratio socket / raw           %8.2f\n' "$(echo "$socket_rps / $raw_rps" | bc -l)"
printf 'ratio drop folder / raw      %8.2f\n' "$(echo "$drop_rps / $raw_rps" | bc -l)"
printf 'summary: socket/raw %.2f, drop folder/raw %.2f (targets >= 0.85)\n' \
  "$(echo "$socket_rps / $raw_rps" | bc -l)" "$(echo "$drop_rps / $raw_rps" | bc -l)"
