#!/usr/bin/env python3
"""The monitor's socket from a client's side, for tests/egress/daemon.sh.

  sock.py call SOCKET JSON...     hello, then each request; each reply on its own line
  sock.py hello SOCKET            the greeting (or the refusal) the monitor sends
  sock.py protocol SOCKET         the handshake, errors and every request's reply type
  sock.py flood SOCKET N          N malformed and oversized messages on one connection while
                                  a second connection asks for the status every 500
  sock.py slow SOCKET NS          a subscriber with a tiny receive buffer that does not read
                                  while NS (a network namespace) makes 6000 connections;
                                  then it reads, one more connection, and the "lost" marker
Prints "ok NAME" or "FAIL NAME: why" lines (and exits 1 on a failure)."""
import json
import os
import random
import socket
import subprocess
import sys
import time

failures = 0


def check(name, cond, why=""):
    global failures
    if cond:
        print("ok", name)
    else:
        failures += 1
        print("FAIL %s: %s" % (name, why))


class Client:
    def __init__(self, path, rcvbuf=None, hello=True):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.connect(path)
        self.buf = b""
        self.greeting = self.line()
        if hello:
            self.send({"type": "hello", "protocol": 1})
            r = self.line()
            assert r.get("type") == "ready", r

    def send(self, obj):
        self.raw((json.dumps(obj) + "\n").encode())

    def raw(self, data):
        self.s.sendall(data)

    def line(self, timeout=20):
        self.s.settimeout(timeout)
        while b"\n" not in self.buf:
            d = self.s.recv(1 << 16)
            if not d:
                raise EOFError("the monitor closed the connection")
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return json.loads(l)

    def call(self, obj):
        self.send(obj)
        return self.line()


def protocol(path):
    c = Client(path, hello=False)
    g = c.greeting
    check("greeting", g.get("type") == "hello" and g.get("protocol") == 1 and g.get("access") == "admin", g)
    r = c.call({"type": "status"})
    check("hello first", r.get("type") == "error" and "hello" in r.get("message", ""), r)
    r = c.call({"type": "hello", "protocol": 2})
    check("another protocol", r.get("type") == "error" and "speaks protocol 1" in r.get("message", ""), r)
    r = c.call({"type": "hello", "protocol": 1})
    check("ready", r == {"type": "ready", "protocol": 1}, r)
    c.raw(b'{"type":"status",\n')
    r = c.line()
    check("malformed", r.get("type") == "error" and "at byte" in r.get("message", ""), r)
    r = c.call({"type": "status", "id": 42})
    check("usable after an error, id echoed", r.get("type") == "status" and r.get("id") == 42 and r["data"]["pid"] > 0, r)
    r = c.call({"type": "teleport"})
    check("unknown request", r.get("type") == "error" and "unknown request" in r.get("message", ""), r)
    c.raw(b'{"type":"status","type":"stop"}\n')
    r = c.line()
    check("duplicate member", r.get("type") == "error" and "duplicate" in r.get("message", ""), r)
    now = int(time.time() * 1000)
    for req, typ in [({"type": "connections"}, "connections"), ({"type": "processes"}, "processes"),
                     ({"type": "destinations"}, "destinations"), ({"type": "history", "limit": 5}, "history"),
                     ({"type": "alerts", "all": True}, "alerts"), ({"type": "new"}, "new"),
                     ({"type": "known", "op": "list"}, "known"),
                     ({"type": "compare", "a_since_ms": 0, "a_until_ms": 1, "b_since_ms": 1, "b_until_ms": now + 1}, "compare")]:
        r = c.call(req)
        check("request " + typ, r.get("type") == typ and "data" in r, r)
    r = c.call({"type": "processes"})
    exes = [p["exe"] for p in r["data"]]
    check("processes: curl", "/usr/bin/curl" in exes, exes)
    r = c.call({"type": "history", "program": "/usr/bin/curl", "limit": 1})
    h = r["data"]
    check("history of curl", h["total"] >= 1 and len(h["connections"]) == 1 and h["connections"][0]["exe"] == "/usr/bin/curl"
          and h["connections"][0]["remote"]["addr"] == "10.77.0.2", h)
    r = c.call({"type": "history", "since_ms": now, "until_ms": now - 5})
    check("history: an empty range refused", r.get("type") == "error", r)
    r = c.call({"type": "history", "limit": 0})
    check("history: limit 0 refused", r.get("type") == "error", r)
    r = c.call({"type": "destinations", "program": "/usr/bin/curl"})
    check("destinations of curl", [d["destination"] for d in r["data"]] == ["10.77.0.2"], r)
    r = c.call({"type": "compare", "a_since_ms": 0, "a_until_ms": 1, "b_since_ms": 1, "b_until_ms": now + 1})
    d = r["data"]
    check("compare: curl new in the second range", "/usr/bin/curl" in d["new_programs"] and d["connections_a"] == 0
          and d["connections_b"] >= 1, d)
    r = c.call({"type": "ack", "id": 999999})
    check("ack of no alert", r.get("type") == "error" and "no alert" in r.get("message", ""), r)
    r = c.call({"type": "subscribe", "events": ["bogus"]})
    check("subscribe: an unknown event refused", r.get("type") == "error", r)
    c.raw(b"x" * 70000 + b"\n")
    r = c.line()
    check("an over-long line", r.get("type") == "error" and "longer than" in r.get("message", ""), r)
    r = c.call({"type": "status"})
    check("usable after an over-long line", r.get("type") == "status", r)


