#!/usr/bin/env bash
# A lab across machines (issue 18): three "machines", each a child sandbox
# with its own network, mount and PID namespaces and /run, joined by an
# underlay bridge and reached with OpenSSH (tests/e2e/machines.sh); this
# test's sandbox is the controlling machine.  Traffic crosses a VXLAN link
# and a switch spanning the three; exec, capture, logs, link, status and
# test act on remote nodes; down leaves every machine as it was, also after
# a machine's part was killed, after a machine's own down, and while a
# machine cannot be reached for a while; a machine that cannot be reached,
# or that fails to build its part, fails `up` on all of them.
. "$(dirname "$0")/lib.sh"
sandbox_setup
. "$(dirname "$0")/machines.sh"
if ! machines_setup 3; then
	finish
	exit 0
fi
# IPv6 duplicate address detection changes each machine's addresses for a
# second or two after its underlay comes up (and the controller's, after
# a machine's link comes back): compare settled states only.
settle() {
	for i in 1 2 3; do
		for _ in $(seq 50); do
			[ -z "$(on_machine "$i" ip -6 addr show tentative)" ] && break
			sleep 0.1
		done
	done
	for _ in $(seq 50); do
		[ -z "$(ip -6 addr show tentative)" ] && break
		sleep 0.1
	done
}
snapshots() { for i in 1 2 3; do echo "== m$i"; machine_snapshot "$i"; done; }
settle
before_m=$(snapshots)
before=$(host_snapshot notmp)
home_ssh=$(ls -la ~/.ssh 2>/dev/null | md5sum)

cat >"$T/span.topo" <<'T'
lab span
machine m1 10.77.0.1
machine m2 10.77.0.2
machine m3 10.77.0.3
switch lan
node a
    forward
    ip eth0 10.1.0.1/24
    ip eth0 fd01::1/64
    ip eth1 10.2.0.1/24
node b
    ip eth0 10.1.0.2/24
    ip eth0 fd01::2/64
    route 10.2.0.0/24 via 10.1.0.1
    run python3 -m http.server 8080
node c
    ip eth0 10.1.0.3/24
    route 10.2.0.0/24 via 10.1.0.1
node r
    ip eth0 10.2.0.2/24
    route default via 10.2.0.1
link a:eth0 lan
link b:eth0 lan
link c:eth0 lan
link a:eth1 r:eth0
place a on m1
place b r on m2
place c on m3
expect c reach b tcp 8080 v4
expect r reach b v4
expect r reach c
T

dry=$("$NETLAB" up "$T/span.topo" --dry-run 2>&1)
check_contains "dry run: b and r placed on m2" "machine m2 (10.77.0.2): 2 nodes: b r" "$dry"
check_contains "dry run: the link between m1 and m2 is a tunnel" "link a:eth1 -- r:eth0" "$dry"
check_contains "dry run: the switch spans the three machines" "a bridge on each of m1 m2 m3" "$dry"
"$NETLAB" up "$T/span.topo" --dry-run --json >"$T/plan.json" 2>&1
check "dry run JSON against docs/json.md" python3 tests/json_schema.py plan "$T/plan.json"

out=$("$NETLAB" up "$T/span.topo" 2>&1)
check_contains "up across three machines" "4 nodes on 3 machines" "$out"
for i in 1 2 3; do
	check_eq "m$i: no tunnel device in the machine's own namespace" "" "$(on_machine "$i" ip -d link show type vxlan)"
	check_eq "m$i: no bridge in the machine's own namespace" "" "$(on_machine "$i" ip link show type bridge)"
done
check_contains "m1: the tunnels' UDP socket is in the machine's namespace" ":4789" "$(on_machine 1 ss -uln)"

check "a (m1) pings b (m2) over the spanning switch" "$NETLAB" exec span a ping -c 1 -W 2 10.1.0.2
check "a (m1) pings c (m3) over the spanning switch" "$NETLAB" exec span a ping -c 1 -W 2 10.1.0.3
check "b (m2) pings c (m3)" "$NETLAB" exec span b ping -c 1 -W 2 10.1.0.3
check "a pings b over IPv6" "$NETLAB" exec span a ping -6 -c 1 -W 2 fd01::2
check "r (m2) pings a (m1) over the VXLAN link" "$NETLAB" exec span r ping -c 1 -W 2 10.2.0.1
check "r (m2) reaches b (m2) through a (m1): tunnel, router, spanning switch" "$NETLAB" exec span r ping -c 1 -W 2 10.1.0.2
check_eq "the tunnel's lab side is the underlay's MTU less VXLAN's 50 bytes" "mtu 1450" \
	"$("$NETLAB" exec span a ip link show eth1 | grep -o 'mtu [0-9]*')"
