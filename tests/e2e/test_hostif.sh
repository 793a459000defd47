#!/usr/bin/env bash
# Host interfaces (issue 12): `move` puts an existing host interface into a
# node and gives it back with its addresses at down (also after a crash);
# `macvlan` gives a node a child of it, the host's own use untouched;
# `link host:IF SWITCH` makes it a switch port until down.  The "host NICs"
# are veths this test makes in its own sandbox, their peers in a namespace
# "outside"; nothing real is touched.
. "$(dirname "$0")/lib.sh"
sandbox_setup
# A /run/netns of this sandbox only: `ip netns add` leaves a file there.
mkdir -p /run/netns
mount -t tmpfs -o mode=755 netlab-test-netns /run/netns
ip netns add outside
ip -n outside link set lo up
for i in 0 1 2; do
	ip link add nic$i type veth peer name out$i netns outside
	ip -n outside link set out$i up
	ip link set nic$i up
done
ip addr add 192.0.2.1/24 dev nic0
ip -n outside addr add 192.0.2.254/24 dev out0
ip link set nic0 mtu 1400
ip addr add 198.51.100.1/24 dev nic1
ip -n outside addr add 198.51.100.254/24 dev out1
ip addr add 203.0.113.1/24 dev nic2
ip -n outside addr add 203.0.113.254/24 dev out2
# IPv6 duplicate address detection changes the sandbox's addresses and
# routes for a second or two after an interface comes up (and after one is
# given back): compare only settled states.
settle() {
	for _ in $(seq 50); do
		[ -z "$(ip -6 addr show tentative)" ] && return 0
		sleep 0.1
	done
}
settle
nic0_before=$(ip -o addr show dev nic0 | awk '{print $4}' | sort | tr '\n' ' '; ip -o link show nic0 | grep -o 'mtu [0-9]*')
before=$(host_snapshot notmp)

cat >$T/hostif.topo <<'T'
lab hostif
switch lan
node n
    ip eth0 192.0.2.10/24
node m
    ip eth0 198.51.100.20/24
node a
    ip eth0 203.0.113.5/24
link host:nic0 n:eth0 move
link host:nic1 m:eth0 macvlan
link host:nic2 lan
link a:eth0 lan
T
check "up" "$NETLAB" up $T/hostif.topo
check_fails "nic0 is gone from the host while the lab has it" ip link show nic0
check_contains "... and is n's eth0, with the node's address" "192.0.2.10/24" "$("$NETLAB" exec hostif n ip -o addr show dev eth0)"
check "n reaches the outside through the moved interface" "$NETLAB" exec hostif n ping -c 1 -W 2 192.0.2.254
check_contains "macvlan: m's eth0 is a macvlan" "macvlan" "$("$NETLAB" exec hostif m ip -d link show eth0)"
check "m reaches the outside through its macvlan" "$NETLAB" exec hostif m ping -c 1 -W 2 198.51.100.254
check "the host still uses nic1 itself" ping -c 1 -W 2 198.51.100.254
check_contains "nic1 keeps its address" "198.51.100.1/24" "$(ip -o addr show dev nic1)"
check_fails "nic2 is a port of the lab's switch, gone from the host" ip link show nic2
check "a, on the switch, reaches the outside through nic2" "$NETLAB" exec hostif a ping -c 1 -W 2 203.0.113.254
check "down" "$NETLAB" down hostif
check_eq "nic0 is back with its addresses and MTU" "$nic0_before" \
	"$(ip -o addr show dev nic0 | awk '{print $4}' | sort | tr '\n' ' '; ip -o link show nic0 | grep -o 'mtu [0-9]*')"
check "the host reaches the outside through nic0 again" ping -c 1 -W 2 192.0.2.254
check "and through nic2" ping -c 1 -W 2 203.0.113.254
settle; after=$(host_snapshot notmp); [ "$before" = "$after" ] && ok "the sandbox is as before" || not_ok "the sandbox is as before: $(diff <(echo "$before") <(echo "$after") | tr "\n" " ")"

# A crash: the supervisor is killed with the interfaces in the lab; the
# pinned namespaces keep them, and `down` gives them back.
check "up again" "$NETLAB" up $T/hostif.topo
sup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor"]["pid"])' /run/netlab/hostif/state.json)
kill -9 "$sup"
for _ in $(seq 50); do [ -z "$(pgrep -x netlab-init)" ] && break; sleep 0.1; done
check_fails "after the crash nic0 is not in the host yet" ip link show nic0
check "down after the crash" "$NETLAB" down hostif
check_eq "nic0 is back with its addresses and MTU after the crash" "$nic0_before" \
	"$(ip -o addr show dev nic0 | awk '{print $4}' | sort | tr '\n' ' '; ip -o link show nic0 | grep -o 'mtu [0-9]*')"
check "the host reaches the outside through nic0" ping -c 1 -W 2 192.0.2.254
check "and through nic2" ping -c 1 -W 2 203.0.113.254
settle; after=$(host_snapshot notmp); [ "$before" = "$after" ] && ok "the sandbox is as before" || not_ok "the sandbox is as before: $(diff <(echo "$before") <(echo "$after") | tr "\n" " ")"

# A host interface that does not exist: a clear error, nothing changed.
sed 's/host:nic0/host:nosuch0/' $T/hostif.topo >$T/bad.topo
out=$("$NETLAB" up $T/bad.topo 2>&1)
check_contains "a missing host interface is named" "the host has no interface nosuch0" "$out"
check_eq "nothing changed" "$before" "$(host_snapshot notmp)"
finish
