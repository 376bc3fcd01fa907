#!/usr/bin/env bash
# End-to-end email throughput: COUNT due emails (the welcome-guide template, text + HTML) rendered
# and delivered by `herald run --once` to Postfix's smtp-sink on 127.0.0.1, and in the same run two
# peers: smtp-source straight to the sink with as many sessions as Herald has workers (the SMTP
# limit), and Postfix itself relaying the same count from smtp-source to the same sink.
# Prints both rates, their ratio, Herald's peak RSS and how many SMTP sessions each used.
#
#   Benchmarks/smtp-throughput.sh [COUNT]      (default 50000; WORKERS=16 by default)
#
# It reconfigures the machine's Postfix (relayhost, loopback only) for the peer run: use a
# scratch machine.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-50000}
WORKERS=${WORKERS:-16}

source Benchmarks/common.sh
bench_setup postfix time sqlite3 bc

WORK=$(mktemp -d /tmp/herald-smtp-bench.XXXXXX)
SINK_PID=""
cleanup() {
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
  postfix stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SINK=$(free_port)
# -c: a running "sess=N quit=N mesg=N" counter on stdout; 1000: the listen backlog.
smtp-sink -c -u postfix "127.0.0.1:$SINK" 1000 > "$WORK/sink.out" 2>&1 &
SINK_PID=$!
sleep 0.5
delivered() { tr '\r' '\n' < "$WORK/sink.out" | awk -F'mesg=' 'NF > 1 {n = $2} END {print n + 0}'; }
sessions() { tr '\r' '\n' < "$WORK/sink.out" | awk -F'[ =]' '/sess=/ {n = $2} END {print n + 0}'; }
wait_for() {  # wait until the sink has seen $1 messages; print progress
  local target=$1 last=-1 same=0
  while true; do
    local now; now=$(delivered)
    [ "$now" -ge "$target" ] && return 0
    if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; echo "bench:   sink has $now of $target"; fi
    [ "$same" -gt 300 ] && { echo "bench: stalled at $now of $target"; return 1; }
    last=$now
    sleep 0.2
  done
}
echo "bench: smtp-sink on 127.0.0.1:$SINK"

export BENCH_UNSUBSCRIBE_SECRET="bench-unsubscribe-key-0123456789"
mkdir -p "$WORK/Config"
cat > "$WORK/Config/herald.yaml" <<YAML
database: var/herald.sqlite
templates: $PWD/Templates
workers: $WORKERS
lease: 2m
retry: {max_attempts: 3, initial: 1s, max: 10s}
unsubscribe: {base_url: "https://crm.example.com/u", secret: "\${BENCH_UNSUBSCRIBE_SECRET}"}
channels:
  email:
    transport: network
    smtp: {url: "smtp://127.0.0.1:$SINK", helo: herald.bench, starttls: off}
    from: "Harbor Financial Planning <news@harbor-financial.example>"
    list_unsubscribe_mailto: unsubscribe@harbor-financial.example
YAML

echo "bench: writing $COUNT messages"
/usr/bin/python3 - "$COUNT" > "$WORK/messages.ndjson" <<'PY'
import json, sys
for n in range(int(sys.argv[1])):
    print(json.dumps({"key": f"bench-{n}", "channel": "email", "template": "welcome-guide",
                      "to": {"email": f"lead{n}@example.com", "name": "Sarah Jones"}, "campaign": "bench",
                      "data": {"first_name": "Sarah", "guide": "Your Guide to a Secure Retirement",
                               "guide_url": "https://harbor-financial.example/guides/secure-retirement.pdf",
                               "advisor": "Daniel Reyes", "highlights": ["How much is enough?", "Social Security timing"]}}))
PY
(cd "$WORK" && "$BIN/herald" enqueue messages.ndjson --config Config/herald.yaml > /dev/null)
size=$(cd "$WORK" && "$BIN/herald" preview welcome-guide --raw --config Config/herald.yaml | wc -c)

echo "bench: herald run --once --workers $WORKERS ($size-byte messages)"
start=$(date +%s.%N)
(cd "$WORK" && HERALD_LOG_LEVEL=warning /usr/bin/time -f "%e %M" -o time.txt "$BIN/herald" run --once --workers "$WORKERS" --config Config/herald.yaml) &
RUN=$!
wait_for "$COUNT"
wait "$RUN"
herald_s=$(echo "$(date +%s.%N) - $start" | bc -l)
read -r _ rss_kb < "$WORK/time.txt"
herald_sessions=$(sessions)
sent=$(sqlite3 "$WORK/var/herald.sqlite" "SELECT count(*) FROM messages WHERE state = 'sent'")

echo "bench: smtp-source straight to the sink, $WORKERS sessions (the SMTP limit)"
base=$(delivered)
start=$(date +%s.%N)
smtp-source -s "$WORKERS" -m "$COUNT" -l "$size" -f bench@example.com -t lead@example.com "127.0.0.1:$SINK"
wait_for $((base + COUNT))
source_s=$(echo "$(date +%s.%N) - $start" | bc -l)

echo "bench: postfix relaying $COUNT messages from smtp-source to the same sink"
postfix stop >/dev/null 2>&1 || true
postconf -e "relayhost = [127.0.0.1]:$SINK" "inet_interfaces = loopback-only" "inet_protocols = ipv4" \
  "mydestination =" "mynetworks = 127.0.0.0/8" "smtp_tls_security_level = none" "smtpd_tls_security_level = none" \
  "default_process_limit = 100" "smtp_destination_concurrency_limit = 20" "maillog_file = /var/log/herald-bench-postfix.log"  # postfix accepts only /var or /dev/stdout
postfix start >/dev/null
sleep 1
base=$(delivered)
start=$(date +%s.%N)
smtp-source -s 20 -m "$COUNT" -l "$size" -f bench@example.com -t lead@example.com 127.0.0.1:25
wait_for $((base + COUNT))
postfix_s=$(echo "$(date +%s.%N) - $start" | bc -l)

herald_rate=$(echo "$COUNT / $herald_s" | bc -l)
source_rate=$(echo "$COUNT / $source_s" | bc -l)
postfix_rate=$(echo "$COUNT / $postfix_s" | bc -l)
printf '\n== Email throughput to smtp-sink (%s messages of %s bytes, %s cores) ==\n' "$COUNT" "$size" "$(nproc)"
printf 'herald run --once (%s workers)  %.0f msgs/s (%.2f s), %s sent, %s SMTP sessions\n' "$WORKERS" "$herald_rate" "$herald_s" "$sent" "$herald_sessions"
printf 'herald peak RSS                 %.1f MB\n' "$(echo "$rss_kb / 1024" | bc -l)"
printf 'peer: smtp-source -> smtp-sink  %.0f msgs/s (%.2f s, %s sessions)\n' "$source_rate" "$source_s" "$WORKERS"
printf 'peer: postfix relaying          %.0f msgs/s (%.2f s)\n' "$postfix_rate" "$postfix_s"
printf 'ratio herald / postfix          %.2f\n' "$(echo "$herald_rate / $postfix_rate" | bc -l)"
printf 'summary: herald/smtp-source %.2f (target >= 0.50), herald/postfix %.2f (target >= 5)\n' \
  "$(echo "$herald_rate / $source_rate" | bc -l)" "$(echo "$herald_rate / $postfix_rate" | bc -l)"
[ "$sent" -eq "$COUNT" ] || { echo "bench: only $sent of $COUNT sent"; exit 1; }
