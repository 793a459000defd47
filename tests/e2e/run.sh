#!/usr/bin/env bash
# Run every tests/e2e/test_*.sh (or the ones named after NETLAB), each in
# its own throwaway sandbox (new network and mount namespace), and sum up.
#   tests/e2e/run.sh NETLAB [test_x ...]
set -u
NETLAB=$(realpath "${1:-./netlab}")
shift
only="$*"
cd "$(dirname "$0")/../.."
export NETLAB TOPO=$(pwd)/topologies
if [ "$(id -u)" != 0 ]; then
	echo "e2e: skipped: end-to-end tests need root (namespaces, veth, bridges)"
	echo "e2e: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
pass=0 fail=0
for t in tests/e2e/test_*.sh; do
	if [ -n "$only" ] && ! echo " $only " | grep -q " $(basename $t .sh) "; then
		continue
	fi
	# A PID namespace too: whatever a test leaves running dies with it.
	out=$(timeout 300 unshare --net --mount --pid --fork --mount-proc -- bash "$t" 2>&1)
	rc=$?
	echo "$out"
	# Each test ends with "NAME: N passed, M failed".
	sum=$(echo "$out" | grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(echo "$sum" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$sum" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$sum" ] || { p=0; f=0; }
	if [ $rc != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $t exited $rc"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "e2e: $pass passed, $fail failed"
[ $fail = 0 ]
