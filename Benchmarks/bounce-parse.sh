#!/usr/bin/env bash
# Reading bounces on one core: the corpus under Tests/Corpus/bounces (DSNs, ARF complaints,
# auto-replies, broken reports) read COUNT times over by Herald's BounceReport (MIME, the report's
# fields, the VERP address), and in the same run the peer: Python's standard email parser
# (email.message_from_bytes, every part walked and decoded) over the same messages.
#
#   Benchmarks/bounce-parse.sh [COUNT]      (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
echo "bench: building (release)"
swift build -c release --product herald-bench >/dev/null
BIN=$(swift build -c release --show-bin-path)
echo "bench: herald reading $COUNT reports"
out=$("$BIN/herald-bench" bounce-parse Tests/Corpus/bounces "$COUNT")
herald=$(awk '/^herald_reports_per_s/ {print $2}' <<<"$out")
corpus=$(awk '/^corpus_messages/ {print $2}' <<<"$out")
bytes=$(awk '/^mean_bytes/ {print $2}' <<<"$out")
echo "bench: Python's email parser reading $COUNT reports"
python=$(/usr/bin/python3 - "$COUNT" <<'PY'
import email, os, sys, time
count = int(sys.argv[1])
folder = "Tests/Corpus/bounces"
messages = [open(os.path.join(folder, n), "rb").read() for n in sorted(os.listdir(folder)) if n.endswith(".eml")]
start = time.perf_counter()
for i in range(count):
    for part in email.message_from_bytes(messages[i % len(messages)]).walk():
        part.get_payload(decode=True)
print(int(count / (time.perf_counter() - start)))
PY
)
printf '\n== Bounce reading, one core (%s corpus messages, %s bytes on average) ==\n' "$corpus" "$bytes"
printf 'herald BounceReport             %s reports/s\n' "$herald"
printf 'peer: Python email parser       %s reports/s\n' "$python"
printf 'ratio herald / Python           %.2f\n' "$(echo "$herald / $python" | bc -l)"
printf 'summary: herald/Python email parser %.2f\n' "$(echo "$herald / $python" | bc -l)"
