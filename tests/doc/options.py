#!/usr/bin/env python3
"""The options each command accepts (its getopt tables in src/cli) against those its man
page defines (doc/*.scd, the definition lines) and those its --help lists: every accepted
option documented in both, and nothing documented that the program refuses.

  options.py PKTSCOPE SOURCE_ROOT
Prints a line per command and exits 1 on a difference."""
import re
import subprocess
import sys

bin, root = sys.argv[1], sys.argv[2]
# command: (source files, man page, the help texts: argument lists)
commands = {
    "read": (["cmd_read.c"], "pktscope-read.1.scd", [["read"]]),
    "capture": (["cmd_capture.c"], "pktscope-capture.1.scd", [["capture"]]),
    "diff": (["cmd_diff.c"], "pktscope-diff.1.scd", [["diff"]]),
    "monitor": (["cmd_monitor.c", "cmd_notify.c"], "pktscope-monitor.1.scd", [["monitor"], ["monitor", "notify"]]),
    "inspect": (["cmd_inspect.c"], "pktscope-inspect.1.scd", [["inspect"]]),
    "fields, geoip": (["cmd_fields.c", "cmd_geoip.c"], "pktscope.1.scd", [["fields"], ["geoip"], []]),
}
OPT = r"--?[A-Za-z0-9][A-Za-z0-9-]*"


def accepted(files):
    opts = set()
    for f in files:
        src = open("%s/src/cli/%s" % (root, f)).read()
        for block in re.findall(r"struct option \w+\[\] = \{(.*?)\};", src, re.S):
            opts.update("--" + n for n in re.findall(r'\{ "([a-z0-9-]+)",', block))
        for shorts in re.findall(r'getopt_long\(argc, argv, "([^"]*)"', src):
            opts.update("-" + c for c in shorts if c.isalnum())
    return opts


def documented(page):
    opts = set()
    for line in open("%s/doc/%s" % (root, page)):
        # definition lines: "*-Y* _FILTER_", "*--json*", "*fields* [*--names*] ...", "*geoip update* ..."
        if line.startswith("*-") or line.startswith("*fields*") or line.startswith("*geoip update*"):
            opts.update(re.findall(r"\*(%s)\*" % OPT, line))
    return opts


def helped(args):
    out = subprocess.run([bin] + args + ["--help"], capture_output=True, text=True).stdout
    opts = set()
    for line in out.splitlines():
        m = re.match(r"^ +(%s)(, (%s))?" % (OPT, OPT), line)
        if m:
            opts.update(o for o in (m.group(1), m.group(3)) if o)
        if re.match(r"^(usage: |       )pktscope ", line):  # the synopsis lines too
            opts.update(re.findall(r"\[(%s)" % OPT, line))
    return opts


bad = 0
for name, (files, page, helps) in commands.items():
    acc, doc = accepted(files), documented(page)
    if page == "pktscope.1.scd":  # main.c's own, before any command
        acc |= {"--version", "--help", "-h"}
    hlp = set().union(*(helped(h) for h in helps))
    problems = []
    if acc - doc:
        problems.append("accepted, not in %s: %s" % (page, " ".join(sorted(acc - doc))))
    if doc - acc:
        problems.append("in %s, not accepted: %s" % (page, " ".join(sorted(doc - acc))))
    if acc - hlp:
        problems.append("accepted, not in --help: %s" % " ".join(sorted(acc - hlp)))
    if problems:
        bad += 1
        print("FAIL %s: %s" % (name, "; ".join(problems)))
    else:
        print("ok %s: %d options, each in its man page and --help" % (name, len(acc)))
sys.exit(1 if bad else 0)
