# Concurrency: two labs writing the sandbox's tables at once while an
# iptables user adds rules there too, and iptables run inside a node while
# another lab comes up.  No rule may be lost.
. tests/e2e/lib.sh
sandbox_setup

ip link add up0 type veth peer name up0p
ip link set up0 up
for L in ca cb; do
	cat >$T/$L.topo <<TOPO
lab $L
node n
    ip eth0 10.$([ $L = ca ] && echo 71 || echo 72).0.2/24
node host
    ip h$L 10.$([ $L = ca ] && echo 71 || echo 72).0.1/24
    forward
    nat masquerade up0
link n:eth0 host:h$L
TOPO
done

# 60 rules by a concurrent iptables user (-w: wait for the xtables lock).
( for i in $(seq 60); do iptables-legacy -w -A FORWARD -m comment --comment "user$i" -j ACCEPT; done ) &
user=$!
"$NETLAB" up $T/ca.topo >$T/ca.out 2>&1 &
a=$!
"$NETLAB" up $T/cb.topo >$T/cb.out 2>&1 &
b=$!
wait $a; ra=$?
wait $b; rb=$?
wait $user
check_eq "lab ca came up" 0 $ra
check_eq "lab cb came up" 0 $rb
rules=$(iptables-legacy -S FORWARD; iptables-legacy -t nat -S POSTROUTING)
check_eq "all 60 rules of the concurrent iptables user are there" 60 "$(echo "$rules" | grep -c 'comment user[0-9]*')"
check_eq "lab ca's forward rules (2) and masquerade (1) are there" 3 "$(echo "$rules" | grep -c 'netlab:ca ')"
check_eq "lab cb's too" 3 "$(echo "$rules" | grep -c 'netlab:cb ')"

# iptables inside a node of one lab while another lab comes up.
check "up two-webservers" "$NETLAB" up "$TOPO/two-webservers.topo"
"$NETLAB" exec two-webservers web1 sh -c \
	'for i in $(seq 40); do iptables -w -A OUTPUT -m comment --comment "mine$i" -j ACCEPT; done' &
e=$!
check "up nat-router meanwhile" "$NETLAB" up "$TOPO/nat-router.topo"
wait $e
check_eq "web1 keeps its 40 hand-made rules" 40 "$("$NETLAB" exec two-webservers web1 iptables -S OUTPUT | grep -c mine)"
check_eq "and its 3 topology rules" 3 "$("$NETLAB" exec two-webservers web1 iptables -S INPUT | grep -c 'netlab:two-webservers')"
check_eq "the router got its 2 nat rules" 2 "$("$NETLAB" exec nat-router router iptables -t nat -S | grep -c 'netlab:nat-router')"
check "status --firewall lists hand-made rules as not from the topology" sh -c \
	"'$NETLAB' status two-webservers --firewall web1 | grep -q 'not from the topology'"

check "down ca" "$NETLAB" down ca
check "down cb" "$NETLAB" down cb
rules=$(iptables-legacy -S FORWARD; iptables-legacy -t nat -S POSTROUTING)
check_eq "no rule of either lab is left" 0 "$(echo "$rules" | grep -c 'netlab:')"
check_eq "the user's 60 rules are untouched" 60 "$(echo "$rules" | grep -c 'comment user[0-9]*')"
check "down the rest" "$NETLAB" down --all
finish
