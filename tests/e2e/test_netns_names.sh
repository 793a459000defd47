# netlab up --netns-names: every node's network namespace named LAB-NODE
# for ip netns (list, exec, identify), recorded in state.json, removed by
# down, also after a crash; a name that exists is never taken over.
. tests/e2e/lib.sh
# /run/netns of this sandbox only: a tmpfs over it (over /run when the
# machine has none, so that nothing is created in the machine's /run).
if [ -d /run/netns ]; then
	mount -t tmpfs -o mode=755 netlab-test-netns /run/netns
else
	mount -t tmpfs -o mode=755 netlab-test-run /run
	mkdir /run/netns
fi
sandbox_setup
before=$(host_snapshot)
SCHEMA=$(pwd)/tests/json_schema.py
LAB=two-webservers

check_eq "without --netns-names, ip netns shows nothing" "" "$("$NETLAB" up "$TOPO/two-webservers.topo" >/dev/null; ip netns list)"
check "down" "$NETLAB" down $LAB

out=$("$NETLAB" up "$TOPO/two-webservers.topo" --netns-names 2>&1)
check_eq "up --netns-names succeeds" 0 $?
check_contains "up says where the names are" "network namespaces named $LAB-NODE in /run/netns" "$out"
check_eq "ip netns list shows every node" "$LAB-web1 $LAB-web2" "$(ip netns list | awk '{print $1}' | sort | tr '\n' ' ' | sed 's/ $//')"
check_contains "ip netns exec LAB-web1 sees web1's address" "192.168.0.1/24" \
	"$(ip netns exec $LAB-web1 ip -o -4 addr show dev eth0 2>&1)"
check "ip netns exec LAB-web2 pings web1 across the lab" ip netns exec $LAB-web2 ping -c 1 -W 2 192.168.0.1
init=$(python3 -c 'import json,sys; print([n for n in json.load(open(sys.argv[1]))["nodes"] if n["name"] == "web1"][0]["pid"])' \
	/run/netlab/$LAB/state.json)
check_eq "the name is web1's network namespace itself" "$(stat -L -c %i /proc/$init/ns/net)" \
	"$(stat -L -c %i /run/netns/$LAB-web1)"
check_eq "ip netns identify finds web1's init" "$LAB-web1" "$(ip netns identify "$init")"
check_contains "state.json records the names" '"netns_names":["two-webservers-web1","two-webservers-web2"]' \
	"$(tr -d ' \n' </run/netlab/$LAB/state.json)"
check_contains "status shows a node's name" "netns: $LAB-web1" "$("$NETLAB" status $LAB)"
"$NETLAB" status $LAB --json >"$T/lab.json"
check "status --json matches docs/json.md" "$SCHEMA" lab "$T/lab.json"
check_contains "status --json has netns_name" "\"netns_name\": \"$LAB-web2\"" "$(cat "$T/lab.json")"
# One node comes from the index (lab/state_index.c): the same lab fields
# and the same node as in the whole lab's status.
"$NETLAB" status $LAB web2 --json >"$T/one.json"
check "status LAB NODE --json matches docs/json.md" "$SCHEMA" lab "$T/one.json"
diff=$(python3 - "$T/lab.json" "$T/one.json" <<'PY'
import json, sys
a, b = (json.load(open(f))["lab"] for f in sys.argv[1:])
for k in ("lab", "state", "topology", "created", "supervisor_pid", "node_count"):
    if a.get(k) != b.get(k): print(k, a.get(k), b.get(k))
na = [n for n in a["nodes"] if n["name"] == "web2"][0]
if len(b["nodes"]) != 1: print("nodes", len(b["nodes"]))
for k in ("name", "pid", "alive", "isolation", "restarts", "netns_name", "namespaces", "interfaces"):
    if na.get(k) != b["nodes"][0].get(k): print(k, na.get(k), b["nodes"][0].get(k))
PY
)
check_eq "status LAB NODE shows what status LAB shows of the lab and that node" "" "$diff"
check "down" "$NETLAB" down $LAB
check_eq "down removes the names" "" "$(ip netns list)"
check_eq "and leaves nothing (links, addresses, routes, mounts, /run/netlab)" "$before" "$(host_snapshot)"

# After a crash: the names keep the nodes' network namespaces; down removes them.
check "up --netns-names again" "$NETLAB" up "$TOPO/two-webservers.topo" --netns-names
sup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor"]["pid"])' /run/netlab/$LAB/state.json)
kill -9 "$sup"
for _ in $(seq 50); do [ -z "$(pgrep -x netlab-init)" ] && break; sleep 0.1; done
check_eq "after a crash the names are still there" 2 "$(ip netns list | wc -l)"
check "and still lead to a network namespace (its lo)" ip netns exec $LAB-web1 ip link show lo
check "down after the crash" "$NETLAB" down $LAB
check_eq "removes the names" "" "$(ip netns list)"
check_eq "and leaves nothing" "$before" "$(host_snapshot)"

# A name that exists is not ours: up fails, rolls back, leaves it alone.
ip netns add $LAB-web2
out=$("$NETLAB" up "$TOPO/two-webservers.topo" --netns-names 2>&1)
check_eq "up --netns-names with a name taken by ip netns add exits 1" 1 $?
check_contains "and says which" "/run/netns/$LAB-web2 exists already" "$out"
check_contains "and rolls back" "rolled back" "$out"
check_eq "the other name is left alone" "$LAB-web2" "$(ip netns list | awk '{print $1}')"
check_eq "no lab is left" "no labs are up" "$("$NETLAB" status)"
ip netns del $LAB-web2
check_eq "and nothing else" "$before" "$(host_snapshot)"

# Two labs whose names meet: a + b-c and a-b + c are both a-b-c.
printf 'lab a\nnode b-c\n' >"$T/a.topo"
printf 'lab a-b\nnode c\n' >"$T/ab.topo"
check "up lab a --netns-names" "$NETLAB" up "$T/a.topo" --netns-names
out=$("$NETLAB" up "$T/ab.topo" --netns-names 2>&1)
check_eq "up of a lab whose name meets another's fails" 1 $?
check_contains "naming the name" "/run/netns/a-b-c exists already" "$out"
check "the first lab's name still works" ip netns exec a-b-c true
check_eq "and is still the first lab's node" "$(stat -L -c %i /run/netns/a-b-c)" \
	"$(stat -L -c %i /proc/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["nodes"][0]["pid"])' /run/netlab/a/state.json)/ns/net)"
check "the second lab comes up without names" "$NETLAB" up "$T/ab.topo"
check "down --all" "$NETLAB" down --all
check_eq "no name is left" "" "$(ip netns list)"

check_eq "--netns-names does not go with --dry-run (2)" 2 \
	"$("$NETLAB" up "$TOPO/two-webservers.topo" --dry-run --netns-names >/dev/null 2>&1; echo $?)"
check_eq "nothing left at the end" "$before" "$(host_snapshot)"
finish
