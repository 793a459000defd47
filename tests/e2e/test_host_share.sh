# Labs that share the host: two labs with `node host` + `forward` + NAT in
# every order of up and down (and with a crash instead of a down), one lab
# churning beside a steady one, and `up` of one name from several
# processes.  The host's forwarding switches, global and per interface,
# must be on exactly while some lab needs them and come back to what they
# were (on or off) when the last one goes; a lab's traffic must keep
# flowing whatever the other does.
. tests/e2e/lib.sh
sandbox_setup

# The "outside world": a namespace of this sandbox only.
mkdir -p /run/netns
mount -t tmpfs -o mode=755 netlab-test-netns /run/netns
ip netns add outside
ip link add up0 type veth peer name eth0 netns outside
ip addr add 172.31.0.1/24 dev up0
sysctl -qw net.ipv6.conf.up0.accept_dad=0
ip link set up0 up
for _ in $(seq 50); do ip -6 addr show dev up0 scope link | grep -q fe80 && break; sleep 0.1; done
ip -n outside addr add 172.31.0.2/24 dev eth0
ip -n outside link set eth0 up
ip -n outside link set lo up

for l in a b; do
	n=$([ $l = a ] && echo 1 || echo 2)
	cat >$T/$l.topo <<TOPO
lab $l
node n1
    ip eth0 10.$n.0.2/24
    route default via 10.$n.0.1
node host
    ip h$l 10.$n.0.1/24
    forward
    nat masquerade up0
link n1:eth0 host:h$l
TOPO
done

fwd() { echo "$(sysctl -n net.ipv4.ip_forward)$(sysctl -n net.ipv6.conf.all.forwarding)$(sysctl -n net.ipv4.conf.up0.forwarding)$(sysctl -n net.ipv6.conf.up0.forwarding)"; }
# Three tries: a loaded machine may lose the very first packet (ARP).
reaches() {
	for _ in 1 2 3; do
		"$NETLAB" exec "$1" n1 ping -c 1 -W 2 172.31.0.2 >/dev/null 2>&1 && return 0
	done
	return 1
}
up_labs=""
step() {
	local what=$1 lab=$2
	case $what in
	up) "$NETLAB" up $T/$lab.topo >/dev/null 2>$T/err || { not_ok "up $lab: $(cat $T/err)"; return; }
	    up_labs="$up_labs $lab" ;;
	down) "$NETLAB" down $lab >/dev/null 2>$T/err || { not_ok "down $lab: $(cat $T/err)"; return; }
	    up_labs=$(echo "$up_labs" | sed "s/ $lab//") ;;
	crash) sup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor"]["pid"])' /run/netlab/$lab/state.json)
	    kill -9 "$sup"; for _ in $(seq 50); do kill -0 "$sup" 2>/dev/null || break; sleep 0.05; done
	    up_labs=$(echo "$up_labs" | sed "s/ $lab//") ;;
	esac
}

# Original values: everything off but the uplink's own forwarding (so a
# global switch written and written back would lose it).
sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
sysctl -qw net.ipv4.conf.up0.forwarding=1 net.ipv6.conf.up0.forwarding=1
orig=$(fwd)
before=$(host_snapshot notmp)
check_eq "the original host settings" "0011" "$orig"

for order in "up:a up:b down:a down:b" "up:a up:b down:b down:a" "up:a down:a up:b down:b" \
	"up:b up:a down:a down:b" "up:b up:a down:b down:a" "up:a up:b crash:a down:a down:b" \
	"up:a up:b crash:b crash:a down:a down:b" "up:a crash:a up:b down:b down:a"; do
	up_labs=""
	for s in $order; do
		step ${s%%:*} ${s#*:}
		if [ -n "$up_labs" ]; then
			check_eq "[$order] after $s: forwarding on" "1111" "$(fwd)"
			for l in $up_labs; do
				check "[$order] after $s: lab $l still reaches the outside" reaches $l
			done
		elif [ ${s%%:*} != crash ] && [ -z "$(ls /run/netlab | grep -v '^\.')" ]; then
			check_eq "[$order] after $s: every setting as it was" "$orig" "$(fwd)"
		fi
	done
	check_eq "[$order] nothing left" "$before" "$(host_snapshot notmp)"
	check_eq "[$order] no tagged rule left" "" "$(iptables-legacy-save | grep netlab:)"
done

# Forwarding already on before any lab: stays on after the last one.
sysctl -qw net.ipv4.ip_forward=1
step up a; step up b; step down a; step down b
check_eq "forwarding that was on before the labs stays on" "1" "$(sysctl -n net.ipv4.ip_forward)"
sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.up0.forwarding=1

# One lab churning up and down beside a steady one, which keeps working.
step up a
fails=0
for i in $(seq 10); do
	"$NETLAB" up $T/b.topo >/dev/null 2>&1 && "$NETLAB" down b >/dev/null 2>&1 || fails=$((fails + 1))
	reaches a || fails=$((fails + 1))
	[ "$(sysctl -n net.ipv4.ip_forward)" = 1 ] || fails=$((fails + 1))
done
check_eq "10 ups and downs of b beside a: a keeps forwarding and reaching out" 0 "$fails"
step down a
check_eq "after the churn, every setting as it was" "$orig" "$(fwd)"

# `up` of one name from several processes at once: one wins, the others
# say it is up, and one down leaves nothing.
for i in 1 2 3 4; do "$NETLAB" up $T/a.topo >$T/par.$i 2>&1 & done
wait
wins=$(grep -l "is up" $T/par.* | wc -l)
check_eq "four parallel ups of one lab: exactly one brings it up" 1 "$wins"
check_eq "the others are told it is up" 3 "$(grep -l "already up" $T/par.* | wc -l)"
check "it works" reaches a
check "one down" "$NETLAB" down a
check_eq "and nothing is left" "$before" "$(host_snapshot notmp)"
check_eq "every setting as it was" "$orig" "$(fwd)"

# A host end is made in the lab's namespace and moved to the host already
# marked with its lab's alias: also on a switch.
cat >$T/c.topo <<'TOPO'
lab c
switch s
node n1
    ip eth0 10.3.0.2/24
node host
    ip hc 10.3.0.1/24
link n1:eth0 s
link host:hc s veth
TOPO
check "a host end on a switch" "$NETLAB" up $T/c.topo
check_contains "the host end carries its lab's mark" "alias netlab:c" "$(ip -d link show hc)"
check "the host reaches the node across the switch" ping -c 1 -W 2 10.3.0.2
check "down" "$NETLAB" down c
check_eq "nothing left" "$before" "$(host_snapshot notmp)"
finish
