# --untrusted (up and test): a student's topology may build a lab, but each
# statement that could reach the grader's machine is refused with its
# FILE:LINE:COL, and nothing is created.
. tests/e2e/lib.sh
sandbox_setup
before=$(host_snapshot notmp)
S=$T/submission
mkdir -p $S/www $T/elsewhere
echo secret >$T/elsewhere/secret
ln -s $T/elsewhere $S/link-out

base='switch lan
node a
    ip eth0 10.0.0.1/24
node b
    ip eth0 10.0.0.2/24
link a:eth0 lan
link b:eth0 lan
expect a reach b
'
# refused NAME LINE:COL MESSAGE EXTRA-LINES: the file is base + extra lines.
refused() {
	local name=$1 where=$2 msg=$3
	printf '%s%s\n' "$base" "$4" >$S/$name.topo
	check "$name: the file itself is valid (check)" "$NETLAB" check -q $S/$name.topo
	out=$("$NETLAB" up --untrusted $S/$name.topo 2>&1)
	check_eq "$name: up --untrusted exits 2" 2 "$?"
	check_contains "$name: refused at $name.topo:$where" "$S/$name.topo:$where: error: --untrusted: $msg" "$out"
	check_contains "$name: with the line and a caret" "^" "$out"
	out=$("$NETLAB" test --up --untrusted $S/$name.topo 2>&1)
	check_eq "$name: test --up --untrusted exits 2" 2 "$?"
	check_contains "$name: test refuses it too" "$name.topo:$where: error: --untrusted" "$out"
	check_eq "$name: nothing was created" "" "$(ls /run/netlab)"
}

refused lab-userns-off 9:7 "'userns off' would make the root of every node the host's root" "lab x userns off"
refused node-userns-off 10:5 "'userns off' would make the root of node 'c' the host's root" "node c
    userns off"
refused host-link 10:13 "host:h0 would put an interface into the namespace netlab runs in" "node c
link c:eth0 host:h0"
refused node-host 11:6 "'node host' would change the namespace netlab runs in" "node c
link c:eth0 b:eth1
node host
    forward"
refused rootfs-outside 10:12 "rootfs '/usr' is outside the topology's directory" "node c
    rootfs /usr"
refused mount-outside 10:11 "mount source '$T/elsewhere' is outside the topology's directory" "node c
    mount $T/elsewhere /mnt ro"
refused files-outside 10:11 "files '/etc' is outside the topology's directory" "node c
    files /etc"
refused mount-symlink-out 10:11 "mount source '$S/link-out' is outside the topology's directory" "node c
    mount $S/link-out /mnt ro"

# Several at once: every one of them, in one pass.
printf '%slab x userns off\nnode c\n    mount /etc /mnt\nlink c:eth0 host:h0\n' "$base" >$S/many.topo
out=$("$NETLAB" up --untrusted $S/many.topo 2>&1)
check_contains "several: all reported in one pass" "3 errors" "$out"

# What stays allowed: mounts inside the submission, every node in its
# own user namespace; the lab comes up and is tested.
printf '%snode c\n    ip eth0 10.0.0.3/24\n    mount %s/www /srv ro\nlink c:eth0 lan\nexpect c reach a\n' "$base" "$S" >$S/fine.topo
check "a mount inside the submission is fine: test --up --untrusted passes" "$NETLAB" test --up --untrusted $S/fine.topo

check_eq "no netlab process is left" "" "$(netlab_procs)"
check_eq "the sandbox is exactly as before" "$before" "$(host_snapshot notmp)"
finish
