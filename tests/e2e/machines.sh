# "Machines" for tests of labs across machines (issue 18), sourced after
# lib.sh's sandbox_setup.  Each machine is a child sandbox of the test's
# own (its own network, mount and PID namespaces, a private /run with its
# own /run/netlab and /run/sshd, its own /sys), joined to the others by an
# underlay bridge made in the test's sandbox, and runs OpenSSH's sshd on its
# underlay address only, with a host key and an authorized client key
# generated into $T/ssh for the test (never ~/.ssh or /etc/ssh).
# NETLAB_SSH points netlab's ssh at the test's config: its known_hosts, its
# key, batch mode.  The test's sandbox itself is the controlling machine
# (10.77.0.254); machine i is mI at 10.77.0.I.

MACHINE_PIDS=()

machines_setup() {
	local n=$1 i
	command -v /usr/sbin/sshd >/dev/null || { echo "$TEST_NAME: skipped: no /usr/sbin/sshd (openssh-server)"; return 1; }
	mkdir -p "$T/ssh"
	chmod 700 "$T/ssh"
	ssh-keygen -q -t ed25519 -N '' -C netlab-test-client -f "$T/ssh/id" || return 1
	ssh-keygen -q -t ed25519 -N '' -C netlab-test-host -f "$T/ssh/host" || return 1
	: >"$T/ssh/known_hosts"
	cat >"$T/ssh/config" <<-C
	Host *
	  User root
	  IdentityFile $T/ssh/id
	  IdentitiesOnly yes
	  UserKnownHostsFile $T/ssh/known_hosts
	  GlobalKnownHostsFile /dev/null
	  StrictHostKeyChecking yes
	  BatchMode yes
	  LogLevel ERROR
	C
	# Options on the command line beat the config and netlab's own
	# (ssh keeps the first value): a down machine is noticed in 2 s.
	export NETLAB_SSH="ssh -F $T/ssh/config -o ConnectTimeout=2"
	ip link add ul0 type bridge
	ip link set ul0 up
	ip addr add 10.77.0.254/24 dev ul0
	cat >"$T/machine.sh" <<-'M'
	# Inside the machine's sandbox: its own /run, /sys, underlay, sshd.
	i=$1 T=$2
	mount -t tmpfs -o mode=755 "machine$i-run" /run
	mount -t sysfs sysfs /sys
	mkdir -p /run/netlab /run/sshd
	ip link set lo up
	for _ in $(seq 100); do ip link show eth0 >/dev/null 2>&1 && break; sleep 0.05; done
	ip addr add 10.77.0.$i/24 dev eth0
	ip link set eth0 up
	exec /usr/sbin/sshd -D -e -f "$T/ssh/sshd_config.$i" 2>>"$T/sshd.$i.log"
	M
	for i in $(seq "$n"); do
		cat >"$T/ssh/sshd_config.$i" <<-S
		ListenAddress 10.77.0.$i
		HostKey $T/ssh/host
		AuthorizedKeysFile $T/ssh/id.pub
		PidFile /run/sshd.pid
		StrictModes no
		UsePAM no
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		S
		echo "10.77.0.$i $(cut -d' ' -f1,2 "$T/ssh/host.pub")" >>"$T/ssh/known_hosts"
		unshare --net --mount --pid --fork --mount-proc bash "$T/machine.sh" "$i" "$T" &
		local up=$! child=
		for _ in $(seq 100); do
			child=$(pgrep -P "$up" | head -1)
			[ -n "$child" ] && break
			sleep 0.02
		done
		MACHINE_PIDS[$i]=$child
		ip link add "ul-m$i" type veth peer name eth0 netns "$child"
		ip link set "ul-m$i" master ul0 up
	done
	for i in $(seq "$n"); do
		for _ in $(seq 100); do
			on_machine "$i" sh -c "grep -q ':0016 00000000:0000 0A' /proc/net/tcp" 2>/dev/null && break
			sleep 0.05
		done
	done
}

# on_machine I COMMAND...: run COMMAND in machine I's namespaces (from the
# test's sandbox, not over ssh).
on_machine() {
	local i=$1
	shift
	nsenter -t "${MACHINE_PIDS[$i]}" -n -m -p "$@"
}

# What a lab could leave behind on machine I.
machine_snapshot() {
	on_machine "$1" sh -c '
		ip -o link show | sed "s/^[0-9]*: //; s/ link\/.*//; s/<.*//"
		ip -o addr show | awk "{print \$2, \$4}"
		ip route show table all 2>/dev/null
		awk "{print \$5}" /proc/self/mountinfo | sort
		ls -A /run/netlab
		ip -d link show type vxlan
		ip link show type bridge
	' | sort
}

# The underlay link of machine I down (it cannot be reached) or up.
machine_unreachable() { ip link set "ul-m$1" down; }
machine_reachable() { ip link set "ul-m$1" up; }
