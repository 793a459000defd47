#!/usr/bin/env bash
# Rootless labs (docs/rootless.md): unprivileged users bring labs up, use
# them and take them down.  Each case runs in a sandbox of its own (a new
# network, mount and PID namespace inside this test's): users made by
# binding private copies of /etc/passwd, /etc/group, /etc/subuid and
# /etc/subgid in that sandbox only (the machine's /etc is never written).
#   webservers   uid 65534 (nobody), no subordinate IDs: curl by name, v6
#                ping, iptables -S, logs, status, capture, link, restart,
#                test, private state; after down nothing is left
#   subids       a user with /etc/subuid ranges (newuidmap): every node its
#                own IDs, node root writes /lab as the user
#   others       a second user cannot exec, down or read logs of the first
#                user's lab, by name or by path; the lab is unharmed
#   refused      node host, a host link, userns off, cgroup limits: check
#                and up fail with FILE:LINE:COL, nothing is made
#   cgroup       a delegated cgroup v2 subtree (made by the test, as
#                systemd makes user@UID.service's): nodes in groups of
#                their own below it, each seeing itself at 0::/; limits its
#                controllers lack refused; gone after down and after a
#                kill -9 of the supervisor
#   climits      limits applied in a delegated subtree that has the
#                controllers (skipped where cgroup v1 holds them)
. "$(dirname "$0")/lib.sh"

CASES="webservers subids others refused cgroup climits"
HERE=$(cd "$(dirname "$0")" && pwd)

