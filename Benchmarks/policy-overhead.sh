#!/usr/bin/env bash
# What the delivery policies cost: the core webhook benchmark (COUNT messages, `herald run --once`
# to nginx on 127.0.0.1) twice in one run, on the same machine:
#   - without policies,
#   - with the policies checked for every message and their tables populated: 100,000 suppressed
#     addresses (imported with `herald suppress import`), quiet hours (a window open all day, so
#     each message is checked in its recipient's zone but none is deferred) and a channel rate
#     limit far above the rate reached (a GCRA slot taken per message).
# Frequency caps are left out: every message here goes to one webhook endpoint, and a cap on one
# recipient either defers nearly everything or, set huge, costs a scan of up to `max` contacts
# per message; with real caps (3 in 7 days) the check reads at most `max` index entries.
# Prints msgs/s of both and the ratio (target: within 20 %).
#
#   Benchmarks/policy-overhead.sh [COUNT]      (default 100000; WORKERS=64)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
WORKERS=${WORKERS:-64}

source Benchmarks/common.sh
bench_setup nginx-light time sqlite3 bc

WORK=$(mktemp -d /tmp/herald-bench.XXXXXX)
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
bench_nginx "$WORK"
export BENCH_HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"

echo "bench: writing $COUNT messages and 100,000 suppressions"
/usr/bin/python3 - "$COUNT" "$WORK" <<'PY'
import sys
count, work = int(sys.argv[1]), sys.argv[2]
zones = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
with open(f"{work}/messages.ndjson", "w") as out:
    for n in range(count):
        out.write('{"key":"bench-%d","channel":"webhook","template":"hot-lead-alert","campaign":"bench",'
                  '"to":{"endpoint":"bench","timezone":"%s"},'
                  '"data":{"lead":"Sarah Jones","event":"downloaded the guide and read 3 posts","n":%d}}\n' % (n, zones[n % 5], n))
with open(f"{work}/suppressions.csv", "w") as out:
    out.write("channel,address,reason\n")
    for n in range(100_000):
        channel = ("email", "sms", "webhook")[n % 3]
        address = {"email": f"lead-{n}@example.com", "sms": f"+1555{n:07d}", "webhook": f"endpoint-{n}"}[channel]
        out.write(f"{channel},{address},unsubscribed\n")
PY

# run NAME POLICY_YAML RATE_LINE: a fresh queue, the messages, herald run --once; prints msgs/s.
run() {
  local name=$1 policies=$2 rate=$3 dir="$WORK/$1"
  mkdir -p "$dir/Config"
  cat > "$dir/Config/herald.yaml" <<YAML
database: var/herald.sqlite
templates: $PWD/Templates
workers: $WORKERS
lease: 2m
retry: {max_attempts: 3, initial: 1s, max: 10s}
intake: {drop_folder: off, socket: off}
$policies
channels:
  webhook:
    transport: network
$rate
    endpoints:
      bench: {url: "http://127.0.0.1:$PORT/hook", secret: "\${BENCH_HOOK_SECRET}", timeout: 10s}
YAML
  "$BIN/herald" enqueue "$WORK/messages.ndjson" --config "$dir/Config/herald.yaml" > /dev/null 2>&1 || true
  if [ -n "$policies" ]; then
    HERALD_LOG_LEVEL=warning "$BIN/herald" suppress import "$WORK/suppressions.csv" --config "$dir/Config/herald.yaml" > /dev/null
    echo "bench:   $name: $(sqlite3 "$dir/var/herald.sqlite" 'SELECT count(*) FROM suppressions') suppressions" >&2
  fi
  # Both variants start from a checkpointed file, so neither pays for the other's setup writes.
  sqlite3 "$dir/var/herald.sqlite" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
  HERALD_LOG_LEVEL=warning /usr/bin/time -f "%e %M" -o "$dir/time.txt" \
    "$BIN/herald" run --once --workers "$WORKERS" --config "$dir/Config/herald.yaml"
  local seconds rss sent
  read -r seconds rss < "$dir/time.txt"
  sent=$(sqlite3 "$dir/var/herald.sqlite" "SELECT count(*) FROM messages WHERE state = 'sent'")
  echo "bench:   $name: $sent sent in $seconds s, peak RSS $((rss / 1024)) MB" >&2
  echo "$COUNT / $seconds" | bc -l
}

POLICIES='policies:
  quiet_hours: [{allow: "00:00-24:00"}]'
RATE='    rate: {limit: 1000000/s, burst: 1000}'

# Interleaved, twice each, best of two: runs on these machines differ by 10 % on their own.
echo "bench: without policies"
plain=$(run plain "" "")
echo "bench: with suppressions, quiet hours and a rate limit"
policed=$(run policed "$POLICIES" "$RATE")
echo "bench: without policies, again"
plain2=$(run plain2 "" "")
echo "bench: with the policies, again"
policed2=$(run policed2 "$POLICIES" "$RATE")

best() { echo "if ($1 > $2) $1 else $2" | bc -l; }
best_plain=$(best "$plain" "$plain2")
best_policed=$(best "$policed" "$policed2")
printf '\n== Policy overhead (%s webhook messages, %s workers, %s cores) ==\n' "$COUNT" "$WORKERS" "$(nproc)"
printf 'without policies            %8.0f msgs/s  (runs: %.0f, %.0f)\n' "$best_plain" "$plain" "$plain2"
printf 'with the policies           %8.0f msgs/s  (runs: %.0f, %.0f; 100,000 suppressions, quiet hours, rate limit)\n' \
  "$best_policed" "$policed" "$policed2"
printf 'ratio with / without        %8.2f  (target >= 0.80)\n' "$(echo "$best_policed / $best_plain" | bc -l)"
printf 'summary: with/without policies %.2f (target >= 0.80)\n' "$(echo "$best_policed / $best_plain" | bc -l)"
