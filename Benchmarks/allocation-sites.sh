#!/usr/bin/env bash
# Where the webhook path's heap allocations come from: `herald run --once` delivers COUNT webhook
# messages to nginx with Benchmarks/alloc-count.c preloaded in sampling mode (one allocation in
# ALLOC_SITES_EVERY has its call stack recorded), then names the functions. Two tables, each as a
# share of the sampled allocations:
#   - by the innermost Herald function on the stack (what to change), and
#   - by the function that called the allocator (what kind of allocation it is).
# The per-message figure itself comes from Benchmarks/allocations-per-message.sh; this tells where
# to look.
#
#   Benchmarks/allocation-sites.sh [COUNT]      (default 20000; WORKERS=16, TOP=30)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-20000}
WORKERS=${WORKERS:-16}
TOP=${TOP:-30}

source Benchmarks/common.sh
bench_setup nginx-light gcc binutils

bench_webhook_work
bench_messages "$COUNT" "$WORK/messages.ndjson"
gcc -O2 -shared -fPIC -o "$WORK/alloc-count.so" Benchmarks/alloc-count.c -ldl
"$BIN/herald" enqueue "$WORK/messages.ndjson" --config "$WORK/Config/herald.yaml" > /dev/null

echo "bench: herald run --once, sampling allocation stacks"
HERALD_LOG_LEVEL=warning env ALLOC_COUNT_FILE="$WORK/allocs" ALLOC_SITES_FILE="$WORK/sites" \
  LD_PRELOAD="$WORK/alloc-count.so" \
  "$BIN/herald" run --once --workers "$WORKERS" --config "$WORK/Config/herald.yaml" >/dev/null

/usr/bin/python3 - "$WORK/sites" "$(cat "$WORK/allocs")" "$COUNT" "$TOP" <<'PY'
import bisect, collections, subprocess, sys

sites_path, total, count, top = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lines = open(sites_path).read().split("\n")
every = int(lines[0].split()[1])
stacks = []
for line in lines[1:]:
    if not line:
        continue
    hits, *frames = line.split(" ")
    stacks.append((int(hits), [tuple(f.rsplit("+", 1)) if "+" in f else (f, "0") for f in frames]))

symbols = {}
def table(module):
    if module not in symbols:
        rows = []
        for flags in ([], ["-D"]):
            out = subprocess.run(["nm", "--defined-only", "-n", *flags, module], capture_output=True, text=True).stdout
            for row in out.splitlines():
                parts = row.split(" ", 2)
                if len(parts) == 3 and parts[1] in "tTwW":
                    rows.append((int(parts[0], 16), parts[2]))
            if rows:
                break
        rows.sort()
        symbols[module] = ([r[0] for r in rows], [r[1] for r in rows])
    return symbols[module]

def name(module, offset):
    addresses, names = table(module)
    i = bisect.bisect_right(addresses, int(offset, 16)) - 1
    return names[i] if i >= 0 else "?"

mangled = {(m, o): name(m, o) for _, frames in stacks for m, o in frames if m != "?"}
unique = sorted(set(mangled.values()))
demangled = dict(zip(unique, subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(unique),
                                            capture_output=True, text=True).stdout.split("\n")))

def readable(frame):
    module, offset = frame
    if module == "?":
        return "?"
    text = demangled.get(mangled[(module, offset)], mangled[(module, offset)])
    return text[:150]

allocator = ("malloc", "calloc", "realloc", "swift_slowAlloc", "swift_allocObject", "swift_allocBox", "posix_memalign",
             "aligned_alloc", "swift_task_alloc", "operator new")
def is_herald(frame):
    # Herald's own functions: the module name is in the mangled symbol (HeraldCore is linked
    # into the executable together with GRDB, swift-mustache and the generic specializations).
    return frame[0] != "?" and "10HeraldCore" in mangled[frame]
by_herald = collections.Counter()
by_caller = collections.Counter()
by_chain = collections.Counter()
sampled = 0
for hits, frames in stacks:
    sampled += hits
    names = [readable(f) for f in frames]
    inner = [i for i, n in enumerate(names) if not any(n.startswith(a) for a in allocator)]
    caller = names[inner[0]] if inner else "?"
    by_caller[caller] += hits
    own = next((i for i, f in enumerate(frames) if is_herald(f)), None)
    by_herald[names[own] if own is not None else "(no Herald frame: " + caller + ")"] += hits
    chain = names[inner[0]:(own + 1 if own is not None else inner[0] + 4)] if inner else names
    by_chain[" <- ".join(n[:70] for n in chain[-5:])] += hits

print(f"\n== Heap allocation sites, webhook path ({count} messages; {total / count:.1f} allocations per message "
      f"including start-up; {sampled} stacks sampled, one in {every}) ==")
for title, counter in (("innermost Herald function", by_herald), ("caller of the allocator", by_caller),
                       ("call chain (allocator's caller ... innermost Herald function)", by_chain)):
    print(f"\n-- by {title} --")
    for site, hits in counter.most_common(top):
        print(f"{100 * hits / sampled:5.1f} %  {hits * every / count:6.1f}/msg  {site}")
PY
