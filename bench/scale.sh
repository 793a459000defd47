# The scale section of `make bench` (issue 17), sourced by scripts/bench.sh:
# netlab against the kernel floor (bench/floor.c `full`, with the user
# namespaces netlab gives its nodes) at N = SCALE_SIZES, for
#   sos    a star of stars: a core switch, one leaf switch per 500 hosts
#          (a Linux bridge takes at most 1024 ports; 500 keeps a broadcast
#          within the CPU's backlog, see below);
#   chain  N forwarding routers in a line (the chain of scripts/bench.sh).
# Per run: up and down times, memory per node including the kernel's share
# (MemAvailable before `up` minus while up, divided by N), and for netlab
# `exec` latency and `status LAB NODE`.  The exponent of up-time over N is
# fitted over all sizes.  Checks every run: star of stars: a ping from the
# last host to the first (with static neighbours and a priming ping: an ARP
# broadcast or unknown unicast crossing thousands of bridge ports overflows
# the CPU's backlog, net.core.netdev_max_backlog, and is lost at the last
# ports, in the floor as in netlab); chain: r1 -> r250 (or rN); after down,
# nothing left; with SCALE_RUNS >= 2 every later run is an immediate second
# `up`.
#
# Both topologies say `ipv6 off` (docs/topology.md): they need no IPv6, and
# the floor makes none, so both sides make the same kernel objects.  One
# more netlab run, `sos6` at the largest N, is the star of stars with
# IPv6 on, netlab's default, for what IPv6 costs there.
#
# Uses bench.sh's helpers: rec get med mx fmt fail say check_clean a30
# chain_target gen_chain, and NETLAB FLOOR TIMER W.

SCALE_LEAF=500

gen_sos() { # N [ipv6 on|off]
	local n=$1 k leaves a b
	leaves=$(((n + SCALE_LEAF - 1) / SCALE_LEAF))
	echo "lab sos$n ipv6 ${2:-off}"
	echo "switch core"
	echo "switch leaf[1..$leaves]"
	echo "node h[1..$n]"
	echo "    ip eth0 10.{i/65536}.{i/256%256}.{i%256}/8"
	for k in $(seq 1 "$leaves"); do
		a=$(((k - 1) * SCALE_LEAF + 1))
		b=$((k * SCALE_LEAF))
		[ "$b" -gt "$n" ] && b=$n
		echo "link h[$a..$b]:eth0 leaf$k"
	done
	echo "link leaf[1..$leaves] core"
}

mem_avail_kib() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }

# Busy share of the machine's CPUs over one second, in percent (/proc/stat:
# all but idle and iowait).
cpu_busy_pct() {
	local a b
	a=$(awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat)
	echo "$a $b" | awk '{dt = $3 - $1; di = $4 - $2; print (dt > 0 ? int(100 * (dt - di) / dt) : 0)}'
}

# The kernel frees a lab's namespaces after `down` returns (cleanup_net,
# in a workqueue, for tens of seconds after 10,000 nodes), and a run
# measured meanwhile shares the CPUs with it (a 1000-node chain took ×4).
# So before each run: wait until the CPUs are idle (under 10% busy) two
# seconds in a row and MemAvailable stops rising (at most 180 s).
# (Counting net_namespace objects in /proc/slabinfo does not work: the
# allocator keeps freed objects counted as active in its per-CPU slabs.)
settle_mem() {
	local prev cur quiet=0
	prev=$(mem_avail_kib)
	for _ in $(seq 180); do
		if [ "$(cpu_busy_pct)" -lt 10 ]; then quiet=$((quiet + 1)); else quiet=0; fi
		cur=$(mem_avail_kib)
		[ "$quiet" -ge 2 ] && [ $((cur - prev)) -lt 20480 ] && return
		prev=$cur
	done
	say "settle: the machine was not idle for 2 s within 180 s"
}

