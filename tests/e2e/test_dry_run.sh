#!/usr/bin/env bash
# `netlab up --dry-run` shows the whole plan of every example: each address,
# route, sysctl, forward, firewall/nat rule, mount and command statement of
# the file appears as an operation with its line, in the text and in the
# JSON, and planning changes nothing on the machine.
. "$(dirname "$0")/lib.sh"
sandbox_setup
before=$(host_snapshot notmp)

# The statements that must each give at least one operation, by line.
statement_lines() {
	awk '/^[ \t]*(ip|route|sysctl|forward|firewall|nat|exec|run|mount|tmpfs)[ \t]/ || /^[ \t]*forward[ \t]*$/ {print NR}' "$1" | sort -un
}

for f in "$TOPO"/*.topo "$TOPO"/*/*.topo; do
	name=$(basename "$f")
	if ! "$NETLAB" up "$f" --dry-run >$T/plan.txt 2>$T/plan.err; then
		not_ok "$name: --dry-run failed: $(head -3 $T/plan.err)"
		continue
	fi
	if ! "$NETLAB" up "$f" --dry-run --json >$T/plan.json 2>$T/plan.err; then
		not_ok "$name: --dry-run --json failed"
		continue
	fi
	missing=$(python3 - "$T/plan.json" $(statement_lines "$f") <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
assert plan["schema"] == "netlab/1" and plan["kind"] == "plan", "envelope"
lines = {op.get("line") for op in plan["operations"]}
print(" ".join(l for l in sys.argv[2:] if int(l) not in lines))
PY
	)
	check_eq "$name: every statement line is an operation in the JSON plan" "" "$missing"
	text_missing=""
	for l in $(statement_lines "$f"); do
		grep -q ":$l\$" $T/plan.txt || text_missing="$text_missing $l"
	done
	check_eq "$name: and in the text plan" "" "$text_missing"
done

# What the text says for one example, in the words a reader looks for.
"$NETLAB" up "$TOPO/nat-router.topo" --dry-run >$T/nat.txt
check_contains "masquerade as an iptables command" "iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE" "$(cat $T/nat.txt)"
check_contains "the port forward" "-j DNAT --to-destination 10.0.0.11:8080" "$(cat $T/nat.txt)"
check_contains "forwarding on the router" "sysctl net.ipv4.ip_forward=1" "$(cat $T/nat.txt)"
check_contains "h1's default route" "route default via 10.0.0.1" "$(cat $T/nat.txt)"
check_contains "grouped by node" "node router" "$(cat $T/nat.txt)"
check_fails "--json without --dry-run is a usage error" "$NETLAB" up "$TOPO/nat-router.topo" --json
check_eq "planning touched nothing" "$before" "$(host_snapshot notmp)"
check_eq "no lab was started" "" "$(ls /run/netlab)"
finish
