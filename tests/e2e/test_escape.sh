# The escape suite, part one: as root inside a node, the ways out that do
# not depend on the node's file system layout (issue 12 rebuilds that;
# unmounting /tmp, /run, /proc and the rootfs node's attempts come with
# it).  Each is asserted blocked where docs/security.md promises it: in a
# node with its own user namespace (the default), every one; in a
# `userns off` node, the ones the PID, mount, network and cgroup
# namespaces still close, while the others are listed as given away.
# TIOCSTI is test_terminal.sh.
. tests/e2e/lib.sh
sandbox_setup
# The topology's directory is $T/lab (node root writes there by design:
# /lab); $T/host-file is a host file outside it.
mkdir -m 755 $T/lab
cp tests/e2e/helpers/escape_probe.py $T/lab/
echo host-secret >$T/host-file
chmod 644 $T/host-file
mkdir -m 777 $T/shared
before=$(host_snapshot notmp)

cat >$T/lab/esc.topo <<TOPO
lab escape
switch s
node a
    ip eth0 10.0.0.1/24
    mount $T/shared /srv
    memory 64M
    run sleep 1000
node b
    ip eth0 10.0.0.2/24
    mount $T/shared /srv
node t
    ip eth0 10.0.0.5/24
node u
    ip eth0 10.0.0.6/24
node off
    userns off
    ip eth0 10.0.0.3/24
    mount $T/shared /srv
    memory 64M
    run sleep 1000
node off2
    userns off
    ip eth0 10.0.0.4/24
    mount $T/shared /srv
link a:eth0 s
link b:eth0 s
link off:eth0 s
link off2:eth0 s
link t:eth0 s
link u:eth0 s
TOPO
check "up" "$NETLAB" up $T/lab/esc.topo

# A node's ptys and message queues are file systems of its own
# (docs/isolation.md): at up for a node that starts processes (a), at the
# first entry for one that starts none (t, u).  Read from outside, through
# each init's mount table: nothing here has entered a node yet.
init_of() {
	python3 -c 'import json,sys; print([n["pid"] for n in json.load(open(sys.argv[1]))["nodes"] if n["name"] == sys.argv[2]][0])' \
		/run/netlab/escape/state.json "$1"
}
own_dev() {
	awk '$5 == "/dev/pts" && / - devpts /{p++} $5 == "/dev/mqueue" && / - mqueue /{m++} END{print p + 0, m + 0}' \
		/proc/"$(init_of "$1")"/mountinfo
}
check_eq "a (runs a command): its own devpts and mqueue at up" "1 1" "$(own_dev a)"
check_eq "t (runs nothing): neither before anything enters it" "0 0" "$(own_dev t)"

# What docs/security.md says, attempt by attempt, for each kind of node.
# host_file is a host file outside the topology's directory: hidden from
# both kinds by their own overlay root (a `userns off` node could still
# reach the host's disks: mknod, mount).
expect_default="proc_sys_kernel blocked
proc_sys_vm blocked
proc_sys_net_own possible
ptrace_init blocked
init_mem blocked
init_fds blocked
foreign_ns blocked
mknod blocked
host_file blocked
topo_dir possible
chroot_out blocked
nested_userns possible"
expect_off="proc_sys_kernel possible
proc_sys_vm possible
proc_sys_net_own possible
ptrace_init possible
init_mem possible
init_fds possible
foreign_ns blocked
mknod possible
host_file blocked
topo_dir possible
chroot_out blocked
nested_userns possible"
for n in a t off; do
	out=$("$NETLAB" exec escape $n sh -c "cd / && python3 /lab/escape_probe.py $T/host-file /lab" 2>&1)
	echo "$out" | sed "s/^/# $n: /"
	want=$([ $n = off ] && echo "$expect_off" || echo "$expect_default")
	while read -r name verdict; do
		got=$(echo "$out" | awk -v k="$name" '$1 == k {print $2}')
		check_eq "$n ($([ $n = off ] && echo 'userns off' || echo default)): $name is $verdict" "$verdict" "$got"
	done <<<"$want"
