#!/usr/bin/env bash
# One channel's silent peer must not slow another channel. COUNT webhooks to nginx on 127.0.0.1
# delivered by `herald run`, twice in this one invocation:
#   - alone (the peer figure),
#   - while one email is stuck on an SMTP relay that never answers after DATA
#     (Tests/Servers/faulty_smtp.py --fault silent-after-data, email timeout 300 s).
# The rate is taken from Herald's own record (first attempt start to last attempt end). Then
# SIGTERM, and the time the run takes to exit with the email still stuck (shutdown_grace 5 s).
# Prints both rates, their ratio (target >= 0.8) and the exit time (target <= grace + 5 s).
#
#   Benchmarks/slow-relay-isolation.sh [COUNT]      (default 5000; WORKERS=16 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-5000}
WORKERS=${WORKERS:-16}

source Benchmarks/common.sh
bench_setup nginx-light sqlite3 bc

WORK=$(mktemp -d /tmp/herald-bench.XXXXXX)
NGINX_PID="" RELAY_PID="" RUN_PID=""
cleanup() {
  for pid in "$RUN_PID" "$RELAY_PID" "$NGINX_PID"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/Config" "$WORK/Templates/mail"
bench_nginx "$WORK"
/usr/bin/python3 Tests/Servers/faulty_smtp.py --fault silent-after-data --log "$WORK/relay.ndjson" > "$WORK/relay.out" &
RELAY_PID=$!
for _ in $(seq 100); do grep -q PORT "$WORK/relay.out" 2>/dev/null && break; sleep 0.1; done
RELAY_PORT=$(awk '/PORT/ {print $2}' "$WORK/relay.out")

cp -r Templates/hot-lead-alert "$WORK/Templates/"
printf 'channel: email\ncategory: transactional\n' > "$WORK/Templates/mail/manifest.yaml"
printf 'Hello\n' > "$WORK/Templates/mail/subject.txt"
printf 'Hello\n' > "$WORK/Templates/mail/text.txt"
export BENCH_HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
cat > "$WORK/Config/herald.yaml" <<YAML
database: var/herald.sqlite
templates: Templates
workers: $WORKERS
lease: 10m
shutdown_grace: 5s
retry: {max_attempts: 3, initial: 1h, max: 2h}
channels:
  webhook:
    transport: network
    endpoints:
      bench: {url: "http://127.0.0.1:$PORT/hook", secret: "\${BENCH_HOOK_SECRET}", timeout: 3s}
  email:
    transport: network
    smtp: {url: "smtp://127.0.0.1:$RELAY_PORT", helo: bench.test, starttls: off}
    from: "Bench <bench@example.com>"
    connect_timeout: 5s
    timeout: 300s
YAML
/usr/bin/python3 - "$COUNT" > "$WORK/hooks.ndjson" <<'PY'
import json, sys
for n in range(int(sys.argv[1])):
    print(json.dumps({"key": f"hook-{n}", "channel": "webhook", "template": "hot-lead-alert", "to": {"endpoint": "bench"},
                      "campaign": "bench", "data": {"lead": "Sarah Jones", "event": "downloaded the guide", "n": n}}))
PY
echo '{"key": "stuck", "channel": "email", "template": "mail", "to": {"email": "lead@example.com"}}' > "$WORK/mail.ndjson"

herald() { (cd "$WORK" && HERALD_LOG_LEVEL=warning exec "$BIN/herald" "$@" --config Config/herald.yaml); }
sql() { sqlite3 "$WORK/var/herald.sqlite" "$1"; }

# measure LABEL WITH_EMAIL: sets RATE to the webhook rate by Herald's record; leaves the run going.
measure() {
  rm -rf "$WORK/var"
  if [ "$2" = yes ]; then herald enqueue mail.ndjson > /dev/null; fi
  # exec: RUN_PID is herald itself, so the signal and the wait are herald's.
  (cd "$WORK" && HERALD_LOG_LEVEL=warning exec "$BIN/herald" run --config Config/herald.yaml) 2> "$WORK/run-$1.err" &
  RUN_PID=$!
  if [ "$2" = yes ]; then
    for _ in $(seq 300); do grep -q '"message"' "$WORK/relay.ndjson" 2>/dev/null && break; sleep 0.1; done
    grep -q '"message"' "$WORK/relay.ndjson" || { echo "bench: the email never reached the relay"; exit 1; }
    echo "bench:   the email is stuck on the relay"
  fi
  herald enqueue hooks.ndjson > /dev/null
  for _ in $(seq 1200); do
    [ "$(sql "SELECT count(*) FROM messages WHERE channel = 'webhook' AND state IN ('sent', 'failed')")" -eq "$COUNT" ] && break
    sleep 0.1
  done
  sql "SELECT count(*) FROM messages WHERE channel = 'webhook' AND state = 'sent'" | grep -qx "$COUNT" \
    || { echo "bench: $1: not all webhooks were sent"; exit 1; }
  RATE=$(sql "SELECT $COUNT * 1000000.0 / (max(a.started_at * 1000 + a.duration_us) - min(a.started_at * 1000))
       FROM attempts a JOIN messages m ON m.id = a.message_id WHERE m.channel = 'webhook'")
}

echo "bench: $COUNT webhooks alone"
measure alone no
alone=$RATE
kill -TERM "$RUN_PID"; wait "$RUN_PID" || true
echo "bench: $COUNT webhooks with one email stuck on a silent relay"
measure stuck yes
stuck=$RATE
[ "$(sql "SELECT count(*) FROM attempts a JOIN messages m ON m.id = a.message_id WHERE m.key = 'stuck'")" -eq 0 ] \
  || { echo "bench: the email was not stuck for the whole run"; exit 1; }
start=$(date +%s.%N)
kill -TERM "$RUN_PID"
status=0; wait "$RUN_PID" || status=$?
exit_s=$(echo "$(date +%s.%N) - $start" | bc -l)
RUN_PID=""

printf '\n== One email stuck on a silent relay (%s webhooks, %s workers, %s cores) ==\n' "$COUNT" "$WORKERS" "$(nproc)"
printf 'webhooks alone                  %.0f msgs/s\n' "$alone"
printf 'webhooks beside the stuck email %.0f msgs/s\n' "$stuck"
printf 'ratio stuck / alone             %.3f   (target >= 0.8)\n' "$(echo "$stuck / $alone" | bc -l)"
printf 'SIGTERM to exit, email stuck    %.2f s (exit status %s; shutdown_grace 5 s, target <= 10 s)\n' "$exit_s" "$status"
printf 'summary: stuck/alone %.3f (target >= 0.8), SIGTERM to exit %.2f s (target <= 10)\n' "$(echo "$stuck / $alone" | bc -l)" "$exit_s"
