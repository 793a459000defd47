#!/usr/bin/env bash
# Build the Debian source and binary packages from a copy of the source,
# as from a release tarball, so that nothing is written outside OUTDIR
# (dpkg-buildpackage puts its results in the parent of the source
# directory); then check them with lintian: an error or a warning fails,
# apart from the overrides in debian/source/lintian-overrides (each says
# why).
#
# usage: scripts/make-deb.sh OUTDIR
set -euo pipefail
out=${1:?usage: $0 OUTDIR}
cd "$(dirname "$0")/.."
version=$(sed -n 's/^VERSION := //p' Makefile)
for tool in dpkg-buildpackage dh pandoc lintian; do
	command -v "$tool" >/dev/null || {
		echo "make-deb: $tool is missing (apt-get install build-essential debhelper devscripts pandoc lintian)" >&2
		exit 1
	}
done
src=$out/netlab-$version
rm -rf "$out"
mkdir -p "$src"
if git rev-parse --git-dir >/dev/null 2>&1; then
	# The committed files and the work tree's state of them (and new
	# files not ignored): what a release of this tree would hold.
	git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
		[ -e "$f" ] && printf '%s\0' "$f"
	done | tar --null -T - -cf - | tar -xf - -C "$src"
	git describe --tags --always --dirty >"$src/.git-describe"
else
	tar --exclude=./build --exclude=./build-asan --exclude=./build-fuzz --exclude=./netlab -cf - . | tar -xf - -C "$src"
fi
(cd "$src" && dpkg-buildpackage -us -uc) >"$out/build.log" 2>&1 || {
	tail -30 "$out/build.log" >&2
	echo "make-deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
	exit 1
}
deb=$(ls "$out"/netlab_"$version"_*.deb)
echo "make-deb: built $deb"
lintian --fail-on error,warning --info "$out"/netlab_"$version"_*.changes
echo "make-deb: lintian: no errors or warnings"
