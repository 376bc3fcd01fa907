#!/usr/bin/env python3
"""Parses Prometheus text exposition from stdin with the reference client's parser
(Debian's python3-prometheus-client) and prints one JSON line per sample:
{"name", "labels", "value", "type"}. Exits 1 with the parser's error on invalid text."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

try:
    for family in text_string_to_metric_families(sys.stdin.read()):
        for sample in family.samples:
            print(json.dumps({"name": sample.name, "labels": sample.labels, "value": sample.value,
                              "type": family.type}))
except Exception as error:  # the parser raises ValueError and friends on bad input
    print(f"invalid exposition: {error!r}", file=sys.stderr)
    sys.exit(1)
