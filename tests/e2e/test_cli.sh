# The command line with labs up: exit status 3 for no such lab or node, an
# idempotent down, every status --json output against docs/json.md, tables
# sized from their contents (32-character names, long file names), the
# progress bar clearing its line, completion of lab and node names.
. tests/e2e/lib.sh
sandbox_setup
before=$(host_snapshot)
SCHEMA=$(pwd)/tests/json_schema.py

# columns_aligned TEXT LEFT RIGHT: in TEXT (a heading line, then rows), the
# cells of each column start where its heading starts (columns in LEFT) or
# end where it ends (RIGHT); rows of free text (fewer cells) are skipped.
columns_aligned() {
	python3 - "$1" "$2" "$3" <<'PY'
import re, sys
lines = sys.argv[1].split("\n")
left, right = sys.argv[2].split(), sys.argv[3].split()
head = lines[0]
cols = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", head)]
bad = []
for row in lines[1:]:
    cells = [(m.start(), m.end()) for m in re.finditer(r"\S+(?: \S+)*", row)]
    if len(cells) < len(cols) - 1:
        continue
    for name, s, e in cols:
        if name in left and row[s:s + 1].strip() and (s == 0 or row[s - 1] == " "):
            continue
        if name in right and row[e - 1:e].strip() and row[e:e + 1] in ("", " "):
            continue
        if name in left and not row[s:].strip():
            continue  # an empty last cell
        if name in left + right:
            bad.append(f"{name} in: {row!r}")
print("\n".join(bad))
PY
}

L32=lab-with-a-name-of-32-characters
N32=node-with-a-name-of-32-character
long=$T/a-topology-file-with-a-name-longer-than-forty-characters.topo
cat >"$long" <<T
lab $L32
switch lan
node $N32
    ip eth0 10.1.0.1/24
    user 1000
    pids 64
    firewall input accept proto icmp
    firewall policy input drop
    run sleep 1000
node b
    ip eth0 10.1.0.2/24
link $N32:eth0 lan
link b:eth0 lan
T

# ---- no lab at all --------------------------------------------------------
"$NETLAB" exec web1 true 2>"$T/err"
check_eq "exec with no lab up exits 3" 3 $?
check_contains "... saying so" "no lab is up" "$(cat "$T/err")"
check_eq "down with no lab at all exits 0" 0 "$("$NETLAB" down >"$T/out" 2>&1; echo $?)"
check_contains "... and says there is nothing to do" "nothing to do" "$(cat "$T/out")"
check_eq "down --all with no lab exits 0" 0 "$("$NETLAB" down --all >/dev/null 2>&1; echo $?)"
check_eq "down LAB of a lab that is not up exits 0" 0 "$("$NETLAB" down two-webservers >"$T/out" 2>&1; echo $?)"
check_contains "... and says so" "lab two-webservers is not up; nothing to do" "$(cat "$T/out")"
"$NETLAB" status --json >"$T/s.json"
check "status --json with no lab matches docs/json.md" "$SCHEMA" labs "$T/s.json"
check_contains "... with an empty list" '"labs": [ ]' "$(tr -d '\n' <"$T/s.json" | tr -s ' ')"

# ---- two labs ---------------------------------------------------------------
check "up a lab whose names are 32 characters long" "$NETLAB" up "$long"
check "up two-webservers" "$NETLAB" up "$TOPO/two-webservers.topo"
check_eq "exec into a node that does not exist exits 3" 3 \
	"$("$NETLAB" exec two-webservers nosuch true 2>/dev/null; echo $?)"
check_eq "exec into a lab that is not up exits 3" 3 "$("$NETLAB" shell nosuch web1 </dev/null 2>/dev/null; echo $?)"
check_eq "a command's own status is not 3's business" 3 "$("$NETLAB" exec two-webservers web1 sh -c 'exit 3'; echo $?)"
check_eq "exec of a missing command exits 127" 127 "$("$NETLAB" exec two-webservers web1 no-such-cmd 2>/dev/null; echo $?)"
check_eq "shell into a node that does not exist exits 3" 3 \
	"$("$NETLAB" shell two-webservers nosuch </dev/null 2>/dev/null; echo $?)"
