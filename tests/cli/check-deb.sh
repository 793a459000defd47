#!/usr/bin/env bash
# Check the Debian package `make deb` built (lintian has run there): what
# it holds, that its dependencies resolve on this Debian (apt-get
# --simulate: nothing is installed), and that it runs when unpacked into
# a throwaway root (dpkg -x; never installed on this machine).
#
# usage: tests/cli/check-deb.sh OUTDIR     (make check-deb)
set -u
out=${1:?usage: $0 OUTDIR}
cd "$(dirname "$0")/../.." || exit 1
PASS=0
FAIL=0
T=$(mktemp -d /tmp/netlab-deb.XXXXXX)
trap 'rm -rf "$T"' EXIT
ok() { PASS=$((PASS + 1)); echo "ok - deb: $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - deb: $*"; }
check() {
	local what=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$what"; else not_ok "$what ($(tail -3 "$T/out" | tr '\n' ' '))"; fi
}
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi; }

version=$(sed -n 's/^VERSION := //p' Makefile)
deb=$(ls "$out"/netlab_"$version"_*.deb 2>/dev/null | head -1)
check "make deb built netlab_${version}_*.deb" test -n "$deb"
[ -n "$deb" ] || { echo "deb: $PASS passed, $FAIL failed"; exit 1; }
check_eq "its version is the Makefile's" "$version" "$(dpkg-deb -f "$deb" Version)"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$T/files"
for f in /usr/bin/netlab /usr/share/man/man1/netlab.1.gz /usr/share/man/man5/netlab.topo.5.gz \
	/usr/share/bash-completion/completions/netlab /usr/share/zsh/vendor-completions/_netlab \
	/usr/share/netlab/topologies/two-webservers.topo /usr/share/doc/netlab/copyright \
	/usr/share/doc/netlab/changelog.gz /usr/share/doc/netlab/json.md.gz; do
	check "the package has $f" grep -qx "$f" "$T/files"
done
check_eq "nothing outside /usr" "" "$(grep -v '^/$' "$T/files" | grep -v '^/usr')"
if [ "$(id -u)" = 0 ]; then
	check "its dependencies resolve on this system (apt-get install --simulate)" \
		apt-get install --simulate -q -o Debug::NoLocking=1 "$(realpath "$deb")"
else
	echo "skip - deb: apt-get --simulate needs root"
fi
root=$T/root
dpkg -x "$deb" "$root"
v=$("$root/usr/bin/netlab" --version)
check "the unpacked netlab runs: $v" grep -qE "^netlab $version( \(git [^)]+\))?$" <<<"$v"
if git rev-parse --git-dir >/dev/null 2>&1; then
	check_eq "and carries the git description of the tree it was built from" \
		"netlab $version (git $(git describe --tags --always --dirty))" "$v"
fi
for f in "$root"/usr/share/netlab/topologies/*.topo; do
	check "the packaged netlab checks the packaged $(basename "$f")" "$root/usr/bin/netlab" check -q "$f"
done
check_eq "its dynamic libraries are all found" "" "$(ldd "$root/usr/bin/netlab" | grep 'not found')"
for m in "$root"/usr/share/man/man1/netlab.1.gz "$root"/usr/share/man/man5/netlab.topo.5.gz; do
	check_eq "the packaged $(basename "$m") renders without warnings" "" \
		"$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)"
done
echo "deb: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
