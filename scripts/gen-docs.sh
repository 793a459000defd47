#!/usr/bin/env bash
# Write the parts of the documentation that netlab's verb table
# (src/cli/verbs.c) makes, between their markers:
#     <!-- generated: NAME -->  ...  <!-- end generated: NAME -->
# with the output of `netlab __doc NAME`: in docs/cli.md (the source of
# netlab(1)) the synopsis and the verbs, in README.md the table of commands.
#
# usage: scripts/gen-docs.sh [--check] NETLAB
#   --check: change nothing; exit 1 (with a diff) when a file is not current.
set -eu
check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
netlab=${1:?usage: $0 [--check] NETLAB}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# splice FILE NAME: FILE with NAME's part replaced, on stdout.
splice() {
	local file=$1 name=$2
	"$netlab" __doc "$name" >"$tmp/part"
	grep -qF "<!-- generated: $name -->" "$file" || {
		echo "gen-docs: $file has no marker '<!-- generated: $name -->'" >&2
		exit 1
	}
	awk -v begin="<!-- generated: $name -->" -v end="<!-- end generated: $name -->" -v part="$tmp/part" '
		$0 == begin { print; while ((getline l < part) > 0) print l; skip = 1; next }
		$0 == end { skip = 0 }
		!skip { print }' "$file"
}

for spec in docs/cli.md:synopsis docs/cli.md:verbs README.md:table; do
	file=${spec%%:*}
	name=${spec#*:}
	splice "$file" "$name" >"$tmp/new"
	if cmp -s "$file" "$tmp/new"; then
		continue
	fi
	if [ $check = 1 ]; then
		echo "gen-docs: $file: the '$name' part differs from src/cli/verbs.c; run 'make docs'" >&2
		diff -u "$file" "$tmp/new" | head -40 >&2 || true
		status=1
	else
		cat "$tmp/new" >"$file"
		echo "gen-docs: updated $name in $file"
	fi
done
exit $status
