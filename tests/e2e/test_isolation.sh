# Per-node isolation: user namespaces by default, `user`, rootfs and safe
# mounts, IPC, time namespace, fd and capability hygiene, status --ns.
. tests/e2e/lib.sh
sandbox_setup
before=$(host_snapshot notmp)

cat >$T/iso.topo <<'T'
switch lan
node a
    ip eth0 10.0.0.1/24
    boottime 0
    run ls /proc/self/fd
    run grep -E '^Cap(Inh|Amb)' /proc/self/status
node b
    ip eth0 10.0.0.2/24
    user nobody
    boottime 100000
    monotonic 500000
    run id -u
node c
    ip eth0 10.0.0.3/24
    userns off
link a:eth0 lan
link b:eth0 lan
link c:eth0 lan
T
check "up a lab with three isolated nodes" "$NETLAB" up $T/iso.topo
sleep 0.5

# --- user namespaces --------------------------------------------------------
check_eq "node root is uid 0 inside" 0 "$("$NETLAB" exec iso a id -u)"
map_a=$("$NETLAB" exec iso a cat /proc/self/uid_map | awk '{print $1, $2, $3}')
map_b=$("$NETLAB" exec iso b cat /proc/self/uid_map | awk '{print $1, $2, $3}')
base_a=$(echo "$map_a" | awk '{print $2}')
base_b=$(echo "$map_b" | awk '{print $2}')
check_eq "uid_map maps 0..65535 of a" "0 65536" "$(echo "$map_a" | awk '{print $1, $3}')"
[ -n "$base_a" ] && [ "$base_a" != 0 ] && ok "uid_map of a has a non-zero host base ($base_a)" || not_ok "uid_map of a: '$map_a'"
[ -n "$base_b" ] && [ "$base_b" != "$base_a" ] && ok "two nodes have different bases ($base_a, $base_b)" ||
	not_ok "bases not distinct: '$base_a' '$base_b'"
gid_a=$("$NETLAB" exec iso a cat /proc/self/gid_map | awk '{print $2}')
check_eq "gid map of a starts at the same slot" "$base_a" "$gid_a"
# Issue 12: programs that drop privileges (FRR, dnsmasq, tcpdump) call
# setgroups(); the maps are written by the privileged supervisor and the
# node holds no host group, so it is allowed (docs/isolation.md).
check_eq "setgroups is allowed in the node" allow "$("$NETLAB" exec iso a cat /proc/self/setgroups)"
check_eq "the node's processes hold no supplementary group" 0 "$("$NETLAB" exec iso a awk '/^Groups:/ {print NF - 1}' /proc/self/status)"
# Issue 12: node root writes its own copy of the system tree (a layer of
# its own over the host's); the host's files never change.
hosts_sum=$(sha256sum /etc/hostname /etc/passwd 2>/dev/null)
check "node root writes /etc/x in its own tree" "$NETLAB" exec iso a sh -c 'echo x >/etc/x && echo y >>/etc/passwd'
check_eq "and reads it back there" x "$("$NETLAB" exec iso a cat /etc/x)"
check_fails "node b does not see a's /etc/x" "$NETLAB" exec iso b cat /etc/x
[ ! -e /etc/x ] && ok "no /etc/x appeared on the host" || not_ok "/etc/x exists on the host"
check_eq "the host's /etc/passwd is unchanged" "$hosts_sum" "$(sha256sum /etc/hostname /etc/passwd 2>/dev/null)"
check "node root can read host files (/etc/hostname or passwd)" "$NETLAB" exec iso a cat /etc/passwd
check "node root sets its own links (ip link set)" "$NETLAB" exec iso a ip link set eth0 mtu 1400
check_contains "the mtu change took" "mtu 1400" "$("$NETLAB" exec iso a ip link show eth0)"
check "node root runs iptables-legacy in its netns" "$NETLAB" exec iso a iptables-legacy -A INPUT -p tcp --dport 9 -j DROP
check_contains "the rule is there" "--dport 9 -j DROP" "$("$NETLAB" exec iso a iptables-legacy -S INPUT)"
check "node root writes its netns sysctls" "$NETLAB" exec iso a sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
check_eq "the sysctl took in the node" 1 "$("$NETLAB" exec iso a cat /proc/sys/net/ipv4/ip_forward)"
check_eq "and not in the sandbox" 0 "$(cat /proc/sys/net/ipv4/ip_forward)"
check "node root binds port 80" "$NETLAB" exec iso a python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0", 80)); s.listen()'
check "node root opens a raw socket (ping)" "$NETLAB" exec iso a ping -c 1 -W 2 10.0.0.2
check_eq "userns off: the node maps the whole host range" "0 0 4294967295" \
	"$("$NETLAB" exec iso c cat /proc/self/uid_map | awk '{print $1, $2, $3}')"
