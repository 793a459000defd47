#!/usr/bin/env python3
"""Run as root inside a node: try the ways out that do not depend on the
node's file system layout, and print one line per attempt:
    NAME blocked (reason)    the kernel refused
    NAME possible (detail)   it worked (the test decides whether the docs
                             promise otherwise)
Nothing is written anywhere outside the node: files are only opened
(O_WRONLY, never written), ptrace only seizes (the tracee never stops,
and is let go when this process exits), a device node made in the
node's own /tmp is removed at once.

    escape_probe.py HOST_FILE TOPO_DIR"""
import ctypes
import errno
import os
import stat
import sys

host_file, topo_dir = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)


def report(name, fn):
    try:
        detail = fn()
        print("%s possible (%s)" % (name, detail))
    except OSError as e:
        print("%s blocked (%s)" % (name, e.strerror or errno.errorcode.get(e.errno, e.errno)))


def open_w(path):
    def f():
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.close(fd)
        return "opened %s for writing" % path
    return f


def ptrace_init():
    PTRACE_SEIZE = 0x4206
    if libc.ptrace(PTRACE_SEIZE, 1, 0, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return "seized pid 1"


def read_init_mem():
    with open("/proc/1/mem", "rb") as f:
        f.read(0)
    return "opened /proc/1/mem"


def list_init_fds():
    return "%d fds of pid 1" % len(os.listdir("/proc/1/fd"))


def foreign_namespaces():
    own = {}
    for t in os.listdir("/proc/self/ns"):
        own[t] = os.stat("/proc/self/ns/" + t).st_ino
    foreign = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        for t, ino in own.items():
            try:
                if os.stat("/proc/%s/ns/%s" % (p, t)).st_ino != ino:
                    foreign.append("%s/%s" % (p, t))
            except OSError:
                pass
    if foreign:
        return "foreign: " + " ".join(sorted(foreign)[:6])
    raise OSError(errno.ENOENT, "every namespace visible is the node's own")


def mknod_block():
    path = "/tmp/escape-probe-sda"
    os.mknod(path, stat.S_IFBLK | 0o600, os.makedev(8, 0))
    os.unlink(path)
    return "made a block device"


def create_in(d):
    def f():
        path = os.path.join(d, "escape-probe-new")
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        os.unlink(path)
        return "created a file in %s" % d
    return f


def in_child(fn):
    """fn() in a child process (what it changes, its root, stays there);
    its verdict comes back through a pipe."""
    def f():
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                msg = "ok " + fn()
            except OSError as e:
                msg = "err %d %s" % (e.errno, e.strerror or "")
            os.write(w, msg.encode())
            os._exit(0)
        os.close(w)
        msg = os.read(r, 4096).decode()
        os.waitpid(pid, 0)
        if msg.startswith("ok "):
            return msg[3:]
        _, num, text = (msg.split(" ", 2) + ["", ""])[:3]
        raise OSError(int(num or 0), text)
    return f


def chroot_out():
    """The classic way out of a chroot: a chroot below the working
    directory, then '..' as far as it goes, and a chroot there."""
    before = os.stat("/")
    d = "/tmp/escape-probe-chroot"
    os.makedirs(d, exist_ok=True)
    os.chdir("/")
    os.chroot(d)
    for _ in range(64):
        os.chdir("..")
    os.chroot(".")
    after = os.stat("/")
    if (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino):
        raise OSError(errno.EPERM, "'..' ends on the node's own root")
    return "a root other than the node's: %s" % sorted(os.listdir("/"))[:10]


def nested_userns():
    CLONE_NEWUSER = 0x10000000
    if libc.unshare(CLONE_NEWUSER) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return "made a user namespace"


report("proc_sys_kernel", open_w("/proc/sys/kernel/core_pattern"))
report("proc_sys_vm", open_w("/proc/sys/vm/drop_caches"))
report("proc_sys_net_own", open_w("/proc/sys/net/ipv4/ip_forward"))
report("ptrace_init", ptrace_init)
report("init_mem", read_init_mem)
report("init_fds", list_init_fds)
report("foreign_ns", foreign_namespaces)
report("mknod", mknod_block)
report("host_file", open_w(host_file))
report("topo_dir", create_in(topo_dir))
report("chroot_out", in_child(chroot_out))
report("nested_userns", in_child(nested_userns))