def flood(path, n):
    a = Client(path)
    b = Client(path)
    rnd = random.Random(16)
    bad = [b"{", b"}", b"[]", b"null", b'{"type":', b'{"type":1}', b'{"type":"status"', b"\xff\xfe", b'{"a":"\\ud800"}',
           b'{"type":"history","limit":"x"}', b'{"type":"history","since_ms":1.5}', b"[" * 100 + b"]" * 100,
           b'{"type":"subscribe","events":[1,2]}', b'{"type":"known","op":"add"}', b'{"' + b"k" * 300 + b'":1}']
    sent = errors = served = 0
    for i in range(n):
        if i % 50 == 49:
            msg = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))).replace(b"\n", b" ")
        elif i % 97 == 96:
            msg = b"y" * (65536 + rnd.randrange(5000))
        else:
            msg = bad[i % len(bad)]
        a.raw(msg + b"\n")
        sent += 1
        if i % 500 == 499:
            while errors < sent:  # read what came back so far
                r = a.line()
                errors += r.get("type") == "error"
            r = b.call({"type": "status"})
            served += r.get("type") == "status"
    while errors < sent:
        r = a.line()
        errors += r.get("type") == "error"
    check("flood: an error for each of %d messages" % n, errors == n, "%d errors" % errors)
    check("flood: the other client served throughout", served == n // 500, "%d of %d" % (served, n // 500))
    r = a.call({"type": "status"})
    check("flood: the flooding client still served", r.get("type") == "status", r)
    st = Client(path).call({"type": "status"})["data"]
    check("flood: the monitor still answers a new client", st["pid"] > 0, st)


def slow(path, ns):
    c = Client(path, rcvbuf=4096)
    r = c.call({"type": "subscribe"})
    check("subscribed", r.get("type") == "subscribed", r)
    gen = ("import socket\n"
           "for i in range(6000):\n"
           "    s = socket.create_connection(('10.77.0.2', 80)); s.close()\n")
    other = Client(path)
    t0 = time.time()
    subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", gen], check=True)
    st = other.call({"type": "status"})["data"]
    check("slow subscriber: the monitor serves others meanwhile", st["subscribers"] == 1, st)
    # the monitor has the connections' ends; give it the close grace, then drain
    time.sleep(1.5)
    got = 0
    told = 0
    lost = None  # the marker comes with the first event that finds room: maybe while draining
    try:
        while True:
            e = c.line(timeout=2)
            got += 1
            if e.get("event") == "lost":
                told += e["count"]
                lost = lost or e
    except (socket.timeout, TimeoutError):
        pass
    subprocess.run(["ip", "netns", "exec", ns, "python3", "-c",
                    "import socket; socket.create_connection(('10.77.0.2', 80)).close()"], check=True)
    deadline = time.time() + 10
    while time.time() < deadline and lost is None:
        try:
            e = c.line(timeout=2)
        except (socket.timeout, TimeoutError):
            continue
        if e.get("event") == "lost":
            told += e["count"]
            lost = e
    check("slow subscriber: told how many events it lost", lost is not None and lost["count"] > 0
          and lost["message"] == "%d events lost" % lost["count"], lost)
    st = other.call({"type": "status"})["data"]
    check("slow subscriber: counted in the status", st["events_lost"] >= told > 0, (told, st))
    print("slow subscriber: %d events read, told of %d lost (the monitor counts %d), %.1f s" % (got, told, st["events_lost"], time.time() - t0))


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "call":
        c = Client(path)
        for req in sys.argv[3:]:
            c.raw(req.encode() + b"\n")
            print(json.dumps(c.line()))
        return 0
    if cmd == "hello":
        try:
            print(json.dumps(Client(path, hello=False).greeting))
        except Exception as e:  # refused before the greeting
            print("refused:", e)
        return 0
    {"protocol": lambda: protocol(path), "flood": lambda: flood(path, int(sys.argv[3])),
     "slow": lambda: slow(path, sys.argv[3])}[cmd]()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