done
check_eq "the host file is untouched" host-secret "$(cat $T/host-file)"
# /lab is the topology's directory, writable by node root as its owner
# (here root): what a default node writes there is the owner's, what it
# writes anywhere else stays in the node.
hostname_sum=$(sha256sum </etc/hostname)
"$NETLAB" exec escape a sh -c 'echo from-a >/lab/a-wrote; echo x >/etc/hostname' >/dev/null 2>&1
check_eq "a default node's file in /lab belongs to the directory's owner" "0:0" "$(stat -c %u:%g $T/lab/a-wrote)"
check_eq "its write to /etc/hostname stayed in the node" "$hostname_sum" "$(sha256sum </etc/hostname)"
check_eq "... where it reads it back" x "$("$NETLAB" exec escape a cat /etc/hostname)"

# Signals outside: a process of the sandbox outlives kill -9 -1 in nodes.
sleep 1000 &
outside=$!
for n in a off; do
	"$NETLAB" exec escape $n sh -c "kill -9 -1; kill -9 $outside $$ 1" >/dev/null 2>&1
	check "$n: kill -9 -1 and kill of outside pids leave the sandbox's process alive" kill -0 $outside
	check "$n: ... and the lab's supervisor" "$NETLAB" status escape
done
kill $outside

# Another node's files: with a user namespace each, one node's root is
# not the other's, even on a directory both mount.
"$NETLAB" exec escape b sh -c 'echo b-secret >/srv/b-only && chmod 600 /srv/b-only'
check_fails "a cannot read b's private file on a shared mount" "$NETLAB" exec escape a cat /srv/b-only
check_fails "a cannot replace it" "$NETLAB" exec escape a sh -c 'echo x >/srv/b-only'
check_eq "b's file is intact" b-secret "$(cat $T/shared/b-only)"
"$NETLAB" exec escape off2 sh -c 'echo off2-secret >/srv/off2-only && chmod 600 /srv/off2-only'
check_eq "userns off: both roots are the host's root, so off reads off2's file (given away)" off2-secret \
	"$("$NETLAB" exec escape off cat /srv/off2-only 2>&1)"
"$NETLAB" exec escape b sh -c 'echo b-tmp >/tmp/b-tmp'
check_fails "a does not see b's /tmp" "$NETLAB" exec escape a cat /tmp/b-tmp
check_eq "a sees only its own processes" "1" \
	"$("$NETLAB" exec escape a sh -c 'ls -d /proc/[0-9]* | wc -l; ' | awk '{print ($1 < 6)}')"

# The cgroup: a process in a limited node stays in the node's cgroup
# whatever it writes or mounts.
cgroup_attempt='echo $$ >/sys/fs/cgroup/cgroup.procs; for f in /sys/fs/cgroup/*/cgroup.procs; do echo $$ >$f; done
mkdir -p /tmp/cg1 /tmp/cg2
mount -t cgroup2 none /tmp/cg1 && echo $$ >/tmp/cg1/cgroup.procs
mount -t cgroup -o memory none /tmp/cg2 && echo $$ >/tmp/cg2/cgroup.procs
exec sleep 1000'
for n in a off; do
	"$NETLAB" exec escape $n sh -c "$cgroup_attempt" >/dev/null 2>&1 &
	sleep 1
	pid=$(pgrep -n -x sleep)
	cg=$(grep -E ':memory:' /proc/$pid/cgroup | cut -d: -f3)
	# The cgroup namespace roots every cgroup mount at the node's own
	# group, and no process outside the node is visible to reach
	# another: with or without a user namespace.
	check_eq "$n: after writing cgroup.procs and mounting cgroupfs, still in the node's cgroup" \
		"/netlab/escape/$n" "$cg"
	kill $pid 2>/dev/null