sos_verify() { # LAB N
	local lab=$1 n=$2 m1 mn an
	an="10.$((n / 65536)).$((n / 256 % 256)).$((n % 256))"
	m1=$(timeout 20 "$NETLAB" exec "$lab" h1 cat /sys/class/net/eth0/address) || fail "sos $n: h1's MAC"
	mn=$(timeout 20 "$NETLAB" exec "$lab" "h$n" cat /sys/class/net/eth0/address) || fail "sos $n: h$n's MAC"
	timeout 20 "$NETLAB" exec "$lab" h1 ip neigh replace "$an" dev eth0 lladdr "$mn" || fail "sos $n: neighbour in h1"
	timeout 20 "$NETLAB" exec "$lab" "h$n" ip neigh replace 10.0.0.1 dev eth0 lladdr "$m1" || fail "sos $n: neighbour in h$n"
	# Five tries, each after a priming ping the other way: with `ipv6 off`
	# no node has sent a frame before, so the switches have learnt no
	# address, and a frame flooded across thousands of ports may be lost
	# (its copies past the backlog), the one that would teach them too.
	for _ in 1 2 3 4 5; do
		timeout 20 "$NETLAB" exec "$lab" h1 ping -c 1 -W 1 "$an" >/dev/null 2>&1
		timeout 20 "$NETLAB" exec "$lab" "h$n" ping -c 1 -W 3 10.0.0.1 >/dev/null 2>&1 && return
	done
	fail "sos $n: ping h$n -> h1 failed (five tries)"
}

run_scale_netlab() { # TOPO N
	local topo=$1 n=$2 lab m0 m1 node
	lab=$topo$n
	node=$([ "$topo" = chain ] && echo r1 || echo h1)
	for r in $(seq "$SCALE_RUNS"); do
		settle_mem
		m0=$(mem_avail_kib)
		"$TIMER" "$W/t" 1800 "$NETLAB" up "$W/$lab.topo" --timing >"$W/up.out" 2>&1 ||
			fail "netlab up $lab (run $r): $(tail -3 "$W/up.out")"
		rec netlab "$topo" "$n" up_ms "$(cat "$W/t")"
		m1=$(mem_avail_kib)
		rec netlab "$topo" "$n" mem_node_kib "$(((m0 - m1) / n))"
		say "netlab $topo $n run $r: $(tail -1 "$W/up.out")"
		# The first exec right after up, while the kernel still settles
		# the new namespaces (its own column: the median below is of a
		# lab that has settled).
		"$TIMER" "$W/t" 30 "$NETLAB" exec "$lab" "$node" true >/dev/null 2>&1 || fail "netlab exec $lab $node"
		rec netlab "$topo" "$n" exec_first_ms "$(cat "$W/t")"
		if [ "$topo" != chain ]; then
			sos_verify "$lab" "$n"
		else
			local m
			m=$(chain_target "$n")
			timeout 30 "$NETLAB" exec "$lab" r1 ping -c 1 -t 255 -W 3 "$(a30 $((m - 1)) 2)" >/dev/null 2>&1 ||
				fail "netlab chain $n: ping r1 -> r$m failed"
		fi
		for _ in 1 2 3 4 5; do
			"$TIMER" "$W/t" 30 "$NETLAB" exec "$lab" "$node" true >/dev/null 2>&1 || fail "netlab exec $lab $node"
			rec netlab "$topo" "$n" exec_ms "$(cat "$W/t")"
			"$TIMER" "$W/t" 60 "$NETLAB" status "$lab" "$node" >/dev/null 2>&1 || fail "netlab status $lab $node"
			rec netlab "$topo" "$n" status1_ms "$(cat "$W/t")"
		done
		"$TIMER" "$W/t" 1800 "$NETLAB" down "$lab" >"$W/down.out" 2>&1 ||
			fail "netlab down $lab (run $r): $(tail -3 "$W/down.out")"
		rec netlab "$topo" "$n" down_ms "$(cat "$W/t")"
		check_clean "netlab $topo $n run $r"
	done
	say "netlab $topo $n: up $(get netlab "$topo" "$n" up_ms) down $(get netlab "$topo" "$n" down_ms) ms, $(med netlab "$topo" "$n" mem_node_kib) KiB/node"
}

run_scale_floor() { # TOPO N
	local topo=$1 n=$2 o mode
	mode=$([ "$topo" = sos ] && echo sos || echo chain)
	for r in $(seq "$SCALE_RUNS"); do
		settle_mem
		o=$(timeout 1800 "$FLOOR" full "$mode" "$n" --userns --verify 2>&1) || fail "bench-floor full $mode $n: $o"
		rec floor "$topo" "$n" up_ms "$(echo "$o" | sed -n 's/.* up_ms=\([0-9.]*\).*/\1/p')"
		rec floor "$topo" "$n" down_ms "$(echo "$o" | sed -n 's/.* down_ms=\([0-9.]*\).*/\1/p')"
		check_clean "bench-floor full $mode $n run $r"
	done
	say "floor $topo $n: up $(get floor "$topo" "$n" up_ms) down $(get floor "$topo" "$n" down_ms) ms"
}

