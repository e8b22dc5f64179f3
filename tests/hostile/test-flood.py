#!/usr/bin/env python3
"""A flood from 10,000 source addresses on both ports (issue 10, Tests).

mydailyd listens on 127.0.0.1 (plain and coaps).  Every source address is
its own 127.x.y.z (all of 127/8 is this host's, so binding to one needs no
privilege).  Half the sources are outside PlainFrom= (127.1.0.0/16), the
other half inside it (127.2.0.0/16) but not exempt from the rate limit:
  - each sends the plain port a CON GET /notes, a CON GET /latest with
    Observe, a CON GET /.well-known/core and a ping, with fresh Message IDs;
  - each sends the coaps port a DTLS ClientHello (a HelloVerifyRequest
    comes back);
  - the sources inside PlainFrom= also do what a determined client would:
    return every Echo value they get (so the Echo-verified and observer
    tables fill), and one in ten the DTLS cookie in a second ClientHello (so
    the daemon opens a handshake, which then waits in the session table).
Meanwhile an authenticated client (mydailyctl over DTLS with a key) adds
notes one after the other.  It checks that:
  - the daemon's memory grows by less than 16 MiB (VmHWM at the end against
    VmRSS before the flood, from /proc/PID/status); under a sanitizer build
    (MD_SANITIZED=1, set by meson) the figure is printed but not held to
    the bound, since ASan's shadow memory and quarantine are no measure of
    the daemon's own tables;
  - every add of the authenticated client succeeds, each note is stored
    once, and their p99 latency during the flood is under 10 times the p99
    measured quietly in the same run, before the flood (both printed).
    Under a sanitizer the ratio is printed, not held to the bound: ASan
    makes each of the flood's datagrams cost the daemon several times more,
    but the quiet round trip hardly more, so the ratio there measures ASan
    (3 to 14 in runs of this test, 1.6 to 4.1 without it);
  - plain-refused in /status counted the refused half, no more than was
    sent to the plain port from outside PlainFrom=.
Prints TAP.  Exits 77 without mydailyctl's DTLS client or the ClientHello.
"""
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

SOURCES = 10000
RSS_BOUND_KB = 16 * 1024
LATENCY_RATIO = 10
QUIET_ADDS = 100
MIN_FLOOD_ADDS = 20
CHUNK = 500  # sources with open sockets at a time
ANSWER_WAIT_S = 0.5  # per chunk, for the answers a chunk's sources return
# One source in this many of the determined half returns its DTLS cookie:
# 500 handshakes, twice what the session table holds (256), spread over the
# flood.  Every one of them would be 5,000 ECDHE key exchanges, which is a
# test of CPU (a handshake is ~1 ms of the main loop), not of memory.
COOKIE_EVERY = 10
DEADLINE_S = 50
ECHO, OBSERVE, URI_PATH = 252, 6, 11

failures = 0
test_number = 0


def report(ok, what):
    global failures, test_number
    test_number += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", test_number, what), flush=True)
    if not ok:
        failures += 1


# ---- CoAP, as little as the flood needs ------------------------------------


def option(delta, value):
    ext = b""
    if delta >= 269:
        head, ext = 14, struct.pack(">H", delta - 269)
    elif delta >= 13:
        head, ext = 13, bytes([delta - 13])
    else:
        head = delta
    assert len(value) < 13
    return bytes([(head << 4) | len(value)]) + ext + value


def request(mid, path, observe=False, echo=None):
    out = bytearray([0x41, 0x01]) + struct.pack(">H", mid) + bytes([mid & 0xFF])
    last = 0
    opts = []
    if observe:
        opts.append((OBSERVE, b""))
    opts += [(URI_PATH, seg.encode()) for seg in path.split("/")]
    if echo is not None:
        opts.append((ECHO, echo))
    for number, value in opts:
        out += option(number - last, value)
        last = number
    return bytes(out)


def find_echo(data):
    """The Echo value of a 4.01, or None."""
    if len(data) < 4 or data[1] != 0x81:
        return None
    pos, number = 4 + (data[0] & 15), 0
    while pos < len(data) and data[pos] != 0xFF:
        d, l = data[pos] >> 4, data[pos] & 15
        pos += 1
        if d == 13:
            d, pos = data[pos] + 13, pos + 1
        elif d == 14:
            d, pos = struct.unpack(">H", data[pos : pos + 2])[0] + 269, pos + 2
        if l >= 13:
            return None
        number += d
        if number == ECHO:
            return data[pos : pos + l]
        pos += l
    return None


