#!/usr/bin/env bash
# make bench: netlab's speed against what users would pick instead, in one run.
#
# Runs inside its own sandbox (new net, mount and PID namespace, tmpfs on
# /run/netlab and /run/netns), so nothing touches the real machine and
# everything any tool started dies with the sandbox.  Needs root.
#
# Environment:
#   BENCH_RUNS=5          runs per measurement (median, min-max)
#   BENCH_SIZES="10 100 1000"      node counts for star and chain
#   BENCH_MN_SIZES="10 100 200"    node counts for Mininet (star; the target is at 200)
#   BENCH_EXEC=20         exec latency samples
#   BENCH_ALT_LARGE_RUNS=1  runs of the ip script and ip -batch at N >= 500
#                         (one ip-script run of 1000 nodes takes minutes)
#   BENCH_QUICK=1         smoke run: sizes 10 and 30, 2 runs, 5 exec samples,
#                         output to a temporary directory instead of docs/
#   BENCH_OUT=DIR         where performance.md/.png go (default docs/)
#   BENCH_IMPAIR_LINKS=100  links of the impairment-cost star (issue 14)
#   BENCH_ONLY=impair     only the impairment cost: print its table, write
#                         no report, install nothing (a minute, not twenty)
#   BENCH_MH_N=1000       nodes of the star spread over three machines
#                         (issue 18; bench/multihost.sh; 30 with BENCH_QUICK)
#   BENCH_ONLY=multihost  only that: print its table, write no report
#                         (QUICK=1 for a smoke run of it)
#   BENCH_SCALE_SIZES="1000 3000 10000"  N of the scale section (issue 17:
#                         star of stars and chain, netlab and the floor;
#                         bench/scale.sh; "300 1000" with BENCH_QUICK)
#   BENCH_SCALE_RUNS=2    runs of each (the second an immediate second up)
#   BENCH_ONLY=scale      only that: print its table, write no report
#   BENCH_RL_N=200        nodes of the star built by root and by a user
#                         (rootless, issue 15; 30 with BENCH_QUICK)
#   BENCH_ONLY=rootless   only that: print its table, write no report
#
# Every run first checks the lab works (ping across it) and, after the
# teardown, that nothing is left; a failed check stops the benchmark with
# a message and exit status 1, and no report is written.
set -uo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
NETLAB=$REPO/netlab
FLOOR=$REPO/build/bench-floor
TIMER=$REPO/build/bench-time

say() { echo "bench: $*" >&2; }
fail() {
	echo "bench: FAILED: $*" >&2
	exit 1
}

# ---- outside the sandbox: checks, packages, re-exec ----------------------
if [ "${BENCH_INSIDE:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || fail "needs root (namespaces, veths, bridges, Mininet)"
	[ -x "$NETLAB" ] || fail "$NETLAB missing: run 'make bench', not this script alone"
	[ -x "$FLOOR" ] || fail "$FLOOR missing: run 'make bench' (it builds build/bench-floor)"
	[ -x "$TIMER" ] || fail "$TIMER missing: run 'make bench' (it builds build/bench-time)"
	missing=()
	case ${BENCH_ONLY:-} in
	impair | multihost | scale | rootless) pkgs="iputils-ping" ;;
	*) pkgs="mininet bridge-utils gnuplot-nox iputils-ping time" ;;
	esac
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		timeout 600 apt-get update -q >/dev/null || fail "apt-get update"
		DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -q "${missing[@]}" >/dev/null ||
			fail "apt-get install ${missing[*]}"
	fi
	export BENCH_INSIDE=1 BENCH_CMD="${BENCH_CMD:-make bench}"
	export BENCH_HOST_NPROC=$(nproc) BENCH_HOST_KERNEL=$(uname -r)
	exec unshare --net --mount --pid --fork --mount-proc -- bash "$0" "$@"
fi

# ---- inside the sandbox ----------------------------------------------------
RUNS=${BENCH_RUNS:-5}
SIZES=${BENCH_SIZES:-10 100 1000}
MN_SIZES=${BENCH_MN_SIZES:-10 100 200}
NEXEC=${BENCH_EXEC:-20}
ALT_LARGE_RUNS=${BENCH_ALT_LARGE_RUNS:-1}
OUT=${BENCH_OUT:-$REPO/docs}
MH_N=${BENCH_MH_N:-1000}
SCALE_SIZES=${BENCH_SCALE_SIZES:-1000 3000 10000}
SCALE_RUNS=${BENCH_SCALE_RUNS:-2}
RL_N=${BENCH_RL_N:-200}
[ "${QUICK:-}" = 1 ] && BENCH_QUICK=1
if [ "${BENCH_QUICK:-}" = 1 ]; then
	MH_N=${BENCH_MH_N:-30}
	SCALE_SIZES=${BENCH_SCALE_SIZES:-300 1000}
	SCALE_RUNS=${BENCH_SCALE_RUNS:-1}
	RL_N=${BENCH_RL_N:-30}
	RUNS=${BENCH_RUNS:-2}
	SIZES=${BENCH_SIZES:-10 30}
	MN_SIZES=${BENCH_MN_SIZES:-10}
	NEXEC=${BENCH_EXEC:-5}
	OUT=${BENCH_OUT:-$(mktemp -d /tmp/netlab-bench-out.XXXXXX)}
fi
# Star sizes include Mininet's, so that every Mininet figure has a netlab twin.
STAR_SIZES=$(printf '%s\n' $SIZES $MN_SIZES | sort -nu | tr '\n' ' ')
CHAIN_SIZES=$(printf '%s\n' $SIZES | sort -nu | tr '\n' ' ')

W=$(mktemp -d /tmp/netlab-bench.XXXXXX)
chmod 755 "$W"
RES=$W/results # lines: TOOL TOPO N METRIC VALUE
: >"$RES"
mount -t tmpfs -o mode=755 netlab-bench /run/netlab 2>/dev/null || { mkdir -p /run/netlab && mount -t tmpfs -o mode=755 netlab-bench /run/netlab; } || fail "tmpfs on /run/netlab"
mkdir -p /run/netns && mount -t tmpfs -o mode=755 netns-bench /run/netns || fail "tmpfs on /run/netns"
ip link set lo up
trap 'timeout 60 "$NETLAB" down --all >/dev/null 2>&1; umount "$W/rl-xdg" 2>/dev/null; rm -rf "$W"' EXIT
TCK=$(getconf CLK_TCK)

