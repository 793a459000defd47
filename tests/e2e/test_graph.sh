#!/usr/bin/env bash
# End-to-end test of `netlab graph`: the DOT for the two-webservers example
# names every node, the switch, each interface and each address; rendering
# through Graphviz produces an SVG when `dot` is installed.  No root needed.
#
# usage: tests/e2e/test_graph.sh [NETLAB]   (default: ./netlab, from the repo root)
set -u

cd "$(dirname "$0")/../.." || exit 1
NETLAB=${1:-${NETLAB:-./netlab}}
TOPO=topologies/two-webservers.topo
pass=0
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
not_ok() { fail=$((fail + 1)); printf 'FAIL %s\n' "$1"; }
# check NAME COMMAND...: the command's exit status decides.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# has TEXT: the DOT output contains TEXT literally.
has() { grep -qF -- "$1" "$tmp/out.dot"; }

if [ ! -x "$NETLAB" ]; then
	not_ok "netlab binary '$NETLAB' not found (run make first)"
	echo "graph: $pass passed, $fail failed"
	exit 1
fi

"$NETLAB" graph "$TOPO" >"$tmp/out.dot" 2>"$tmp/err"
rc=$?
check "graph exits 0 (stderr: $(head -c 200 "$tmp/err"))" test "$rc" -eq 0
check "output is a DOT graph named after the lab" has 'graph "two-webservers" {'
check "output ends the graph" test "$(tail -n 1 "$tmp/out.dot")" = "}"
for node in web1 web2; do
	check "node $node is drawn as a box" grep -qE "\"n\\.$node\" \\[shape=box[^]]*label=\"$node\"" "$tmp/out.dot"
done
check "switch lan has its own shape" grep -qE '"s\.lan" \[shape=ellipse[^]]*label="lan"' "$tmp/out.dot"
check "two links, one edge each" test "$(grep -c -- ' -- ' "$tmp/out.dot")" -eq 2
check "web1's eth0 label lists both addresses" has 'label="eth0\n192.168.0.1/24\nfd00::1/64"'
check "web2's eth0 label lists both addresses" has 'label="eth0\n192.168.0.2/24\nfd00::2/64"'
for addr in 192.168.0.1/24 fd00::1/64 192.168.0.2/24 fd00::2/64; do
	check "address $addr appears" has "$addr"
done
check "edge web1 -- lan" grep -qE '"n\.web1" -- "s\.lan"|"s\.lan" -- "n\.web1"' "$tmp/out.dot"
check "edge web2 -- lan" grep -qE '"n\.web2" -- "s\.lan"|"s\.lan" -- "n\.web2"' "$tmp/out.dot"

"$NETLAB" graph "$TOPO" >"$tmp/again.dot" 2>/dev/null
check "output is deterministic" cmp -s "$tmp/out.dot" "$tmp/again.dot"
"$NETLAB" graph "$TOPO" -o "$tmp/file.dot" 2>/dev/null
check "-o writes the same DOT to a file" cmp -s "$tmp/out.dot" "$tmp/file.dot"

# Usage errors and invalid topologies exit 2.  (Issue 16 changed two
# behaviours checked here before: --format svg without -o was a usage
# error, it now writes the SVG to standard output; and -o x.svg without
# --format wrote DOT text into x.svg, it now renders SVG.)
"$NETLAB" graph "$TOPO" --format gif -o "$tmp/x.gif" >/dev/null 2>&1
check "unknown format is a usage error (2)" test $? -eq 2
"$NETLAB" graph >/dev/null 2>&1
check "missing FILE is a usage error (2)" test $? -eq 2
printf 'node a\nlink a:eth0 nowhere\n' >"$tmp/bad.topo"
"$NETLAB" graph "$tmp/bad.topo" >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
check "invalid topology exits 2" test "$rc" -eq 2
check "invalid topology prints a FILE:LINE:COL diagnostic" grep -qF "$tmp/bad.topo:2:" "$tmp/bad.err"
check "invalid topology prints no DOT" test ! -s "$tmp/bad.out"

if command -v dot >/dev/null 2>&1; then
	"$NETLAB" graph "$TOPO" --format svg -o "$tmp/out.svg" 2>"$tmp/err"
	rc=$?
	check "--format svg exits 0 (stderr: $(head -c 200 "$tmp/err"))" test "$rc" -eq 0
	check "--format svg -o writes an SVG" grep -qE '^(<\?xml|<svg)' <(head -c 64 "$tmp/out.svg" 2>/dev/null)
	"$NETLAB" graph "$TOPO" --format png -o "$tmp/out.png" 2>/dev/null
	check "--format png -o writes a PNG" test "$(head -c 4 "$tmp/out.png" 2>/dev/null | tail -c 3)" = PNG
	"$NETLAB" graph "$TOPO" --format svg >"$tmp/stdout.svg" 2>"$tmp/err"
	rc=$?
	check "--format svg without -o exits 0 (stderr: $(head -c 200 "$tmp/err"))" test "$rc" -eq 0
	check "--format svg without -o writes the SVG to standard output" cmp -s "$tmp/out.svg" "$tmp/stdout.svg"
	"$NETLAB" graph "$TOPO" --format png >"$tmp/stdout.png" 2>/dev/null
	check "--format png without -o writes the PNG to standard output" \
		test "$(head -c 4 "$tmp/stdout.png" 2>/dev/null | tail -c 3)" = PNG
	"$NETLAB" graph "$TOPO" -o "$tmp/inferred.svg" 2>/dev/null
	check "-o x.svg without --format renders SVG" cmp -s "$tmp/out.svg" "$tmp/inferred.svg"
	"$NETLAB" graph "$TOPO" -o "$tmp/inferred.PNG" 2>/dev/null
	check "-o x.PNG without --format renders PNG" test "$(head -c 4 "$tmp/inferred.PNG" 2>/dev/null | tail -c 3)" = PNG
	"$NETLAB" graph "$TOPO" --format dot -o "$tmp/forced.svg" 2>/dev/null
	check "--format wins over the extension" cmp -s "$tmp/out.dot" "$tmp/forced.svg"
	"$NETLAB" graph "$TOPO" -o "$tmp/other.gv" 2>/dev/null
	check "-o with another extension writes DOT" cmp -s "$tmp/out.dot" "$tmp/other.gv"
	# A terminal gets no PNG: script(1) gives the command one.
	if command -v script >/dev/null 2>&1; then
		script -qec "$NETLAB graph $TOPO --format png" /dev/null >"$tmp/tty.out" 2>&1
		rc=$?
		check "--format png to a terminal is refused (2)" test "$rc" -eq 2
		check "... saying why" grep -qF "not writing a PNG to a terminal" "$tmp/tty.out"
	else
		echo "skip PNG-to-terminal check: script(1) is not installed"
	fi
else
	echo "skip svg/png rendering: Graphviz 'dot' is not installed"
fi

# Without dot on PATH, rendering says how to get it and exits 1.
PATH="$tmp/empty" "$NETLAB" graph "$TOPO" --format svg -o "$tmp/none.svg" 2>"$tmp/err"
rc=$?
check "missing dot exits 1" test "$rc" -eq 1
check "missing dot says how to install it" \
	grep -qF "netlab graph: Graphviz 'dot' not found; install it with: apt-get install graphviz (or use --format dot)" "$tmp/err"

echo "graph: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
