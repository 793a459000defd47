# A bad environment: damaged, missing or foreign state files, names that
# would be paths, /run/netlab that is a file, read-only or full.  Every
# case gives a clear message in bounded time and leaks nothing; `down`
# finds what a lab left from the kernel (its supervisor by its beacon,
# host links by their alias, host rules by their tag, shared settings by
# the lab's name) and never says "down" while something remains.
. tests/e2e/lib.sh
sandbox_setup
sysctl -qw net.ipv4.ip_forward=0
before=$(host_snapshot notmp)

cat >$T/h.topo <<'TOPO'
lab badstate
node n1
    ip eth0 10.9.0.2/24
    route default via 10.9.0.1
    run sleep 1000
node n2
    ip eth0 10.8.0.2/24
    memory 64M
node host
    ip hn0 10.9.0.1/24
    ip hn1 10.8.0.1/24
    forward
    nat masquerade hn0
link n1:eth0 host:hn0
link n2:eth0 host:hn1
TOPO
leftovers() {
	{
		ip -o link show | grep -E 'hn[01]' | sed 's/^[0-9]*: //; s/[:@].*//'
		iptables-legacy-save | grep -c 'netlab:badstate '
		sysctl -n net.ipv4.ip_forward
		pgrep -x netlab-init | wc -l
		ls /sys/fs/cgroup/*/netlab/badstate 2>/dev/null | wc -l
	} | tr '\n' ' '
}
ms() { echo $(($(date +%s%N) / 1000000)); }

damage() {
	case $1 in
	empty) : >/run/netlab/badstate/state.json ;;
	garbage) head -c 3000 /dev/urandom >/run/netlab/badstate/state.json ;;
	braces) echo '{}' >/run/netlab/badstate/state.json ;;
	other-lab) sed -i 's/"lab":"badstate"/"lab":"x"/; s/"lab": "badstate"/"lab": "x"/' /run/netlab/badstate/state.json ;;
	bad-node-name) sed -i 's/"name":"n1"/"name":"..\/..\/etc"/; s/"name": "n1"/"name": "..\/..\/etc"/' /run/netlab/badstate/state.json ;;
	symlink) rm /run/netlab/badstate/state.json; ln -s /etc/hostname /run/netlab/badstate/state.json ;;
	foreign-owner) chown 1000 /run/netlab/badstate/state.json ;;
	missing) rm /run/netlab/badstate/state.json /run/netlab/badstate/nodes.idx ;;
	no-dir) rm -rf /run/netlab/badstate ;;
	esac
}

for how in empty garbage braces other-lab bad-node-name symlink foreign-owner missing no-dir; do
	check "[$how] up" "$NETLAB" up $T/h.topo
	damage $how
	t0=$(ms)
	out=$("$NETLAB" down badstate 2>&1)
	rc=$?
	t=$(($(ms) - t0))
	check_eq "[$how] down succeeds" 0 "$rc"
	check_contains "[$how] down says the lab is down" "lab badstate is down" "$out"
	case $how in
	missing | no-dir) ;;
	*) check_contains "[$how] down says why the state was no use" "state.json" "$out" ;;
	esac
	check_eq "[$how] no host link, rule, forwarding, init or cgroup left" "0 0 0 0 " "$(leftovers)"
	check_eq "[$how] the sandbox is as before" "$before" "$(host_snapshot notmp)"
	check "[$how] down took under 5 s ($t ms)" test $t -lt 5000
done
check "up" "$NETLAB" up $T/h.topo
rm -rf /run/netlab/badstate
check_contains "down --all finds a lab whose state directory is gone" "lab badstate is down" "$("$NETLAB" down --all 2>&1)"
check_eq "... and leaves nothing" "0 0 0 0 " "$(leftovers)"
check "after all that, up works" "$NETLAB" up $T/h.topo
check "and down" "$NETLAB" down badstate
check_eq "nothing left" "$before" "$(host_snapshot notmp)"

# status and exec with a damaged state: a clear error, not a silent one.
"$NETLAB" up $T/h.topo >/dev/null
echo 'not json' >/run/netlab/badstate/state.json
out=$("$NETLAB" status badstate 2>&1)
check_contains "status names the damaged state" "state.json is damaged" "$out"
out=$("$NETLAB" down badstate 2>&1)
check_contains "down after that" "lab badstate is down" "$out"

# Names are never paths.  A honeypot state where "../../tmp/x" would lead:
# a nodes.idx naming this shell and a cgroup of ours.
mkdir -p $T/honey/x
echo "netlab-index 2
S	$$	1
L	0	1	$T/h.topo
N	n	$$	$(awk '{print $22}' /proc/$$/stat)	0	0	0	0	0	0	0	0	1	$T/honey/cg" >$T/honey/x/nodes.idx
: >$T/honey/cg
"$NETLAB" up $T/h.topo >/dev/null
rel=$(realpath --relative-to=/run/netlab $T/honey/x)
out=$("$NETLAB" exec "$rel" n true 2>&1)
check_eq "exec ../…/x N is refused" 1 $?
check_contains "... naming the bad name" "is not a node name" "$out"
check_eq "... and nothing was written where it pointed" "" "$(cat $T/honey/cg)"
for verb in "status $rel" "logs $rel n1" "logs badstate ../../../etc/passwd" "status badstate --firewall ../x"; do
	out=$("$NETLAB" $verb 2>&1)
	rc=$?
	check "$verb is refused" test $rc != 0
done
out=$("$NETLAB" down "$rel" 2>&1)
check_eq "down ../…/x is refused" 2 $?
check_contains "... as no lab name" "neither a lab name nor a topology file" "$out"
out=$("$NETLAB" up $T/h.topo --name -x 2>&1)
check_eq "a lab named -x cannot be made" 2 $?
printf 'lab -x\nnode a\n' >$T/dash.topo
check_contains "check refuses lab -x with FILE:LINE:COL" "$T/dash.topo:1:5: error: invalid lab name '-x'" \
	"$("$NETLAB" check $T/dash.topo 2>&1)"
check "down -- LAB takes a name after --" "$NETLAB" down -- badstate
check_eq "nothing left" "$before" "$(host_snapshot notmp)"

# `up` checks what `node host` names before changing anything.
cat >$T/dnat.topo <<'TOPO'
lab dnat
node n1
    ip eth0 10.7.0.2/24
node host
    ip hd 10.7.0.1/24
    nat dnat eth9 tcp 8080 10.7.0.2:80
link n1:eth0 host:hd
TOPO
out=$("$NETLAB" up $T/dnat.topo 2>&1)
check_eq "nat dnat on a host interface that does not exist: up fails" 1 $?
check_contains "... naming the line and the interface" "node host ($T/dnat.topo:6): nat names interface eth9, which the host does not have" "$out"
check_eq "... having changed nothing" "$before" "$(host_snapshot notmp)"
check_eq "... no rule either" "0" "$(iptables-legacy-save | grep -c netlab:)"

# Tagged rules beyond any fixed count, in every table: a crashed lab's
# 600 rules in one chain (libiptc walks stopped at 512), and in mangle.
for i in $(seq 600); do echo "-A FORWARD -s 10.$((i / 256)).$((i % 256)).0/24 -m comment --comment \"netlab:gone x.topo:$i\" -j ACCEPT"; done >$T/rules
{ echo "*filter"; cat $T/rules; echo COMMIT; echo "*mangle"; echo "-A PREROUTING -m comment --comment \"netlab:gone x.topo:1\" -j ACCEPT"; echo COMMIT; } | iptables-legacy-restore -n
iptables-legacy -A FORWARD -m comment --comment "netlab:gone2 y.topo:1" -j ACCEPT
check_eq "600 tagged rules in FORWARD and one in mangle" "601" "$(iptables-legacy-save | grep -c 'netlab:gone ')"
out=$("$NETLAB" down gone 2>&1)
check_contains "down of a lab with no state but its rules: down" "lab gone is down" "$out"
check_eq "every one of its rules is gone, in every table" "0" "$(iptables-legacy-save | grep -c 'netlab:gone ')"
check_eq "another lab's rule stays" "1" "$(iptables-legacy-save | grep -c 'netlab:gone2 ')"
iptables-legacy -D FORWARD -m comment --comment "netlab:gone2 y.topo:1" -j ACCEPT

# /run/netlab as a file, read-only, full: on a /run of the sandbox's own,
# so that nothing here touches the machine's /run (whose /run/netlab may
# not be empty).
umount /run/netlab
mount -t tmpfs -o mode=755 netlab-run /run
echo file >/run/netlab
out=$("$NETLAB" status 2>&1)
check_eq "/run/netlab a file: status fails" 1 $?
check_contains "... saying so" "/run/netlab is not a directory" "$out"
out=$("$NETLAB" up $T/h.topo 2>&1)
check_eq "/run/netlab a file: up fails" 1 $?
check_contains "... saying so" "/run/netlab" "$out"
rm /run/netlab
mkdir /run/netlab
mount -t tmpfs -o mode=755 netlab-test /run/netlab
mount -o remount,ro /run/netlab
out=$("$NETLAB" up $T/h.topo 2>&1)
check_eq "read-only /run/netlab: up fails" 1 $?
check_contains "... saying why" "Read-only file system" "$out"
check_eq "... leaving nothing" "0 0 0 0 " "$(leftovers)"
check_contains "read-only /run/netlab: status works" "no labs are up" "$("$NETLAB" status 2>&1)"
mount -o remount,rw,size=64k /run/netlab
head -c 60000 /dev/zero >/run/netlab/filler 2>/dev/null
t0=$(ms)
out=$("$NETLAB" up $T/h.topo 2>&1)
rc=$?
check_eq "full /run/netlab: up fails" 1 $rc
check_contains "... saying why" "No space left on device" "$out"
check "... in bounded time" test $(($(ms) - t0)) -lt 10000
check_eq "... leaving nothing in the host" "0 0 0 0 " "$(leftovers)"
check_eq "... nor in /run/netlab" "filler" "$(ls -A /run/netlab)"
rm /run/netlab/filler
check "with room again, up works" "$NETLAB" up $T/h.topo
check "and down" "$NETLAB" down badstate
# The sandbox's mounts as they were.
umount /run/netlab
umount /run
mount -t tmpfs -o mode=755 netlab-test /run/netlab
check_eq "nothing left" "$before" "$(host_snapshot notmp)"
finish