st=$("$NETLAB" status iso)
check_contains "status shows the slot of a" "host $base_a-" "$st"
check_contains "status says when userns is off" "userns: off" "$st"

# --- user nobody --------------------------------------------------------------
check_eq "user nobody: a run command's id -u is 65534" 65534 "$("$NETLAB" logs iso b | tr -d ' \n')"
check_eq "user nobody: netlab exec runs as 65534 too" 65534 "$("$NETLAB" exec iso b id -u)"
check_eq "user nobody: its gid is nogroup's" 65534 "$("$NETLAB" exec iso b id -g)"
check_eq "user nobody: no supplementary groups" "" "$("$NETLAB" exec iso b sh -c 'grep ^Groups: /proc/self/status | cut -f2 | tr -d " "')"

# --- hygiene --------------------------------------------------------------
logs_a=$("$NETLAB" logs iso a)
check_eq "a run command inherits only fds 0 1 2 (3 is ls's own)" "0 1 2 3" \
	"$(echo "$logs_a" | grep -E '^[0-9]+$' | sort -n | tr '\n' ' ' | sed 's/ $//')"
check_contains "no inheritable capabilities" "CapInh:	0000000000000000" "$logs_a"
check_contains "no ambient capabilities" "CapAmb:	0000000000000000" "$logs_a"
check_eq "netlab exec passes only fds 0 1 2 (3 is ls's own)" "0 1 2 3" \
	"$("$NETLAB" exec iso a ls /proc/self/fd 3>/dev/null 4>/dev/null 9</dev/null | sort -n | tr '\n' ' ' | sed 's/ $//')"
check_eq "netlab exec: no inheritable capabilities" "0000000000000000" \
	"$("$NETLAB" exec iso a awk '/^CapInh/ {print $2}' /proc/self/status)"

"$NETLAB" exec iso a sleep 3 &
joiner=$!
sleep 0.5
euid=$(awk '/^Uid:/ {print $3}' /proc/$joiner/status)
check_eq "the joining netlab process became the node's root (host uid $base_a)" "$base_a" "$euid"
# (With fs.suid_dumpable=0 the uid change alone would already make it
# non-dumpable; netlab sets it explicitly before joining and after.)
# /proc/PID/* of a dumpable process belong to its euid, a non-dumpable one's
# to root: nothing running as the node's root can ptrace or inspect it.
check_eq "the joining netlab process is not dumpable" 0 "$(stat -c %u /proc/$joiner/environ)"
wait $joiner
init_a=$(python3 -c 'import json,sys; print([n for n in json.load(open(sys.argv[1]))["nodes"] if n["name"] == "a"][0]["pid"])' /run/netlab/iso/state.json)
check_eq "the node's init runs as the node's root" "$base_a" "$(awk '/^Uid:/ {print $3}' /proc/$init_a/status)"
check_eq "the node's init is not dumpable (its commands cannot ptrace it or use its fds)" 0 "$(stat -c %u /proc/$init_a/environ)"
check_fails "a node command cannot read the init's fds" "$NETLAB" exec iso a ls /proc/1/fd

# --- IPC -----------------------------------------------------------------------
key=$("$NETLAB" exec iso a ipcmk -Q | grep -o '[0-9]*$')
[ -n "$key" ] && ok "ipcmk -Q in a made queue $key" || not_ok "ipcmk -Q failed in a"
check_eq "a sees its queue" 1 "$("$NETLAB" exec iso a ipcs -q | grep -c '0x')"
check_eq "b does not see a's queue" 0 "$("$NETLAB" exec iso b ipcs -q | grep -c '0x')"
check_eq "the host does not see a's queue" 0 "$(ipcs -q | grep -c '0x')"

