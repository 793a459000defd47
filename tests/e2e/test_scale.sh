# A lab big enough that the supervisor holds hundreds of fds (each node
# costs it four): every node must still get exactly its own channel, and
# one-request group deletion must take every link away on `down`.  Over
# 256 ports: the lab's requests go out in several batches (apply.c).
. tests/e2e/lib.sh
sandbox_setup
before=$(host_snapshot)
N=300
{
	echo "lab scale"
	echo "switch lan"
	for i in $(seq 1 $N); do
		printf 'node h%d\n    ip eth0 10.1.%d.%d/16\nlink h%d:eth0 lan\n' "$i" $((i / 250)) $((i % 250 + 1)) "$i"
	done
} >$T/scale.topo
check "up of a $N-node star" "$NETLAB" up $T/scale.topo
check_eq "every node runs an init" "$N" "$(pgrep -cx netlab-init)"
check "the last node reaches the first" "$NETLAB" exec scale h$N ping -c 1 -W 2 10.1.0.2
check "the first node reaches the last" "$NETLAB" exec scale h1 ping -c 1 -W 2 10.1.$((N / 250)).$((N % 250 + 1))
check_eq "a middle node has its own hostname" "h61" "$("$NETLAB" exec scale h61 hostname)"
# Each node's netns got its id in the lab's before its port was made, each
# smaller than the one before (apply.c: the kernel then finds it first):
# the ports' peers, in the order they were made, are 2^30, 2^30 - 1, ...
sup=$("$NETLAB" status --json | python3 -c 'import json, sys; print([l["supervisor_pid"] for l in json.load(sys.stdin)["labs"] if l["lab"] == "scale"][0])')
ids=$(nsenter -t "$sup" -n ip -d -o link show type veth | sed -n 's/.*link-netnsid \([0-9]*\).*/\1/p')
check_eq "every switch port's peer has an id in the lab" "$N" "$(printf '%s\n' "$ids" | grep -c .)"
check_eq "... netlab's, one per node, in descending order" \
	"$(seq $((1 << 30)) -1 $(((1 << 30) - N + 1)) | tr '\n' ' ')" "$(printf '%s\n' "$ids" | tr '\n' ' ')"
# A node that is not there: the first 20 names, not all of them, and the
# nearest name.
out=$("$NETLAB" exec scale h1200 true 2>&1)
check_contains "unknown node: the first names" "(nodes: h1 h2 h3" "$out"
check_contains "unknown node: how many more, not all of them" "... and $((N - 20)) more: netlab status scale)" "$out"
check_contains "unknown node: the nearest name" "did you mean 'h61'?" "$("$NETLAB" exec scale h61x true 2>&1)"
# status LAB NODE: that node alone (the kernel is asked about it only).
out=$("$NETLAB" status scale h61 2>&1)
check_contains "status LAB NODE shows the node" "h61" "$out"
check_eq "... and no other node" "" "$(printf '%s\n' "$out" | awk '$1 ~ /^h[0-9]+$/ && $1 != "h61"')"
check_eq "status LAB NODE --json: one node" "h61" \
	"$("$NETLAB" status scale h61 --json | python3 -c 'import json, sys; print(" ".join(n["name"] for n in json.load(sys.stdin)["nodes"]))')"
"$NETLAB" status scale h61 --json >$T/one.json
check "... which follows docs/json.md" python3 tests/json_schema.py lab $T/one.json
"$NETLAB" status scale h999999 >/dev/null 2>&1
check_eq "status LAB NODE of no such node exits 3" 3 "$?"
check "down" "$NETLAB" down scale
check_eq "no process left" "" "$(netlab_procs)"
check_eq "sandbox unchanged" "$before" "$(host_snapshot)"
# On a terminal a lab over 50 nodes gets a progress bar; piped, up is silent
# but for its one result line.
if command -v script >/dev/null; then
	out=$(script -qec "$NETLAB up $T/scale.topo" /dev/null 2>&1)
	check_contains "on a terminal: a progress bar" "nodes      [########################################] $N/$N" "$out"
	check_contains "on a terminal: the result line" "lab scale is up: $N nodes" "$out"
	check "and goes down again" "$NETLAB" down scale
else
	echo "skip - test_scale: no 'script' command to give netlab a terminal (util-linux's bsdutils)"
fi
out=$("$NETLAB" up $T/scale.topo 2>&1)
check_eq "piped: an immediate second up prints one line, no bar" 1 "$(printf '%s\n' "$out" | wc -l)"
check "and goes down again" "$NETLAB" down scale
finish