now_us() { echo "${EPOCHREALTIME/./}"; }
ms_since() { echo "$(($(now_us) - $1))" | awk '{printf "%.1f", $1 / 1000}'; }
rec() { echo "$1 $2 $3 $4 $5" >>"$RES"; }
# median min max of the values on stdin
stats() { sort -g | awk '{a[NR] = $1} END {if (!NR) exit 1; m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%s %s %s\n", m, a[1], a[NR]}'; }
get() { awk -v t="$1" -v p="$2" -v n="$3" -v m="$4" '$1 == t && $2 == p && $3 == n && $4 == m {print $5}' "$RES" | stats; }
med() { get "$@" | awk '{print $1}'; }
mx() { get "$@" | awk '{print $3}'; }

snapshot() {
	{
		ip -o link show | sed 's/^[0-9]*: //; s/ link\/.*//; s/<.*//'
		ip -o addr show | awk '{print $2, $4}'
		ip netns list
		ls -A /run/netlab
	} | sort
}
BASE=$(snapshot)

# After any teardown: nothing may be left.
check_clean() {
	local what=$1 left
	left=$(pgrep -x netlab-init | head -5 | tr '\n' ' ')
	[ -z "$left" ] || fail "$what: netlab-init processes left: $left"
	[ -z "$(ls -A /run/netlab)" ] || fail "$what: /run/netlab not empty: $(ls -A /run/netlab | head -5 | tr '\n' ' ')"
	[ "$(snapshot)" = "$BASE" ] || fail "$what: the sandbox changed: $(diff <(echo "$BASE") <(snapshot) | head -5 | tr '\n' ' ')"
}

# Chain addressing (as bench/floor.c): link k joins rk:eth1 (.1) and rk+1:eth0 (.2),
# subnet 10.(k/16384).(k/64%256).(k%64*4)/30.
a30() { echo "10.$(($1 / 16384)).$(($1 / 64 % 256)).$(($1 % 64 * 4 + $2))"; }
# IPv4 TTL cannot exceed 255: r1 can reach at most ~254 routers away.
CHAIN_PING_MAX=250
chain_target() { local n=$1 m=$1; [ $n -le $CHAIN_PING_MAX ] || m=$CHAIN_PING_MAX; echo $m; }

gen_star() { # N
	cat <<EOF
lab star$1
switch lan
node h[1..$1]
    ip eth0 10.{i/65536}.{i/256%256}.{i%256}/8
link h[1..$1]:eth0 lan
EOF
}
gen_chain() { # N (>= 4)
	local n=$1 ttl='    sysctl net.ipv4.ip_default_ttl=255'
	cat <<EOF
lab chain$n
node r1
    forward
$ttl
    ip eth1 $(a30 1 1)/30
    route default via $(a30 1 2)
node r2
    forward
$ttl
    ip eth0 $(a30 1 2)/30
    ip eth1 $(a30 2 1)/30
    route default via $(a30 2 2)
node r[3..$((n - 1))]
    forward
$ttl
    ip eth0 10.{(i-1)/16384}.{(i-1)/64%256}.{(i-1)%64*4+2}/30
    ip eth1 10.{i/16384}.{i/64%256}.{i%64*4+1}/30
    route default via 10.{i/16384}.{i/64%256}.{i%64*4+2}
    route $(a30 1 0)/30 via 10.{(i-1)/16384}.{(i-1)/64%256}.{(i-1)%64*4+1}
node r$n
    forward
$ttl
    ip eth0 $(a30 $((n - 1)) 2)/30
    route $(a30 1 0)/30 via $(a30 $((n - 1)) 1)
link r[1..$((n - 1))]:eth1 r{i+1}:eth0
EOF
}

# ---- netlab ------------------------------------------------------------------
# Memory and CPU of netlab's own processes: the supervisor and every init
# (not the commands the nodes run).
netlab_procs() { # LAB
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor"]["pid"])' "/run/netlab/$1/state.json" 2>/dev/null
	pgrep -x netlab-init
}
measure_procs() { # TOOL TOPO N LAB cli_cpu_ms
	local pids sup
	pids=$(netlab_procs "$4")
	sup=$(echo "$pids" | head -1)
	[ -n "$sup" ] && [ -d /proc/$sup ] || fail "$2 $3: no supervisor found for lab $4"
	local mem cpu hwm
	mem=$(for p in $pids; do cat /proc/$p/smaps_rollup 2>/dev/null; done |
		awk '/^Rss:/ {r += $2} /^Pss:/ {p += $2} END {print r, p}')
	cpu=$(for p in $pids; do cat /proc/$p/stat 2>/dev/null; done |
		awk -v tck="$TCK" '{s += $14 + $15 + $16 + $17} END {printf "%.0f", s * 1000 / tck}')
	hwm=$(awk '/^VmHWM:/ {print $2}' /proc/$sup/status)
	local supr
	supr=$(awk '/^Rss:/ {print $2}' /proc/$sup/smaps_rollup)
	rec "$1" "$2" "$3" rss_total_kib "${mem% *}"
	rec "$1" "$2" "$3" pss_total_kib "${mem#* }"
	rec "$1" "$2" "$3" pss_per_node_kib "$(awk -v p="${mem#* }" -v n="$3" 'BEGIN {printf "%.1f", p / n}')"
	rec "$1" "$2" "$3" sup_rss_kib "$supr"
	rec "$1" "$2" "$3" sup_hwm_kib "$hwm"
	rec "$1" "$2" "$3" cpu_procs_ms "$cpu"
	rec "$1" "$2" "$3" cpu_cli_ms "$5"
	rec "$1" "$2" "$3" cpu_total_ms "$((cpu + $5))"
}
# children's user+sys of this shell, in ms (from the `times` builtin)
child_cpu_ms() { times | tail -1 | awk '{split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.0f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000}'; }

verify_netlab() { # LAB TOPO N
	local lab=$1 n=$3
	case $2 in
	star) timeout 20 "$NETLAB" exec "$lab" "h$n" ping -c 1 -W 3 10.0.0.1 >/dev/null 2>&1 ||
		fail "netlab $lab: ping h$n -> h1 (10.0.0.1) failed" ;;
	chain)
		local m
		m=$(chain_target "$n")
		timeout 20 "$NETLAB" exec "$lab" r1 ping -c 1 -t 255 -W 3 "$(a30 $((m - 1)) 2)" >/dev/null 2>&1 ||
			fail "netlab $lab: ping r1 -> r$m ($(a30 $((m - 1)) 2)) failed"
		if [ "$m" != "$n" ]; then
			timeout 20 "$NETLAB" exec "$lab" "r$((n - 1))" ping -c 1 -W 3 "$(a30 $((n - 1)) 2)" >/dev/null 2>&1 ||
				fail "netlab $lab: ping r$((n - 1)) -> r$n failed"
		fi
		;;
	web) timeout 20 "$NETLAB" exec "$lab" web2 ping -c 1 -W 3 192.168.0.1 >/dev/null 2>&1 ||
		fail "netlab $lab: ping web2 -> web1 failed" ;;
	esac
}