done
wait

# t has no `mount` statement and starts no process of its own: its mount
# namespace is a copy of the lab's node template (supervisor/nodetmpl.c),
# and its /sys is the lab's placeholder (a sysfs of a network namespace
# that is gone) until something enters it, which mounts t's own
# (docs/isolation.md).  Under t's own there is nothing to see.
check_eq "t: the first process in it sees its own /sys/class/net" "eth0 lo" \
	"$("$NETLAB" exec escape t ls /sys/class/net | tr '\n' ' ' | sed 's/ $//')"
check_eq "t: unmounting its /sys shows the placeholder: no interface at all" "placeholder:" \
	"$("$NETLAB" exec escape t sh -c 'umount -l /sys && echo placeholder: $(ls /sys/class/net)' 2>&1)"
check_eq "t: the next process that enters mounts its own again" "eth0 lo" \
	"$("$NETLAB" exec escape t ls /sys/class/net | tr '\n' ' ' | sed 's/ $//')"
check_eq "t: after several entries, one devpts and one mqueue of its own" "1 1" "$(own_dev t)"
check_eq "t: a pty opens in its devpts" /dev/pts/0 \
	"$("$NETLAB" exec escape t python3 -c 'import os; m, s = os.openpty(); print(os.ttyname(s))')"
check_eq "t: its devpts holds no pty once that one is closed" ptmx "$("$NETLAB" exec escape t ls /dev/pts)"
pts_dev() { awk '$5 == "/dev/pts" && / - devpts / {print $3}' /proc/"$(init_of "$1")"/mountinfo; }
[ -n "$(pts_dev t)" ] && [ "$(pts_dev t)" != "$(pts_dev a)" ] && ok "t's devpts is not a's ($(pts_dev t), $(pts_dev a))" ||
	not_ok "t's devpts '$(pts_dev t)', a's '$(pts_dev a)'"
check "t: a message queue opens in its mqueue" "$NETLAB" exec escape t python3 -c \
	'import ctypes, os; rt = ctypes.CDLL("librt.so.1", use_errno=True); q = rt.mq_open(b"/q", os.O_CREAT | os.O_RDWR, 0o600, None); assert q >= 0, os.strerror(ctypes.get_errno())'
check_eq "t: the queue is in t's mqueue" q "$("$NETLAB" exec escape t ls /dev/mqueue)"
# Four first entries at once: one mount each, not one per entry (a pty
# opened on a lower devpts would lose its /dev/pts/N).
# Each must succeed: unlocked, a second sysfs of u's namespace mounted
# on the first failed (EBUSY).
pids=
for i in 1 2 3 4; do
	"$NETLAB" exec escape u ls /sys/class/net/eth0/address >/dev/null &
	pids="$pids $!"
done
failed=0
for p in $pids; do wait $p || failed=$((failed + 1)); done
check_eq "u: four first entries at once all succeed" 0 "$failed"
check_eq "u: and make one devpts and one mqueue" "1 1" "$(own_dev u)"
check_eq "u: and one sysfs on /sys over the placeholder" 1 \
	"$(awk '$5 == "/sys" && / - sysfs / && $6 !~ /(^|,)ro(,|$)/' /proc/"$(init_of u)"/mountinfo | wc -l)"
# A process of the node holding a lock on its root does not hang the next
# entry that has something to mount (here its mqueue, unmounted by node
# root): it waits 3 s for the lock, then mounts without it.
holder=$("$NETLAB" exec escape u sh -c 'umount /dev/mqueue && { flock / sleep 60 >/dev/null 2>&1 & echo $!; }')
sleep 0.3
t0=$(date +%s%N)
check "u: an entry while a node process holds the lock on its root" "$NETLAB" exec escape u true
t1=$(date +%s%N)
check_eq "u: it mounted u's mqueue again" "1 1" "$(own_dev u)"
waited=$(((t1 - t0) / 1000000))
[ "$waited" -ge 2500 ] && [ "$waited" -lt 10000 ] && ok "u: it waited for the lock about 3 s (${waited} ms)" ||
	not_ok "u: it waited ${waited} ms for the lock"
