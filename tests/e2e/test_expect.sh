# `expect` and `netlab test`: a firewall exercise whose expectations hold
# but one, in TAP, JUnit and JSON; --up brings the lab up and takes it down;
# probes in a busybox node with no tools; `within` waits for convergence;
# --all-pairs.
. tests/e2e/lib.sh
sandbox_setup
before=$(host_snapshot notmp)

# The course's firewall exercise (topologies/firewall-lab.topo), graded:
# everything it should do, plus one expectation that is false (
# the server cannot open a connection to the client's 8080, the firewall
# rejects it).
sed '/^lab /d; /^expect /d' "$TOPO/firewall-lab.topo" >$T/fwlab.topo
cat >>$T/fwlab.topo <<'T'
expect client reach server
expect client reach server tcp 80 within 10
expect client reach server tcp 80 v6 within 10
expect client reach fw
expect server reach fw:eth1
expect server noreach client
expect server noreach client tcp 8080 v4
expect server noreach client tcp 8080 v6
expect server reach client tcp 8080
expect fw route 10.2.0.0/24
expect client route default via 10.1.0.1
expect server exec test -d /tmp
T
false_line=$(grep -n 'expect server reach client tcp 8080' $T/fwlab.topo | cut -d: -f1)
check "the graded exercise is a valid topology" "$NETLAB" check $T/fwlab.topo

out=$("$NETLAB" test --up $T/fwlab.topo 2>$T/err)
rc=$?
check_eq "test --up exits 1 when one expectation fails" 1 "$rc"
check_eq "TAP plan: 1..12" "1..12" "$(echo "$out" | head -1)"
check_eq "exactly one not ok" 1 "$(echo "$out" | grep -c '^not ok ')"
check_eq "eleven ok" 11 "$(echo "$out" | grep -c '^ok ')"
check_eq "the not ok names the false expectation and its line" \
	"not ok 9 - server reach client tcp 8080 (fwlab.topo:$false_line)" \
	"$(echo "$out" | grep '^not ok' | sed 's/ # .*//')"
check_contains "and says why (refused by the reject rule)" "connection refused" "$(echo "$out" | grep '^not ok')"
check_contains "ok lines carry the statement and FILE:LINE" "ok 6 - server noreach client (fwlab.topo:" "$out"
check_eq "--up took the lab down again" "" "$(ls /run/netlab)"

check "up the lab to test it while it runs" "$NETLAB" up $T/fwlab.topo
xml=$("$NETLAB" test fwlab --format junit)
check_eq "JUnit: exit 1" 1 "$?"
check_eq "JUnit parses (xml.etree): 12 tests, 1 failure, naming it" "12 1 server reach client tcp 8080" \
	"$(echo "$xml" | python3 -c '
import sys, xml.etree.ElementTree as E
r = E.parse(sys.stdin).getroot()
s = r.find("testsuite")
f = [c.get("name") for c in s.findall("testcase") if c.find("failure") is not None]
print(s.get("tests"), s.get("failures"), " ".join(f))')"
js=$("$NETLAB" test --format json)
check_eq "JSON: exit 1" 1 "$?"
check_eq "JSON parses: 12 tests, 11 passed, the failed one" "12 11 server reach client tcp 8080" \
	"$(echo "$js" | python3 -c '
import sys, json
d = json.load(sys.stdin)
print(d["tests"], d["passed"], " ".join(r["expect"] for r in d["results"] if not r["ok"]))')"

# The expectations hold for the right reason: what crossed the network.
check "client really reaches server:80" "$NETLAB" exec fwlab client curl -s -m 3 -o /dev/null http://10.2.0.10/
check_fails "server really cannot reach client:8080" "$NETLAB" exec fwlab server curl -s -m 3 -o /dev/null http://10.1.0.10:8080/

# A grader's view of all pairs (Mininet's pingall).
pairs=$("$NETLAB" test fwlab --all-pairs)
check_eq "--all-pairs exits 1 (the server cannot ping the client)" 1 "$?"
check_contains "the matrix: client reaches both" "client -> fw server" "$pairs"
check_contains "the matrix: server cannot reach client" "server -> X fw" "$pairs"
check_contains "and a results line" "*** Results: 16% dropped (5/6" "$pairs"
check "down" "$NETLAB" down fwlab

check "the shipped exercise passes its own expectations" "$NETLAB" test --up "$TOPO/firewall-lab.topo"

# All true: exit 0.
grep -v "expect server reach client tcp 8080$" $T/fwlab.topo >$T/good.topo
check "test --up exits 0 when every expectation holds" "$NETLAB" test --up $T/good.topo

# `within`: retried until true (a route that appears after a second).
cat >$T/conv.topo <<'T'
switch lan
node a
    ip eth0 10.0.0.1/24
    run sh -c 'sleep 1.5; ip route add 10.9.0.0/16 via 10.0.0.2'
node b
    ip eth0 10.0.0.2/24
link a:eth0 lan
link b:eth0 lan
expect a route 10.9.0.0/16 via 10.0.0.2 within 6
T
check "within: a route that converges later holds" "$NETLAB" test --up $T/conv.topo
sed -i 's/ within 6//' $T/conv.topo
check_fails "without within: one try, before it exists" "$NETLAB" test --up $T/conv.topo

# Usage and topology errors exit 2.
check_eq "a bad topology: exit 2" 2 "$("$NETLAB" test --up /nonexistent.topo >/dev/null 2>&1; echo $?)"
check_eq "an unknown format: exit 2" 2 "$("$NETLAB" test --format xml $T/good.topo >/dev/null 2>&1; echo $?)"

# Probes are netlab's own code: a busybox node with no ping, no curl.
if /bin/busybox --list >/dev/null 2>&1 && scripts/make-busybox-rootfs.sh $T/rootfs >/dev/null; then
	rm -f $T/rootfs/bin/ping $T/rootfs/bin/ping6 $T/rootfs/usr/bin/wget $T/rootfs/bin/nc $T/rootfs/usr/bin/nc
	cat >$T/bb.topo <<T
switch lan
node bb
    rootfs $T/rootfs
    ip eth0 10.0.0.1/24
    ip eth0 fd00::1/64
    route default via 10.0.0.2
node srv
    ip eth0 10.0.0.2/24
    ip eth0 fd00::2/64
    run python3 -m http.server 8000 --bind ::
link bb:eth0 lan
link srv:eth0 lan
expect bb reach srv
expect bb reach srv tcp 8000 within 10
expect bb noreach srv tcp 9
expect bb route default via 10.0.0.2
expect bb exec test ! -e /bin/ping
expect srv reach bb
T
	tap=$("$NETLAB" test --up $T/bb.topo)
	check_eq "a busybox node without ping or wget: every probe works" "1..6 6" \
		"$(echo "$tap" | head -1) $(echo "$tap" | grep -c '^ok ')"
else
	not_ok "busybox-static is not installed (scripts/install-deps.sh installs it)"
fi

check_eq "no netlab process is left" "" "$(netlab_procs)"
check_eq "the sandbox is exactly as before" "$before" "$(host_snapshot notmp)"
finish
