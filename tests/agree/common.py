"""Helpers the agreement tests share: allow-lists of explained differences, the corpus
captures that have tshark truth, and the pcapng files whose custom blocks tshark 4.0 shows
as extra frames (corpus README, caveat 4), and tshark runs cached between test runs."""
import fnmatch
import os
import subprocess


def load_allow(name):
    """Rows (capture pattern, field or *, reason) of tests/agree/NAME."""
    rules = []
    with open(os.path.join(os.path.dirname(__file__), name), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                rules.append(tuple(line.rstrip("\n").split("\t", 2)))
    return rules


def reason(rules, capture, field):
    """The reason an allow-list gives for this capture and field, or None."""
    for pat, fld, why in rules:
        if fnmatch.fnmatch(capture, pat) and fld in ("*", field):
            return why
    return None


def truth_captures(corpus):
    """(relative path, path) of every corpus capture that has tshark truth files."""
    out = []
    truth = os.path.join(corpus, "truth")
    for root, _dirs, files in os.walk(truth):
        for name in files:
            if name.endswith(".meta.tsv"):
                rel = os.path.relpath(os.path.join(root, name), truth)[:-len(".meta.tsv")]
                if os.path.exists(os.path.join(corpus, rel)):
                    out.append((rel, os.path.join(corpus, rel)))
    return sorted(out)


def cached_tshark(args, cap, cache, suffix, timeout):
    """tshark's stdout for `tshark -n <args> -r cap`, kept in cache under a name made from
    the capture's path and suffix so that later runs do not pay for tshark again."""
    key = os.path.join(cache, cap.replace("/", "_") + suffix)
    if not os.path.exists(key):
        p = subprocess.run(["tshark", "-n"] + args + ["-r", cap], capture_output=True, timeout=timeout)
        with open(key + ".tmp", "wb") as f:
            f.write(p.stdout)
        os.replace(key + ".tmp", key)
    with open(key, encoding="utf-8", errors="replace") as f:
        return f.read()
