#!/usr/bin/env python3
"""A signal at login's key prompt leaves the terminal as it was.

The prompt turns echo off on its terminal; SIGINT (Ctrl-C), SIGTERM and
SIGHUP are taken by mydailyctl's signal thread, which dies of them.  For
each, mydailyctl runs "login" on a pty, the test waits for the prompt and
for echo to go off, sends the signal, and checks that mydailyctl died of
it with echo on again.  No server is needed: the key is never typed.

Prints TAP.  Exits 77 when the machine cannot open a pty.
"""
import os
import pty
import select
import signal
import sys
import tempfile
import termios
import time

PROMPT_TIMEOUT_S = 20
EXIT_TIMEOUT_S = 10


def echo_on(fd):
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


def wait_prompt(fd):
    """The output up to the prompt, once echo is off, or None."""
    deadline = time.monotonic() + PROMPT_TIMEOUT_S
    out = b""
    while time.monotonic() < deadline:
        if b"Key for" in out and not echo_on(fd):
            return out
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return None
    return None


def wait_exit(pid):
    deadline = time.monotonic() + EXIT_TIMEOUT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return status
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def run(ctl, home, signum):
    """A list of problems (empty when all is well)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"),
                          LC_ALL="C.UTF-8")
        os.execv(ctl, [ctl, "login", "127.0.0.1:1", "alice"])
    try:
        if wait_prompt(fd) is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return ["no prompt with echo off"]
        os.kill(pid, signum)
        status = wait_exit(pid)
        problems = []
        if status is None:
            problems.append("did not exit")
        elif not os.WIFSIGNALED(status) or os.WTERMSIG(status) != signum:
            problems.append("exit status %r, not death by the signal" % status)
        if not echo_on(fd):
            problems.append("echo left off")
        return problems
    finally:
        os.close(fd)


def main():
    ctl = os.environ.get("MYDAILYCTL")
    if ctl is None:
        print("MYDAILYCTL is not set; run the tests with meson test", file=sys.stderr)
        return 1
    try:
        master, slave = os.openpty()
        os.close(master)
        os.close(slave)
    except OSError as e:
        print("1..0 # SKIP no pty: %s" % e)
        return 77
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    print("1..%d" % len(signals))
    failed = False
    with tempfile.TemporaryDirectory() as home:
        for i, signum in enumerate(signals, 1):
            problems = run(ctl, home, signum)
            name = signal.Signals(signum).name
            if problems:
                failed = True
                print("not ok %d %s: %s" % (i, name, "; ".join(problems)))
            else:
                print("ok %d %s" % (i, name))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
