#!/usr/bin/env bash
# Template rendering on one core: a 2 KB HTML email with 10 personalization tokens, HTML-escaped,
# through Herald's whole renderer (stored data JSON parsed, tokens checked, rendered, escaped),
# and in the same run the peer: swift-mustache alone rendering the same template from a prepared
# dictionary with its own HTML escaping.
#
#   Benchmarks/template-render.sh [SECONDS]      (default 5 per measurement)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-5}
echo "bench: building (release)"
swift build -c release --product herald-bench >/dev/null
BIN=$(swift build -c release --show-bin-path)
echo "bench: rendering for ${SECONDS_EACH} s each (herald, then swift-mustache alone)"
out=$("$BIN/herald-bench" render "$SECONDS_EACH")
herald=$(awk '/^herald_renders_per_s/ {print $2}' <<<"$out")
raw=$(awk '/^mustache_alone_renders_per_s/ {print $2}' <<<"$out")
bytes=$(awk '/^template_bytes/ {print $2}' <<<"$out")
printf '\n== Template rendering, one core (%s-byte HTML email, 10 tokens, escaped) ==\n' "$bytes"
printf 'herald renderer                 %s renders/s\n' "$herald"
printf 'peer: swift-mustache alone      %s renders/s\n' "$raw"
printf 'ratio herald / swift-mustache   %.3f\n' "$(echo "$herald / $raw" | bc -l)"
printf 'summary: herald/swift-mustache %.3f\n' "$(echo "$herald / $raw" | bc -l)"
