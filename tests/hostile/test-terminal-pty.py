#!/usr/bin/env python3
"""mydailyctl under a pty against a hostile server (issue 9, item 5).

md-hostile-terminal-server answers every request with escape sequences: in
/status, in notes (ones the client rejects and ones it accepts), in
notifications and in the diagnostics of 4.xx answers.  Each row runs one
mydailyctl command with stdin, stdout and stderr on a pty, reads every byte
the command writes there, and checks that none is a raw ESC or other C0
control, DEL, a C1 control (as a UTF-8 character or as a raw byte outside
valid UTF-8) or a bidi embedding/override/isolate.  Each row also checks that
the output shows what it should (the escaped form, the Chinese text), so an
empty output cannot pass.  Two rows run into a pipe instead: there -o tsv
and -o json keep the server's bytes as they came.

Usage: test-terminal-pty.py SERVER-BINARY (MYDAILYCTL names the client).
Prints TAP.  Exits 77 when the machine cannot open a pty.
"""
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

READ_TIMEOUT_S = 20
EXIT_TIMEOUT_S = 10

BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
RLO = "\u202e"


def forbidden(data):
    """What in @data a terminal would act on, as a list of descriptions."""
    problems = []
    text = data.decode("utf-8", errors="surrogateescape")
    for i, ch in enumerate(text):
        c = ord(ch)
        if 0xDC80 <= c <= 0xDCFF:
            byte = c - 0xDC00
            if 0x80 <= byte <= 0x9F:
                problems.append("raw C1 byte 0x%02x at %d" % (byte, i))
        elif c < 0x20 and ch not in "\t\r\n":
            problems.append("C0 0x%02x at %d" % (c, i))
        elif c == 0x7F or 0x80 <= c <= 0x9F:
            problems.append("U+%04X at %d" % (c, i))
        elif c in BIDI:
            problems.append("bidi U+%04X at %d" % (c, i))
    return problems


def read_until(fd, proc, marker, deadline):
    """Reads @fd until EOF, or @marker appears, or @deadline (monotonic)."""
    out = b""
    while time.monotonic() < deadline:
        if marker is not None and marker in out:
            break
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every writer of the pty is gone
            break
        if not chunk:
            break
        out += chunk
    return out


def stop(proc):
    """Ends @proc (SIGTERM, which follow takes as a normal end) and reaps it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def run_pty(argv, env, marker):
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                start_new_session=True)
    finally:
        os.close(slave)
    try:
        out = read_until(master, proc, marker, time.monotonic() + READ_TIMEOUT_S)
        status = stop(proc) if marker is not None else proc.wait(timeout=EXIT_TIMEOUT_S)
        out += read_until(master, proc, None, time.monotonic() + 1)
    finally:
        os.close(master)
    return status, out


def run_pipe(argv, env):
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=READ_TIMEOUT_S)
    return proc.returncode, proc.stdout


def start_server(path):
    server = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ready, _, _ = select.select([server.stdout], [], [], READ_TIMEOUT_S)
    line = server.stdout.readline() if ready else b""
    if not line.strip().isdigit():
        server.kill()
        sys.exit("the hostile server did not print its port")
    return server, int(line)


# name, arguments, where (pty or pipe), marker that ends a follow, exit
# status, texts the output must contain.
ROWS = [
    ("status", ["status"], "pty", None, 0,
     ["\\u001b]0;pwned-title\\u0007", "\\u009b31m", "\\x9b2J", "\\u007f", "\\u202e",
      "last-id: 12", "motd: 今天学习了 UDP 和 CoAP"]),
    ("history", ["history"], "pty", None, 0,
     ["printer toner 今天学习了 UDP 和 CoAP", "\\u202eevil reversed\\u202c text",
      "\\u2066isolate\\u2069", "ignored 7 malformed lines"]),
    ("history -n 5 -o tsv", ["history", "-n", "5", "-o", "tsv"], "pty", None, 0,
     ["10\t2026-11-18T11:06:40Z\t\\u202enotified\\u202c 你好"]),
    ("history -o json", ["history", "-o", "json"], "pty", None, 0,
     ['"text":"\\u202eevil reversed\\u202c text"']),
    ("add diag", ["add", "diag"], "pty", None, 1,
     ["note rejected: diag\\u001b]0;pwned-title\\u0007\\u001b[2J", "\\u202eevil 坏"]),
    ("add raw", ["add", "raw"], "pty", None, 1, ["the server answered 4.00"]),
    ("add stored", ["add", "stored"], "pty", None, 1, ["did not say under which id"]),
    ("add clash", ["add", "clash"], "pty", None, 1, ["already names note 8"]),
    ("follow", ["follow"], "pty", b"malformed line", 0,
     ["\\u202enotified\\u202c 你好", "\\u2068gap\\u2069 follow-end"]),
    ("follow -o json", ["follow", "-o", "json"], "pty", b"malformed line", 0,
     ['"text":"\\u2068gap\\u2069 follow-end"']),
    ("bad server address", ["--server", "\x1b]0;pwned\x07:x", "status"], "pty", None, 64,
     ["\\u001b]0;pwned\\u0007"]),
]

# Into a pipe, tsv and json keep the server's bytes.
PIPE_ROWS = [
    ("history -o tsv | pipe", ["history", "-o", "tsv"], "pipe", None, 0,
     ["8\t2026-11-18T11:06:40Z\t" + RLO + "evil reversed\u202c text"]),
    ("history -o json | pipe", ["history", "-o", "json"], "pipe", None, 0,
     ['"text":"' + RLO + 'evil reversed\u202c text"']),
]


def check_row(number, row, ctl, port, env):
    name, args, where, marker, want_status, wants = row
    argv = [ctl, "--server", "127.0.0.1:%d" % port, "--timeout", "5"] + args
    if where == "pty":
        status, out = run_pty(argv, env, marker)
    else:
        status, out = run_pipe(argv, env)
    text = out.decode("utf-8", errors="replace")
    failures = []
    if where == "pty":
        failures += forbidden(out)
    if status != want_status:
        failures.append("exit status %s, expected %d" % (status, want_status))
    failures += ["missing %r" % want for want in wants if want not in text]
    print("%s %d - %s" % ("not ok" if failures else "ok", number, name))
    for failure in failures[:20]:
        print("# " + failure)
    if failures:
        for line in text.splitlines():
            print("#   | " + ascii(line))
    return not failures


def main():
    if len(sys.argv) != 2 or "MYDAILYCTL" not in os.environ:
        sys.exit("usage: MYDAILYCTL=PATH test-terminal-pty.py SERVER-BINARY")
    try:
        os.close(os.openpty()[0])
    except OSError as error:
        print("1..0 # SKIP no pty: %s" % error)
        return 77
    home = tempfile.TemporaryDirectory(prefix="md-terminal-pty-")
    env = dict(os.environ, NO_COLOR="1", PAGER="cat", LC_ALL="C.UTF-8", TZ="UTC",
               HOME=home.name, XDG_CACHE_HOME=home.name + "/cache",
               XDG_STATE_HOME=home.name + "/state", XDG_CONFIG_HOME=home.name + "/config")
    env.pop("MYDAILY_SERVER", None)
    server, port = start_server(sys.argv[1])
    rows = ROWS + PIPE_ROWS
    print("1..%d" % len(rows))
    try:
        ok = [check_row(i + 1, row, os.environ["MYDAILYCTL"], port, env)
              for i, row in enumerate(rows)]
    finally:
        server.stdin.close()
        server.wait(timeout=EXIT_TIMEOUT_S)
        home.cleanup()
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