check_eq "a spanning switch's ports too" "mtu 1450" "$("$NETLAB" exec span c ip link show eth0 | grep -o 'mtu [0-9]*')"
check "a full-size frame crosses the tunnel unfragmented" "$NETLAB" exec span r ping -c 1 -W 2 -M do -s 1422 10.2.0.1
check_fails "one byte more does not fit" "$NETLAB" exec span r ping -c 1 -W 2 -M do -s 1423 10.2.0.1
wait_port span b 8080 || not_ok "b's web server listens"
check_contains "c (m3) curls b (m2)" "Directory listing" "$("$NETLAB" exec span c curl -s -m 5 http://10.1.0.2:8080/)"
check_contains "r curls b across the tunnel and the switch" "Directory listing" \
	"$("$NETLAB" exec span r curl -s -m 5 http://10.1.0.2:8080/)"

"$NETLAB" exec span b sh -c 'exit 7'
check_eq "exec on a remote node returns its command's status" 7 $?
"$NETLAB" exec span nosuch true 2>/dev/null
check_eq "exec on no such node exits 3" 3 $?
check_contains "logs of a remote node" "GET / HTTP" "$("$NETLAB" logs span b)"

# A capture on m3's node, written here.
("$NETLAB" exec span a ping -c 20 -i 0.1 10.1.0.3 >/dev/null 2>&1 &)
check "capture on a remote node" timeout 20 "$NETLAB" capture span c:eth0 -c 3 -w "$T/c.pcap" icmp
check_eq "... three packets came back in the pcap" 3 "$(tshark -r "$T/c.pcap" 2>/dev/null | wc -l)"

st=$("$NETLAB" status span)
check_contains "status shows each node's machine" "$(printf 'r     m2')" "$st"
check_contains "status names every machine" "machine m3 (10.77.0.3, underlay 10.77.0.3): up" "$st"
"$NETLAB" status span --json >"$T/status.json"
check "status --json against docs/json.md" python3 tests/json_schema.py lab "$T/status.json"
check_eq "status --json: node c's machine" m3 \
	"$(python3 -c 'import json,sys; print([n["machine"] for n in json.load(open(sys.argv[1]))["nodes"] if n["name"]=="c"][0])' "$T/status.json")"
"$NETLAB" status --json >"$T/labs.json"
check "status --json (labs) against docs/json.md" python3 tests/json_schema.py labs "$T/labs.json"

check "link down at the tunnel's end on m2" "$NETLAB" link span r:eth0 down
check_fails "... r no longer reaches a" "$NETLAB" exec span r ping -c 1 -W 1 10.2.0.1
check "link up" "$NETLAB" link span r:eth0 up
check "... and it does again" "$NETLAB" exec span r ping -c 1 -W 2 10.2.0.1
check "link set on the far end of a tunnel (--peer)" "$NETLAB" link span a:eth1 --peer set rate 10mbit
check_contains "... shaped on m2's end" "tbf" "$("$NETLAB" exec span r tc qdisc show dev eth0)"
"$NETLAB" link span a:eth1 --peer clear >/dev/null 2>&1

tap=$("$NETLAB" test span 2>&1)
check_eq "test: every expectation holds, each checked on its node's machine" 3 "$(echo "$tap" | grep -c '^ok ')"

out=$("$NETLAB" down span 2>&1)
check_contains "down" "down on every machine" "$out"
settle
check_eq "every machine is as before" "$before_m" "$(snapshots)"
after=$(host_snapshot notmp)
[ "$before" = "$after" ] && ok "the controlling machine is as before" ||
	not_ok "the controlling machine is as before: $(diff <(echo "$before") <(echo "$after") | tr '\n' ' ')"

# A machine's part killed: down converges.
check "up again" "$NETLAB" up "$T/span.topo"
on_machine 2 sh -c 'kill -9 $(python3 -c "import json; print(json.load(open(\"/run/netlab/span/state.json\"))[\"supervisor\"][\"pid\"])")'
for _ in $(seq 50); do [ -z "$(on_machine 2 pgrep -x netlab-init)" ] && break; sleep 0.1; done
check_contains "status after m2's part was killed" "stale" "$("$NETLAB" status span 2>&1)"
check "down after a machine's part was killed" "$NETLAB" down span
settle
check_eq "... every machine is as before" "$before_m" "$(snapshots)"

