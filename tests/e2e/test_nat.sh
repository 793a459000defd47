# nat-router with real traffic: masquerade (the wan server sees the router),
# DNAT port forward (the LAN server sees the real client), replies through
# conntrack, and the rules as iptables inside the router shows them.
. tests/e2e/lib.sh
sandbox_setup
LAB=nat-router

check "up $LAB" "$NETLAB" up "$TOPO/nat-router.topo"
check "wan listens on 80" wait_port $LAB wan 80
check "h1 listens on 8080" wait_port $LAB h1 8080
check_eq "h1 -> wan (reply came back through the NAT)" 200 \
	"$("$NETLAB" exec $LAB h1 curl -s -m 5 -o /dev/null -w '%{http_code}' http://203.0.113.2/)"
check_eq "h2 -> wan" 200 "$("$NETLAB" exec $LAB h2 curl -s -m 5 -o /dev/null -w '%{http_code}' http://203.0.113.2/)"
wanlog=$("$NETLAB" logs $LAB wan)
check_eq "wan's access log shows the router's wan address for both requests" 2 \
	"$(echo "$wanlog" | grep -c '^203\.0\.113\.1 - - .*"GET / ')"
check_eq "and never a LAN address" 0 "$(echo "$wanlog" | grep -c '^10\.0\.0\.')"
check_eq "wan -> router:8080 is forwarded to h1 (DNAT) and answered" 200 \
	"$("$NETLAB" exec $LAB wan curl -s -m 5 -o /dev/null -w '%{http_code}' http://203.0.113.1:8080/)"
check_contains "h1's log shows the real client 203.0.113.2" "203.0.113.2 - -" "$("$NETLAB" logs $LAB h1)"
check_fails "wan cannot reach the private address directly" "$NETLAB" exec $LAB wan curl -s -m 2 http://10.0.0.11:8080/
nat=$("$NETLAB" exec $LAB router iptables -t nat -S)
check_contains "iptables -t nat -S in the router shows the masquerade" "-A POSTROUTING -o eth1" "$nat"
check_contains "and the port forward" "-j DNAT --to-destination 10.0.0.11:8080" "$nat"
masq=$("$NETLAB" exec $LAB router iptables -t nat -L POSTROUTING -n -v -x | awk '/MASQUERADE/ {print $1}')
check_eq "the masquerade rule counted two connections" 2 "$masq"
check "down" "$NETLAB" down $LAB

# SNAT to a fixed address, IPv4 and IPv6, written into the test's own lab.
cat >$T/snat.topo <<TOPO
lab snat
switch lan
switch out
node r
    ip eth0 10.0.0.1/24
    ip eth0 fd00::1/64
    ip eth1 198.51.100.1/24
    ip eth1 198.51.100.7/24
    ip eth1 2001:db8::1/64
    ip eth1 2001:db8::7/64
    forward
    nat snat 10.0.0.0/24 eth1 198.51.100.7
    nat snat fd00::/64 eth1 2001:db8::7
node c
    ip eth0 10.0.0.2/24
    ip eth0 fd00::2/64
    route default via 10.0.0.1
    route ::/0 via fd00::1
node s
    ip eth0 198.51.100.2/24
    ip eth0 2001:db8::2/64
    run python3 -m http.server 80 --bind ::
link r:eth0 lan
link c:eth0 lan
link r:eth1 out
link s:eth0 out
TOPO
check "up snat" "$NETLAB" up $T/snat.topo
check "s listens" wait_port snat s 80
check_eq "c -> s over IPv4 through SNAT" 200 \
	"$("$NETLAB" exec snat c curl -s -m 5 -o /dev/null -w '%{http_code}' http://198.51.100.2/)"
check_eq "c -> s over IPv6 through SNAT" 200 \
	"$("$NETLAB" exec snat c curl -s -m 5 -o /dev/null -w '%{http_code}' -g 'http://[2001:db8::2]/')"
slog=$("$NETLAB" logs snat s)
check_contains "s saw the SNAT address over IPv4" "198.51.100.7 - -" "$slog"
check_contains "s saw the SNAT address over IPv6" "2001:db8::7 - -" "$slog"
check "down snat" "$NETLAB" down snat
finish
