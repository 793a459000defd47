# Firewall rules with real traffic: two-webservers (allow, reject at once),
# firewall-lab (stateful forward, IPv6), iptables inside a node, counters
# in `status --firewall`.
. tests/e2e/lib.sh
sandbox_setup
LAB=two-webservers

# Packets counted by the rules of NODE from topology line LINE (IP version V).
counter() {
	"$NETLAB" status "$1" --firewall "$2" | awk -v w=":$3" -v v="$4" '$1 ~ w"$" && $2 == v {s += $6} END {print s + 0}'
}

check "up $LAB" "$NETLAB" up "$TOPO/two-webservers.topo"
check "web1 listens on 8080" wait_port $LAB web1 8080
accept_line=$(grep -n 'firewall input accept proto tcp dport 8080 src 192.168.0.2' "$TOPO/two-webservers.topo" | cut -d: -f1)
reject_line=$(grep -n 'firewall input reject proto tcp dport 8080' "$TOPO/two-webservers.topo" | cut -d: -f1)
before=$(counter $LAB web1 $accept_line v4)
body=$("$NETLAB" exec $LAB web2 curl -s -m 5 -o /dev/null -w '%{http_code}' http://192.168.0.1:8080/)
check_eq "web2 -> web1:8080 is allowed" 200 "$body"
for _ in 1 2 3; do "$NETLAB" exec $LAB web2 curl -s -m 5 -o /dev/null http://192.168.0.1:8080/; done
check_contains "web1's log shows web2 as the client" "192.168.0.2 - -" "$("$NETLAB" logs $LAB web1)"
after=$(counter $LAB web1 $accept_line v4)
check_eq "status --firewall: the accept rule counted the 4 new connections" $((before + 4)) "$after"
# Another source: web1 itself.  Exit code 7 is "connection refused" (a
# reset came back), 28 would be a timeout.
"$NETLAB" exec $LAB web1 curl -s -m 5 -o /dev/null http://192.168.0.1:8080/
check_eq "web1 -> web1:8080 is refused at once (curl exit 7, not a timeout)" 7 $?
rej_before=$(counter $LAB web1 $reject_line v6)
"$NETLAB" exec $LAB web2 curl -s -m 5 -o /dev/null -g 'http://[fd00::1]:8080/'
check_eq "web2 over IPv6 (another source address) is refused" 7 $?
check_eq "the IPv6 reject rule counted it" $((rej_before + 1)) "$(counter $LAB web1 $reject_line v6)"
check "other traffic is not filtered: ping web2 -> web1" "$NETLAB" exec $LAB web2 ping -c 1 -W 2 192.168.0.1

# The xtables lock netlab writes rules under is made in the nodes it
# writes rules in only; the node's own iptables makes it where it needs it.
check_eq "web1 (rules) has netlab's xtables lock" yes \
	"$("$NETLAB" exec $LAB web1 sh -c '[ -f /run/xtables.lock ] && echo yes || echo no')"
check_eq "web2 (no rules) has none before its own iptables runs" no \
	"$("$NETLAB" exec $LAB web2 sh -c '[ -e /run/xtables.lock ] && echo yes || echo no')"
check "iptables -w adds a rule in web2" "$NETLAB" exec $LAB web2 iptables -w -A INPUT -p udp --dport 9 -j DROP
check_contains "iptables -S in web2 shows it" "--dport 9 -j DROP" "$("$NETLAB" exec $LAB web2 iptables -S INPUT)"
check "and deletes it" "$NETLAB" exec $LAB web2 iptables -w -D INPUT -p udp --dport 9 -j DROP

# What a user sees with iptables inside the node: the legacy tables.
ipt=$("$NETLAB" exec $LAB web1 iptables -L INPUT -n -v -x)
check_contains "iptables -L in web1 shows the accept rule" "192.168.0.2" "$ipt"
check_contains "and the reset" "reject-with tcp-reset" "$ipt"
pk=$(echo "$ipt" | awk '/192.168.0.2/ {print $1}')
check_eq "with the live counter status --firewall shows" "$after" "$pk"
check_contains "iptables -S shows the conntrack state rule" "--ctstate RELATED,ESTABLISHED" \
	"$("$NETLAB" exec $LAB web1 iptables -S INPUT)"
check_contains "ip6tables -S shows the IPv6 reject" "-j REJECT --reject-with tcp-reset" \
	"$("$NETLAB" exec $LAB web1 ip6tables -S INPUT)"
check_eq "web2 has no rules" 0 "$("$NETLAB" exec $LAB web2 iptables -S | grep -c -- '^-A')"
check_contains "the host's own iptables is untouched (still the nf_tables one)" "nf_tables" "$(iptables -V)"
check "down $LAB" "$NETLAB" down $LAB

# firewall-lab: stateful forwarding, both IP versions.
LAB=firewall-lab
check "up $LAB" "$NETLAB" up "$TOPO/firewall-lab.topo"
check "server listens" wait_port $LAB server 80
check "client listens" wait_port $LAB client 8080
check_eq "client -> server over IPv4 passes (new from inside)" 200 \
	"$("$NETLAB" exec $LAB client curl -s -m 5 -o /dev/null -w '%{http_code}' http://10.2.0.10/)"
check_eq "client -> server over IPv6 passes" 200 \
	"$("$NETLAB" exec $LAB client curl -s -m 5 -o /dev/null -w '%{http_code}' -g 'http://[fd02::10]/')"
check "client -> server ping passes" "$NETLAB" exec $LAB client ping -c 1 -W 2 10.2.0.10
"$NETLAB" exec $LAB server curl -s -m 5 -o /dev/null http://10.1.0.10:8080/
check_eq "server -> client:8080 over IPv4 is refused at once" 7 $?
"$NETLAB" exec $LAB server curl -s -m 5 -o /dev/null -g 'http://[fd01::10]:8080/'
check_eq "server -> client:8080 over IPv6 is refused at once" 7 $?
check_fails "server -> client ping is dropped (new inbound)" "$NETLAB" exec $LAB server ping -c 1 -W 1 10.1.0.10
check_fails "server -> client IPv6 ping is dropped" "$NETLAB" exec $LAB server ping -6 -c 1 -W 1 fd01::10
check_eq "the client's server never saw the outside" 0 "$("$NETLAB" logs $LAB client | grep -c 'GET')"
est_line=$(grep -n 'firewall forward accept state established,related' "$TOPO/firewall-lab.topo" | cut -d: -f1)
check "the established rule let replies in (counter > 0)" test "$(counter $LAB fw $est_line v4)" -gt 0
check_contains "status --firewall shows the forward policy with its drops" "policy DROP" \
	"$("$NETLAB" status $LAB --firewall fw)"
check "down $LAB" "$NETLAB" down $LAB
finish
