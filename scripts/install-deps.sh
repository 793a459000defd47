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
	# the fault-injection suite: strace's syscall fault injection, and nft
	# to show that no nftables rule was touched
	strace nftables
	# real software in nodes (examples and tests/e2e/test_software.sh):
	# routing daemons, DHCP server and clients, captures.  Their services
	# are never started on the machine (policy-rc.d below); dnsmasq-base is
	# dnsmasq without its service.
	frr bird2 dnsmasq-base isc-dhcp-client udhcpc tcpdump
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

# Daemons installed for labs (and sshd, for the tests' machine sandboxes)
# must not start on the machine itself: Debian's
# maintainer scripts ask /usr/sbin/policy-rc.d first (101: not allowed).
# One that is already there is the administrator's and stays as it is.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >/dev/null
echo "install-deps: installed ${missing[*]}"
