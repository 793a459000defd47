# One fault-injection trial, inside a sandbox of its own (run.sh starts it
# under `unshare --net --mount --pid --fork --mount-proc`):
#
#   trial.sh kill-up SIGNAL DELAY_MS      signal `netlab up` DELAY_MS after it starts
#   trial.sh kill-sup SIGNAL DELAY_MS     signal its supervisor then
#   trial.sh inject SYSCALL ERRNO N       the Nth SYSCALL of every netlab process fails
#                                         with ERRNO (strace -f -e inject=...)
#
# Then at most one `netlab down`, and the sandbox must equal its baseline:
# links, addresses, routes, legacy and nft rules, forwarding sysctls,
# mounts, /run/netlab, the lab's cgroups, processes.  Then a fresh `up`
# must work.  Prints one line: "clean", or "LEAK: <what differs>", and
# "; fresh up works" or "; fresh up FAILED: <why>".
set -u
NETLAB=${NETLAB:?}
kind=$1 a=$2 b=$3 c=${4:-}
T=$(mktemp -d /tmp/netlab-faults.XXXXXX)
chmod 755 $T
trap 'rm -rf $T' EXIT
mount --make-rprivate /
mkdir -p /run/netlab /run/netns
mount -t tmpfs -o mode=755 netlab-faults /run/netlab
mount -t tmpfs -o mode=755 netlab-faults-netns /run/netns
ip link set lo up
ip netns add outside
ip link add up0 type veth peer name eth0 netns outside
ip addr add 172.31.0.1/24 dev up0
sysctl -qw net.ipv6.conf.up0.accept_dad=0 net.ipv6.conf.up0.disable_ipv6=1
ip link set up0 up
ip -n outside addr add 172.31.0.2/24 dev eth0
ip -n outside link set eth0 up
# The baseline only once the uplink has its carrier (routes lose "linkdown").
for _ in $(seq 100); do ip route show dev up0 | grep -q linkdown || break; sleep 0.02; done
sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 net.ipv4.conf.up0.forwarding=1
# Rules that predate the lab: they must stay as they are.
iptables-legacy -A FORWARD -s 198.51.100.0/24 -j DROP
iptables-legacy -t nat -A POSTROUTING -s 198.51.100.0/24 -o up0 -j RETURN

# Unique on the machine: the cgroup tree is shared with every other sandbox.
LAB=faults$RANDOM$RANDOM
cat >$T/lab.topo <<TOPO
lab $LAB
switch s
node a
    ip eth0 10.0.0.1/24
    ip eth1 10.9.0.2/24
    route default via 10.9.0.1
    forward
    memory 64M
    firewall input accept proto icmp
    exec true
    run sleep 1000
node b
    ip eth0 10.0.0.2/24
    route default via 10.0.0.1
    user 1000
    run sleep 1000
node host
    ip hf 10.9.0.1/24
    route 10.0.0.0/24 via 10.9.0.2
    forward
    nat masquerade up0
link a:eth0 s
link b:eth0 s
link a:eth1 host:hf
TOPO

