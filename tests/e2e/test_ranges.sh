# ranges: labs written with node/link ranges come up as if written out.
. tests/e2e/lib.sh
sandbox_setup

# 20 hosts on a switch from a range (topologies/star-ranges.topo).
check "check prints the expanded counts" sh -c \
	"'$NETLAB' check '$TOPO/star-ranges.topo' | grep -q ', 20 nodes, 1 switch, 20 links\$'"
check "up star-ranges" "$NETLAB" up "$TOPO/star-ranges.topo"
check "the last host (h20) reaches the first (10.0.0.1)" "$NETLAB" exec h20 ping -c 2 -W 2 10.0.0.1
check "h1 reaches h20 (10.0.0.20)" "$NETLAB" exec h1 ping -c 1 -W 2 10.0.0.20
addr=$("$NETLAB" exec h13 ip -o -4 addr show dev eth0 2>&1 | awk '{print $4}')
check_eq "h13 got 10.0.0.{i} with i=13" "10.0.0.13/24" "$addr"
n=$("$NETLAB" exec h1 sh -c 'n=0; for k in $(seq 2 20); do ping -c 1 -W 1 10.0.0.$k >/dev/null && n=$((n+1)); done; echo $n' 2>&1)
check_eq "h1 reaches all 19 other hosts" "19" "$n"
check "down star-ranges" "$NETLAB" down star-ranges

# A chain of six ranged routers with static routes both ways.
check "up chain-ranges" "$NETLAB" up "$TOPO/chain-ranges.topo"
check "h1 reaches h2 across r1..r6" "$NETLAB" exec h1 ping -c 2 -W 2 10.0.6.2
check_fails "TTL 6 is not enough (6 routers in between)" "$NETLAB" exec h1 ping -c 1 -W 2 -t 6 10.0.6.2
check "TTL 7 is enough" "$NETLAB" exec h1 ping -c 1 -W 2 -t 7 10.0.6.2
rt=$("$NETLAB" exec r4 ip -4 route show 10.0.0.0/24 2>&1)
check_contains "r4 routes back to h1 via r3 (10.0.{i-1}.1)" "via 10.0.3.1 dev eth0" "$rt"
check "down chain-ranges" "$NETLAB" down chain-ranges

# Shell braces in a ranged node's command stay the shell's; {i} is ours.
cat >$T/braces.topo <<'TOPO'
node n[1..2]
    env ID=n{i}
    exec sh -c 'x=${HOME:+set}; echo "$x" {a,b} {i} {i*10} $ID >/tmp/braces'
link n[1..2]:eth0 host:nb{i}
TOPO
check "up braces" "$NETLAB" up "$T/braces.topo"
out=$("$NETLAB" exec n2 cat /tmp/braces 2>&1)
check_eq "n2 ran its command with {i} substituted (also in env), shell braces kept" "set {a,b} 2 20 n2" "$out"
check "down braces" "$NETLAB" down braces
finish
