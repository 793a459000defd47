#!/usr/bin/env bash
# The cost of spreading a lab over machines (issue 18), for scripts/bench.sh:
# a star of N hosts on one switch, brought up and down
#   local  - by netlab on this machine, no ssh;
#   one    - on one "machine" over ssh (`up --machines m1=...`);
#   three  - over three "machines" (the switch a bridge on each, joined by
#            VXLAN).
# The machines are sandboxes on this same box (tests/e2e/machines.sh: their
# own network, mount and PID namespaces and sshd, an underlay bridge), so the
# three share its CPUs: the figures are the overhead of the spreading (ssh,
# the exchange, tunnels, three supervisors), not a speed-up.  Runs of the
# three kinds alternate; every run is checked (a ping from the first host
# to the last, which crosses two machines in `three`) and, after `down`,
# every machine must be as before.
#
# usage (inside a sandbox of its own; scripts/bench.sh starts it):
#   bench/multihost.sh N RUNS NETLAB TIMER
# prints result lines "TOOL star N METRIC VALUE" on stdout, progress on
# stderr; exit 1 with a message on any failed check.
set -uo pipefail
N=$1 RUNS=$2 NETLAB=$3 TIMER=$4
REPO=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "bench: multihost: $*" >&2; }
fail() {
	echo "bench: FAILED: multihost: $*" >&2
	exit 1
}

T=$(mktemp -d /tmp/netlab-bench-mh.XXXXXX)
chmod 755 "$T"
TEST_NAME=bench-multihost
mkdir -p /run/netlab
mount -t tmpfs -o mode=755 netlab-bench-mh /run/netlab || fail "tmpfs on /run/netlab"
ip link set lo up
trap 'timeout 120 "$NETLAB" down --all --retry 0 >/dev/null 2>&1; rm -rf "$T"' EXIT
. "$REPO/tests/e2e/machines.sh"
machines_setup 3 || fail "no machines (sshd)"
settle() {
	for i in 1 2 3; do
		for _ in $(seq 50); do
			[ -z "$(on_machine "$i" ip -6 addr show tentative)" ] && break
			sleep 0.1
		done
	done
}
settle
BASE=$(for i in 1 2 3; do machine_snapshot "$i"; done)

cat >"$T/star.topo" <<EOF
lab mhstar
switch lan
node h[1..$N]
    ip eth0 10.{i/65536}.{i/256%256}.{i%256}/8
link h[1..$N]:eth0 lan
EOF
last=10.$((N / 65536)).$((N / 256 % 256)).$((N % 256))

for r in $(seq "$RUNS"); do
	for kind in local one three; do
		case $kind in
		local) opt=() ;;
		one) opt=(--machines m1=10.77.0.1) ;;
		three) opt=(--machines m1=10.77.0.1,m2=10.77.0.2,m3=10.77.0.3) ;;
		esac
		"$TIMER" "$T/t" 900 "$NETLAB" up "$T/star.topo" "${opt[@]}" >"$T/up.out" 2>&1 ||
			fail "$kind up (run $r): $(tail -3 "$T/up.out")"
		echo "mh-$kind star $N up_ms $(cat "$T/t")"
		timeout 30 "$NETLAB" exec mhstar h1 ping -c 1 -W 3 "$last" >/dev/null 2>&1 ||
			fail "$kind (run $r): ping h1 -> h$N ($last) failed"
		"$TIMER" "$T/t" 900 "$NETLAB" down mhstar >"$T/down.out" 2>&1 ||
			fail "$kind down (run $r): $(tail -3 "$T/down.out")"
		echo "mh-$kind star $N down_ms $(cat "$T/t")"
		[ -z "$(ls -A /run/netlab)" ] || fail "$kind (run $r): /run/netlab not empty: $(ls -A /run/netlab)"
		settle
		now=$(for i in 1 2 3; do machine_snapshot "$i"; done)
		[ "$now" = "$BASE" ] || fail "$kind (run $r): a machine changed: $(diff <(echo "$BASE") <(echo "$now") | head -5 | tr '\n' ' ')"
		say "$kind run $r: $(grep -o 'in [0-9]* ms' "$T/up.out")"
	done
done
