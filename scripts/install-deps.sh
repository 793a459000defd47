#!/usr/bin/env bash
# Install every build and test dependency of netlab from Debian 12 packages.
# Idempotent: packages already installed are skipped, and apt-get is not run
# at all (not even `update`) when nothing is missing, so `make test` can call
# this on every run without root and without network access.
set -euo pipefail

packages=(
	# build
	gcc make pkg-config libc6-dev
	libnl-3-dev libnl-route-3-dev libmnl-dev libiptc-dev libjson-c-dev
	# `netlab capture` and the `capture` link option: pcap/pcap.h to build,
	# libpcap0.8 (loaded with dlopen only when capturing) to run
	libpcap-dev
	# unit tests (cmocka) and the libFuzzer target / sanitizer runtime
	libcmocka-dev clang libclang-rt-14-dev
	# `netlab graph --format svg|png`
	graphviz
	# integration and end-to-end tests: namespaces, traffic, inspection
	iproute2 iputils-ping curl python3 procps util-linux iptables
	traceroute psmisc ca-certificates
	# impairments measured (iperf3), captures read back (tshark)
	iperf3 tshark
	# scripts/make-busybox-rootfs.sh (rootfs example and its test)
	busybox-static
	# manual pages (make man: pandoc) and their test (man --warnings, lexgrog)
	pandoc man-db groff-base
	# completion tests (tests/cli): bash-completion's helpers, zsh
	bash-completion zsh
	# make deb / make check-deb: build the package, lintian it
	dpkg-dev debhelper lintian
	# labs across machines (tests/e2e/test_multihost.sh, make bench): ssh,
	# and sshd run by the test inside its machine sandboxes (never as the
	# machine's service: see the install below)
	openssh-client openssh-server
)

missing=()
for pkg in "${packages[@]}"; do
	# dpkg-query exits non-zero for a package it has never heard of; that
	# simply means "not installed" here.
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all dependencies present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root to install them (e.g. sudo $0)" >&2
	exit 1
fi

# Packages for the tests start no service on this machine (openssh-server
# would start sshd): Debian's invoke-rc.d asks /usr/sbin/policy-rc.d, and
# exit status 101 denies.  One already there is left as it is; the one
# made here goes once the install is over.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# netlab install-deps: no service starts while test packages install\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >/dev/null
echo "install-deps: installed ${missing[*]}"
