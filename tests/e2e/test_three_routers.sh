# three-routers: static routing across three forwarding routers.
. tests/e2e/lib.sh
sandbox_setup
check "up three-routers" "$NETLAB" up "$TOPO/three-routers.topo"
dst=$(awk '/^node h2/{f=1} f && $1=="ip" {sub(/\/.*/,"",$3); print $3; exit}' "$TOPO/three-routers.topo")
check "h1 reaches h2 ($dst) across the routers" "$NETLAB" exec h1 ping -c 2 -W 2 "$dst"
# With TTL 3 the packet dies at the third router; with 4 it arrives: 4 hops.
check_fails "TTL 3 is not enough (3 routers in between)" "$NETLAB" exec h1 ping -c 1 -W 2 -t 3 "$dst"
check "TTL 4 is enough" "$NETLAB" exec h1 ping -c 1 -W 2 -t 4 "$dst"
if "$NETLAB" exec h1 sh -c 'command -v traceroute' >/dev/null 2>&1; then
	hops=$("$NETLAB" exec h1 traceroute -n -q 1 -w 2 "$dst" | tail -n +2 | wc -l)
	check_eq "traceroute counts 4 hops" 4 "$hops"
else
	echo "skip - traceroute not installed; the TTL checks above cover the hop count"
fi
check "down" "$NETLAB" down three-routers
finish
