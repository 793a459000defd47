# Switches and multicast: by default a switch snoops (IGMP/MLD querier on),
# so a membership report reaches no other node, yet group traffic still
# reaches members and IPv6 neighbour discovery works; `multicast flood`
# makes it forward every report to every port, as a plain bridge does.
. tests/e2e/lib.sh
sandbox_setup
LAB=mcast

cat >$T/mcast.topo <<'TOPO'
lab mcast
switch s
switch f multicast flood
node s[1..3]
    ip eth0 fd00:1::{i}/64
    ip eth0 10.0.1.{i}/24
node f[1..3]
    ip eth0 fd00:2::{i}/64
    ip eth0 10.0.2.{i}/24
link s[1..3]:eth0 s
link f[1..3]:eth0 f
TOPO

# Counts MLD reports (ICMPv6 type 143) that arrive on eth0 within the
# given seconds; prints "ready" first, then the count.
cat >$T/count_reports.py <<'PY'
import select, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
s.bind(("eth0", 0))
print("ready", flush=True)
n, end = 0, time.time() + float(sys.argv[1])
while time.time() < end:
    if not select.select([s], [], [], 0.1)[0]:
        continue
    data, addr = s.recvfrom(65535)
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    # IPv6 next header 0 (hop-by-hop, as MLD uses) then ICMPv6 (58)
    if data[20] == 0 and data[54] == 58 and data[62] == 143:
        n += 1
print(n, flush=True)
PY
# Joins GROUP on eth0 for the given seconds (reports go out on joining).
cat >$T/join.py <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
             socket.inet_pton(socket.AF_INET6, sys.argv[1]) + struct.pack("@I", socket.if_nametoindex("eth0")))
time.sleep(float(sys.argv[2]))
PY
# Receives one datagram on GROUP:PORT (joined on eth0), prints it.
cat >$T/recv.py <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", int(sys.argv[2])))
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
             socket.inet_pton(socket.AF_INET6, sys.argv[1]) + struct.pack("@I", socket.if_nametoindex("eth0")))
s.settimeout(5)
print("joined", flush=True)
print(s.recv(100).decode(), flush=True)
PY

chmod -R o+rX $T

check "up $LAB" "$NETLAB" up $T/mcast.topo
check "IPv6 across the snooping switch (neighbour discovery works)" "$NETLAB" exec $LAB s3 ping -6 -c 1 -W 3 fd00:1::1
check "IPv4 across it" "$NETLAB" exec $LAB s3 ping -c 1 -W 3 10.0.1.1
check "IPv6 across the flooding switch" "$NETLAB" exec $LAB f3 ping -6 -c 1 -W 3 fd00:2::1

# A report of node 1 seen by node 2: never on the snooping switch.
wait_line() { # FILE: until it has a first line (up to 10 s)
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}
reports() { # SWITCH-PREFIX
	rm -f $T/cap.out
	"$NETLAB" exec $LAB ${1}2 python3 $T/count_reports.py 3 >$T/cap.out &
	wait_line $T/cap.out
	"$NETLAB" exec $LAB ${1}1 python3 $T/join.py ff05::beef 1
	wait
	sed -n 2p $T/cap.out
}
# (the flooding switch first: the other's querier is at work within
# about 0.1 s of `up`, long before this)
n=$(reports f)
[ -n "$n" ] && [ "$n" -ge 1 ] && ok "flooding switch: f2 sees f1's membership reports ($n)" ||
	not_ok "flooding switch: f2 saw '$n' reports of f1"
n=$(reports s)
check_eq "snooping switch: no node sees another's membership report" 0 "$n"

# Group traffic still reaches a member through the snooping switch.
rm -f $T/recv.out
"$NETLAB" exec $LAB s1 python3 $T/recv.py ff05::cafe 5000 >$T/recv.out &
wait_line $T/recv.out
"$NETLAB" exec $LAB s2 python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex("eth0"))
s.sendto(b"to-the-group", ("ff05::cafe", 5000))'
wait
got=$(sed -n 2p $T/recv.out)
check_eq "a datagram to a group reaches its member across the snooping switch" to-the-group "$got"

check "down" "$NETLAB" down $LAB
finish
