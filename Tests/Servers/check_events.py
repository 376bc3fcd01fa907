#!/usr/bin/env python3
"""Checks events (one JSON object per line on standard input) against docs/events.schema.json
with Debian's python3-jsonschema. Prints one line per event that does not conform; exits 1 if any.

  check_events.py SCHEMA < events.ndjson
"""
import json
import sys

import jsonschema

with open(sys.argv[1]) as file:
    schema = json.load(file)
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for number, line in enumerate(sys.stdin, 1):
    if not line.strip():
        continue
    event = json.loads(line)
    errors = sorted(validator.iter_errors(event), key=lambda e: list(e.path))
    if errors:
        bad += 1
        print(f"event {number} ({event.get('type')}): " + "; ".join(e.message[:300] for e in errors))
sys.exit(1 if bad else 0)
