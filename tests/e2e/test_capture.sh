# netlab capture: a node's interface and a whole switch, read back with
# tshark (counts checked); a node with its own root and no tools; -c, the
# lab going down; the `capture` link option's pcaps.
. tests/e2e/lib.sh
sandbox_setup
before=$(host_snapshot notmp)
if ! command -v tshark >/dev/null; then
	not_ok "tshark is not installed (scripts/install-deps.sh installs it)"
	finish
	exit
fi
# tshark as root warns about it on stderr; its output is all we read.
count() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }

cat >$T/cap.topo <<'T'
lab cap
switch lan
node a
    ip eth0 10.0.0.1/24
    ip eth1 10.1.0.1/24
node b
    ip eth0 10.0.0.2/24
node c
    ip eth0 10.0.0.3/24
node d
    ip eth1 10.1.0.2/24
link a:eth0 lan
link b:eth0 lan
link c:eth0 lan
link a:eth1 d:eth1 capture
T
check "up" "$NETLAB" up $T/cap.topo

# Node interface, a switch (to stdout, through a pipe), both filtered.
"$NETLAB" capture cap a:eth0 -w $T/a.pcap icmp 2>$T/a.err &
pa=$!
"$NETLAB" capture lan -w - icmp 2>$T/lan.err >$T/lan.pcap &
pl=$!
for _ in $(seq 50); do grep -q capturing $T/a.err && grep -q capturing $T/lan.err && break; sleep 0.1; done
"$NETLAB" exec cap a ping -c 5 -i 0.1 -q 10.0.0.2 >/dev/null
"$NETLAB" exec cap b ping -c 3 -i 0.1 -q 10.0.0.3 >/dev/null
sleep 0.3
kill -INT $pa $pl
wait $pa
check_eq "capture of a node interface ends 0 on Ctrl-C" 0 "$?"
wait $pl
check_eq "a:eth0 saw its 5 requests" 5 "$(count $T/a.pcap 'icmp.type == 8')"
check_eq "a:eth0 saw its 5 replies" 5 "$(count $T/a.pcap 'icmp.type == 0')"
check_eq "a:eth0 did not see b's pings to c" 0 "$(count $T/a.pcap 'ip.src == 10.0.0.2 && icmp.type == 8')"
check_eq "the switch saw every frame once: 8 requests" 8 "$(count $T/lan.pcap 'icmp.type == 8')"
check_eq "and 8 replies" 8 "$(count $T/lan.pcap 'icmp.type == 0')"
check_eq "b -> c crossed the switch once each way" "3 3" \
	"$(count $T/lan.pcap 'ip.src == 10.0.0.2 && icmp.type == 8') $(count $T/lan.pcap 'ip.src == 10.0.0.3 && icmp.type == 0')"
check_contains "the summary counts the packets" "16 packets captured on lan" "$(cat $T/lan.err)"

# -c COUNT stops by itself.
"$NETLAB" capture cap c:eth0 -c 4 -w $T/c.pcap 'icmp[icmptype] == icmp-echo' 2>/dev/null &
pc=$!
sleep 0.5
"$NETLAB" exec cap b ping -c 10 -i 0.05 -q 10.0.0.3 >/dev/null
for _ in $(seq 50); do kill -0 $pc 2>/dev/null || break; sleep 0.1; done
check_fails "-c 4: the capture ended by itself" kill -0 $pc
check_eq "-c 4: four packets, all matching the filter" "4 4" \
	"$(count $T/c.pcap 'frame') $(count $T/c.pcap 'icmp.type == 8')"

check_eq "a node without the interface: error, exit 1" 1 \
	"$("$NETLAB" capture cap a:eth9 -w $T/x.pcap 2>/dev/null; echo $?)"
check_contains "a node named without its interface: the hint lists them" "it has: eth0, eth1" \
	"$("$NETLAB" capture cap a -w $T/x.pcap 2>&1)"
check_contains "a bad filter: libpcap's message" "capture filter 'icmpp'" \
	"$("$NETLAB" capture cap lan -w $T/x.pcap icmpp 2>&1)"

# The lab going down ends a capture.
"$NETLAB" capture cap b:eth0 -w $T/b.pcap 2>$T/b.err &
pb=$!
sleep 0.5
check "down" "$NETLAB" down cap
for _ in $(seq 50); do kill -0 $pb 2>/dev/null || break; sleep 0.1; done
check_fails "the capture ended with the lab" kill -0 $pb
check_contains "saying so" "the lab went down" "$(cat $T/b.err)"

# The capture link option: a pcap per link beside the topology, written
# as the directory's owner.
check_eq "the link option's pcap is in DIR/LAB-captures" "a.eth1--d.eth1.pcap" "$(ls $T/cap-captures)"
check_eq "it is the directory's owner's" "$(stat -c %U $T)" "$(stat -c %U $T/cap-captures/a.eth1--d.eth1.pcap)"
mkdir $T/student && chown nobody $T/student && chmod 755 $T/student
sed 's/^lab cap/lab cap2/' $T/cap.topo >$T/student/lab.topo
check "up with a capture link in a directory of another user" "$NETLAB" up $T/student/lab.topo
"$NETLAB" exec cap2 a ping -c 3 -i 0.1 -q 10.1.0.2 >/dev/null
check "down" "$NETLAB" down cap2
check_eq "the pcap belongs to that user" nobody "$(stat -c %U $T/student/cap2-captures/a.eth1--d.eth1.pcap)"
check_eq "it holds the 3 requests and 3 replies" "3 3" \
	"$(count $T/student/cap2-captures/a.eth1--d.eth1.pcap 'icmp.type == 8') $(count $T/student/cap2-captures/a.eth1--d.eth1.pcap 'icmp.type == 0')"

# A node with its own root and no tools is captured from outside.
if /bin/busybox --list >/dev/null 2>&1 && scripts/make-busybox-rootfs.sh $T/rootfs >/dev/null; then
	cat >$T/bb.topo <<T
node bb
    rootfs $T/rootfs
    ip eth0 10.0.0.1/24
node h
    ip eth0 10.0.0.2/24
link bb:eth0 h:eth0
T
	check "up a busybox node" "$NETLAB" up $T/bb.topo
	"$NETLAB" capture bb bb:eth0 -c 6 -w $T/bb.pcap icmp 2>/dev/null &
	pbb=$!
	sleep 0.5
	"$NETLAB" exec bb h ping -c 3 -i 0.1 -q 10.0.0.1 >/dev/null
	wait $pbb
	check_eq "a rootfs node: 3 requests and 3 replies seen on its interface" "3 3" \
		"$(count $T/bb.pcap 'icmp.type == 8') $(count $T/bb.pcap 'icmp.type == 0')"
	check "down" "$NETLAB" down bb
else
	not_ok "busybox-static is not installed (scripts/install-deps.sh installs it)"
fi

check_eq "no netlab process is left" "" "$(netlab_procs)"
rm -rf $T/cap-captures $T/student
check_eq "the sandbox is exactly as before" "$before" "$(host_snapshot notmp)"
finish