exec_latency() { # TOOL TOPO N CMD...
	local t tool=$1 topo=$2 n=$3
	shift 3
	for _ in $(seq "$NEXEC"); do
		"$TIMER" "$W/t" 20 "$@" >/dev/null 2>&1 || fail "$tool exec: $* failed"
		rec "$tool" "$topo" "$n" exec_ms "$(cat "$W/t")"
	done
}

run_netlab() { # TOPO N FILE LAB
	local topo=$1 n=$2 file=$3 lab=$4 t c0 up down
	for r in $(seq "$RUNS"); do
		c0=$(child_cpu_ms)
		"$TIMER" "$W/t" 600 "$NETLAB" up "$file" --timing >"$W/up.out" 2>&1 || fail "netlab up $file (run $r): $(tail -3 "$W/up.out")"
		up=$(cat "$W/t")
		measure_procs netlab "$topo" "$n" "$lab" "$(($(child_cpu_ms) - c0))"
		grep '^phases' "$W/up.out" | sed "s/^/  netlab $topo $n: /" >&2
		verify_netlab "$lab" "$topo" "$n"
		[ "$r" = 1 ] && [ "$topo" != web ] && exec_latency netlab "$topo" "$n" "$NETLAB" exec "$lab" "$([ $topo = star ] && echo h1 || echo r1)" true
		"$TIMER" "$W/t" 300 "$NETLAB" down "$lab" >"$W/down.out" 2>&1 || fail "netlab down $lab (run $r): $(tail -3 "$W/down.out")"
		down=$(cat "$W/t")
		check_clean "netlab $topo $n run $r"
		rec netlab "$topo" "$n" up_ms "$up"
		rec netlab "$topo" "$n" down_ms "$down"
		rec netlab "$topo" "$n" updown_ms "$(awk -v a="$up" -v b="$down" 'BEGIN {print a + b}')"
	done
	say "netlab $topo $n: up $(get netlab "$topo" "$n" up_ms) down $(get netlab "$topo" "$n" down_ms) ms (median min max)"
}

# The impairment, multihost and rootless sections.
. "$REPO/bench/sections.sh"

# ---- alternatives ------------------------------------------------------------
# (1) one `ip` command per step, as the namespace tutorials do.
gen_ipscript() { # TOPO N -> up script and down script
	local topo=$1 n=$2
	if [ "$topo" = star ]; then
		{
			echo "set -e"
			echo "ip link add br0 type bridge"
			echo "ip link set br0 up"
			for i in $(seq "$n"); do
				echo "ip netns add h$i"
				echo "ip link add v$i type veth peer name eth0 netns h$i"
				echo "ip link set v$i master br0"
				echo "ip link set v$i up"
				echo "ip -n h$i link set lo up"
				echo "ip -n h$i link set eth0 up"
				echo "ip -n h$i addr add 10.$((i / 65536)).$((i / 256 % 256)).$((i % 256))/8 dev eth0"
			done
		} >"$W/ipscript-up.sh"
		{
			echo "set -e"
			for i in $(seq "$n"); do echo "ip link del v$i"; echo "ip netns del h$i"; done
			echo "ip link del br0"
		} >"$W/ipscript-down.sh"
	else
		{
			echo "set -e"
			for i in $(seq "$n"); do
				echo "ip netns add r$i"
				echo "ip netns exec r$i sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.ip_default_ttl=255"
				echo "ip -n r$i link set lo up"
			done
			for k in $(seq $((n - 1))); do
				echo "ip link add eth1 netns r$k type veth peer name eth0 netns r$((k + 1))"
				echo "ip -n r$k link set eth1 up"
				echo "ip -n r$((k + 1)) link set eth0 up"
				echo "ip -n r$k addr add $(a30 $k 1)/30 dev eth1"
				echo "ip -n r$((k + 1)) addr add $(a30 $k 2)/30 dev eth0"
			done
			for k in $(seq $((n - 1))); do echo "ip -n r$k route add default via $(a30 $k 2)"; done
			for k in $(seq 3 "$n"); do echo "ip -n r$k route add $(a30 1 0)/30 via $(a30 $((k - 1)) 1)"; done
		} >"$W/ipscript-up.sh"
		{
			echo "set -e"
			for k in $(seq $((n - 1))); do echo "ip -n r$k link del eth1"; done
			for i in $(seq "$n"); do echo "ip netns del r$i"; done
		} >"$W/ipscript-down.sh"
	fi
}