check_eq "logs of a node that does not exist exits 3" 3 "$("$NETLAB" logs two-webservers nosuch 2>/dev/null; echo $?)"
check_eq "logs of a lab that does not exist exits 3" 3 "$("$NETLAB" logs nosuch web1 2>/dev/null; echo $?)"
check_eq "status of a lab that does not exist exits 3" 3 "$("$NETLAB" status nosuch 2>/dev/null; echo $?)"
check_eq "status --firewall of a node that does not exist exits 3" 3 \
	"$("$NETLAB" status two-webservers --firewall nosuch 2>/dev/null; echo $?)"
check_eq "exec without a lab when two are up is a usage error (2)" 2 "$("$NETLAB" exec web1 true 2>/dev/null; echo $?)"
check_eq "down without a lab when two exist is a usage error (2)" 2 "$("$NETLAB" down 2>/dev/null; echo $?)"
check_eq "... and takes nothing down" "2" "$("$NETLAB" status | tail -n +2 | grep -c ' up ')"

# JSON, each kind against the documentation.
"$NETLAB" status --json >"$T/labs.json"
check "status --json matches docs/json.md" "$SCHEMA" labs "$T/labs.json"
for lab in two-webservers $L32; do
	"$NETLAB" status $lab --json >"$T/lab.json"
	check "status $lab --json matches docs/json.md" "$SCHEMA" lab "$T/lab.json"
	"$NETLAB" status $lab --ns --json >"$T/ns.json"
	check "status $lab --ns --json matches docs/json.md" "$SCHEMA" lab "$T/ns.json"
	"$NETLAB" status $lab --firewall --json >"$T/fw.json"
	check "status $lab --firewall --json matches docs/json.md" "$SCHEMA" firewall "$T/fw.json"
done
check_contains "the user's uid is in the JSON" '"uid": 1000' "$(cat "$T/lab.json")"
check_contains "the node's cgroup is in the JSON" "pids/netlab/$L32/$N32" "$(cat "$T/lab.json")"
"$NETLAB" exec $L32 b ping -c 2 -W 1 10.1.0.1 >/dev/null 2>&1
"$NETLAB" status $L32 --firewall $N32 --json >"$T/fw1.json"
check "status LAB --firewall NODE --json matches docs/json.md" "$SCHEMA" firewall "$T/fw1.json"
fw=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["nodes"]), *["%s:%s:%s:%s%s" % (r["line"], r["chain"], r["target"], r["policy"],
      "" if r["policy"] else ":%d" % (r["packets"] >= 2)) for n in d["nodes"] for r in n["rules"] if r["family"] == 4])
' "$T/fw1.json")
check_eq "--firewall NODE --json: one node, its rule (counting the pings) and its policy, with their lines" \
	"1 7:INPUT:ACCEPT:False:1 8:INPUT:DROP:True" "$fw"
check_contains "the statement text is in the JSON" '"statement": "firewall input accept proto icmp"' "$(cat "$T/fw1.json")"

# Tables: as wide as their contents.
st=$("$NETLAB" status)
check_eq "status lists both labs, aligned" "" "$(columns_aligned "$st" "LAB STATE TOPOLOGY" "NODES SUPERVISOR")"
check_contains "status shows the 32-character lab name whole" "$L32 " "$st"
st=$("$NETLAB" status $L32 | tail -n +4)
check_eq "status LAB: the columns stay aligned with a 32-character node name" "" \
	"$(columns_aligned "$st" "NODE NETNS IFACE STATE ADDRESSES" "PID")"
check_contains "status LAB shows the 32-character node name whole" "$N32 " "$st"
fw=$("$NETLAB" status $L32 --firewall $N32 | tail -n +2)
check_contains "--firewall shows the whole file name with the line" \
	"a-topology-file-with-a-name-longer-than-forty-characters.topo:7 " "$fw"
