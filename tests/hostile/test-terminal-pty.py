#!/usr/bin/env python3
"""mydailyctl under a pty against a hostile server (issue 9, item 5).

md-hostile-terminal-server answers every request with escape sequences: in
/status, in notes (ones the client rejects and ones it accepts), in
notifications and in the diagnostics of 4.xx answers.  Each row runs one
mydailyctl command with stdin, stdout and stderr on a pty, reads every byte
the command writes there, and checks that none is a raw ESC or other C0
control, DEL, a C1 control (as a UTF-8 character or as a raw byte outside
valid UTF-8) or a bidi embedding/override/isolate.  follow runs until the
last notification has been printed, then gets SIGTERM; the notebook gets a
line typed at its prompt, then Ctrl-D; every wait has a deadline.  Each row
also checks that the output shows what it should (the escaped form, the
Chinese text), so an empty output cannot pass.  Two rows run into a pipe
instead: there -o tsv and -o json keep the server's bytes as they came.

Colour (issue 12, item 6): the rows run with NO_COLOR=1 and TERM=dumb.  The
colour rows run on TERM=xterm-256color: without NO_COLOR (or with it empty,
which the convention says to ignore) times and authors come in mydailyctl's
own SGR sequences on the pty and nothing else does; with NO_COLOR=1, on
TERM=dumb or into a pipe, not one ESC.

Usage: test-terminal-pty.py SERVER-BINARY (MYDAILYCTL names the client).
Prints TAP.  Exits 77 when the machine cannot open a pty.
"""
import collections
import json
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


def read_until(fd, out, marker, deadline, start=0):
    """Reads @fd onto @out until EOF, @deadline, or @marker at or after
    @start; returns the output and where the marker ends (-1: not seen)."""
    while time.monotonic() < deadline:
        found = out.find(marker, start) if marker is not None else -1
        if found >= 0:
            return out, found + len(marker)
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
    found = out.find(marker, start) if marker is not None else -1
    return out, found + len(marker) if found >= 0 else -1


def stop(proc, finish):
    """Ends @proc and reaps it: SIGTERM (which follow takes as a normal end)
    for "term", else it must exit by itself."""
    if finish == "term" and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "killed after %d s" % EXIT_TIMEOUT_S


def run_pty(argv, env, row):
    """Runs @argv on a pty; each step waits for its marker, then types its
    input.  Returns the exit status, the bytes written and what went wrong."""
    master, slave = os.openpty()
    problems = []
    out = b""
    try:
        proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                start_new_session=True)
    finally:
        os.close(slave)
    try:
        deadline = time.monotonic() + READ_TIMEOUT_S
        seen = 0
        for marker, typed in row.steps:
            out, seen = read_until(master, out, marker, deadline, seen)
            if seen < 0:
                problems.append("no %r within %d s" % (marker, READ_TIMEOUT_S))
                break
            if typed is not None:
                os.write(master, typed)
        if row.finish == "exit":
            out, _ = read_until(master, out, None, deadline)
        status = stop(proc, row.finish)
        out, _ = read_until(master, out, None, time.monotonic() + 1)
    finally:
        os.close(master)
    return status, out, problems


def run_pipe(argv, env):
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=READ_TIMEOUT_S)
    return proc.returncode, proc.stdout, []


def start_server(path):
    server = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ready, _, _ = select.select([server.stdout], [], [], READ_TIMEOUT_S)
    line = server.stdout.readline() if ready else b""
    if not line.strip().isdigit():
        server.kill()
        sys.exit("the hostile server did not print its port")
    return server, int(line)


Row = collections.namedtuple("Row", "name args wants status where steps finish color",
                             defaults=(0, "pty", (), "exit", None))

# mydailyctl's colours: dim times, cyan authors, the red "mydailyctl:" of
# an error, and the reset after each.
COLORS = (b"\x1b[2m", b"\x1b[36m", b"\x1b[1;31m", b"\x1b[0m")

# follow ends at the message that closes the gap fetch; the notebook gets a
# note typed at its prompt (which the server rejects), then Ctrl-D.
FOLLOWED = ((b"malformed line", None),)
TYPED = ((b"lines from the server", None), (b"> ", b"diag\r"), (b"note rejected", None),
         (b"> ", b"\x04"))