# (2) ip -batch: iproute2 6.1's batch mode takes no global options per line
# ("-n NS link ..." -> 'Object "-n" is unknown'), so: one batch in the
# sandbox netns (netns add, link add with the peer straight in its netns,
# master, up), then one `ip -n NS -batch` per node namespace (addresses,
# routes, link up), and the chain's sysctls with one `ip -all netns exec`.
gen_ipbatch() { # TOPO N
	local topo=$1 n=$2
	rm -rf "$W/b"
	mkdir -p "$W/b"
	if [ "$topo" = star ]; then
		{
			echo "link add br0 type bridge"
			echo "link set br0 up"
			for i in $(seq "$n"); do
				echo "netns add h$i"
				echo "link add v$i type veth peer name eth0 netns h$i"
				echo "link set v$i master br0 up"
			done
		} >"$W/b/main"
		for i in $(seq "$n"); do
			printf 'link set lo up\nlink set eth0 up\naddr add 10.%d.%d.%d/8 dev eth0\n' \
				$((i / 65536)) $((i / 256 % 256)) $((i % 256)) >"$W/b/h$i"
		done
		{
			for i in $(seq "$n"); do echo "link del v$i"; done
			echo "link del br0"
			for i in $(seq "$n"); do echo "netns del h$i"; done
		} >"$W/b/down"
	else
		{
			for i in $(seq "$n"); do echo "netns add r$i"; done
			for k in $(seq $((n - 1))); do echo "link add eth1 netns r$k type veth peer name eth0 netns r$((k + 1))"; done
		} >"$W/b/main"
		for k in $(seq "$n"); do
			{
				echo "link set lo up"
				if [ $k -gt 1 ]; then echo "link set eth0 up"; echo "addr add $(a30 $((k - 1)) 2)/30 dev eth0"; fi
				if [ $k -lt $n ]; then echo "link set eth1 up"; echo "addr add $(a30 $k 1)/30 dev eth1"; echo "route add default via $(a30 $k 2)"; fi
				if [ $k -gt 2 ]; then echo "route add $(a30 1 0)/30 via $(a30 $((k - 1)) 1)"; fi
			} >"$W/b/r$k"
		done
		for i in $(seq "$n"); do echo "netns del r$i"; done >"$W/b/down"
	fi
}
ipbatch_up() { # TOPO N
	local p=$([ "$1" = star ] && echo h || echo r)
	ip -batch "$W/b/main" || return 1
	if [ "$1" = chain ]; then
		ip -all netns exec sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.ip_default_ttl=255 >/dev/null || return 1
	fi
	for i in $(seq "$2"); do ip -n "$p$i" -batch "$W/b/$p$i" || return 1; done
}

verify_ns() { # TOOL TOPO N  (namespaces named hI / rI)
	local n=$3
	if [ "$2" = star ]; then
		timeout 20 ip netns exec "h$n" ping -c 1 -W 3 10.0.0.1 >/dev/null 2>&1 || fail "$1 star $n: ping h$n -> h1 failed"
	else
		local m
		m=$(chain_target "$n")
		timeout 20 ip netns exec r1 ping -c 1 -t 255 -W 3 "$(a30 $((m - 1)) 2)" >/dev/null 2>&1 ||
			fail "$1 chain $n: ping r1 -> r$m failed"
	fi
}

run_ip() { # TOOL(ipscript|ipbatch) TOPO N
	local tool=$1 topo=$2 n=$3 t up down runs=$RUNS
	[ "$n" -ge 500 ] && runs=$ALT_LARGE_RUNS
	if [ "$tool" = ipscript ]; then gen_ipscript "$topo" "$n"; else gen_ipbatch "$topo" "$n"; fi
	for r in $(seq "$runs"); do
		t=$(now_us)
		if [ "$tool" = ipscript ]; then
			timeout 900 bash "$W/ipscript-up.sh" >"$W/ip.out" 2>&1 || fail "$tool $topo $n up: $(tail -3 "$W/ip.out")"
		else
			export -f ipbatch_up
			W=$W timeout 900 bash -c "ipbatch_up $topo $n" >"$W/ip.out" 2>&1 || fail "$tool $topo $n up: $(tail -3 "$W/ip.out")"
		fi
		up=$(ms_since "$t")
		verify_ns "$tool" "$topo" "$n"
		t=$(now_us)
		if [ "$tool" = ipscript ]; then
			timeout 900 bash "$W/ipscript-down.sh" >"$W/ip.out" 2>&1 || fail "$tool $topo $n down: $(tail -3 "$W/ip.out")"
		else
			timeout 900 ip -batch "$W/b/down" >"$W/ip.out" 2>&1 || fail "$tool $topo $n down: $(tail -3 "$W/ip.out")"
		fi
		down=$(ms_since "$t")
		check_clean "$tool $topo $n run $r"
		rec "$tool" "$topo" "$n" up_ms "$up"
		rec "$tool" "$topo" "$n" down_ms "$down"
		rec "$tool" "$topo" "$n" updown_ms "$(awk -v a="$up" -v b="$down" 'BEGIN {print a + b}')"
	done
	say "$tool $topo $n: up $(get "$tool" "$topo" "$n" up_ms) down $(get "$tool" "$topo" "$n" down_ms) ms"
}

# (3) Mininet: build the network and stop it; one figure (Mininet's `build`
# test has no separate teardown timing).  Its check: exit 0, every host
# announced, "*** Done", and the sandbox unchanged afterwards.
run_mininet() { # N
	local n=$1 t
	for r in $(seq "$RUNS"); do
		t=$(now_us)
		(cd "$W" && timeout 1800 mn --switch lxbr --controller none --topo "single,$n" --test build) >"$W/mn.out" 2>&1 ||
			fail "mininet $n (run $r): $(tail -3 "$W/mn.out")"
		rec mininet star "$n" updown_ms "$(ms_since "$t")"
		grep -qw "h$n" "$W/mn.out" && grep -q '^\*\*\* Done' "$W/mn.out" || fail "mininet $n: h$n or '*** Done' missing in its output"
		check_clean "mininet $n run $r"
	done
	say "mininet star $n: build+stop $(get mininet star "$n" updown_ms) ms"
}

