#!/usr/bin/env bash
# Run cmocka test binaries; with --sandbox each runs inside its own throwaway
# network + mount namespace so that nothing it does reaches the machine.
set -u
sandbox=0
if [ "${1:-}" = "--sandbox" ]; then sandbox=1; shift; fi
fail=0
for t in "$@"; do
	if [ $sandbox = 1 ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "SKIP $t: integration tests need root for unshare --net --mount"
			continue
		fi
		unshare --net --mount --fork -- "$t" || fail=1
	else
		"$t" || fail=1
	fi
done
exit $fail
