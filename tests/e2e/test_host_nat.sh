# host NAT: a node reaches a server in a second namespace of the sandbox
# through `node host` with forward + masquerade; afterwards (also after a
# kill -9 of the supervisor) the sandbox's rules and ip_forward are as before.
. tests/e2e/lib.sh
sandbox_setup
LAB=hostnat

# The "outside world": a namespace of this sandbox only.  /run/netns gets a
# private tmpfs so nothing of it appears in the machine's /run.
mkdir -p /run/netns
mount -t tmpfs -o mode=755 netlab-test-netns /run/netns
ip netns add outside
ip link add up0 type veth peer name eth0 netns outside
ip addr add 172.31.0.1/24 dev up0
# The snapshots below must not race IPv6 autoconfiguration of up0: no DAD,
# and wait until its link-local address (and routes) are in place.
sysctl -qw net.ipv6.conf.up0.accept_dad=0
ip link set up0 up
for _ in $(seq 50); do ip -6 addr show dev up0 scope link | grep -q fe80 && break; sleep 0.1; done
ip -n outside addr add 172.31.0.2/24 dev eth0
ip -n outside link set eth0 up
ip -n outside link set lo up
mkdir -p $T/www && echo outside-page >$T/www/index.html
ip netns exec outside sh -c "cd $T/www && exec python3 -m http.server 8000 --bind 172.31.0.2" >$T/outside.log 2>&1 &
for _ in $(seq 50); do ip netns exec outside ss -ltn | grep -q ':8000 ' && break; sleep 0.1; done

# Rules that predate the lab, one of them tagged like another lab: none of
# them may be touched.  A FORWARD policy of DROP makes netlab's own
# forward rules necessary.
iptables-legacy -A FORWARD -s 198.51.100.0/24 -j DROP
iptables-legacy -P FORWARD DROP
iptables-legacy -t nat -A POSTROUTING -s 198.51.100.0/24 -o up0 -m comment --comment "netlab:hostnat2 x.topo:1" -j RETURN
ip6tables-legacy -A FORWARD -s 2001:db8::/32 -j DROP
sysctl -qw net.ipv4.ip_forward=0

fw_snapshot() {
	for fam in iptables-legacy ip6tables-legacy; do
		for tbl in filter nat; do $fam -t $tbl -S; done
	done
	sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding
}
# host_snapshot without its /tmp listing: other users of the machine's /tmp
# would make that part differ.
net_snapshot() {
	{
		ip -o link show | sed 's/^[0-9]*: //; s/ link\/.*//; s/<.*//'
		ip -o addr show | awk '{print $2, $4}'
		ip route show table all 2>/dev/null
		awk '{print $5}' /proc/self/mountinfo | sort
		ls -A /run/netlab
	} | sort
}
before_fw=$(fw_snapshot)
before=$(net_snapshot)

cat >$T/hostnat.topo <<TOPO
lab $LAB
node n1
    ip eth0 10.9.0.2/24
    route default via 10.9.0.1
node host
    ip hn0 10.9.0.1/24
    forward
    nat masquerade up0
link n1:eth0 host:hn0
TOPO

check "up $LAB" "$NETLAB" up $T/hostnat.topo
check_eq "ip_forward is on while the lab runs" 1 "$(sysctl -n net.ipv4.ip_forward)"
nat_rules=$(iptables-legacy -t nat -S POSTROUTING)
check_contains "the masquerade rule is in the sandbox's nat table, tagged" \
	"-o up0 -m comment --comment \"netlab:$LAB " "$nat_rules"
check_contains "the earlier rules are still there" "netlab:hostnat2 x.topo:1" "$nat_rules"
check_contains "forward rules for the host end are tagged" "-i hn0 -m comment --comment \"netlab:$LAB" \
	"$(iptables-legacy -S FORWARD)"
check_contains "state.json records the host rules" '"chain":"POSTROUTING"' \
	"$(tr -d ' \n' </run/netlab/$LAB/state.json)"
body=$("$NETLAB" exec $LAB n1 curl -s -m 5 http://172.31.0.2:8000/ 2>&1)
check_eq "n1 reaches the outside server through the host" outside-page "$body"
check_contains "the outside server saw the host's address (masquerade)" "172.31.0.1 - -" "$(cat $T/outside.log)"
check_eq "and never n1's private address" 0 "$(grep -c '10\.9\.0\.2' $T/outside.log)"
pkts=$(iptables-legacy -t nat -L POSTROUTING -v -n -x | awk '/netlab:hostnat /{print $1}')
check "the masquerade rule counted the connection" test "${pkts:-0}" -ge 1

check "down" "$NETLAB" down $LAB
check_eq "rules and forwarding are exactly as before the lab" "$before_fw" "$(fw_snapshot)"
check_eq "the sandbox is as before (links, addresses, routes, mounts)" "$before" "$(net_snapshot)"

# A crash: kill -9 of the supervisor leaves the rules; `down` removes them.
check "up again" "$NETLAB" up $T/hostnat.topo
sup=$("$NETLAB" status $LAB --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["supervisor_pid"])')
check "kill -9 the supervisor" kill -9 "$sup"
for _ in $(seq 50); do kill -0 "$sup" 2>/dev/null || break; sleep 0.1; done
check_contains "its rules are still there after the crash" "netlab:$LAB " "$(iptables-legacy -t nat -S)"
check "down after the crash" "$NETLAB" down $LAB
check_eq "rules and forwarding are exactly as before, after kill -9 + down" "$before_fw" "$(fw_snapshot)"
after=$(net_snapshot); check_eq "the sandbox is as before after kill -9 + down" "$before" "$after"; [ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after")
finish
