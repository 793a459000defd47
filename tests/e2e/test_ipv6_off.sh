# `ipv6 off` (docs/topology.md): a node without IPv6 has no IPv6 address
# on any interface, lo included, sends no IPv6 frame when its interface
# comes up (seen from another port of a flooding switch, where a node
# with IPv6 is seen sending its membership reports), and still works over
# IPv4; `ipv6 on` keeps IPv6 in a lab that turns it off, and `netlab test`
# tries only IPv4 from a node without IPv6.
. tests/e2e/lib.sh
sandbox_setup
LAB=nosix

cat >$T/nosix.topo <<'TOPO'
lab nosix ipv6 off
switch lan multicast flood
node a
    ip eth0 10.0.0.1/24
node b
    ipv6 on
    ip eth0 10.0.0.2/24
    ip eth0 fd00::2/64
node w
    ipv6 on
    ip eth0 10.0.0.3/24
node v
    ip eth0 10.0.0.4/24
    sysctl net.ipv6.conf.all.disable_ipv6=0
link a:eth0 lan
link b:eth0 lan
link w:eth0 lan
link v:eth0 lan
expect a reach b
expect b reach a
TOPO

# Counts IPv6 frames from MAC (argv[2]) seen on eth0 within argv[1]
# seconds; prints "ready" first, then the count.
cat >$T/count6.py <<'PY'
import select, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
s.bind(("eth0", 0))
mac = bytes.fromhex(sys.argv[2].replace(":", ""))
print("ready", flush=True)
n, end = 0, time.time() + float(sys.argv[1])
while time.time() < end:
    if not select.select([s], [], [], 0.1)[0]:
        continue
    data, addr = s.recvfrom(65535)
    if addr[2] != socket.PACKET_OUTGOING and data[6:12] == mac:
        n += 1
print(n, flush=True)
PY
chmod -R o+rX $T

check "up $LAB" "$NETLAB" up $T/nosix.topo
check_eq "a: no IPv6 address at all (lo included)" "" "$("$NETLAB" exec $LAB a cat /proc/net/if_inet6 2>&1)"
check_eq "a: IPv6 disabled on eth0" 1 "$("$NETLAB" exec $LAB a cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6 2>&1)"
out=$("$NETLAB" exec $LAB b cat /proc/net/if_inet6 2>&1)
check_contains "b ('ipv6 on'): its address" "fd000000000000000000000000000002" "$out"
check_contains "b ('ipv6 on'): a link-local address" " eth0" "$(echo "$out" | grep '^fe80')"
check "IPv4 from a to b" "$NETLAB" exec $LAB a ping -c 1 -W 3 10.0.0.2
# A sysctl statement turns IPv6 back on in v: then its interfaces are as
# quiet as any node's with IPv6 (no DAD, no router solicitations), which
# nodes that stay without IPv6 are not given.
check_contains "v (sysctl disable_ipv6=0): IPv6 back on eth0" " eth0" \
	"$("$NETLAB" exec $LAB v cat /proc/net/if_inet6 2>&1 | grep '^fe80')"
check_eq "v: no duplicate address detection on eth0" 0 \
	"$("$NETLAB" exec $LAB v cat /proc/sys/net/ipv6/conf/eth0/accept_dad 2>&1)"
check_eq "v: no router solicitations on eth0" 0 \
	"$("$NETLAB" exec $LAB v cat /proc/sys/net/ipv6/conf/eth0/router_solicitations 2>&1)"
check_fails "no IPv6 from a" "$NETLAB" exec $LAB a ping -6 -c 1 -W 1 fd00::2

# Frames seen by w while NODE's eth0 goes down and up again.
bounce6() { # NODE
	local mac
	mac=$("$NETLAB" exec $LAB "$1" cat /sys/class/net/eth0/address)
	rm -f $T/c6.out
	"$NETLAB" exec $LAB w python3 $T/count6.py 3 "$mac" >$T/c6.out &
	for _ in $(seq 100); do [ -s $T/c6.out ] && break; sleep 0.1; done
	"$NETLAB" exec $LAB "$1" sh -c 'ip link set eth0 down && ip link set eth0 up'
	wait
	sed -n 2p $T/c6.out
}
n=$(bounce6 b)
[ -n "$n" ] && [ "$n" -ge 1 ] && ok "b's interface coming up sends IPv6 ($n frames seen by w)" ||
	not_ok "w saw '$n' IPv6 frames from b"
check_eq "a's interface coming up sends no IPv6" 0 "$(bounce6 a)"

check "netlab test: a reaches b over IPv4 only, b reaches a" "$NETLAB" test $LAB
out=$("$NETLAB" test $LAB --format json 2>&1)
check_contains "the expectation from a tried 10.0.0.2" "10.0.0.2" "$out"
case $out in *fd00::2*) not_ok "the expectation from a tried fd00::2 ($out)" ;; *) ok "the expectation from a did not try fd00::2" ;; esac
check "down" "$NETLAB" down $LAB
finish