# ---- DTLS: a ClientHello, and the same with a cookie -------------------------


def read_client_hello(path):
    with open(path, "rb") as f:
        data = f.read()
    return data[2 : 2 + struct.unpack(">H", data[:2])[0]]


def hello_with_cookie(hello, cookie):
    """@hello (one record, one unfragmented ClientHello without a cookie)
    as the second ClientHello of RFC 6347 §4.2.1."""
    body = hello[25:]
    sid_len = body[34]
    at = 35 + sid_len  # the cookie's length byte
    body = body[:at] + bytes([len(cookie)]) + cookie + body[at + 1 :]
    handshake = (
        bytes([1]) + len(body).to_bytes(3, "big") + struct.pack(">H", 1) + b"\0\0\0"
        + len(body).to_bytes(3, "big") + body
    )
    return hello[:3] + b"\0\0" + (1).to_bytes(6, "big") + struct.pack(">H", len(handshake)) + handshake


def cookie_of(answer):
    """The cookie of a HelloVerifyRequest, or None."""
    if len(answer) < 28 or answer[0] != 22 or answer[13] != 3:
        return None
    return answer[28 : 28 + answer[27]]


# ---- the daemon -------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class Daemon:
    def __init__(self, work, keys):
        self.port, self.dtls_port = free_port(), free_port()
        with open(os.path.join(work, "mydaily.conf"), "w") as f:
            f.write("[Server]\nPlainFrom=127.0.0.1 ::1 127.2.0.0/16\n"
                    "RateLimitExempt=127.0.0.1 ::1\n")
        self.log = open(os.path.join(work, "daemon.log"), "w")
        self.state = os.path.join(work, "state")
        self.proc = subprocess.Popen(
            [os.environ["MYDAILYD"], "--listen=127.0.0.1:%d" % self.port,
             "--listen-dtls=127.0.0.1:%d" % self.dtls_port, "--keys=" + keys,
             "--state-directory=" + self.state, "--config=" + os.path.join(work, "mydaily.conf")],
            stdout=self.log, stderr=self.log)

    def stop(self):
        """The exit status after SIGTERM (0: a clean stop; under ASan also
        no leak)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=30)


class Client:
    """mydailyctl over DTLS with a key, its files in @work."""

    def __init__(self, work, daemon, key_file):
        self.env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "config"),
                        XDG_CACHE_HOME=os.path.join(work, "cache"),
                        XDG_STATE_HOME=os.path.join(work, "xdg-state"))
        self.base = [os.environ["MYDAILYCTL"], "-s", "coaps://127.0.0.1:%d" % daemon.dtls_port,
                     "--key-file=" + key_file, "--no-queue", "--timeout=10"]

    def run(self, *args):
        return subprocess.run(self.base + list(args), env=self.env, capture_output=True,
                              text=True, timeout=30)

    def adder(self):
        return Adder(self)


class Adder:
    """One "mydailyctl add -" over one DTLS session: a line in, and the time
    until its "added note N" comes out, one note at a time.  (A handshake
    per add would only measure the handshake rate limit, 1/s per host.)"""

    def __init__(self, client):
        self.proc = subprocess.Popen(client.base + ["add", "-"], env=client.env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)

    def add(self, text):
        """The seconds one add took, or None if it failed."""
        start = time.monotonic()
        self.proc.stdin.write((text + "\n").encode())
        line = b""
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0, start + 15 - time.monotonic()))
            chunk = os.read(self.proc.stdout.fileno(), 1) if ready else b""
            if not chunk:
                print("# no acknowledgement of %r: %r" % (text, line))
                return None
            line += chunk
        if not line.startswith(b"added note"):
            print("# %r answered %r" % (text, line))
            return None
        return time.monotonic() - start

    def close(self):
        self.proc.stdin.close()
        err = self.proc.stderr.read().decode(errors="replace").strip()
        status = self.proc.wait(timeout=30)
        if err:
            print("# mydailyctl add -: " + err.replace("\n", "\n# "))
        return status


def wait_ready(client, daemon):
    for _ in range(100):
        if daemon.proc.poll() is not None:
            return False
        if client.run("status").returncode == 0:
            return True
        time.sleep(0.05)  # bounded: 100 tries; the daemon binds at once
    return False


def status_value(client, key):
    for line in client.run("status").stdout.splitlines():
        if line.startswith(key + ":"):
            return int(line.split(":", 1)[1])
    return None


# ---- the flood --------------------------------------------------------------


def source_address(i):
    """Source @i: the first half outside PlainFrom= (127.1/16), the second
    inside (127.2/16); never 127.0.0.1, the authenticated client's."""
    half = SOURCES // 2
    net, n = (1, i) if i < half else (2, i - half)
    return "127.%d.%d.%d" % (net, n // 250, n % 250 + 1)


def flood_chunk(daemon, hello, first, count, mid_base):
    """Sources first..first+count-1; returns datagrams sent to the plain
    port from outside PlainFrom=."""
    socks = []
    refused_sent = 0
    for i in range(first, first + count):
        addr = source_address(i)
        plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dtls = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        plain.bind((addr, 0))
        dtls.bind((addr, 0))
        plain.setblocking(False)
        dtls.setblocking(False)
        target = ("127.0.0.1", daemon.port)
        mid = (mid_base + 4 * i) & 0xFFFF
        for datagram in (request(mid, "notes"), request(mid + 1, "latest", observe=True),
                         request((mid + 2) & 0xFFFF, ".well-known/core"),
                         bytes([0x40, 0, (mid + 3) >> 8 & 0xFF, (mid + 3) & 0xFF])):
            try:
                plain.sendto(datagram, target)
            except BlockingIOError:
                pass
            if i < SOURCES // 2:
                refused_sent += 1
        try:
            dtls.sendto(hello, ("127.0.0.1", daemon.dtls_port))
        except BlockingIOError:
            pass
        socks.append((i, plain, dtls))
    answer_chunk(daemon, hello, socks, mid_base)
    for _, plain, dtls in socks:
        plain.close()
        dtls.close()
    return refused_sent


def answer_chunk(daemon, hello, socks, mid_base):
    """The determined half returns Echo values and cookies, for a while."""
    by_fd = {}
    for i, plain, dtls in socks:
        if i >= SOURCES // 2:
            by_fd[plain.fileno()] = ("plain", i, plain)
            if i % COOKIE_EVERY == 0:
                by_fd[dtls.fileno()] = ("dtls", i, dtls)
    end = time.monotonic() + ANSWER_WAIT_S
    while by_fd and time.monotonic() < end:
        ready, _, _ = select.select(list(by_fd), [], [], max(0, end - time.monotonic()))
        for fd in ready:
            kind, i, sock = by_fd[fd]
            try:
                data = sock.recv(65536)
            except OSError:
                continue
            if kind == "dtls":
                cookie = cookie_of(data)
                if cookie is not None:
                    sock.sendto(hello_with_cookie(hello, cookie), ("127.0.0.1", daemon.dtls_port))
                    del by_fd[fd]
                continue
            echo = find_echo(data)
            if echo is not None:
                mid = (mid_base + 4 * i + 0x8000) & 0xFFFF
                sock.sendto(request(mid, "latest", observe=True, echo=echo),
                            ("127.0.0.1", daemon.port))


def flood(daemon, hello, deadline):
    refused_sent = 0
    for first in range(0, SOURCES, CHUNK):
        if time.monotonic() > deadline:
            break
        refused_sent += flood_chunk(daemon, hello, first, min(CHUNK, SOURCES - first), 0x1000)
    return refused_sent


def p99(samples):
    ordered = sorted(samples)
    return ordered[max(0, -(-99 * len(ordered) // 100) - 1)]


def main():
    source = os.environ.get("MD_SOURCE_DIR", "")
    hello_path = os.path.join(source, "tests/fuzz/corpus/dtls/frame-01")
    if not os.path.exists(hello_path):
        print("1..0 # SKIP no ClientHello at %s" % hello_path)
        return 77
    sanitized = os.environ.get("MD_SANITIZED") == "1"
    hello = read_client_hello(hello_path)
    work = tempfile.mkdtemp(prefix="md-flood-")
    daemon = None
    try:
        keygen = subprocess.run([os.environ["MYDAILYCTL"], "keygen", "alice"],
                                capture_output=True, text=True, check=True)
        keys = os.path.join(work, "keys")
        with open(os.open(keys, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(keygen.stdout)
        daemon = Daemon(work, keys)
        client = Client(work, daemon, keys)
        if not wait_ready(client, daemon):
            if "login" not in client.run("--help").stdout:
                print("1..0 # SKIP mydailyctl has no DTLS client")
                return 77
            print("Bail out! mydailyd did not start")
            return 1
        return run(daemon, client, hello, sanitized)
    finally:
        if daemon is not None:
            daemon.stop()
            daemon.log.close()
            with open(os.path.join(work, "daemon.log")) as f:
                tail = f.read()[-2000:]
            if failures:
                print("# daemon log:\n# " + tail.replace("\n", "\n# "))
        shutil.rmtree(work, ignore_errors=True)


def run(daemon, client, hello, sanitized):
    start = time.monotonic()
    adder = client.adder()
    quiet = [adder.add("quiet %d" % n) for n in range(QUIET_ADDS)]
    report(None not in quiet, "%d quiet adds over DTLS succeed" % QUIET_ADDS)
    quiet = [t for t in quiet if t is not None]
    rss_before = vm_kb(daemon.proc.pid, "VmRSS")
    refused_before = status_value(client, "plain-refused") or 0

    # The flood in a child process, so it and the adds run side by side.
    flooder = os.fork()
    if flooder == 0:
        try:
            # A real flood comes from other machines: here its generator
            # shares our CPUs, so it yields them to the daemon and the client
            # rather than measure the scheduler.
            os.nice(19)
            sent = flood(daemon, hello, start + DEADLINE_S - 10)
            with open(os.path.join(os.path.dirname(daemon.state), "refused-sent"), "w") as f:
                f.write("%d\n" % sent)
        finally:
            os._exit(0)
    during = []
    failed = 0
    while True:
        done, _ = os.waitpid(flooder, os.WNOHANG)
        if done and len(during) + failed >= MIN_FLOOD_ADDS:
            break
        took = adder.add("during the flood %d" % (len(during) + failed))
        if took is None:
            failed += 1
        else:
            during.append(took)
        if time.monotonic() - start > DEADLINE_S:
            break
    if not done:
        os.waitpid(flooder, 0)
    report(adder.close() == 0, "mydailyctl add - ended well")
    with open(os.path.join(os.path.dirname(daemon.state), "refused-sent")) as f:
        refused_sent = int(f.read())

    rss_peak = vm_kb(daemon.proc.pid, "VmHWM")
    growth = rss_peak - rss_before
    print("# RSS before the flood %d KiB, peak %d KiB: grew %d KiB (bound %d KiB)"
          % (rss_before, rss_peak, growth, RSS_BOUND_KB))
    if sanitized:
        report(True, "memory growth %d KiB (not held to the bound under a sanitizer) # SKIP"
               % growth)
    else:
        report(growth < RSS_BOUND_KB, "the flood grows RSS by less than 16 MiB")

    report(failed == 0 and len(during) >= MIN_FLOOD_ADDS,
           "%d adds during the flood, %d failed" % (len(during), failed))
    quiet_p99, flood_p99 = p99(quiet), p99(during) if during else float("inf")
    print("# add latency p99: quiet %.1f ms, during the flood %.1f ms (ratio %.2f, bound %d)"
          % (quiet_p99 * 1000, flood_p99 * 1000, flood_p99 / quiet_p99, LATENCY_RATIO))
    if sanitized:
        report(True, "p99 ratio %.2f (not held to the bound under a sanitizer) # SKIP"
               % (flood_p99 / quiet_p99))
    else:
        report(flood_p99 < LATENCY_RATIO * quiet_p99,
               "p99 during the flood under 10x the quiet p99")

    history = client.run("history", "-o", "tsv")
    lines = history.stdout.splitlines()
    stored_once = all(sum(1 for l in lines if l.endswith("\tquiet %d" % n)) == 1
                      for n in range(QUIET_ADDS))
    stored_once = stored_once and all(
        sum(1 for l in lines if l.endswith("\tduring the flood %d" % n)) == 1
        for n in range(len(during)))
    report(history.returncode == 0 and stored_once, "each authenticated note stored once")
    report(len(lines) == QUIET_ADDS + len(during), "no other note was stored (%d)" % len(lines))

    refused = (status_value(client, "plain-refused") or 0) - refused_before
    print("# plain-refused grew by %d; %d datagrams sent from outside PlainFrom="
          % (refused, refused_sent))
    report(0 < refused <= refused_sent, "the refused half was counted, and only it")
    report(daemon.proc.poll() is None, "the daemon is still running")
    report(daemon.stop() == 0, "it stops cleanly on SIGTERM")
    print("1..%d" % test_number)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