# --- time namespace ------------------------------------------------------------
up_a=$("$NETLAB" exec iso a cut -d' ' -f1 /proc/uptime | cut -d. -f1)
[ -n "$up_a" ] && [ "$up_a" -lt 30 ] && ok "boottime 0: uptime in the node is small (${up_a}s)" ||
	not_ok "boottime 0: uptime in the node is '$up_a'"
up_b=$("$NETLAB" exec iso b cut -d' ' -f1 /proc/uptime | cut -d. -f1)
[ -n "$up_b" ] && [ "$up_b" -ge 100000 ] && [ "$up_b" -lt 100030 ] && ok "boottime 100000: uptime ${up_b}s" ||
	not_ok "boottime 100000: uptime is '$up_b'"
mono_b=$("$NETLAB" exec iso b python3 -c 'import time; print(int(time.monotonic()))')
[ -n "$mono_b" ] && [ "$mono_b" -ge 500000 ] && [ "$mono_b" -lt 500030 ] && ok "monotonic 500000: ${mono_b}s" ||
	not_ok "monotonic 500000: '$mono_b'"
host_up=$(cut -d. -f1 /proc/uptime)
up_c=$("$NETLAB" exec iso c cut -d. -f1 /proc/uptime)
[ $((up_c - host_up)) -le 1 ] && [ $((host_up - up_c)) -le 1 ] && ok "no offset: the clock is the host's" ||
	not_ok "node without offsets: uptime $up_c vs host $host_up"