run_scale() {
	local n
	say "scale: sizes $SCALE_SIZES, $SCALE_RUNS run(s) each"
	for n in $SCALE_SIZES; do
		gen_sos "$n" >"$W/sos$n.topo"
		gen_chain "$n" | sed '1s/$/ ipv6 off/' >"$W/chain$n.topo"
	done
	for n in $SCALE_SIZES; do
		run_scale_netlab sos "$n"
		run_scale_floor sos "$n"
	done
	for n in $SCALE_SIZES; do
		run_scale_netlab chain "$n"
		run_scale_floor chain "$n"
	done
	n=$(echo $SCALE_SIZES | tr ' ' '\n' | sort -n | tail -1)
	gen_sos "$n" on | sed "1s/sos$n/sos6$n/" >"$W/sos6$n.topo"
	run_scale_netlab sos6 "$n"
}

# Least-squares slope of log(up) over log(N): the exponent of up-time.
scale_exponent() { # TOOL TOPO
	local n
	for n in $SCALE_SIZES; do echo "$n $(med "$1" "$2" "$n" up_ms)"; done |
		awk '$2 != "" {x = log($1); y = log($2); sx += x; sy += y; sxx += x * x; sxy += x * y; k++}
		     END {if (k < 2) print "n/a"; else printf "%.2f", (k * sxy - sx * sy) / (k * sxx - sx * sx)}'
}

scale_table() {
	local topo n lo hi
	echo "| topology | N | netlab up ms | floor up ms | netlab ÷ floor | netlab down ms | floor down ms | memory/node KiB | exec ms (median, max) | first exec after up ms | status LAB NODE ms |"
	echo "|---|---:|---|---|---:|---|---|---:|---:|---:|---:|"
	for topo in sos chain; do
		for n in $SCALE_SIZES; do
			echo "| $([ $topo = sos ] && echo "star of stars" || echo chain) (ipv6 off) | $n | $(fmt netlab $topo $n up_ms) | $(fmt floor $topo $n up_ms) | ×$(ratio "$(med netlab $topo $n up_ms)" "$(med floor $topo $n up_ms)") | $(fmt netlab $topo $n down_ms) | $(fmt floor $topo $n down_ms) | $(med netlab $topo $n mem_node_kib) | $(med netlab $topo $n exec_ms), $(mx netlab $topo $n exec_ms) | $(med netlab $topo $n exec_first_ms) | $(med netlab $topo $n status1_ms) |"
		done
	done
	lo=$(echo $SCALE_SIZES | tr ' ' '\n' | sort -n | head -1)
	hi=$(echo $SCALE_SIZES | tr ' ' '\n' | sort -n | tail -1)
	echo "| star of stars, IPv6 on (netlab's default) | $hi | $(fmt netlab sos6 $hi up_ms) | | | $(fmt netlab sos6 $hi down_ms) | | $(med netlab sos6 $hi mem_node_kib) | $(med netlab sos6 $hi exec_ms), $(mx netlab sos6 $hi exec_ms) | $(med netlab sos6 $hi exec_first_ms) | $(med netlab sos6 $hi status1_ms) |"
	echo
	echo "| exponent of up-time over N (fit over $SCALE_SIZES) | netlab | floor | up($hi) ÷ up($lo), netlab |"
	echo "|---|---:|---:|---:|"
	for topo in sos chain; do
		echo "| $([ $topo = sos ] && echo "star of stars" || echo chain) | $(scale_exponent netlab $topo) | $(scale_exponent floor $topo) | ×$(ratio "$(med netlab $topo $hi up_ms)" "$(med netlab $topo $lo up_ms)") |"
	done
}

scale_plot() { # PNG
	local topo n
	for topo in sos chain; do
		for n in $SCALE_SIZES; do
			echo "$n $(med netlab $topo $n up_ms) $(med floor $topo $n up_ms)"
		done >"$W/scale-$topo.dat"
	done
	timeout 60 gnuplot <<EOF || fail "gnuplot (scale)"
set terminal pngcairo size 900,500
set output '$1'
set title 'netlab up vs the kernel floor, by N (log-log)'
set xlabel 'nodes'
set ylabel 'up, ms'
set logscale xy
set key left top
set grid
plot '$W/scale-sos.dat' using 1:2 with linespoints title 'netlab star of stars', \
     '$W/scale-sos.dat' using 1:3 with linespoints title 'floor star of stars', \
     '$W/scale-chain.dat' using 1:2 with linespoints title 'netlab chain', \
     '$W/scale-chain.dat' using 1:3 with linespoints title 'floor chain'
EOF
}
