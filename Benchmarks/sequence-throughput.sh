#!/usr/bin/env bash
# Sequences against plain messages, in the same run on the same machine:
#   - ingest: COUNT enrollments through the socket API (one NDJSON stream) against COUNT plain
#     messages through the same socket (the steps and the messages are due far ahead, so only
#     intake is measured);
#   - dispatch: `herald run --once` delivering COUNT sequence steps (enrollments whose one step
#     is due now: the sequencer queues each step, the dispatcher delivers it to nginx) against
#     the same run delivering COUNT plain queued messages with the same template and data.
#     The dispatcher's rate is read from Herald's own record (first attempt's start to last
#     attempt's end); the run's wall time also counts the sequencer's pass that queues the
#     steps (in --once it runs before the dispatcher; under `herald run` the two run together),
#     which is the steps' counterpart of the plain messages' intake.
# Prints msgs/s of each and the ratios on one summary line.
#
#   Benchmarks/sequence-throughput.sh [COUNT]      (default 100000; WORKERS=64 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
WORKERS=${WORKERS:-64}

source Benchmarks/common.sh
bench_setup nginx-light curl time sqlite3 bc

WORK=$(mktemp -d /tmp/herald-bench.XXXXXX)
NGINX_PID=""
RUN_PID=""
cleanup() {
  [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/Config" "$WORK/Sequences"
bench_nginx "$WORK"
export BENCH_HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
cat > "$WORK/Config/herald.yaml" <<YAML
database: var/herald.sqlite
templates: $PWD/Templates
sequences: $WORK/Sequences
workers: $WORKERS
lease: 2m
retry: {max_attempts: 3, initial: 1s, max: 10s}
intake:
  drop_folder: off
  socket: var/herald.sock
channels:
  webhook:
    transport: network
    endpoints:
      bench: {url: "http://127.0.0.1:$PORT/hook", secret: "\${BENCH_HOOK_SECRET}", timeout: 10s}
YAML
# One file per phase: steps due years ahead for the ingest, due at once for the dispatch.
sequence() { printf 'steps:\n  - {name: alert, template: hot-lead-alert, after: %s}\n' "$1" > "$WORK/Sequences/bench.yaml"; }

echo "bench: writing $COUNT messages and $COUNT enrollments"
/usr/bin/python3 - "$COUNT" "$WORK" <<'PY'
import json, sys
count, work = int(sys.argv[1]), sys.argv[2]
data = lambda n: {"lead": "Sarah Jones", "event": "downloaded the guide and read 3 posts", "n": n}
with open(f"{work}/later.ndjson", "w") as later, open(f"{work}/now.ndjson", "w") as now, \
     open(f"{work}/enroll.ndjson", "w") as enroll:
    for n in range(count):
        message = {"key": f"bench-{n}", "channel": "webhook", "template": "hot-lead-alert", "to": {"endpoint": "bench"},
                   "campaign": "bench", "data": data(n)}
        now.write(json.dumps(message) + "\n")
        later.write(json.dumps(dict(message, send_at="2030-01-01T09:00:00Z")) + "\n")
        enroll.write(json.dumps({"enroll": "bench", "key": f"lead-{n}", "to": {"endpoint": "bench"}, "campaign": "bench",
                                 "data": data(n)}) + "\n")
PY

# stream FILE: posts FILE to a fresh herald run's socket; prints the seconds curl took.
stream() {
  rm -rf "$WORK/var"
  HERALD_LOG_LEVEL=warning "$BIN/herald" run --config "$WORK/Config/herald.yaml" > "$WORK/run.log" 2>&1 &
  RUN_PID=$!
  for _ in $(seq 100); do [ -S "$WORK/var/herald.sock" ] && break; sleep 0.1; done
  curl -sS --fail --unix-socket "$WORK/var/herald.sock" -X POST -T "$1" -H 'Content-Type: application/x-ndjson' \
    -H 'Expect:' http://herald/v1/messages -o "$WORK/results.ndjson" -w '%{time_total}'
  kill -TERM "$RUN_PID"; wait "$RUN_PID" || true; RUN_PID=""
}

# drain: herald run --once on the queue as it is; prints its wall seconds.
drain() {
  HERALD_LOG_LEVEL=warning /usr/bin/time -f "%e" -o "$WORK/time.txt" \
    "$BIN/herald" run --once --workers "$WORKERS" --config "$WORK/Config/herald.yaml" > "$WORK/run.log" 2>&1
  cat "$WORK/time.txt"
}

sequence 3650d
echo "bench: ingest, $COUNT plain messages through the socket"
plain_ingest_s=$(stream "$WORK/later.ndjson")
plain_ingested=$(grep -c '"status":"queued"' "$WORK/results.ndjson" || true)
echo "bench: ingest, $COUNT enrollments through the socket"
enroll_ingest_s=$(stream "$WORK/enroll.ndjson")
enrolled=$(grep -c '"status":"enrolled"' "$WORK/results.ndjson" || true)
enrolled_rows=$(sqlite3 "$WORK/var/herald.sqlite" "SELECT count(*) FROM enrollments")

echo "bench: dispatch, $COUNT plain messages"
rm -rf "$WORK/var"
"$BIN/herald" enqueue "$WORK/now.ndjson" --config "$WORK/Config/herald.yaml" > /dev/null
plain_run_s=$(drain)
plain_sent=$(sqlite3 "$WORK/var/herald.sqlite" "SELECT count(*) FROM messages WHERE state = 'sent'")
plain_dispatch_s=$(sqlite3 "$WORK/var/herald.sqlite" "SELECT (max(started_at + duration_us / 1000) - min(started_at)) / 1000.0 FROM attempts")

echo "bench: dispatch, $COUNT sequence steps (the sequencer queues them in the same run)"
rm -rf "$WORK/var"
sequence 0s
"$BIN/herald" enroll "$WORK/enroll.ndjson" --config "$WORK/Config/herald.yaml" > /dev/null
steps_run_s=$(drain)
steps_sent=$(sqlite3 "$WORK/var/herald.sqlite" "SELECT count(*) FROM messages WHERE state = 'sent'")
steps_dispatch_s=$(sqlite3 "$WORK/var/herald.sqlite" "SELECT (max(started_at + duration_us / 1000) - min(started_at)) / 1000.0 FROM attempts")


plain_ingest=$(echo "$COUNT / $plain_ingest_s" | bc -l)
enroll_ingest=$(echo "$COUNT / $enroll_ingest_s" | bc -l)
plain_run=$(echo "$COUNT / $plain_run_s" | bc -l)
steps_run=$(echo "$COUNT / $steps_run_s" | bc -l)
plain_dispatch=$(echo "$COUNT / $plain_dispatch_s" | bc -l)
steps_dispatch=$(echo "$COUNT / $steps_dispatch_s" | bc -l)
# The pass (one `now` for all of it, so not on the record): what the steps' run took beyond its
# dispatcher, less what the plain run took beyond its own (start and exit).
pass_s=$(echo "($steps_run_s - $steps_dispatch_s) - ($plain_run_s - $plain_dispatch_s)" | bc -l)
printf '\n== Herald sequences (%s leads, %s workers, %s cores) ==\n' "$COUNT" "$WORKERS" "$(nproc)"
printf 'ingest: plain messages        %8.0f msgs/s   (%s queued)\n' "$plain_ingest" "$plain_ingested"
printf 'ingest: enrollments           %8.0f leads/s  (%s enrolled, %s rows)\n' "$enroll_ingest" "$enrolled" "$enrolled_rows"
printf 'dispatcher: plain messages    %8.0f msgs/s   (%s sent)\n' "$plain_dispatch" "$plain_sent"
printf 'dispatcher: sequence steps    %8.0f msgs/s   (%s sent)\n' "$steps_dispatch" "$steps_sent"
printf 'sequencer pass                %8.0f steps/s  (%.2f s to queue them)\n' "$(echo "$COUNT / $pass_s" | bc -l)" "$pass_s"
printf 'run --once, plain             %8.0f msgs/s   (%.2f s)\n' "$plain_run" "$plain_run_s"
printf 'run --once, steps (with pass) %8.0f msgs/s   (%.2f s)\n' "$steps_run" "$steps_run_s"
printf 'summary: enroll/ingest %.2f (target >= 0.5), dispatcher steps/plain %.2f (target >= 0.90), run with the pass steps/plain %.2f\n' \
  "$(echo "$enroll_ingest / $plain_ingest" | bc -l)" "$(echo "$steps_dispatch / $plain_dispatch" | bc -l)" \
  "$(echo "$steps_run / $plain_run" | bc -l)"
[ "$enrolled_rows" -eq "$COUNT" ] && [ "$plain_sent" -eq "$COUNT" ] && [ "$steps_sent" -eq "$COUNT" ] || {
  echo "bench: not every lead or message made it (see above)"; exit 1; }