# (4) the kernel floor (bench/floor.c) and the bare cost of isolated processes.
run_floor() { # MODE TOPO N [--userns]
	local mode=$1 topo=$2 n=$3 tool o
	shift 3
	tool=floor-$mode${1:+-userns}
	for r in $(seq "$RUNS"); do
		if [ "$mode" = procs ]; then
			o=$(timeout 600 "$FLOOR" procs "$n" "$@" 2>&1) || fail "bench-floor procs $n $*: $o"
		else
			o=$(timeout 600 "$FLOOR" "$mode" "$topo" "$n" "$@" --verify 2>&1) || fail "bench-floor $mode $topo $n $*: $o"
		fi
		rec "$tool" "$topo" "$n" up_ms "$(echo "$o" | sed -n 's/.* up_ms=\([0-9.]*\).*/\1/p')"
		rec "$tool" "$topo" "$n" down_ms "$(echo "$o" | sed -n 's/.* down_ms=\([0-9.]*\).*/\1/p')"
		check_clean "bench-floor $mode $topo $n run $r"
	done
	say "$tool $topo $n: up $(get "$tool" "$topo" "$n" up_ms) down $(get "$tool" "$topo" "$n" down_ms) ms"
}

# ---- the run -------------------------------------------------------------------
START=$(date -u '+%Y-%m-%d %H:%M UTC')
T_ALL=$(now_us)
fmt() { get "$@" | awk '{printf "%s (%s–%s)", $1, $2, $3}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b}'; }
if [ "${BENCH_ONLY:-}" = impair ]; then
	say "impairment cost only: runs $RUNS, $IMPAIR_N links"
	run_impair
	impair_table
	exit 0
fi
. "$REPO/bench/scale.sh"
if [ "${BENCH_ONLY:-}" = scale ]; then
	run_scale
	scale_table
	exit 0
fi
if [ "${BENCH_ONLY:-}" = rootless ]; then
	say "rootless labs only: runs $RUNS (alternating root and user), star of $RL_N"
	run_rootless
	rootless_table
	exit 0
fi
if [ "${BENCH_ONLY:-}" = multihost ]; then
	say "a lab across machines only: runs $RUNS (alternating), $MH_N hosts"
	run_multihost
	multihost_table
	exit 0
