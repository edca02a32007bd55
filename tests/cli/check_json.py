#!/usr/bin/env python3
"""Reads NDJSON (stdin, or the files named) and fails unless every line is one valid JSON object with no
duplicate key at any depth, a "protocols" list and frame.number counting from 1."""
import json
import sys


def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in %s" % keys)
    return dict(pairs)


def check(stream, name):
    n = 0
    for line in stream:
        n += 1
        try:
            obj = json.loads(line, object_pairs_hook=no_dups)
        except ValueError as e:
            raise SystemExit("%s line %d: %s" % (name, n, e))
        if not isinstance(obj.get("protocols"), list) or obj["frame"]["number"] != n:
            raise SystemExit("%s line %d: bad frame metadata" % (name, n))
    return n


# With file arguments, checks each file (one NDJSON document per file); else stdin.
if len(sys.argv) > 1:
    total = 0
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            total += check(f, path)
    print(total)
else:
    print(check(sys.stdin, "stdin"))
