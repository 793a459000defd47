#!/usr/bin/env bash
# Corpus test of `netlab check`: every tests/corpus/bad/*.topo must be
# rejected (exit 2) with the expected FIRST diagnostic, every good topology
# (topologies/*.topo, tests/corpus/good/*.topo) accepted (exit 0).
#
# A bad file states its expected first diagnostic in its first line,
#     # expect: LINE:COL: error: SUBSTRING      (FILE:LINE:COL: error: ...)
#     # expect: error: SUBSTRING                (FILE: error: ..., whole file)
# or, when its first line cannot be a comment (binary files), in a sidecar
# NAME.expect holding the same text without "# expect: ".  A second line
#     # summary: N errors, M warnings
# also checks the summary (no cascade of diagnostics after the first).
# A good file may state a warning it must produce the same way:
#     # expect: LINE:COL: warning: SUBSTRING
#
# Usage: tests/corpus/run.sh NETLAB
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 NETLAB" >&2
	exit 2
fi
netlab=$1
case $netlab in
/*) ;;
*) netlab=$PWD/$netlab ;;
esac
if [ ! -x "$netlab" ]; then
	echo "corpus: $netlab is not an executable" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/netlab-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}

# expect_error FILE EXPECTATION: EXPECTATION is "LINE:COL: error: SUBSTRING"
# or "error: SUBSTRING".  Checks exit status 2 and the first stderr line.
expect_error() {
	local file=$1 want=$2 prefix substr out rc first
	if [[ $want =~ ^([0-9]+):([0-9]+):[[:space:]]*error:[[:space:]]*(.*)$ ]]; then
		prefix="$file:${BASH_REMATCH[1]}:${BASH_REMATCH[2]}: error: "
		substr=${BASH_REMATCH[3]}
	elif [[ $want =~ ^error:[[:space:]]*(.*)$ ]]; then
		prefix="$file: error: "
		substr=${BASH_REMATCH[1]}
	else
		fail "$file: unreadable expectation '$want'"
		return
	fi
	out=$("$netlab" check "$file" 2>&1 >/dev/null)
	rc=$?
	first=${out%%$'\n'*}
	last=${out##*$'\n'}
	if [ -n "${3:-}" ] && [ "$last" != "$3" ]; then
		fail "$file: summary '$last', want '$3'"
	elif [ $rc -ne 2 ]; then
		fail "$file: exit status $rc, want 2 (first line: ${first:-<none>})"
	elif [ "${first:0:${#prefix}}" != "$prefix" ]; then
		fail "$file: first line '$first', want it to start with '$prefix'"
	elif [[ $first != *"$substr"* ]]; then
		fail "$file: first line '$first' lacks '$substr'"
	else
		passed=$((passed + 1))
	fi
}

expect_ok() {
	local file=$1 out rc want line
	out=$("$netlab" check "$file" 2>&1)
	rc=$?
	IFS= read -r want <"$file" || want=
	if [ $rc -ne 0 ]; then
		fail "$file: exit status $rc, want 0: ${out%%$'\n'*}"
	elif [[ $want =~ ^#[[:space:]]*expect:[[:space:]]*([0-9]+):([0-9]+):[[:space:]]*warning:[[:space:]]*(.*)$ ]]; then
		line=$(grep -F -- "$file:${BASH_REMATCH[1]}:${BASH_REMATCH[2]}: warning: " <<<"$out" | head -1)
		if [[ -z $line || $line != *"${BASH_REMATCH[3]}"* ]]; then
			fail "$file: no warning at ${BASH_REMATCH[1]}:${BASH_REMATCH[2]} containing '${BASH_REMATCH[3]}'"
		else
			passed=$((passed + 1))
		fi
	else
		passed=$((passed + 1))
	fi
}

# Paths are given relative to the top of the tree, as a user would type them.
cd "$top" || exit 2

for f in tests/corpus/bad/*.topo; do
	sidecar=${f%.topo}.expect
	if [ -f "$sidecar" ]; then
		IFS= read -r want <"$sidecar"
	else
		IFS= read -r want <"$f"
		if [[ $want =~ ^#[[:space:]]*expect:[[:space:]]*(.*)$ ]]; then
			want=${BASH_REMATCH[1]}
		else
			fail "$f: no '# expect:' first line and no $sidecar"
			continue
		fi
	fi
	want=${want%$'\r'}
	summary=$(sed -n '2s/^#[[:space:]]*summary:[[:space:]]*//p' "$f" 2>/dev/null | tr -d '\r')
	expect_error "$f" "$want" "$summary"
done

# Files that cannot (or should not) live in the repository.
printf '' >"$tmp/empty.topo"
expect_error "$tmp/empty.topo" "error: file is empty"

expect_error "$tmp/does-not-exist.topo" "error: cannot read topology: No such file or directory"

mkdir "$tmp/dir.topo"
expect_error "$tmp/dir.topo" "error: cannot read topology: not a regular file"

# 4 MiB is the limit itself: a valid file of exactly 4 MiB passes, one
# byte more is refused.  The padding is comment lines of 1024 bytes.
gen_sized() { # FILE SIZE
	local line
	line=$(head -c 1023 /dev/zero | tr '\0' '#')
	{
		printf 'node a\nlink a:eth0 host:h0\n'
		yes "$line"
	} | head -c $(($2 - 1)) >"$1"
	printf '\n' >>"$1" # end on a newline: the last line is a whole comment
}
gen_sized "$tmp/exactly-4mib.topo" $((4 * 1024 * 1024))
expect_ok "$tmp/exactly-4mib.topo"
gen_sized "$tmp/too-big.topo" $((4 * 1024 * 1024 + 1))
expect_error "$tmp/too-big.topo" "error: file is 4194305 bytes; topology files are limited to 4 MiB"

for f in topologies/*.topo topologies/*/*.topo tests/corpus/good/*.topo; do
	[ -e "$f" ] || continue
	expect_ok "$f"
done

echo "corpus: $passed passed, $failed failed"
[ $failed -eq 0 ]