ROWS = [
    Row("status", ["status"],
        ["\\u001b]0;pwned-title\\u0007", "\\u009b31m", "\\x9b2J", "\\u007f", "\\u202e",
         "last-id: 12", "motd: 今天学习了 UDP 和 CoAP"]),
    Row("history", ["history"],
        ["printer toner 今天学习了 UDP 和 CoAP", "mallory  \\u202eevil reversed\\u202c text",
         "@::1  \\u2066isolate\\u2069", "ignored 7 malformed lines"]),
    Row("history -n 5 -o tsv", ["history", "-n", "5", "-o", "tsv"],
        ["10\t2026-11-18T11:06:40Z\teve\t\\u202enotified\\u202c 你好"]),
    Row("history -o json", ["history", "-o", "json"],
        ['"author":"mallory","text":"\\u202eevil reversed\\u202c text"']),
    Row("add diag", ["add", "diag"],
        ["note rejected: diag\\u001b]0;pwned-title\\u0007\\u001b[2J", "\\u202eevil 坏"], 1),
    Row("add raw", ["add", "raw"], ["the server answered 4.00"], 1),
    Row("add stored", ["add", "stored"], ["did not say under which id"], 1),
    Row("add clash", ["add", "clash"], ["already names note 8"], 1),
    Row("follow", ["follow"], ["\\u202enotified\\u202c 你好", "\\u2068gap\\u2069 follow-end"],
        steps=FOLLOWED, finish="term"),
    Row("follow -o json", ["follow", "-o", "json"], ['"text":"\\u2068gap\\u2069 follow-end"'],
        steps=FOLLOWED, finish="term"),
    Row("notebook", [],
        ["\\u202eevil reversed\\u202c text", "note rejected: diag\\u001b]0;pwned-title"],
        steps=TYPED),
    Row("bad server address", ["--server", "\x1b]0;pwned\x07:x", "status"],
        ["\\u001b]0;pwned\\u0007"], 64),
    # Into a pipe, tsv and json keep the server's bytes.
    Row("history -o tsv | pipe", ["history", "-o", "tsv"],
        ["8\t2026-11-18T11:06:40Z\tmallory\t" + RLO + "evil reversed\u202c text"], where="pipe"),
    Row("history -o json | pipe", ["history", "-o", "json"],
        ['"text":"' + RLO + 'evil reversed\u202c text"'], where="pipe"),
    # Colour on a terminal without NO_COLOR, or with it empty; never in a pipe.
    Row("history in colour", ["history", "--no-pager"],
        ["\x1b[36mmallory\x1b[0m  \\u202eevil reversed", "\x1b[2m2026-11-18 11:06\x1b[0m"],
        color="unset"),
    Row("history, NO_COLOR empty", ["history", "--no-pager"], ["\x1b[36m@::1\x1b[0m"],
        color="empty"),
    Row("history | pipe, no NO_COLOR", ["history"], ["mallory  \\u202eevil reversed"],
        where="pipe", color="unset"),
    Row("history, TERM=dumb", ["history", "--no-pager"], ["mallory  \\u202eevil reversed"],
        color="dumb"),
    Row("history, NO_COLOR=1", ["history", "--no-pager"], ["mallory  \\u202eevil reversed"],
        color="refused"),
    Row("follow, NO_COLOR=1", ["follow"], ["eve  \\u202enotified"], steps=FOLLOWED,
        finish="term", color="refused"),
    Row("follow in colour", ["follow"], ["\x1b[36meve\x1b[0m  \\u202enotified"],
        steps=FOLLOWED, finish="term", color="unset"),
]


def row_env(env, row):
    """@env for @row: NO_COLOR=1 and TERM=dumb unless the row tests colour."""
    env = dict(env)
    if row.color is not None:
        env.pop("NO_COLOR", None)
        env["TERM"] = "xterm-256color"
    if row.color == "empty":
        env["NO_COLOR"] = ""
    elif row.color == "dumb":
        env["TERM"] = "dumb"
    elif row.color == "refused":
        env["NO_COLOR"] = "1"
    return env


def color_problems(row, out):
    """With NO_COLOR, on a dumb terminal or into a pipe no ESC at all; on a
    pty otherwise only mydailyctl's SGR sequences, which are taken out before
    forbidden() looks."""
    if row.where == "pipe" or row.color in ("dumb", "refused"):
        return ["ESC at %d" % out.find(b"\x1b")] if b"\x1b" in out else []
    for sequence in COLORS:
        out = out.replace(sequence, b"")
    return forbidden(out.replace(b"\r\x1b[K", b"\r"))


def json_problems(text):
    """-o json stays JSON on a terminal too, with the server's text in it."""
    texts = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                texts.append(json.loads(line)["text"])
            except ValueError as error:
                return ["not JSON (%s): %r" % (error, line)]
    if not any(RLO in t for t in texts):
        return ["no JSON text holds U+202E"]
    return []


def check_row(number, row, ctl, port, env):
    argv = [ctl, "--server", "127.0.0.1:%d" % port, "--timeout", "5"] + row.args
    env = row_env(env, row)
    if row.where == "pty":
        status, out, failures = run_pty(argv, env, row)
    else:
        status, out, failures = run_pipe(argv, env)
    if row.color is not None:
        failures += color_problems(row, out)
    elif row.where == "pty":
        # The notebook's own "clear the prompt line" before a note.
        failures += forbidden(out.replace(b"\r\x1b[K", b"\r"))
    text = out.decode("utf-8", errors="replace")
    if status != row.status:
        failures.append("exit status %s, expected %d" % (status, row.status))
    failures += ["missing %r" % want for want in row.wants if want not in text]
    # A note whose author breaks the rules is rejected, however benign its text.
    if "benign note by a hostile author" in text:
        failures.append("printed the note of a hostile author")
    if "json" in row.args:
        failures += json_problems(text)
    print("%s %d - %s" % ("not ok" if failures else "ok", number, row.name))
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
        for fd in os.openpty():
            os.close(fd)
    except OSError as error:
        print("1..0 # SKIP no pty: %s" % error)
        return 77
    home = tempfile.TemporaryDirectory(prefix="md-terminal-pty-")
    env = dict(os.environ, NO_COLOR="1", PAGER="cat", LC_ALL="C.UTF-8", TZ="UTC", TERM="dumb",
               HOME=home.name, XDG_CACHE_HOME=home.name + "/cache",
               XDG_STATE_HOME=home.name + "/state", XDG_CONFIG_HOME=home.name + "/config")
    env.pop("MYDAILY_SERVER", None)
    server, port = start_server(sys.argv[1])
    print("1..%d" % len(ROWS))
    try:
        ok = [check_row(i + 1, row, os.environ["MYDAILYCTL"], port, env)
              for i, row in enumerate(ROWS)]
    finally:
        server.stdin.close()
        server.wait(timeout=EXIT_TIMEOUT_S)
        home.cleanup()
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
