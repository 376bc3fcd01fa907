#!/usr/bin/env python3
"""Reads a letter export folder the way a print vendor would, independently of Herald's code:
for every manifest, checks the CSV's SHA-256 and size against it and parses the CSV with
Python's csv module. Prints one JSON object:
{"batches": [{"batch", "count", "rows", "sha_ok", "bytes_ok", "keys": [...], "first": {row}}],
 "orphans": [CSV files without a manifest], "temporary": [left-over temporary files]}
"""
import csv
import hashlib
import io
import json
import os
import sys

folder = sys.argv[1]
names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
batches, manifests = [], set()
for name in names:
    if not name.endswith(".manifest.json") or name.startswith("."):
        continue
    with open(os.path.join(folder, name), encoding="utf-8") as handle:
        manifest = json.load(handle)
    manifests.add(manifest["csv"])
    with open(os.path.join(folder, manifest["csv"]), "rb") as handle:
        data = handle.read()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    batches.append({
        "batch": manifest["batch"], "count": manifest["count"], "rows": len(rows),
        "sha_ok": hashlib.sha256(data).hexdigest() == manifest["sha256"], "bytes_ok": len(data) == manifest["bytes"],
        "keys": [row["key"] for row in rows], "first": rows[0] if rows else None,
    })
print(json.dumps({
    "batches": batches,
    "orphans": [n for n in names if n.endswith(".csv") and not n.startswith(".") and n not in manifests],
    "temporary": [n for n in names if n.startswith(".")],
}))
