# Real software, run the packaged way in default (user-namespaced) nodes:
# FRR (OSPF), BIRD (BGP), dnsmasq with dhclient/udhcpc (DHCP), tcpdump
# writing into /lab; the host's own files never change.  The shipped
# examples are copied to a folder owned by an ordinary user, so that what
# nodes write there is seen to belong to that user.
. tests/e2e/lib.sh
sandbox_setup
before=$(host_snapshot notmp)

# The host's files the daemons would write if they could.
host_files() {
	for p in /etc/frr /etc/bird /etc/resolv.conf /var/lib/dhcp /var/lib/misc /var/tmp /etc/hostname; do
		[ -e "$p" ] || { echo "$p absent"; continue; }
		find "$p" -xdev -printf '%p %m %U:%G %s\n' 2>/dev/null | sort
		find "$p" -xdev -type f -readable -exec sha256sum {} + 2>/dev/null | sort
	done
}
host_before=$(host_files)

need() {
	command -v "$1" >/dev/null || [ -x "$1" ] || { echo "# skipped: $2 ($1 is not installed; scripts/install-deps.sh installs it)"; return 1; }
}

# An ordinary user owns the labs' folders: uid 4242, as the host sees it.
owner=4242
mkdir -m 755 $T/labs
cp -r topologies/ospf-frr topologies/bgp-bird topologies/dhcp.topo $T/labs/
chown -R $owner:$owner $T/labs

# --- OSPF with FRR ------------------------------------------------------------
if need /usr/lib/frr/frrinit.sh "OSPF with FRR"; then
	check "FRR: up (frrinit.sh start in three routers, waits for routes)" "$NETLAB" up $T/labs/ospf-frr/ospf-frr.topo
	nb=$("$NETLAB" exec ospf-frr r1 vtysh -c 'show ip ospf neighbor' 2>&1)
	check_eq "FRR: vtysh in r1 shows two Full neighbours" 2 "$(echo "$nb" | grep -c Full)"
	check_eq "FRR: zebra dropped to user frr" frr \
		"$("$NETLAB" exec ospf-frr r1 ps -o user= -C zebra 2>&1 | head -1)"
	check "FRR: h1 pings h3 across the routers" "$NETLAB" exec ospf-frr h1 ping -c 1 -W 2 10.3.0.10
	hops() { "$NETLAB" exec ospf-frr h1 traceroute -n -q 1 -w 1 10.3.0.10 2>/dev/null | tail -n +2; }
	path=$(hops)
	check_eq "FRR: h1 -> h3 takes r1 -> r3 (3 hops)" 3 "$(echo "$path" | wc -l)"
	check_contains "FRR: ... through r3's link to r1" "10.0.13.3" "$path"
	check "FRR: the r1-r3 link goes down" "$NETLAB" link ospf-frr r1:eth2 down
	rerouted=no
	for _ in $(seq 40); do
		path=$(hops)
		[ "$(echo "$path" | wc -l)" = 4 ] && echo "$path" | grep -q 10.0.12.2 && rerouted=yes && break
		sleep 0.5
	done
	check_eq "FRR: OSPF reroutes h1 -> h3 through r2 (4 hops)" yes "$rerouted"
	check "FRR: write memory in r1" "$NETLAB" exec ospf-frr r1 vtysh -c 'write memory'
	check_contains "FRR: r1 saved its configuration in its own /etc/frr" "router ospf" \
		"$("$NETLAB" exec ospf-frr r1 cat /etc/frr/frr.conf)"
	check_eq "FRR: the folder's frr.conf is untouched" "$(cat topologies/ospf-frr/r1/etc/frr/frr.conf)" \
		"$(cat $T/labs/ospf-frr/r1/etc/frr/frr.conf)"

	# tcpdump with its own privilege drop, writing into /lab.
	"$NETLAB" exec ospf-frr h3 sh -c 'tcpdump -ni eth0 -c 4 -w /lab/h3.pcap icmp >/lab/tcpdump.log 2>&1 &'
	for _ in $(seq 20); do grep -q listening $T/labs/ospf-frr/tcpdump.log 2>/dev/null && break; sleep 0.2; done
	"$NETLAB" exec ospf-frr h1 ping -c 2 -W 2 10.3.0.10 >/dev/null 2>&1
	for _ in $(seq 20); do grep -q captured $T/labs/ospf-frr/tcpdump.log 2>/dev/null && break; sleep 0.2; done
	check_contains "tcpdump: captured in h3 (with its default privilege drop)" "4 packets captured" \
		"$(cat $T/labs/ospf-frr/tcpdump.log)"
	check_contains "tshark on the host reads the node's capture" "Echo (ping) request" \
		"$(tshark -r $T/labs/ospf-frr/h3.pcap 2>/dev/null)"
	# Node root in /lab is the folder's owner; a way up it leaves is cleared.
	"$NETLAB" exec ospf-frr h3 sh -c 'cp /bin/true /lab/suid && chmod 4755 /lab/suid && echo n >/lab/by-root'
	check_eq "what node root writes in /lab belongs to the folder's owner" "$owner:$owner" \
		"$(stat -c %u:%g $T/labs/ospf-frr/by-root)"
	check "down" "$NETLAB" down ospf-frr
	check_eq "after down the capture belongs to the folder's owner too" "$owner:$owner" \
		"$(stat -c %u:%g $T/labs/ospf-frr/h3.pcap)"
	check_eq "after down a setuid file node root made in /lab is setuid no more" "755" \
		"$(stat -c %a $T/labs/ospf-frr/suid)"
	check_eq "no file in the folder belongs to a node's IDs" "" \
		"$(find $T/labs ! -uid $owner -o ! -gid $owner)"