# as UID CMD...: run CMD as that user with a clean environment of its own.
as() {
	local uid=$1
	shift
	setpriv --reuid "$uid" --regid "$uid" --clear-groups env -i HOME="$T/home-$uid" \
		XDG_RUNTIME_DIR="$T/xdg-$uid" PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# A user's home and runtime directory (0700, theirs).
make_user() {
	local uid=$1
	mkdir -p "$T/home-$uid" "$T/xdg-$uid"
	chown "$uid:$uid" "$T/home-$uid" "$T/xdg-$uid"
	chmod 700 "$T/xdg-$uid"
	chmod 755 "$T/home-$uid"
}

# Processes of a user's labs: the supervisors and inits (their uid is
# the user's or one of its subordinate IDs).
lab_procs() { pgrep -x netlab-init; pgrep -f "^$NETLAB up"; true; }

case_webservers() {
	local u=65534 L=two-webservers before
	make_user $u
	cp "$TOPO/two-webservers.topo" "$T/home-$u/"
	chown $u "$T/home-$u/two-webservers.topo"
	before=$(host_snapshot notmp)
	cd "$T/home-$u"
	check "up as uid $u" as $u "$NETLAB" up two-webservers.topo
	check "its state root is \$XDG_RUNTIME_DIR/netlab" test -d "$T/xdg-$u/netlab/$L"
	check_eq "state root is the user's, 0700" "65534 700" "$(stat -c '%u %a' "$T/xdg-$u/netlab")"
	check_eq "lab directory 0700" "700" "$(stat -c '%a' "$T/xdg-$u/netlab/$L")"
	check_eq "logs 0700" "700" "$(stat -c '%a' "$T/xdg-$u/netlab/$L/logs")"
	check_eq "node logs 0600" "600 600" "$(stat -c '%a' "$T/xdg-$u/netlab/$L/logs/web1.log" "$T/xdg-$u/netlab/$L/logs/web2.log" | tr '\n' ' ' | sed 's/ $//')"
	check "nothing under /run/netlab" test -z "$(ls -A /run/netlab)"
	# (lib.sh's wait_port runs as root, whose state root has no such lab:
	# poll as the user, generously: python starts slowly on a busy machine.)
	for _ in $(seq 150); do as $u "$NETLAB" exec $L web2 curl -s -m 1 -o /dev/null http://web1:8080/ && break; sleep 0.1; done
	check_contains "curl by name web2 -> web1" "Directory listing" "$(as $u "$NETLAB" exec $L web2 curl -s -m 3 http://web1:8080/)"
	check "v6 ping web2 -> fd00::1" as $u "$NETLAB" exec $L web2 ping -c 1 -W 3 fd00::1
	local fw
	fw=$(as $u "$NETLAB" exec $L web1 iptables -S INPUT)
	check_contains "iptables -S in web1 shows the topology's rule" "--dport 8080 -m comment --comment \"netlab:two-webservers two-webservers.topo:47\" -j ACCEPT" "$fw"
	check_contains "and the reject" "REJECT --reject-with tcp-reset" "$fw"
	check_fails "the firewall holds: web1 -> web1:8080 refused" as $u "$NETLAB" exec $L web1 curl -s -m 3 http://192.168.0.1:8080/
	check_contains "logs show web2's request" "192.168.0.2" "$(as $u "$NETLAB" logs $L web1)"
	check_contains "status shows web1's address" "192.168.0.1/24" "$(as $u "$NETLAB" status $L)"
	check_contains "status --firewall" "two-webservers.topo:48" "$(as $u "$NETLAB" status $L --firewall)"
	check_contains "status: rootless, no other IDs" "userns: rootless: node root is you, no other IDs" "$(as $u "$NETLAB" status $L)"
	check "status --json matches docs/json.md" sh -c "setpriv --reuid $u --regid $u --clear-groups env -i HOME=$T/home-$u XDG_RUNTIME_DIR=$T/xdg-$u $NETLAB status $L --json | python3 $HERE/../json_schema.py lab"
	check_eq "node root is the user on the host" "$u" "$(stat -c %u /proc/$(pgrep -x netlab-init | head -1))"
	as $u "$NETLAB" capture $L web1:eth0 -c 2 -w "$T/home-$u/c.pcap" >"$T/cap.out" 2>&1 &
	local cap=$!
	for _ in $(seq 30); do grep -q capturing "$T/cap.out" && break; sleep 0.1; done
	as $u "$NETLAB" exec $L web2 ping -c 3 -i 0.2 192.168.0.1 >/dev/null
	wait $cap
	check_contains "capture of 2 packets" "2 packets captured" "$(cat "$T/cap.out")"
	check_eq "the capture is the user's" "$u" "$(stat -c %u "$T/home-$u/c.pcap")"
	check "link down" as $u "$NETLAB" link $L web1:eth0 down
	check_fails "no ping with web1:eth0 down" as $u "$NETLAB" exec $L web2 ping -c 1 -W 1 192.168.0.1
	check "link up" as $u "$NETLAB" link $L web1:eth0 up
	check "ping again" as $u "$NETLAB" exec $L web2 ping -c 1 -W 3 192.168.0.1
	check "restart web1" as $u "$NETLAB" restart $L web1
	check_eq "shell (commands on its standard input) runs in the node" "web1 0" \
		"$(echo 'echo $(hostname) $(id -u)' | as $u "$NETLAB" shell $L web1 2>/dev/null | tr -d '\r' | grep -E '^web1 ' | tail -1)"
	cat >"$T/home-$u/t.topo" <<'E'
lab two-webservers
switch lan
node web1
    ip eth0 192.168.0.1/24
node web2
    ip eth0 192.168.0.2/24
link web1:eth0 lan
link web2:eth0 lan
expect web2 reach web1
expect web1 reach 192.168.0.2 within 2s
E
	chown $u "$T/home-$u/t.topo"
	check_contains "test passes its expectations" "ok 2" "$(as $u "$NETLAB" test $L --file "$T/home-$u/t.topo" 2>&1 || as $u "$NETLAB" test "$T/home-$u/t.topo" 2>&1)"
	check "down" as $u "$NETLAB" down $L
	check_eq "no lab process left" "" "$(lab_procs)"
	check "no state left" test -z "$(ls -A "$T/xdg-$u/netlab")"
	check_eq "the sandbox as before" "$before" "$(host_snapshot notmp)"
}

case_subids() {
	local u=2000 L=two-webservers
	mkdir -p "$T/etc"
	cp /etc/passwd /etc/group "$T/etc/"
	echo "ann:x:$u:$u:ann:$T/home-$u:/bin/sh" >>"$T/etc/passwd"
	echo "ann:x:$u:" >>"$T/etc/group"
	echo "ann:300000:65536" >"$T/etc/subuid"
	echo "ann:300000:65536" >"$T/etc/subgid"
	for f in passwd group subuid subgid; do
		[ -e /etc/$f ] || { echo "# skip: no /etc/$f to bind over"; return; }
		mount --bind "$T/etc/$f" /etc/$f
	done
	if ! [ -u /usr/bin/newuidmap ]; then
		echo "# skip: newuidmap (Debian's uidmap) is not installed setuid"
		return
	fi
	make_user $u
	cp "$TOPO/two-webservers.topo" "$T/home-$u/"
	chown $u "$T/home-$u/two-webservers.topo"
	cd "$T/home-$u"
	check "up as ann (subordinate IDs)" as $u "$NETLAB" up two-webservers.topo
	local map
	map=$(as $u "$NETLAB" exec $L web1 cat /proc/self/uid_map | awk '{print $1, $2, $3}' | tr '\n' ';')
	check_eq "web1's IDs: root is the user, 1.. its own slot" "0 0 1;1 1 32768;" "$map"
	map=$(as $u "$NETLAB" exec $L web2 cat /proc/self/uid_map | awk '{print $1, $2, $3}' | tr '\n' ';')
	check_eq "web2's slot follows web1's" "0 0 1;1 32769 32768;" "$map"
	check_contains "status tells the IDs" "node IDs 1-32768 are 32768 of your subordinate IDs" "$(as $u "$NETLAB" status $L)"
	# Node uid 1000 of web1 is the lab's 1000, i.e. ann's 1000th
	# subordinate ID: 300000 + 999 on the host.
	as $u "$NETLAB" exec $L web1 setpriv --reuid 1000 --regid 1000 --clear-groups sleep 4321 &
	local ex=$! sp=
	for _ in $(seq 30); do sp=$(pgrep -x -f 'sleep 4321' | head -1); [ -n "$sp" ] && break; sleep 0.1; done
	check_eq "a node user is one of ann's subordinate IDs on the host" "300999" "$(stat -c %u /proc/$sp 2>/dev/null)"
	[ -n "$sp" ] && kill "$sp"
	wait $ex
	for _ in $(seq 150); do as $u "$NETLAB" exec $L web2 curl -s -m 1 -o /dev/null http://web1:8080/ && break; sleep 0.1; done
	check_contains "curl by name" "Directory listing" "$(as $u "$NETLAB" exec $L web2 curl -s -m 3 http://web1:8080/)"
	check "v6 ping" as $u "$NETLAB" exec $L web1 ping -c 1 -W 3 fd00::2
	as $u "$NETLAB" exec $L web1 touch /lab/from-node
	check_eq "node root writes /lab as ann" "$u" "$(stat -c %u "$T/home-$u/from-node" 2>/dev/null)"
	# A node's other user (uid 1000 there: ann's 300999 on the host)
	# writes into a directory of /lab that lets it.
	as $u mkdir -m 0777 "$T/home-$u/shared"
	as $u "$NETLAB" exec $L web1 setpriv --reuid 1000 --regid 1000 --clear-groups sh -c 'echo from-node-user >/lab/shared/x; mkdir /lab/shared/d; echo y >/lab/shared/d/y'
	check_eq "while the lab is up, its file is the subordinate ID's" "300999 300999" "$(stat -c '%u %g' "$T/home-$u/shared/x" 2>/dev/null)"
	check "down" as $u "$NETLAB" down $L
	check_eq "no lab process left" "" "$(lab_procs)"
	check_eq "after down, what the node user wrote under /lab is ann's" "$u $u;$u $u;$u $u;" \
		"$(stat -c '%u %g' "$T/home-$u/shared/x" "$T/home-$u/shared/d" "$T/home-$u/shared/d/y" 2>/dev/null | tr '\n' ';')"
	check "ann edits it" as $u sh -c "echo more >>'$T/home-$u/shared/x'"
	check "ann deletes all of it" as $u rm -r "$T/home-$u/shared"
	# After a kill -9 of the supervisor, `down` gives them back itself.
	as $u mkdir -m 0777 "$T/home-$u/shared"
	check "up again" as $u "$NETLAB" up two-webservers.topo
	as $u "$NETLAB" exec $L web2 setpriv --reuid 1000 --regid 1000 --clear-groups sh -c 'echo z >/lab/shared/z'
	local sup
	sup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor"]["pid"])' "$T/xdg-$u/netlab/$L/state.json")
	kill -9 "$sup"
	check "down after kill -9 of the supervisor" as $u "$NETLAB" down $L
	check_eq "what the node user wrote is ann's after the crash too" "$u $u" "$(stat -c '%u %g' "$T/home-$u/shared/z" 2>/dev/null)"
	check_eq "no lab process left after the crash" "" "$(lab_procs)"
}

case_others() {
	local a=65534 b=3000 L=two-webservers
	make_user $a
	make_user $b
	cp "$TOPO/two-webservers.topo" "$T/home-$a/"
	chown $a "$T/home-$a/two-webservers.topo"
	cd "$T/home-$a"
	check "user $a: up" as $a "$NETLAB" up two-webservers.topo
	cd "$T/home-$b"
	local out
	out=$(as $b "$NETLAB" exec $L web1 true 2>&1)
	check_eq "user $b: exec refused (exit 3)" 3 "$(as $b "$NETLAB" exec $L web1 true >/dev/null 2>&1; echo $?)"
	check_contains "user $b sees no such lab" "no lab" "$out"
	check_contains "user $b: logs refused" "no lab" "$(as $b "$NETLAB" logs $L web1 2>&1)"
	check_contains "user $b: down finds nothing" "not up" "$(as $b "$NETLAB" down $L 2>&1)"
	# By path: the first user's state root is 0700.
	out=$(as $b env NETLAB_RUN_DIR="$T/xdg-$a/netlab" "$NETLAB" exec $L web1 true 2>&1)
	check_contains "user $b with the other's state root: permission denied" "ermission denied" "$out"
	out=$(as $b env NETLAB_RUN_DIR="$T/xdg-$a/netlab" "$NETLAB" down $L 2>&1)
	check_contains "user $b: down by path refused" "ermission denied" "$out"
	out=$(as $b cat "$T/xdg-$a/netlab/$L/logs/web1.log" 2>&1)
	check_contains "user $b cannot read the log file" "ermission denied" "$out"
	check "the lab is unharmed" as $a "$NETLAB" exec $L web2 ping -c 1 -W 3 192.168.0.1
	check_contains "root sees it with --all-users" "$L" "$("$NETLAB" status --all-users 2>&1)"
	check "root takes it down with --all-users" "$NETLAB" down --all-users
	check_eq "no lab process left" "" "$(lab_procs)"
	check "no state left" test -z "$(ls -A "$T/xdg-$a/netlab")"
}

case_refused() {
	local u=65534 out
	make_user $u
	cd "$T/home-$u"
	printf 'lab rl\nnode a\n    ip eth0 10.0.0.1/24\nnode host\n    ip h0 10.0.0.2/24\nlink a:eth0 host:h0\n' >h.topo
	printf 'lab rl\nnode a\n    userns off\n    cpu 0.5\n' >u.topo
	chown $u h.topo u.topo
	out=$(as $u "$NETLAB" check h.topo 2>&1)
	check_contains "check: node host refused at FILE:LINE:COL" "h.topo:4:6: error: 'node host' needs root" "$out"
	check_contains "check: the host link too" "h.topo:6:" "$out"
	check_fails "check fails" as $u "$NETLAB" check h.topo
	out=$(as $u "$NETLAB" up h.topo 2>&1)
	check_contains "up: node host refused at FILE:LINE:COL" "h.topo:4:6: error: 'node host' needs root" "$out"
	out=$(as $u "$NETLAB" up u.topo 2>&1)
	check_contains "up: userns off refused" "u.topo:3:5: error: 'userns off' needs root" "$out"
	check_contains "up: a cpu limit refused (no delegated cgroup here)" "u.topo:4:9: error: 'cpu 0.5' needs a cgroup of yours" "$out"
	check_eq "nothing made" "" "$(ls -A "$T/xdg-$u/netlab" 2>/dev/null)$(lab_procs)"
	check "root may check it" "$NETLAB" check h.topo
}

# The first cgroup2 file system mounted at its root.
v2_mount() { awk '$4 == "/" && $0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo; }

# A delegated cgroup for uid $1, as systemd makes user@UID.service's: a
# directory of the test's own (a name nothing else uses) under the cgroup
# v2 mount, with what Delegate=yes gives the user.  Sets CG; removed by
# the EXIT trap (after the lab's `down`).
make_delegated() {
	local uid=$1 v2
	v2=$(v2_mount)
	CG=$v2/netlab-e2e-$(cat /proc/sys/kernel/random/uuid)
	mkdir "$CG" || return 1
	chown "$uid:$uid" "$CG" "$CG/cgroup.procs" "$CG/cgroup.subtree_control" "$CG/cgroup.threads"
	trap '"$NETLAB" down --all-users >/dev/null 2>&1; "$NETLAB" down --all >/dev/null 2>&1; rm -rf "$T"; rmdir "$CG/netlab-leaf" "$CG" 2>/dev/null' EXIT
}

# asin UID CMD...: as UID, but run from the delegated cgroup (the user's
# shell moved there, as root, first: what a login into it would do).
asin() {
	local uid=$1
	shift
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$CG" setpriv --reuid "$uid" --regid "$uid" \
		--clear-groups env -i HOME="$T/home-$uid" XDG_RUNTIME_DIR="$T/xdg-$uid" PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

case_cgroup() {
	local u=65534 L=cg out v2 init
	v2=$(v2_mount)
	[ -n "$v2" ] || { echo "# skip: no cgroup v2 file system is mounted"; return; }
	make_user $u
	cd "$T/home-$u"
	printf 'lab cg\nswitch s\nnode a\n    ip eth0 10.0.0.1/24\nnode b\n    ip eth0 10.0.0.2/24\nlink a:eth0 s\nlink b:eth0 s\n' >cg.topo
	printf 'lab cg\nnode a\n    pids 100\n    memory 64M\n' >lim.topo
	chown $u cg.topo lim.topo
	# Without one: the user's cgroup is the root of the hierarchy.
	out=$(as $u "$NETLAB" check lim.topo 2>&1)
	check_contains "no delegated subtree: pids 100 refused at FILE:LINE:COL" \
		"lim.topo:3:10: error: 'pids 100' needs a cgroup of yours, and no delegated cgroup v2 subtree was found: your cgroup is the root of the cgroup v2 hierarchy at $v2" "$out"
	check_contains "and memory 64M" "lim.topo:4:12: error: 'memory 64M' needs a cgroup of yours" "$out"
	check "a lab without limits comes up all the same" as $u "$NETLAB" up cg.topo
	check_contains "its supervisor's log says it has no cgroups, and why" \
		"no cgroups of its own for lab cg (default limits not applied): no delegated cgroup v2 subtree: your cgroup is the root" \
		"$(cat "$T/xdg-$u/netlab/$L/supervisor.log" 2>/dev/null)"
	check "down" as $u "$NETLAB" down $L

	make_delegated $u || { not_ok "make a delegated cgroup under $v2"; return; }
	local rel=${CG#"$v2"}
	# Limits its controllers lack: refused before anything is made.
	out=$(asin $u "$NETLAB" check lim.topo 2>&1)
	local has
	has=$(cat "$CG/cgroup.controllers")
	local why="does not delegate (it has: ${has:-none})"
	check_contains "check: pids 100 refused naming the controller and the cgroup" \
		"lim.topo:3:10: error: 'pids 100' needs the pids controller, which your cgroup $rel $why" "$out"
	check_contains "check: memory 64M too" "lim.topo:4:12: error: 'memory 64M' needs the memory controller, which your cgroup $rel" "$out"
	if ! grep -qw memory "$v2/cgroup.controllers"; then
		check_contains "and says cgroup v1 has it" "offers no memory controller at all (it is bound to cgroup v1 on this machine)" "$out"
	fi
	out=$(asin $u "$NETLAB" up lim.topo 2>&1)
	check_contains "up: refused the same way" "lim.topo:3:10: error: 'pids 100' needs the pids controller" "$out"
	check_eq "nothing made" "" "$(ls -d "$CG/netlab" "$CG/netlab-leaf" 2>/dev/null; ls -A "$T/xdg-$u/netlab" 2>/dev/null; lab_procs)"

	# A lab in it: a group per node below it.
	check "up in the delegated cgroup" asin $u "$NETLAB" up cg.topo
	check "the lab's cgroup is below the user's" test -d "$CG/netlab/$L"
	local got=""
	for init in $(pgrep -x netlab-init); do got="$got $(awk -F:: '/^0::/ {print $2}' /proc/$init/cgroup)"; done
	check_eq "each node's init in a cgroup of its own below it" " $rel/netlab/$L/a $rel/netlab/$L/b" \
		"$(echo "$got" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
	check_eq "a node sees itself at 0::/ (its cgroup namespace)" "0::/" \
		"$(asin $u "$NETLAB" exec $L a cat /proc/self/cgroup | grep '^0::')"
	check "exec from outside the user's cgroup works too" as $u "$NETLAB" exec $L a ping -c 1 -W 3 10.0.0.2
	check_contains "status" "10.0.0.1/24" "$(asin $u "$NETLAB" status $L)"
	check "down" asin $u "$NETLAB" down $L
	check_eq "the lab's cgroups are gone" "" "$(ls -d "$CG/netlab" 2>/dev/null)"
	check_eq "no lab process left" "" "$(lab_procs)"

	# A crash of the supervisor: down removes what it left.
	check "up again" asin $u "$NETLAB" up cg.topo
	local sup
	sup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor"]["pid"])' "$T/xdg-$u/netlab/$L/state.json")
	kill -9 "$sup"
	check "down after kill -9 of the supervisor" asin $u "$NETLAB" down $L
	check_eq "the lab's cgroups are gone after the crash too" "" "$(ls -d "$CG/netlab" 2>/dev/null)"
	check_eq "no lab process left after the crash" "" "$(lab_procs)"
	check "the delegated cgroup can go" rmdir "$CG"
}

# Real limits need pids and memory in the user's cgroup: where the cgroup
# v2 hierarchy has them and its root enables them for its children.
case_climits() {
	local u=65534 L=cg v2 out
	v2=$(v2_mount)
	[ -n "$v2" ] || { echo "# skip: no cgroup v2 file system is mounted"; return; }
	for c in memory pids; do
		if ! grep -qw $c "$v2/cgroup.controllers"; then
			echo "# skip: the cgroup v2 mount offers no memory/pids controller: they are bound to cgroup v1 on this machine"
			return
		fi
		if ! grep -qw $c "$v2/cgroup.subtree_control"; then
			echo "# skip: the root cgroup of $v2 does not enable $c for its children (this test does not change the machine's)"
			return
		fi
	done
	make_user $u
	cd "$T/home-$u"
	printf 'lab cg\nnode a\n    pids 100\n    memory 64M\nnode b\n' >lim.topo
	chown $u lim.topo
	make_delegated $u || { not_ok "make a delegated cgroup under $v2"; return; }
	check "check accepts the limits" asin $u "$NETLAB" check lim.topo
	check "up with limits" asin $u "$NETLAB" up lim.topo
	check_eq "pids 100 applied" "100" "$(cat "$CG/netlab/$L/a/pids.max" 2>/dev/null)"
	check_eq "memory 64M applied" "67108864" "$(cat "$CG/netlab/$L/a/memory.max" 2>/dev/null)"
	check_eq "the default pids limit on b" "1024" "$(cat "$CG/netlab/$L/b/pids.max" 2>/dev/null)"
	check_eq "the user's processes moved into its leaf" "" "$(cat "$CG/cgroup.procs")"
	out=$(asin $u "$NETLAB" exec $L a sh -c 'for i in $(seq 150); do sleep 5 & done; wait' 2>&1)
	check_contains "a fork past pids 100 fails in the node" "ork" "$out"
	check "down" asin $u "$NETLAB" down $L
	check_eq "the lab's cgroups are gone" "" "$(ls -d "$CG/netlab" 2>/dev/null)"
}

if [ "${1:-}" = case ]; then
	sandbox_setup
	"case_$2"
	finish
	exit
fi
# Each case in a sandbox of its own; their counts summed.
p=0 f=0
for c in $CASES; do
	out=$(unshare --net --mount --pid --fork --mount-proc -- bash "$0" case "$c" 2>&1)
	echo "$out" | grep -v -E "^$TEST_NAME: [0-9]+ passed"
	s=$(echo "$out" | grep -E "^$TEST_NAME: [0-9]+ passed, [0-9]+ failed" | tail -1)
	[ -n "$s" ] || { echo "not ok - $TEST_NAME: case $c ended without a summary"; f=$((f + 1)); continue; }
	p=$((p + $(echo "$s" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
	f=$((f + $(echo "$s" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
done
echo "$TEST_NAME: $p passed, $f failed"
[ "$f" = 0 ]