check_eq "--firewall: the columns stay aligned" "" \
	"$(columns_aligned "$fw" "WHERE IP TABLE CHAIN TARGET STATEMENT" "PACKETS BYTES")"
ns=$("$NETLAB" status $L32 --ns | sed -n '2,/^$/p' | grep -v '_map' | sed '/^$/d')
check_eq "--ns: the columns stay aligned" "" "$(columns_aligned "$ns" "TYPE NS USERNS PARENT OWNER-UID" "")"

# Completion of what is running (bash, through netlab __complete).
if [ -r /usr/share/bash-completion/bash_completion ]; then
	comp() {
		bash -c '. /usr/share/bash-completion/bash_completion; . completion/netlab.bash
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_netlab; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' comp "$@"
	}
	export PATH=$(dirname "$NETLAB"):$PATH
	check_eq "completion: status <TAB> offers the labs" "$L32 two-webservers " "$(comp netlab status '')"
	check_eq "completion: exec LAB <TAB> offers its nodes" "web1 web2 " "$(comp netlab exec two-webservers '')"
	check_eq "completion: logs LAB w<TAB>" "web1 web2 " "$(comp netlab logs two-webservers w)"
	check_eq "completion: status LAB --firewall <TAB> offers its nodes" "b $N32 " \
		"$(comp netlab status $L32 --firewall '')"
	check_contains "completion: down <TAB> offers the labs" "two-webservers" "$(comp netlab down '')"
	check_contains "completion: exec LAB NODE <TAB> offers commands" " ping " " $(comp netlab exec two-webservers web1 pin)"
else
	echo "skip - completion of labs: bash-completion is not installed"
fi

# A crash, then down without a name: the one lab that exists, cleaned.
check "down two-webservers" "$NETLAB" down two-webservers
sup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor"]["pid"])' /run/netlab/$L32/state.json)
kill -9 "$sup"
for _ in $(seq 50); do [ -z "$(pgrep -x netlab-init)" ] && break; sleep 0.1; done
"$NETLAB" status --json >"$T/stale.json"
check "status --json of a crashed lab matches docs/json.md" "$SCHEMA" labs "$T/stale.json"
check_contains "... and says stale" '"state": "stale"' "$(cat "$T/stale.json")"
check_eq "status LAB of a crashed lab exits 0 (it has state)" 0 "$("$NETLAB" status $L32 >/dev/null 2>&1; echo $?)"
check_eq "exec into a crashed lab exits 3" 3 "$("$NETLAB" exec $L32 b true 2>/dev/null; echo $?)"
check "down without a name takes down the crashed lab" "$NETLAB" down
check_eq "and nothing is left" "$before" "$(host_snapshot)"
check_eq "down again: nothing to do, exit 0" 0 "$("$NETLAB" down >/dev/null 2>&1; echo $?)"

# The progress bar (a terminal, over 50 nodes): each redraw clears the
# rest of its line, so a shorter one leaves nothing of the one before.
if command -v script >/dev/null 2>&1; then
	cat >"$T/big.topo" <<'T'
lab big
switch s
node h[1..60]
    ip eth0 10.2.0.{i}/24
link h[1..60]:eth0 s
T
	script -qec "$NETLAB up $T/big.topo" "$T/typescript" >/dev/null 2>&1
	check_eq "up of 60 nodes on a terminal succeeds" 0 $?
	res=$(python3 - "$T/typescript" <<'PY'
import sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
draws = raw.split("\r")[1:]
bars = [d for d in draws if "[" in d and "/" in d]
bad = [d for d in bars if not d.rstrip("\n").endswith("\x1b[K")]
print(len(bars) > 0, len(bad), any(d.startswith("\x1b[K") for d in draws))
PY
)
	check_eq "the bar was drawn, every redraw ends by clearing its line, and the bar is cleared at the end" \
		"True 0 True" "$res"
	check "down big" "$NETLAB" down big
else
	echo "skip - progress bar: script(1) is not installed"
fi
check_eq "nothing left at the end" "$before" "$(host_snapshot)"
finish