"$NETLAB" exec escape u kill "$holder"

# What hides the host cannot be taken away: a default node's /tmp, /run,
# /var/tmp are directories of its own overlay (nothing to unmount), and
# unmounting /proc, /sys or /dev shows the lab's empty mask directories;
# the host's tree is detached (pivot_root) or, in a copy of the template
# (t), never was there, so no path leads back to it.
echo host-tmp-marker >/tmp/netlab-escape-marker.$$
unmount_all='for m in /run /tmp /var/tmp /proc /sys /dev/pts /dev /lab /etc/hosts; do umount -l $m 2>/dev/null; done
umount -l / 2>/dev/null; cd / 2>/dev/null
ls -A /run; ls -A /run/netlab 2>/dev/null; ls -A /tmp; ls -A /proc
cat /etc/shadow 2>/dev/null && echo shadow-readable
echo node >/tmp/from-node && echo wrote-tmp'
for n in a t; do
	out=$("$NETLAB" exec escape $n sh -c "$unmount_all" 2>&1)
	echo "$out" | sed "s/^/# $n after umounts: /"
	check_fails "$n: after unmounting everything it can, no lab state (/run/netlab) is in sight" \
		grep -q -e state.json -e nodes.idx -e supervisor.log -e '^escape$' <<<"$out"
	check_fails "$n: ... nor the host's /tmp" grep -q netlab-escape-marker <<<"$out"
	check_fails "$n: ... nor any process (an empty /proc)" grep -qx '[0-9][0-9]*' <<<"$out"
	check_fails "$n: ... nor the host's /etc/shadow" grep -q shadow-readable <<<"$out"
	check_contains "$n: its /tmp stays its own: a file written there" wrote-tmp "$out"
	check_eq "$n: ... is not in the host's /tmp" "" "$(ls /tmp/from-node 2>/dev/null)"
done
rm -f /tmp/netlab-escape-marker.$$


check "down" "$NETLAB" down escape
check_eq "nothing left" "$before" "$(host_snapshot notmp)"

# Paths under /proc/PID/root are resolved inside the node's root: a rootfs
# whose /run is a symlink to /etc keeps the node's xtables lock in its own
# /etc, never the host's.  The sandbox gets a copy of /etc, so that a
# regression writes there and not on the machine.
if /bin/busybox --list >/dev/null 2>&1; then
	cp -a /etc $T/etc-copy
	mount --bind $T/etc-copy /etc
	R=$T/rootfs
	scripts/make-busybox-rootfs.sh $R >/dev/null
	rm -rf $R/run
	ln -s /etc $R/run
	cat >$T/inroot.topo <<TOPO
lab inroot
node box
    rootfs $R
    ip eth0 10.1.0.1/24
    sysctl net.ipv4.conf.all.forwarding=1
    firewall input drop proto tcp dport 9
node peer
    ip eth0 10.1.0.2/24
link box:eth0 peer:eth0
TOPO
	check "up a rootfs node whose /run is a symlink to /etc, with rules and a sysctl" "$NETLAB" up $T/inroot.topo
	check_eq "its xtables lock is not in the host's /etc" "absent" \
		"$([ -e /etc/xtables.lock ] && echo present || echo absent)"
	check_contains "its rule is in place" "firewall input drop proto tcp dport 9" "$("$NETLAB" status inroot --firewall box 2>&1)"
	check_eq "its sysctl is set in its own namespace" 1 "$("$NETLAB" exec inroot box cat /proc/sys/net/ipv4/conf/all/forwarding)"
	check "down" "$NETLAB" down inroot
	umount /etc
else
	echo "# skip: busybox-static is not installed (scripts/install-deps.sh installs it): no rootfs node"
fi
finish