fi

# --- BGP with BIRD ----------------------------------------------------------------
if need bird "BGP with BIRD"; then
	check "BIRD: up (three ASes, waits for the far prefix)" "$NETLAB" up $T/labs/bgp-bird/bgp-bird.topo
	check_contains "BIRD: b1 learned AS 65003's prefix by BGP" "10.3.0.0/24 via 10.0.12.2" \
		"$("$NETLAB" exec bgp-bird b1 ip route show proto bird)"
	check_contains "BIRD: birdc in b2 shows both sessions up" "Established" \
		"$("$NETLAB" exec bgp-bird b2 birdc show protocols)"
	check "BIRD: p1 reaches p3 over the learned routes" "$NETLAB" exec bgp-bird p1 ping -c 1 -W 2 10.3.0.10
	check "down" "$NETLAB" down bgp-bird
fi

# --- DHCP: dnsmasq and two clients ------------------------------------------------------
if need dnsmasq "DHCP with dnsmasq"; then
	check "DHCP: up (dnsmasq daemonizes; the clients are ready once they hold a lease)" \
		"$NETLAB" up $T/labs/dhcp.topo
	for c in c1 c2; do
		a=$("$NETLAB" exec dhcp $c ip -4 -o addr show eth0 | awk '{print $4}')
		last=$(echo "$a" | sed -E 's|10\.50\.0\.([0-9]+)/24|\1|')
		[ -n "$last" ] && [ "$last" -ge 100 ] && [ "$last" -le 150 ] &&
			ok "DHCP: $c leased $a (in 10.50.0.100-150)" || not_ok "DHCP: $c has no lease in range: '$a'"
		check_contains "DHCP: $c got its default route" "default via 10.50.0.1" \
			"$("$NETLAB" exec dhcp $c ip route)"
		check_contains "DHCP: $c's own resolv.conf names the server" "nameserver 10.50.0.1" \
			"$("$NETLAB" exec dhcp $c cat /etc/resolv.conf)"
	done
	c2=$("$NETLAB" exec dhcp c2 ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
	check "DHCP: c1 pings c2 at its leased address" "$NETLAB" exec dhcp c1 ping -c 1 -W 2 "$c2"
	check_eq "DHCP: dnsmasq's lease file (in srv's own /var/lib/misc) has both" 2 \
		"$("$NETLAB" exec dhcp srv cat /var/lib/misc/dnsmasq.leases | wc -l)"
	check_eq "DHCP: dnsmasq dropped privileges" nobody \
		"$("$NETLAB" exec dhcp srv ps -o user= -C dnsmasq | head -1)"
	check "down" "$NETLAB" down dhcp
fi

check_eq "the host's /etc/frr, /etc/bird, /etc/resolv.conf, /var/lib/dhcp, /var/lib/misc, /var/tmp are as before" \
	"$host_before" "$(host_files)"
check_eq "nothing left" "$before" "$(host_snapshot notmp)"
check_eq "no process left" "" "$(netlab_procs)"
finish