# --- status --ns ---------------------------------------------------------------
js=$("$NETLAB" status iso --ns --json)
host_user=$(stat -L -c %i /proc/self/ns/user)
res=$(echo "$js" | python3 -c '
import json, sys
host = int(sys.argv[1])
lab = json.load(sys.stdin)
ns = {n["name"]: {e["type"]: e for e in n["ns"]["namespaces"]} for n in lab["nodes"]}
out = []
for t in ("net", "mnt", "uts", "ipc", "pid", "cgroup", "time"):
    ids = [ns[n][t]["inode"] for n in ("a", "b", "c")]
    out.append("%s distinct=%s" % (t, len(set(ids)) == 3))
for n in ("a", "b"):
    u = ns[n]["user"]["inode"]
    owned = all(ns[n][t]["userns"] == u for t in ("net", "mnt", "uts", "ipc", "pid", "cgroup", "time"))
    out.append("%s owned=%s parent=%s owner=%s" % (n, owned, ns[n]["user"]["parent"] == host, ns[n]["user"]["owner_uid"]))
out.append("c user=%s" % (ns["c"]["user"]["inode"] == host))
print(" ".join(out))
' "$host_user")
for t in net mnt uts ipc pid cgroup time; do
	check_contains "status --ns: $t namespaces are distinct per node" "$t distinct=True" "$res"
done
check_contains "status --ns: a's namespaces belong to a's user namespace, a child of the host's, owned by uid 0" \
	"a owned=True parent=True owner=0" "$res"
check_contains "status --ns: same for b" "b owned=True parent=True owner=0" "$res"
check_contains "status --ns: userns off keeps the host's user namespace" "c user=True" "$res"
txt=$("$NETLAB" status iso --ns)
# Columns are as wide as their contents: the headings in order, apart.
check "status --ns text has the lsns columns" grep -qE '^  TYPE +NS +USERNS +PARENT +OWNER-UID$' <<<"$txt"
check_contains "status --ns text shows a's uid map" "uid_map: [0 $base_a" "$txt"

check "down" "$NETLAB" down iso
check_eq "nothing left" "$before" "$(host_snapshot notmp)"

# --- rootfs, mount, tmpfs --------------------------------------------------------
if ! /bin/busybox --list >/dev/null 2>&1; then
	not_ok "busybox-static is not installed (scripts/install-deps.sh installs it)"
	finish
	exit
fi
R=$T/rootfs
check "make-busybox-rootfs.sh builds a rootfs" scripts/make-busybox-rootfs.sh $R
mkdir -p $T/share $R/data
echo shared-ok >$T/share/marker
echo host-secret >$T/host-only
# A symlink planted in the rootfs pointing at an absolute path: a mount
# that followed it on the host would land on the host's /etc (in the node's
# mount namespace, then detached with the old root), not the rootfs' /etc.
ln -s /etc $R/evil
cat >$T/bb.topo <<T
node box
    rootfs $R
    mount $T/share /data ro
    mount $T/share /evil
    tmpfs /mnt 1M
    run httpd -f -p 80 -h /data
T
check "up a busybox node" "$NETLAB" up $T/bb.topo
check_eq "ls / shows the rootfs" "bin dev etc evil home linuxrc mnt proc root run sbin sys tmp usr var" \
	"$("$NETLAB" exec bb box ls / | tr '\n' ' ' | sed 's/ $//; s/ data / /; s/^data //')"
check_contains "busybox is the node's ls" "BusyBox" "$("$NETLAB" exec bb box ls --help 2>&1)"
check_fails "the host's files are unreachable ($T/host-only)" "$NETLAB" exec bb box cat $T/host-only
check_fails "the host's /work is unreachable" "$NETLAB" exec bb box ls /work/wt-ns
check_fails "no way back through /proc/1/root" "$NETLAB" exec bb box cat /proc/1/root$T/host-only
check_eq "mount SRC DST: the share is in the node" shared-ok "$("$NETLAB" exec bb box cat /data/marker)"
check_fails "mount ... ro is read-only" "$NETLAB" exec bb box touch /data/new
check_eq "the symlink's mount landed inside the rootfs (its /etc)" shared-ok "$("$NETLAB" exec bb box cat /etc/marker)"
[ ! -e /etc/marker ] && ok "not on the host's /etc" || not_ok "/etc/marker exists on the host"
init=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["nodes"][0]["pid"])' /run/netlab/bb/state.json)
check_contains "the node's own mount table has a mount on /etc" " /etc " "$(awk '{print " " $5 " "}' /proc/$init/mountinfo)"
check_contains "tmpfs DST SIZE: a 1M tmpfs" "tmpfs" "$("$NETLAB" exec bb box grep ' /mnt ' /proc/mounts)"
check_fails "tmpfs SIZE is enforced" "$NETLAB" exec bb box dd if=/dev/zero of=/mnt/big bs=1M count=2
check_eq "minimal /dev" "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero" \
	"$("$NETLAB" exec bb box ls /dev | tr '\n' ' ' | sed 's/ $//')"
check "/dev/null works" "$NETLAB" exec bb box sh -c 'echo x >/dev/null'
# The shell is looked up inside the node: the host's bash is not there.
check_contains "netlab shell in a rootfs node runs the node's own sh" "shell-ok-2" \
	"$(echo 'echo shell-ok-$((1+1))' | SHELL=/bin/bash "$NETLAB" shell bb box 2>&1)"
check_eq "the node serves http from its mount" shared-ok "$("$NETLAB" exec bb box wget -q -O - http://127.0.0.1/marker)"
check "down" "$NETLAB" down bb

cat >$T/bad.topo <<T
node box
    rootfs $R
    mount $T/share /nowhere/deep
T
out=$("$NETLAB" up $T/bad.topo 2>&1)
check_contains "a mount target missing in the rootfs is an error naming it" "/nowhere/deep" "$(echo "$out" | grep -v -E "warning|^ ")"
# Stage 1s share one memory, and with it one dumpable flag: one becoming
# root of its user namespace used to reset the flag under another about
# to write its time offsets (EACCES, about one `up` in five of this lab).
cat >$T/timens.topo <<T
lab timens
node n[1..64]
    boottime 1000
T
ok_runs=0
for _ in 1 2 3 4 5; do
	"$NETLAB" up $T/timens.topo >$T/timens.out 2>&1 && ok_runs=$((ok_runs + 1))
	"$NETLAB" down timens >/dev/null 2>&1
done
check_eq "64 nodes with time namespaces come up 5 times out of 5" 5 "$ok_runs"
check_eq "nothing left" "$before" "$(host_snapshot notmp)"
finish