fi
say "runs $RUNS; star sizes: $STAR_SIZES; chain sizes: $CHAIN_SIZES; Mininet: $MN_SIZES; work dir $W"
for n in $STAR_SIZES; do gen_star "$n" >"$W/star$n.topo"; done
for n in $CHAIN_SIZES; do gen_chain "$n" >"$W/chain$n.topo"; done
# (the end routers forward with one interface, which `check` warns about)
for f in "$W"/*.topo; do timeout 60 "$NETLAB" check "$f" >"$W/check.out" 2>&1 || fail "netlab check $f: $(cat "$W/check.out")"; done

# exec latency of `ip netns exec` in a sandbox-local namespace
ip netns add benchns || fail "ip netns add benchns"
exec_latency ipnetns star 0 ip netns exec benchns true
ip netns del benchns
check_clean "ip netns exec"

run_netlab web 2 "$REPO/topologies/two-webservers.topo" two-webservers
for n in $STAR_SIZES; do
	run_netlab star "$n" "$W/star$n.topo" "star$n"
	run_floor net star "$n"
	run_floor full star "$n" --userns
	run_floor procs star "$n"
	run_floor procs star "$n" --userns
	run_ip ipscript star "$n"
	run_ip ipbatch star "$n"
done
for n in $CHAIN_SIZES; do
	run_netlab chain "$n" "$W/chain$n.topo" "chain$n"
	run_floor net chain "$n"
	run_floor full chain "$n" --userns
	run_ip ipscript chain "$n"
	run_ip ipbatch chain "$n"
done
for n in $MN_SIZES; do run_mininet "$n"; done
run_impair
run_multihost
run_rootless
run_scale
TOTAL_S=$(awk -v t="$(ms_since "$T_ALL")" 'BEGIN {printf "%.0f", t / 1000}')

# ---- report ----------------------------------------------------------------------
sum() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "") print ""; else print a + b}'; }
verdict() { awk -v c="$1" 'BEGIN {print (c == "" ? "n/a" : (c ? "PASS" : "MISS"))}'; }
cmp_le() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "") print ""; else print (a <= b) ? 1 : 0}'; }

mkdir -p "$OUT"
MD=$OUT/performance.md
{
	echo "# Performance"
	echo
	echo "Written by \`scripts/bench.sh\` (\`$BENCH_CMD\`); do not edit by hand. Re-run to refresh."
	echo
	echo "- date: $START; whole run ${TOTAL_S} s"
	echo "- machine: $BENCH_HOST_NPROC CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $BENCH_HOST_KERNEL"
	echo "- tools: netlab $(git -C "$REPO" describe --always --dirty 2>/dev/null), $(ip -V | head -1), Mininet $(mn --version 2>/dev/null)"
	echo "- runs per figure: $RUNS (the ip script and ip -batch at N ≥ 500: $ALT_LARGE_RUNS, one such run takes minutes); figures are median (min–max) in ms; exec latency: median of $NEXEC"
	echo
	echo "## netlab"
	echo
	echo "| lab | N | up ms | down ms | up+down ms | CPU ms (user+sys) | PSS/node KiB | RSS all KiB | supervisor peak RSS KiB | exec ms |"
	echo "|---|---:|---|---|---|---:|---:|---:|---:|---:|"
	rows() { echo "web 2"; for n in $STAR_SIZES; do echo "star $n"; done; for n in $CHAIN_SIZES; do echo "chain $n"; done; }
	rows | while read -r topo n; do
		echo "| $([ $topo = web ] && echo two-webservers || echo $topo) | $n | $(fmt netlab $topo $n up_ms) | $(fmt netlab $topo $n down_ms) | $(fmt netlab $topo $n updown_ms) | $(med netlab $topo $n cpu_total_ms) | $(med netlab $topo $n pss_per_node_kib) | $(med netlab $topo $n rss_total_kib) | $(med netlab $topo $n sup_hwm_kib) | $(med netlab $topo $n exec_ms) |"
	done
	echo
	echo "CPU: utime+stime (and reaped children's) of the supervisor and every netlab-init from /proc/PID/stat"
	echo "right after \`up\`, plus the \`netlab up\` command's own (bash \`times\`). PSS/node: total PSS"
	echo "(/proc/PID/smaps_rollup) of the supervisor and all inits, divided by N. RSS all: their RSS added"
	echo "up (shared library and copy-on-write pages counted once per process). Supervisor peak RSS:"
	echo "its VmHWM (/proc/PID/status) after \`up\`, the high-water mark of the process that holds the lab."
	echo "\`ip netns exec benchns true\`: $(fmt ipnetns star 0 exec_ms) ms."
	echo
	echo "## Alternatives, same run"
	echo
	echo "| topology | N | netlab up | ip script up | ip -batch up | floor up | floor+processes up | processes alone up | Mininet build+stop |"
	echo "|---|---:|---|---|---|---|---|---|---|"
	for topo in star chain; do
		sizes=$([ $topo = star ] && echo "$STAR_SIZES" || echo "$CHAIN_SIZES")
		for n in $sizes; do
			echo "| $topo | $n | $(fmt netlab $topo $n up_ms) | $(fmt ipscript $topo $n up_ms) | $(fmt ipbatch $topo $n up_ms) | $(fmt floor-net $topo $n up_ms) | $(fmt floor-full-userns $topo $n up_ms) | $(fmt floor-procs-userns star $n up_ms) | $(fmt mininet $topo $n updown_ms) |"
		done
	done
	echo
	echo "| topology | N | netlab down | ip script down | ip -batch down | floor down | floor+processes down |"
	echo "|---|---:|---|---|---|---|---|"
	for topo in star chain; do
		sizes=$([ $topo = star ] && echo "$STAR_SIZES" || echo "$CHAIN_SIZES")
		for n in $sizes; do
			echo "| $topo | $n | $(fmt netlab $topo $n down_ms) | $(fmt ipscript $topo $n down_ms) | $(fmt ipbatch $topo $n down_ms) | $(fmt floor-net $topo $n down_ms) | $(fmt floor-full-userns $topo $n down_ms) |"
		done
	done
	echo
	echo "Bare isolated processes (\`bench-floor procs\`), clone3 up / reap down:"
	echo
	echo "| N | without user ns | with user ns |"
	echo "|---:|---|---|"
	for n in $STAR_SIZES; do
		echo "| $n | $(fmt floor-procs star $n up_ms) / $(fmt floor-procs star $n down_ms) | $(fmt floor-procs-userns star $n up_ms) / $(fmt floor-procs-userns star $n down_ms) |"
	done
	echo
	echo "## What an impairment costs (issue 14)"
	echo
	impair_table
	echo
	echo "The same star as above, every link with the options shown on both ends' egress (the node's"
	echo "interface and the switch port): \`up\` queues the qdiscs and filters in the batch of each end's"
	echo "namespace, and loads the loss program once. Checked every run: a ping across (three tries:"
	echo "1% loss on four egresses), and tbf on h1:eth0."
	echo
	echo "## Rootless labs (issue 15)"
	echo
	rootless_table
	echo
	echo "The same labs by root and by uid 65534 without subordinate IDs (docs/rootless.md), runs"
	echo "alternating, each through \`env -i\` (the user's also through setpriv). The user's \`up\` runs"
	echo "netlab again in the lab's user namespace; its nodes' roots are built per top-level directory."
	echo "Checked every run: a ping across, and after \`down\` nothing left."
	echo
	echo "## A lab across machines (issue 18)"
	echo
	multihost_table
	echo
	echo "The same star three ways, runs alternating: built by netlab here; by netlab on one \"machine\""
	echo "reached with ssh (\`up --machines m1=...\`); and spread over three, its switch a bridge on each"
	echo "joined by VXLAN (bench/multihost.sh). The machines are sandboxes on this same box, each with its"
	echo "own network, mount and PID namespaces and sshd, on an underlay bridge (tests/e2e/machines.sh),"
	echo "so they share its CPUs: the ratios are the overhead of spreading a lab (ssh, the exchange, three"
	echo "supervisors, the tunnels), not a speed-up. Checked every run: a ping from h1 to h$MH_N (over"
	echo "three machines: across two of them), and after \`down\` every machine as before."
	echo
	echo "## Scale: up to $(echo $SCALE_SIZES | tr ' ' '\n' | sort -n | tail -1) nodes (issue 17)"
	echo
	scale_table
	echo
	echo "![netlab and the floor by N](performance-scale.png)"
	echo
	echo "Star of stars: a core switch and a leaf switch per $SCALE_LEAF hosts (bench/scale.sh); chain: as"
	echo "below. Floor: \`bench-floor full sos|chain N --userns\` at the same N, its nodes bare processes in"
	echo "the same namespaces (user namespaces without maps), without IPv6, holding no descriptor per"
	echo "node. Memory/node: MemAvailable before \`up\` minus MemAvailable while up, over N: every"
	echo "process, page table, namespace, device and mount of the lab, the kernel's share included."
	echo "exec: \`netlab exec LAB h1 true\`; status: \`netlab status LAB h1\`; medians of 5 after each up."
	echo "Each lab's second run is an \`up\` right after the first's \`down\`. Checked every run: star of"
	echo "stars, a ping from the last host to the first (static neighbours and a priming ping: a broadcast"
	echo "crossing thousands of bridge ports overflows net.core.netdev_max_backlog and is lost at the last"
	echo "ports, in the floor as in netlab); chain, r1 to r250; after \`down\`, nothing left. What was"
	echo "found and changed on the way to 10,000 nodes, and what is left of the kernel's: [scale.md](scale.md)."
	echo
	echo "## Targets (issue 6), as ratios within this run"
	echo
	big=$(echo $STAR_SIZES | tr ' ' '\n' | sort -n | tail -1)
	bigc=$(echo $CHAIN_SIZES | tr ' ' '\n' | sort -n | tail -1)
	midc=$(echo $CHAIN_SIZES | tr ' ' '\n' | sort -n | awk -v b="$bigc" '$1 < b' | tail -1)
	mn=$(echo $MN_SIZES | tr ' ' '\n' | sort -n | tail -1)
	nl_up=$(med netlab star $big up_ms)
	fl=$(sum "$(med floor-net star $big up_ms)" "$(med floor-procs-userns star $big up_ms)")
	r1=$(ratio "$nl_up" "$fl")
	echo "| target | measured | verdict |"
	echo "|---|---|---|"
	echo "| star N=$big: up ≤ 1.5 × (floor + bare isolated processes) | $nl_up ms vs $(med floor-net star $big up_ms) + $(med floor-procs-userns star $big up_ms) = $fl ms: ×$r1 (vs floor with processes: ×$(ratio "$nl_up" "$(med floor-full-userns star $big up_ms)")) | $(verdict "$(cmp_le "$r1" 1.5)") |"
	mr=$(ratio "$(med mininet star $mn updown_ms)" "$(med netlab star $mn updown_ms)")
	mru=$(ratio "$(med mininet star $mn updown_ms)" "$(med netlab star $mn up_ms)")
	echo "| star N=$mn: ≥ 30× faster than Mininet | Mininet build+stop $(med mininet star $mn updown_ms) ms vs netlab up+down $(med netlab star $mn updown_ms) ms: ×$mr (vs netlab up alone: ×$mru) | $(verdict "$(cmp_le 30 "$mr")") |"
	echo "| chain N=$bigc: up ≤ 5 s | $(med netlab chain $bigc up_ms) ms | $(verdict "$(cmp_le "$(med netlab chain $bigc up_ms)" 5000)") |"
	echo "| chain N=$bigc: down ≤ 1.5 s, nothing left, immediate second up works | $(med netlab chain $bigc down_ms) ms; checked after each of $RUNS runs, each followed by the next up | $(verdict "$(cmp_le "$(med netlab chain $bigc down_ms)" 1500)") |"
	echo "| two-webservers up+down ≤ 60 ms | $(med netlab web 2 updown_ms) ms | $(verdict "$(cmp_le "$(med netlab web 2 updown_ms)" 60)") |"
	ex=$(med netlab star 10 exec_ms)
	[ -n "$ex" ] || ex=$(med netlab star "$(echo $STAR_SIZES | awk '{print $1}')" exec_ms)
	echo "| \`netlab exec NODE true\` ≤ \`ip netns exec NS true\` | $ex ms vs $(med ipnetns star 0 exec_ms) ms (×$(ratio "$ex" "$(med ipnetns star 0 exec_ms)")) | $(verdict "$(cmp_le "$ex" "$(med ipnetns star 0 exec_ms)")") |"
	pmax=$(for t in star chain; do med netlab $t $([ $t = star ] && echo $big || echo $bigc) pss_per_node_kib; done | sort -g | tail -1)
	echo "| ≤ 256 KiB per node (netlab's processes, PSS) | star N=$big: $(med netlab star $big pss_per_node_kib) KiB, chain N=$bigc: $(med netlab chain $bigc pss_per_node_kib) KiB | $(verdict "$(cmp_le "$pmax" 256)") |"
	small=$(echo $STAR_SIZES | tr ' ' '\n' | sort -n | awk -v b="$big" '$1 < b' | tail -1)
	se=$(awk -v a="$(med netlab star $small sup_hwm_kib)" -v b="$(med netlab star $big sup_hwm_kib)" -v n="$small" -v m="$big" 'BEGIN {if (a == "" || b == "" || n == "" || n == m) print ""; else printf "%.2f", log(b / a) / log(m / n)}')
	echo "| supervisor memory grows at most linearly | peak RSS $(med netlab star $small sup_hwm_kib) KiB at N=$small, $(med netlab star $big sup_hwm_kib) KiB at N=$big: exponent $se | $(verdict "$(cmp_le "$se" 1.1)") |"
	ce=$(awk -v a="$(med netlab chain $midc up_ms)" -v b="$(med netlab chain $bigc up_ms)" -v n="$midc" -v m="$bigc" 'BEGIN {if (a == "" || b == "" || n == "") print ""; else printf "%.2f", log(b / a) / log(m / n)}')
	echo "| chain up-time linear in N | exponent log(up($bigc)/up($midc)) / log($bigc/$midc) = $ce | $(verdict "$(cmp_le "$ce" 1.1)") |"
	echo
	echo "Exponents are judged linear when ≤ 1.1. The floor sum counts node namespaces twice (the floor"
	echo "creates net/UTS/IPC/mount namespaces, the bare processes create them again), so it is a"
	echo "generous bound; the floor-with-processes column is the single program doing both."
	echo
	echo "## How each was run"
	echo
	echo "- Everything runs in one sandbox: \`unshare --net --mount --pid --fork --mount-proc\`, tmpfs on"
	echo "  /run/netlab and /run/netns. Topologies: star = N hosts \`10.{i/65536}.{i/256%256}.{i%256}/8\` on"
	echo "  one switch; chain = N forwarding routers, link k = \`10.(k/16384).(k/64%256).(k%64*4)/30\`, each"
	echo "  router with \`route default via\` its right neighbour and a route to the first /30 via its left"
	echo "  one, and \`net.ipv4.ip_default_ttl=255\` (replies die after 64 hops otherwise), written with"
	echo "  ranges (docs/topology.md). Every tool builds exactly these."
	echo "- Checks, every run, before its timing counts: star: ping from the last host to the first; chain:"
	echo "  ping (TTL 255) from r1 to r\`min(N,$CHAIN_PING_MAX)\` — an IPv4 TTL cannot cross more hops — and, when"
	echo "  N > $CHAIN_PING_MAX, rN-1 to rN; two-webservers: web2 to web1. After every teardown: no netlab-init"
	echo "  left, /run/netlab empty, the sandbox's links, addresses and \`ip netns\` unchanged. Any failure"
	echo "  stops the benchmark."
	echo "- netlab: \`netlab up FILE --timing\` and \`netlab down LAB\`, wall time measured by \`build/bench-time\`"
	echo "  (bench/time.c: posix_spawn, wait, monotonic clock; no shell or timeout(1) process in between). Exec:"
	echo "  \`netlab exec LAB h1 true\` (r1 for chains) against \`ip netns exec benchns true\` in a"
	echo "  namespace made by \`ip netns add\` in the sandbox, both timed by \`build/bench-time\` (median of $NEXEC)."
	echo "  netlab's switches snoop multicast (an IGMP/MLD querier, its default: docs/topology.md); the"
	echo "  bridges of the ip script, ip -batch and Mininet flood it, as plain Linux bridges do. That changes"
	echo "  where nodes' membership reports go after \`up\` (in a 1000-node star: seconds of CPU), not"
	echo "  what the checks see."
	echo "- ip script: one \`ip\` process per step: \`ip netns add\`, \`ip link add … peer name eth0 netns …\`,"
	echo "  master, up, \`ip -n NS addr/route add\`, \`ip netns exec NS sysctl -w\` (chain); teardown"
	echo "  \`ip link del\` (bridge ports, chain veths) and \`ip netns del\`."
	echo "- ip -batch: iproute2 6.1's batch mode takes no \`-n NS\` per line ('Object \"-n\" is unknown'), so:"
	echo "  one \`ip -batch\` in the sandbox (netns add, veths with the peer straight in its namespace,"
	echo "  master, up), one \`ip -n NS -batch\` per node (lo/eth up, addresses, routes), the chain's"
	echo "  sysctls by one \`ip -all netns exec sysctl -w\`; teardown one \`ip -batch\` (link del, netns del)."
	echo "- Mininet: \`mn --switch lxbr --controller none --topo single,N --test build\` (build the network,"
	echo "  then stop it: one figure, compared with netlab's up+down). Checked: exit 0, hN and \`*** Done\`"
	echo "  in its output, the sandbox unchanged after it. Sizes: $MN_SIZES. N=1000 is not run by default:"
	echo "  its time grows faster than linearly (see the table) and 5 runs would take most of an hour;"
	echo "  set BENCH_MN_SIZES to include it."
	echo "- floor: \`build/bench-floor net|full TOPO N --verify\` (bench/floor.c, libmnl only): namespaces by"
	echo "  unshare (net, UTS, IPC, mount; no process, so no PID/cgroup/user/time namespace) or, with"
	echo "  \`full --userns\`, by clone3 of waiting processes with a netlab node's namespace flags plus"
	echo "  a user namespace; one netlink batch per namespace (only the last request ACKed), veth peers"
	echo "  created straight in the node namespaces, teardown by one RTM_DELLINK on the link group, then"
	echo "  closing the namespace fds; its times are measured inside the program. \`bench-floor procs N"
	echo "  [--userns]\`: clone3 of N processes with those flags that wait on a pipe, then EOF and reap."
	echo
	echo "![up-time against node count](performance.png)"
} >"$MD"

# plot
PD=$W/plot
mkdir -p "$PD"
plotline() { # FILE TOOL TOPO METRIC SIZES
	for n in $5; do m=$(med "$2" "$3" "$n" "$4"); [ -n "$m" ] && echo "$n $m"; done >"$PD/$1"
}
plotline netlab-star netlab star up_ms "$STAR_SIZES"
plotline netlab-chain netlab chain up_ms "$CHAIN_SIZES"
plotline ipscript-star ipscript star up_ms "$STAR_SIZES"
plotline ipscript-chain ipscript chain up_ms "$CHAIN_SIZES"
plotline ipbatch-star ipbatch star up_ms "$STAR_SIZES"
plotline ipbatch-chain ipbatch chain up_ms "$CHAIN_SIZES"
plotline floor-star floor-net star up_ms "$STAR_SIZES"
plotline floor-chain floor-net chain up_ms "$CHAIN_SIZES"
plotline floorfull-star floor-full-userns star up_ms "$STAR_SIZES"
plotline mininet-star mininet star updown_ms "$MN_SIZES"
timeout 60 gnuplot <<EOF || fail "gnuplot"
set terminal pngcairo size 1000,650 font ",10"
set output "$OUT/performance.png"
set logscale xy
set xlabel "nodes (N)"
set ylabel "up time (ms, median)"
set title "Lab start-up time against node count ($BENCH_HOST_NPROC CPUs, kernel $BENCH_HOST_KERNEL, $START)"
set key top left
set grid
plot "$PD/netlab-star" w lp lw 2 pt 7 lc rgb "#1f77b4" t "netlab star", \
     "$PD/netlab-chain" w lp lw 2 pt 5 dt 2 lc rgb "#1f77b4" t "netlab chain", \
     "$PD/ipscript-star" w lp pt 7 lc rgb "#ff7f0e" t "ip script star", \
     "$PD/ipscript-chain" w lp pt 5 dt 2 lc rgb "#ff7f0e" t "ip script chain", \
     "$PD/ipbatch-star" w lp pt 7 lc rgb "#2ca02c" t "ip -batch star", \
     "$PD/ipbatch-chain" w lp pt 5 dt 2 lc rgb "#2ca02c" t "ip -batch chain", \
     "$PD/mininet-star" w lp pt 9 lc rgb "#d62728" t "Mininet star (build+stop)", \
     "$PD/floor-star" w lp pt 7 lc rgb "#7f7f7f" t "kernel floor star", \
     "$PD/floor-chain" w lp pt 5 dt 2 lc rgb "#7f7f7f" t "kernel floor chain", \
     "$PD/floorfull-star" w lp pt 7 lc rgb "#9467bd" t "floor + isolated processes star"
EOF

scale_plot "$OUT/performance-scale.png"

# stdout: the tables
sed -n '/^## netlab/,/^## How each/p' "$MD" | grep -v '^## How each'
echo
echo "bench: wrote $MD, $OUT/performance.png and $OUT/performance-scale.png"
