#!/usr/bin/env bash
# Build a small root file system for `rootfs DIR` from Debian's
# busybox-static: one static binary, a symlink per applet, the directories
# a node needs (/proc /sys /dev /tmp /run are mounted over by netlab), and
# minimal /etc files.  Usage: scripts/make-busybox-rootfs.sh DIR
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
bb=/bin/busybox
if ! "$bb" --list >/dev/null 2>&1; then
	echo "$0: $bb is missing: install Debian's busybox-static (scripts/install-deps.sh does)" >&2
	exit 1
fi
# A dynamic busybox would need the host's libraries inside the rootfs.
if ldd "$bb" >/dev/null 2>&1; then
	echo "$0: $bb is dynamically linked: install busybox-static, not busybox" >&2
	exit 1
fi

mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp run root home mnt var/log
chmod 1777 tmp
install -m 0755 "$bb" bin/busybox
# One symlink per applet, where busybox would install it.
for applet in $(bin/busybox --list-full); do
	[ -e "$applet" ] || [ -L "$applet" ] || ln -s /bin/busybox "$applet"
done
cat >etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >etc/group <<'G'
root:x:0:
nogroup:x:65534:
G
printf '127.0.0.1 localhost\n::1 localhost\n' >etc/hosts
echo "busybox rootfs made by netlab's $(basename "$0")" >etc/motd
echo "$dir: busybox rootfs with $(bin/busybox --list | wc -l) applets"
