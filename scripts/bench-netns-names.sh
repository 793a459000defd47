#!/usr/bin/env bash
# The cost of `netlab up --netns-names` (docs/cli.md, NETNS NAMES): a star
# of N nodes (default 200) brought up and down RUNS times (default 5) with
# and without names; prints the medians.  Runs in its own sandbox (net,
# mount, PID namespaces; tmpfs on /run/netlab and /run/netns).  Needs root.
#
# usage: scripts/bench-netns-names.sh [N [RUNS]]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
RUNS=${2:-5}
if [ "${BENCH_INSIDE:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "bench-netns-names: needs root" >&2; exit 1; }
	exec env BENCH_INSIDE=1 unshare --net --mount --pid --fork --mount-proc "$0" "$N" "$RUNS"
fi
mount -t tmpfs tmpfs /run/netlab 2>/dev/null || { mkdir -p /run/netlab && mount -t tmpfs tmpfs /run/netlab; }
[ -d /run/netns ] && mount -t tmpfs tmpfs /run/netns
ip link set lo up
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
cat >"$T/star.topo" <<T
lab star
switch s
node h[1..$N]
    ip eth0 10.0.{i/250}.{i%250+1}/16
link h[1..$N]:eth0 s
T
ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for mode in plain names; do
	: >"$T/up.$mode" && : >"$T/down.$mode"
	for _ in $(seq "$RUNS"); do
		opt=; [ $mode = names ] && opt=--netns-names
		t0=$(ms); ./netlab up "$T/star.topo" $opt >/dev/null; t1=$(ms)
		[ $mode = names ] && [ "$(ip netns list | wc -l)" != "$N" ] && { echo "names missing" >&2; exit 1; }
		./netlab down star >/dev/null; t2=$(ms)
		echo $((t1 - t0)) >>"$T/up.$mode"
		echo $((t2 - t1)) >>"$T/down.$mode"
	done
done
echo "star of $N nodes, median of $RUNS runs (ms):"
echo "  up:   $(median <"$T/up.plain") without names, $(median <"$T/up.names") with --netns-names"
echo "  down: $(median <"$T/down.plain") without names, $(median <"$T/down.names") with"
