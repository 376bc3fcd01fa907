#!/usr/bin/env bash
# End-to-end webhook throughput: COUNT due messages delivered by `herald run --once` to nginx on
# 127.0.0.1, with two peers measured in the same run on the same machine:
#   - wrk posting the same request to the same nginx (the HTTP ceiling),
#   - the raw SQLite claim loop (claim 100 due rows with UPDATE … RETURNING, mark them done) through
#     GRDB, the library Herald uses (the queue ceiling).
# Prints msgs/s, p50/p99 attempt latency, peak RSS, CPU per message and the share of it spent
# rendering the template, and the ratios.
#
#   Benchmarks/webhook-throughput.sh [COUNT]      (default 100000; WORKERS=64 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
WORKERS=${WORKERS:-64}

source Benchmarks/common.sh
bench_setup nginx-light wrk time sqlite3 bc

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
lease: 2m
retry: {max_attempts: 3, initial: 1s, max: 10s}
channels:
  webhook:
    transport: network
    endpoints:
      bench: {url: "http://127.0.0.1:$PORT/hook", secret: "\${BENCH_HOOK_SECRET}", timeout: 10s}
YAML

bench_messages "$COUNT" "$WORK/messages.ndjson"

echo "bench: herald enqueue"
start=$(date +%s.%N)
"$BIN/herald" enqueue "$WORK/messages.ndjson" --config "$WORK/Config/herald.yaml" > /dev/null
enqueue_s=$(echo "$(date +%s.%N) - $start" | bc -l)

echo "bench: herald run --once --workers $WORKERS"
HERALD_LOG_LEVEL=warning /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.txt" \
  "$BIN/herald" run --once --workers "$WORKERS" --config "$WORK/Config/herald.yaml" &
RUN_PID=$!
while kill -0 "$RUN_PID" 2>/dev/null; do
  sleep 2
  kill -0 "$RUN_PID" 2>/dev/null && echo "bench:   $(sqlite3 "$WORK/var/herald.sqlite" "SELECT count(*) FROM messages WHERE state = 'sent'" 2>/dev/null || echo '?') sent"
done
wait "$RUN_PID"
read -r run_s rss_kb user_s sys_s < "$WORK/time.txt"
DB="$WORK/var/herald.sqlite"
sent=$(sqlite3 "$DB" "SELECT count(*) FROM messages WHERE state = 'sent'")
attempts=$(sqlite3 "$DB" "SELECT count(*) FROM attempts")
p50=$(sqlite3 "$DB" "SELECT duration_us FROM attempts ORDER BY duration_us LIMIT 1 OFFSET (SELECT count(*) * 50 / 100 FROM attempts)")
p99=$(sqlite3 "$DB" "SELECT duration_us FROM attempts ORDER BY duration_us LIMIT 1 OFFSET (SELECT count(*) * 99 / 100 FROM attempts)")

echo "bench: wrk, $WORKERS connections, 10 s"
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"event":"downloaded the guide and read 3 posts","lead":"Sarah Jones","n":12345}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["webhook-id"] = "bench-12345"
wrk.headers["webhook-timestamp"] = "1795366036"
wrk.headers["webhook-signature"] = "v1,Bku3BXFme4SrlN7P8tiAdlAH6BJ4DA31OqjFrW0A/GA="
LUA
wrk_rps=$(wrk -t2 -c"$WORKERS" -d10s -s "$WORK/post.lua" "http://127.0.0.1:$PORT/hook" | awk '/Requests\/sec/ {print $2}')

echo "bench: raw SQLite claim+done loop, $COUNT rows"
"$BIN/herald-bench" claim-loop "$WORK/raw.sqlite" "$COUNT" > "$WORK/raw.txt"
raw_rps=$(awk '/raw_claim_done_rows_per_s/ {print $2}' "$WORK/raw.txt")
flat_small=$(awk '/backlog_20k/ {print $2}' "$WORK/raw.txt")
flat_large=$(awk '/backlog_500k/ {print $2}' "$WORK/raw.txt")

echo "bench: rendering cost of the hot-lead-alert template with the benchmark's messages"
# The first benchmark message, which has the same fields as all the others.
render_out=$("$BIN/herald-bench" render-template Templates hot-lead-alert 3 "$WORK/messages.ndjson")
render_us=$(awk '/render_us_per_message/ {print $2}' <<<"$render_out")
engine_us=$(awk '/engine_alone_us_per_message/ {print $2}' <<<"$render_out")
cpu_us=$(echo "($user_s + $sys_s) * 1000000 / $COUNT" | bc -l)

herald_rps=$(echo "$COUNT / $run_s" | bc -l)
printf '\n== Herald webhook throughput (%s messages, %s workers, %s cores) ==\n' "$COUNT" "$WORKERS" "$(nproc)"
printf 'delivered (sent / attempts)     %s / %s\n' "$sent" "$attempts"
printf 'herald enqueue                  %.0f msgs/s\n' "$(echo "$COUNT / $enqueue_s" | bc -l)"
printf 'herald run --once               %.0f msgs/s  (%.2f s)\n' "$herald_rps" "$run_s"
printf 'attempt latency p50 / p99       %.2f ms / %.2f ms\n' "$(echo "$p50 / 1000" | bc -l)" "$(echo "$p99 / 1000" | bc -l)"
printf 'peak RSS                        %.1f MB\n' "$(echo "$rss_kb / 1024" | bc -l)"
printf 'CPU per message (user+sys)      %.1f us; rendering %.1f us = %.1f %%\n' "$cpu_us" "$render_us" "$(echo "100 * $render_us / $cpu_us" | bc -l)"
printf 'floor: swift-mustache alone     %.1f us = %.1f %% (same template, values prepared, no escaping)\n' "$engine_us" "$(echo "100 * $engine_us / ($cpu_us - $render_us + $engine_us)" | bc -l)"
printf 'peer: wrk -> nginx              %.0f req/s\n' "$wrk_rps"
printf 'peer: raw SQLite claim+done     %.0f rows/s\n' "$raw_rps"
printf 'ratio herald / wrk              %.3f\n' "$(echo "$herald_rps / $wrk_rps" | bc -l)"
printf 'ratio herald / raw SQLite       %.3f\n' "$(echo "$herald_rps / $raw_rps" | bc -l)"
printf 'claim rate, 20k vs 500k backlog %.0f vs %.0f rows/s (ratio %.2f)\n' "$flat_small" "$flat_large" "$(echo "$flat_large / $flat_small" | bc -l)"
printf 'summary: herald/raw SQLite %.3f (target >= 0.30), herald/wrk %.3f, p99 %.2f ms, CPU %.1f us per message\n' \
  "$(echo "$herald_rps / $raw_rps" | bc -l)" "$(echo "$herald_rps / $wrk_rps" | bc -l)" "$(echo "$p99 / 1000" | bc -l)" "$cpu_us"
[ "$sent" -eq "$COUNT" ] || { echo "bench: only $sent of $COUNT sent"; exit 1; }
