#!/usr/bin/env python3
"""A CoAP peer for the LAN tests that does only what it is told: no Echo, no
retries, so a test sees exactly what the daemon answers (or does not).

  md-lan-peer.py silent HOST PORT DTLS_PORT CLIENT_HELLO BARRIER
      Sends a CON GET /notes, a CON ping, a CON POST /notes and a NON GET
      /status to HOST:PORT from one socket, then runs the shell command
      BARRIER (which returns once the daemon has dealt with them, e.g. its
      refusal counter grew), then sends the DTLS ClientHello in the file
      CLIENT_HELLO to HOST:DTLS_PORT and waits for the HelloVerifyRequest.
      That answer left after any answer to the plain datagrams would have,
      on the same path: so the plain socket holding nothing (no reply, no
      RST, no ICMP error) then means nothing came back.  Exit 0 if so.

  md-lan-peer.py write-no-echo HOST PORT TEXT
      POSTs TEXT to HOST:PORT/notes, checks that the answer is 4.01 with an
      Echo option, and never sends the value back: it sends the POST again
      as a retransmission (same Message ID) and as a new request, and
      checks that each is answered 4.01 again.  Exit 0 if so.

The corpus file format of CLIENT_HELLO is tests/fuzz's: a 2-byte big-endian
length, then the datagram.  Every wait has a deadline.
"""
import os
import select
import socket
import struct
import subprocess
import sys
import time

ANSWER_TIMEOUT_S = 5
CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST = 1, 2
URI_PATH, ECHO = 11, 252
UNAUTHORIZED = (4 << 5) | 1


def option_bytes(number, delta_base, value):
    """One option after @delta_base, with RFC 7252 §3.1 extended fields."""
    delta = number - delta_base
    out = bytearray()

    def nibble(n):
        if n < 13:
            return n, b""
        if n < 269:
            return 13, bytes([n - 13])
        return 14, struct.pack(">H", n - 269)

    d, dext = nibble(delta)
    l, lext = nibble(len(value))
    out.append((d << 4) | l)
    return bytes(out) + dext + lext + value


def encode(mtype, code, mid, token=b"", options=(), payload=b""):
    out = bytearray([0x40 | (mtype << 4) | len(token), code]) + struct.pack(">H", mid) + token
    last = 0
    for number, value in sorted(options, key=lambda o: o[0]):
        out += option_bytes(number, last, value)
        last = number
    if payload:
        out += b"\xff" + payload
    return bytes(out)


def decode(data):
    """(type, code, mid, token, {option: [values]}) of a CoAP message."""
    if len(data) < 4 or data[0] >> 6 != 1:
        raise ValueError("not CoAP: %r" % data[:8])
    mtype, tkl = (data[0] >> 4) & 3, data[0] & 15
    code, mid = data[1], struct.unpack(">H", data[2:4])[0]
    token, pos, number, options = data[4 : 4 + tkl], 4 + tkl, 0, {}
    while pos < len(data) and data[pos] != 0xFF:
        d, l = data[pos] >> 4, data[pos] & 15
        pos += 1
        vals = []
        for n in (d, l):
            if n == 13:
                n, pos = data[pos] + 13, pos + 1
            elif n == 14:
                n, pos = struct.unpack(">H", data[pos : pos + 2])[0] + 269, pos + 2
            vals.append(n)
        number += vals[0]
        options.setdefault(number, []).append(data[pos : pos + vals[1]])
        pos += vals[1]
    return mtype, code, mid, token, options


def path_options(path):
    return [(URI_PATH, seg.encode()) for seg in path.split("/")]


def connected(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.connect((host, port))
    return sock


def receive(sock, timeout):
    """One datagram within @timeout seconds, or None."""
    ready, _, _ = select.select([sock], [], [], timeout)
    return sock.recv(65536) if ready else None


def pending(sock):
    """What waits on @sock now: a datagram, an ICMP error, or None."""
    try:
        return sock.recv(65536, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return None
    except OSError as error:
        return "error: %s" % error


def read_client_hello(path):
    with open(path, "rb") as f:
        data = f.read()
    length = struct.unpack(">H", data[:2])[0]
    return data[2 : 2 + length]


def silent(host, port, dtls_port, hello_path, barrier):
    plain = connected(host, int(port))
    plain.send(encode(CON, GET, 0x5101, b"\x01", path_options("notes")))
    plain.send(encode(CON, 0, 0x5102))
    plain.send(encode(CON, POST, 0x5103, b"\x03", path_options("notes"), b"from the LAN"))
    plain.send(encode(NON, GET, 0x5104, b"\x04", path_options("status")))
    if subprocess.run(barrier, shell=True).returncode != 0:
        print("# the barrier command failed: %s" % barrier)
        return 1
    dtls = connected(host, int(dtls_port))
    dtls.send(read_client_hello(hello_path))
    answer = receive(dtls, ANSWER_TIMEOUT_S)
    # A handshake record (22) carrying a HelloVerifyRequest (3).
    if answer is None or len(answer) < 14 or answer[0] != 22 or answer[13] != 3:
        print("# no HelloVerifyRequest from %s:%s: %r" % (host, dtls_port, answer))
        return 1
    got = pending(plain)
    if got is not None:
        print("# the plain port answered: %r" % (got,))
        return 1
    print("# plain port silent; DTLS answered a HelloVerifyRequest of %d bytes" % len(answer))
    return 0


def expect_challenge(sock, mid):
    answer = receive(sock, ANSWER_TIMEOUT_S)
    if answer is None:
        print("# no answer to Message ID 0x%04x" % mid)
        return False
    mtype, code, amid, _, options = decode(answer)
    if code != UNAUTHORIZED or ECHO not in options or amid != mid:
        print("# expected 4.01 with Echo for 0x%04x, got code %d.%02d mid 0x%04x options %s"
              % (mid, code >> 5, code & 31, amid, sorted(options)))
        return False
    return True


def write_no_echo(host, port, text):
    sock = connected(host, int(port))
    post = encode(CON, POST, 0x6201, b"\x21", path_options("notes"), text.encode())
    sock.send(post)
    if not expect_challenge(sock, 0x6201):
        return 1
    # The same datagram again (a retransmission), then a new request: never
    # with the Echo value.
    sock.send(post)
    if not expect_challenge(sock, 0x6201):
        return 1
    sock.send(encode(CON, POST, 0x6202, b"\x22", path_options("notes"), text.encode()))
    if not expect_challenge(sock, 0x6202):
        return 1
    print("# three writes without Echo, three 4.01 challenges")
    return 0


def main(argv):
    if len(argv) == 7 and argv[1] == "silent":
        return silent(*argv[2:])
    if len(argv) == 5 and argv[1] == "write-no-echo":
        return write_no_echo(*argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
