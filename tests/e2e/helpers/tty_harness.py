#!/usr/bin/env python3
"""An operator at a terminal, for the e2e tests: runs an interactive bash
on a pseudo-terminal of its own (the "operator's terminal"), types the
lines it is given, and prints everything the terminal showed.

    tty_harness.py [--rows R --cols C] [--settle S] STEP...

A STEP is one of
    send:TEXT        type TEXT (\\n, \\x03 escapes understood)
    wait:MARKER      read until MARKER appears on the terminal (10 s at most)
    sleep:SECONDS    keep reading for that long
    winsize:R:C      resize the operator's terminal (the kernel sends SIGWINCH)
The operator's shell is left with `exit` at the end; exit status 0 unless a
wait timed out (then 3).
"""
import codecs
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    args = sys.argv[1:]
    rows, cols = 24, 80
    while args and args[0].startswith("--"):
        if args[0] == "--rows":
            rows = int(args[1])
        elif args[0] == "--cols":
            cols = int(args[1])
        args = args[2:]
    pid, master = pty.fork()
    if pid == 0:
        os.environ["PS1"] = "operator$ "
        os.environ.pop("PROMPT_COMMAND", None)
        os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
    set_winsize(master, rows, cols)
    seen = bytearray()
    rc = 0

    def pump(deadline, marker=None):
        while time.time() < deadline:
            if marker is not None and marker in seen:
                return True
            r, _, _ = select.select([master], [], [], max(0.0, min(0.1, deadline - time.time())))
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    return marker is None
                if not data:
                    return marker is None
                seen.extend(data)
        return marker is None or marker in seen

    pump(time.time() + 0.5, b"operator$ ")
    for step in args:
        kind, _, arg = step.partition(":")
        if kind == "send":
            os.write(master, codecs.decode(arg, "unicode_escape").encode())
        elif kind == "wait":
            if not pump(time.time() + 10, arg.encode()):
                sys.stderr.write("tty_harness: timed out waiting for %r\n" % arg)
                rc = 3
        elif kind == "sleep":
            pump(time.time() + float(arg))
        elif kind == "winsize":
            r, c = arg.split(":")
            set_winsize(master, int(r), int(c))
        else:
            sys.stderr.write("tty_harness: unknown step %r\n" % step)
            return 2
    os.write(master, b"\nexit\n")
    pump(time.time() + 3)
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    sys.stdout.write(seen.decode(errors="replace"))
    return rc


sys.exit(main())
