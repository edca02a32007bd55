#!/usr/bin/env python3
"""Minimal servers for the anomaly capture (scripts/make-anomalies.sh), run inside the
lab's server namespace: FTP (21), POP3 (110), IMAP (143), SMTP (25) and Telnet (23) that
accept any login with the replies real servers give, HTTP on a port that is not an HTTP
port (5555), and a DNS responder on the server's IPv6 address that answers NXDOMAIN or
SERVFAIL. They exist so that real clients (curl, dig) produce the exchanges; they keep
nothing. Usage: lab-servers.py IPV4 IPV6"""
import socket
import socketserver
import struct
import sys
import threading

V4, V6 = sys.argv[1], sys.argv[2]


class Lines(socketserver.StreamRequestHandler):
    greeting = b""

    def send(self, line):
        self.wfile.write(line + b"\r\n")
        self.wfile.flush()

    def handle(self):
        if self.greeting:
            self.send(self.greeting)
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if not self.answer(line.rstrip(b"\r\n")):
                return


class FTP(Lines):
    greeting = b"220 lab FTP server ready"

    def answer(self, line):
        cmd = line.split(b" ")[0].upper()
        replies = {b"USER": b"331 Password required", b"PASS": b"230 Logged in", b"PWD": b'257 "/" is the current directory',
                   b"TYPE": b"200 Type set", b"SYST": b"215 UNIX Type: L8", b"CWD": b"250 OK", b"EPSV": b"500 No data connections here",
                   b"PASV": b"500 No data connections here"}
        if cmd == b"QUIT":
            self.send(b"221 Bye")
            return False
        self.send(replies.get(cmd, b"502 Not implemented"))
        return True


class POP3(Lines):
    greeting = b"+OK lab POP3 server ready"

    def answer(self, line):
        cmd = line.split(b" ")[0].upper()
        if cmd == b"CAPA":
            self.send(b"+OK Capability list follows")
            for c in (b"USER", b"UIDL", b"."):
                self.send(c)
        elif cmd in (b"LIST", b"UIDL"):
            self.send(b"+OK 0 messages")
            self.send(b".")
        elif cmd == b"QUIT":
            self.send(b"+OK Bye")
            return False
        else:
            self.send(b"+OK")
        return True


class IMAP(Lines):
    greeting = b"* OK lab IMAP server ready"

    def answer(self, line):
        parts = line.split(b" ")
        tag, cmd = parts[0], (parts[1].upper() if len(parts) > 1 else b"")
        if cmd == b"CAPABILITY":
            self.send(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN")
        elif cmd == b"LOGOUT":
            self.send(b"* BYE")
            self.send(tag + b" OK LOGOUT completed")
            return False
        elif cmd == b"SELECT" or cmd == b"EXAMINE":
            self.send(b"* 0 EXISTS")
        elif cmd == b"AUTHENTICATE" and len(parts) == 3:  # no initial response: ask for it
            self.send(b"+ ")
            self.rfile.readline()
        self.send(tag + b" OK " + cmd + b" completed")
        return True


class SMTP(Lines):
    greeting = b"220 mail.example.test ESMTP lab"

    def answer(self, line):
        if getattr(self, "data", False):
            if line == b".":
                self.data = False
                self.send(b"250 OK queued")
            return True
        if getattr(self, "auth", 0):
            self.auth -= 1
            self.send(b"334 UGFzc3dvcmQ6" if self.auth else b"235 Authentication successful")
            return True
        cmd = line.split(b" ")[0].upper()
        if cmd == b"EHLO":
            for l in (b"250-mail.example.test", b"250-AUTH LOGIN PLAIN", b"250 8BITMIME"):
                self.send(l)
        elif cmd == b"AUTH":
            mech = line.split(b" ")
            if len(mech) > 2:
                self.send(b"235 Authentication successful" if mech[1].upper() == b"PLAIN" else b"334 UGFzc3dvcmQ6")
                self.auth = 0 if mech[1].upper() == b"PLAIN" else 1
            else:
                self.send(b"334 VXNlcm5hbWU6" if mech[1].upper() == b"LOGIN" else b"334 ")
                self.auth = 2 if mech[1].upper() == b"LOGIN" else 1
        elif cmd == b"DATA":
            self.data = True
            self.send(b"354 End data with <CR><LF>.<CR><LF>")
        elif cmd == b"QUIT":
            self.send(b"221 Bye")
            return False
        else:
            self.send(b"250 OK")
        return True


class Telnet(socketserver.StreamRequestHandler):
    def handle(self):
        w = self.wfile
        w.write(b"\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01\xff\xfb\x03")  # DO TTYPE, DO TSPEED, WILL ECHO, WILL SGA
        w.write(b"\r\nlab login: ")
        w.flush()
        typed = b""
        for _ in range(2):
            while not typed.endswith((b"\r", b"\n")):
                ch = self.rfile.read(1)
                if not ch:
                    return
                if ch == b"\xff":
                    self.rfile.read(2)
                    continue
                typed += ch
            w.write(b"\r\nPassword: ")
            w.flush()
            typed = b""
        w.write(b"\r\nLogin incorrect\r\n")
        w.flush()


class HTTP(Lines):
    def answer(self, line):
        if line == b"":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
            return False
        return True


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def tcp(port, handler):
    s = Server((V4, port), handler)
    threading.Thread(target=s.serve_forever, daemon=True).start()


def dns():
    """NXDOMAIN for every name, SERVFAIL for names under fail.example.test."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((V6, 53))
    while True:
        q, peer = s.recvfrom(4096)
        if len(q) < 12:
            continue
        ident, flags = struct.unpack(">HH", q[:4])
        i, labels = 12, []
        while i < len(q) and q[i]:
            labels.append(q[i + 1:i + 1 + q[i]])
            i += 1 + q[i]
        rcode = 2 if b".".join(labels).endswith(b"fail.example.test") else 3
        question = q[12:i + 5]
        s.sendto(struct.pack(">HHHHHH", ident, 0x8180 | (flags & 0x0100) | rcode, 1, 0, 0, 0) + question, peer)


for port, h in ((21, FTP), (110, POP3), (143, IMAP), (25, SMTP), (23, Telnet), (5555, HTTP)):
    tcp(port, h)
dns()