snapshot() {
	ip -o link show | sed 's/^[0-9]*: //; s/ link\/.*//; s/<.*//'
	ip -o addr show | awk '{print $2, $4}'
	ip route show table all
	ip -6 route show table all
	iptables-legacy-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
	ip6tables-legacy-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
	nft list ruleset 2>/dev/null
	for k in net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf.all.forwarding \
		net.ipv4.conf.up0.forwarding net.ipv4.conf.lo.forwarding; do
		echo "$k=$(sysctl -n $k)"
	done
	awk '{print $5}' /proc/self/mountinfo | sort
	ls -A /run/netlab
	ls -d /sys/fs/cgroup/*/netlab/$LAB 2>/dev/null
	# This sandbox's processes: only the trial's own shell may be left.
	ps -e -o comm= | grep -v -x -E 'bash|ps|grep|sort|sed|awk|sleep|strace|timeout' | sort
}
base=$(snapshot | sort)
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

case $kind in
kill-up)
	env --default-signal=INT,TERM,HUP "$NETLAB" up $T/lab.topo >$T/up.out 2>&1 &
	up=$!
	ms_sleep $b
	kill -$a $up 2>/dev/null
	wait $up 2>/dev/null
	;;
kill-sup)
	"$NETLAB" up $T/lab.topo >$T/up.out 2>&1 &
	up=$!
	ms_sleep $b
	sup=$(pgrep -P $up | head -1)
	[ -z "$sup" ] && sup=$(pgrep -f "^$NETLAB up $T/lab.topo" | grep -v "^$up\$" | head -1)
	[ -n "$sup" ] && kill -$a $sup 2>/dev/null
	wait $up 2>/dev/null
	;;
inject)
	# Every process strace follows counts its own calls: the Nth of each
	# fails (`up`, the supervisor, stage 1s, inits and their commands).
	# strace injects only into system calls it traces (-e trace=none would
	# silently inject nothing); their lines go to /dev/null.
	strace -f -qq -o /dev/null -e trace=$a -e inject=$a:error=$b:when=$c "$NETLAB" up $T/lab.topo >$T/up.out 2>&1 &
	st=$!
	for _ in $(seq 300); do
		up=$(pgrep -P $st | head -1)
		[ -n "$up" ] && break
		sleep 0.01
	done
	# `up` has finished when it is gone; its supervisor may live on (the
	# lab is up) under strace until `down`.
	for _ in $(seq 600); do
		[ -n "$up" ] && kill -0 $up 2>/dev/null || break
		sleep 0.05
	done
	;;
esac
# The supervisor notices a vanished `up` and rolls back on its own; give
# it the time it takes (a lab that is up stays up).
for _ in $(seq 100); do
	pgrep -f "^$NETLAB up" >/dev/null || break
	"$NETLAB" status $LAB --json 2>/dev/null | grep -q '"state":"up"' && break
	"$NETLAB" status $LAB --json 2>/dev/null | grep -q '"state": "up"' && break
	sleep 0.05
done
# What `up` said before the fault's end: up, rolled back, or nothing (killed).
if grep -q "is up:" $T/up.out; then
	was="up said up"
elif grep -q "rolled back" $T/up.out; then
	was="up rolled back"
else
	was="up said nothing"
fi
[ "$("$NETLAB" status $LAB >/dev/null 2>&1 && echo up)" = up ] && was="$was, lab up" || was="$was, lab gone"
timeout 60 "$NETLAB" down $LAB >$T/down.out 2>&1
down_rc=$?
if [ "$kind" = inject ]; then
	# strace ends with the last process it follows.
	for _ in $(seq 100); do kill -0 $st 2>/dev/null || break; sleep 0.05; done
	kill -9 $st 2>/dev/null
	wait $st 2>/dev/null
fi
now=$(snapshot | sort)
if [ "$base" = "$now" ] && [ $down_rc = 0 ]; then
	verdict="clean ($was)"
elif [ $down_rc != 0 ]; then
	verdict="LEAK: down failed: $(tr '\n' ' ' <$T/down.out | head -c 300)"
else
	verdict="LEAK ($was): $(diff <(echo "$base") <(echo "$now") | grep '^[<>]' | tr '\n' ' ' | head -c 400)"
fi
reaches() {
	for _ in 1 2 3; do
		"$NETLAB" exec $LAB b ping -c 1 -W 2 172.31.0.2 >/dev/null 2>&1 && return 0
	done
	return 1
}
if "$NETLAB" up $T/lab.topo >$T/fresh.out 2>&1 && reaches &&
	"$NETLAB" down $LAB >/dev/null 2>&1 && [ "$base" = "$(snapshot | sort)" ]; then
	verdict="$verdict; fresh up works"
else
	verdict="$verdict; fresh up FAILED: $(tr '\n' ' ' <$T/fresh.out | head -c 300)"
	"$NETLAB" down $LAB >/dev/null 2>&1
fi
echo "$verdict"