# A machine's own down cleans its part; the controller's down goes on.
check "up again" "$NETLAB" up "$T/span.topo"
check "m1's own netlab down" on_machine 1 "$NETLAB" down span
check "the controller's down" "$NETLAB" down span
settle
check_eq "... every machine is as before" "$before_m" "$(snapshots)"

# A machine that cannot be reached for a while.
check "up again" "$NETLAB" up "$T/span.topo"
machine_unreachable 3
out=$("$NETLAB" down span --retry 0 2>&1)
rc=$?
check_eq "down with m3 unreachable, no retry: fails" 1 $rc
check_contains "... naming what m3 still holds" "machine m3 (10.77.0.3) still holds nodes c" "$out"
check_eq "... m1 and m2 are clean already" "$(echo "$before_m" | sed -n '/== m1/,/== m3/p')" "$(settle; snapshots | sed -n '/== m1/,/== m3/p')"
(sleep 3; machine_reachable 3) &
back=$!
out=$("$NETLAB" down span 2>&1)
check_eq "down retries until m3 answers again" 0 $?
check_contains "... saying so meanwhile" "trying again" "$out"
wait "$back"
settle
check_eq "... every machine is as before" "$before_m" "$(snapshots)"

# A machine that cannot be reached fails up cleanly on all.
machine_unreachable 3
out=$("$NETLAB" up "$T/span.topo" 2>&1)
check_eq "up with m3 unreachable fails" 1 $?
check_contains "... naming m3" "machine m3 (10.77.0.3)" "$out"
check_contains "... and rolls back" "nothing of lab 'span' is left" "$out"
machine_reachable 3
settle
check_eq "... every machine is as before" "$before_m" "$(snapshots)"

# A machine that fails to build its part fails up on all.
sed 's/^node c$/node c\n    exec false/' "$T/span.topo" >"$T/fail.topo"
out=$("$NETLAB" up "$T/fail.topo" 2>&1)
check_eq "up with a failing line on m3 fails" 1 $?
check_contains "... naming m3, the node and the line" "machine m3 (10.77.0.3): node c ($T/fail.topo:17): exec 'false' failed" "$out"
settle
check_eq "... every machine is as before" "$before_m" "$(snapshots)"

# The example across machines, its machine lines replaced.
out=$("$NETLAB" up "$TOPO/across-machines.topo" --machines m1=10.77.0.1,m2=10.77.0.2,m3=10.77.0.3 2>&1)
check_contains "the example across three machines" "10 nodes on 3 machines (m1 1, m2 4, m3 5), 2 tunnels" "$out"
check_eq "... its expectations hold" 2 "$("$NETLAB" test across-machines 2>&1 | grep -c '^ok ')"
check "down" "$NETLAB" down across-machines

# --machines instead of machine lines: an example chain cut in two.
out=$("$NETLAB" up "$TOPO/chain-ranges.topo" --machines m1=10.77.0.1,m2=root@10.77.0.2 --vni 100 --vxlan-port 4790 2>&1)
check_contains "up --machines: the chain over two machines, cut once" "8 nodes on 2 machines (m1 4, m2 4), 1 tunnel" "$out"
check "h1 (m1) reaches h2 (m2) across the cut" "$NETLAB" exec chain-ranges h1 ping -c 1 -W 2 10.0.6.2
check_contains "the tunnel has the VNI given" "vxlan id 100" "$("$NETLAB" exec chain-ranges r3 ip -d link show eth1)"
check_contains "... and the port" "dstport 4790" "$("$NETLAB" exec chain-ranges r4 ip -d link show eth0)"
check "down" "$NETLAB" down chain-ranges
settle
check_eq "every machine is as before" "$before_m" "$(snapshots)"
after=$(host_snapshot notmp)
[ "$before" = "$after" ] && ok "the controlling machine is as before" ||
	not_ok "the controlling machine is as before: $(diff <(echo "$before") <(echo "$after") | tr '\n' ' ')"
check_eq "~/.ssh untouched" "$home_ssh" "$(ls -la ~/.ssh 2>/dev/null | md5sum)"
finish
