# Shared helpers for end-to-end tests.  Each test script runs inside its own
# sandbox (run.sh starts it under `unshare --net --mount --fork`), with a
# private tmpfs on /run/netlab, so "the host" here is a throwaway namespace.
set -u
NETLAB=${NETLAB:-$(pwd)/netlab}
TOPO=${TOPO:-$(pwd)/topologies}
PASS=0
FAIL=0
TEST_NAME=$(basename "$0" .sh)

ok() { PASS=$((PASS + 1)); echo "ok - $TEST_NAME: $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $TEST_NAME: $*"; }

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0.
check() {
	local what=$1
	shift
	if "$@" >$T/e2e.out 2>&1; then ok "$what"; else not_ok "$what ($(tail -3 $T/e2e.out | tr '\n' ' '))"; fi
}
# check_fails DESCRIPTION COMMAND...: passes when COMMAND exits non-zero.
check_fails() {
	local what=$1
	shift
	if "$@" >$T/e2e.out 2>&1; then not_ok "$what (unexpectedly succeeded)"; else ok "$what"; fi
}
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}
check_contains() {
	case "$3" in *"$2"*) ok "$1" ;; *) not_ok "$1 (no '$2' in: $(echo "$3" | head -c 400))" ;; esac
}

sandbox_setup() {
	# Not a tmpfs over /tmp: the netlab under test may live there.
	T=$(mktemp -d /tmp/netlab-e2e.XXXXXX)
	# Node root is an unprivileged host user (user namespaces): like any
	# user it can only read a topology's directory that others may read.
	chmod 755 "$T"
	trap '"$NETLAB" down --all >/dev/null 2>&1; rm -rf "$T"' EXIT
	mkdir -p /run/netlab
	mount -t tmpfs -o mode=755 netlab-test /run/netlab
	ip link set lo up
}

# A snapshot of what a lab could leave behind in the sandbox ("notmp":
# without the listing of /tmp, which other jobs on the machine change).
host_snapshot() {
	{
		ip -o link show | sed 's/^[0-9]*: //; s/ link\/.*//; s/<.*//'
		ip -o addr show | awk '{print $2, $4}'
		ip route show table all 2>/dev/null
		awk '{print $5}' /proc/self/mountinfo | sort
		ls -A /run/netlab
		# Only what could be netlab's: /tmp is shared with whatever else runs.
		[ "${1:-}" = notmp ] || ls -A /tmp | grep -i netlab | grep -v '^netlab-e2e'
	} | sort
}

# Processes that are not this test's shell tree: anything netlab started.
netlab_procs() { pgrep -x netlab-init; pgrep -f "^$NETLAB" ; true; }

# Wait until a TCP server in NODE listens on PORT (at most ~5 s).
wait_port() {
	local lab=$1 node=$2 port=$3
	for _ in $(seq 50); do
		"$NETLAB" exec "$lab" "$node" sh -c "grep -qi ':$(printf %04X "$port") .* 0A ' /proc/net/tcp /proc/net/tcp6" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

finish() {
	echo "$TEST_NAME: $PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ]
}
