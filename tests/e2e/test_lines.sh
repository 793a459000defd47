#!/usr/bin/env bash
# A node's lines in file order: exec, run, wait (tcp, udp, file, exec) and
# `after`; a run that dies at once, a wait that times out and an exec over
# its bound fail `up` naming the line; a run that dies later shows in status.
. "$(dirname "$0")/lib.sh"
sandbox_setup
before=$(host_snapshot notmp)

cat >$T/lines.topo <<'T'
lab lines
switch lan
node a
    ip eth0 10.9.0.1/24
    exec echo first
    run python3 -m http.server 8080
    wait tcp 8080
    exec curl -s -o /dev/null -w "served %{http_code}\n" http://127.0.0.1:8080/
    run sh -c 'sleep 0.5; touch /tmp/ready; exec sleep 1000'
    wait file /tmp/ready
    run python3 -c 'import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); time.sleep(0.5); s.bind(("0.0.0.0",5353)); time.sleep(1000)'
    wait udp 5353 timeout 10
    run sh -c 'sleep 0.3; echo x >/tmp/x; exec sleep 1000'
    wait exec grep -q x /tmp/x
    run sh -c 'sleep 1.5; exit 3'
node b
    after a
    ip eth0 10.9.0.2/24
    exec curl -sf -o /dev/null -w "from b %{http_code}\n" http://10.9.0.1:8080/
link a:eth0 lan
link b:eth0 lan
T
check "up: every wait holds until its condition holds" "$NETLAB" up $T/lines.topo
log_a=$("$NETLAB" logs lines a)
check_contains "exec after 'wait tcp' finds the server listening" "served 200" "$log_a"
check_contains "b's exec (after a) reaches a's server" "from b 200" "$("$NETLAB" logs lines b)"
check_eq "lines ran in file order: 'first' is the first thing in a's log" "first" "$(echo "$log_a" | head -1)"
st=$("$NETLAB" status lines)
check_contains "status shows the server under the line that started it" "python3 -m http.server 8080 (line 6)" "$st"
sleep 2
st=$("$NETLAB" status lines)
check_contains "a run line that ends later shows in status with its code" "line 15 ended with exit code 3" "$st"
code=$("$NETLAB" status lines --json | python3 -c 'import json,sys
lab = json.load(sys.stdin)
a = [n for n in lab["nodes"] if n["name"] == "a"][0]
print(" ".join("%d:%d" % (e["line"], e.get("code", -1)) for e in a["exited"]))')
check_eq "status --json: the exited line and its code" "15:3" "$code"
check "down" "$NETLAB" down lines

# Failures: each fails up, names the node, FILE:LINE and why, rolls back.
fails() { # NAME TOPO-BODY EXPECTED... (up options in UP_OPTS)
	local name=$1 body=$2
	shift 2
	printf 'lab %s\n%s\n' "$name" "$body" >$T/$name.topo
	out=$("$NETLAB" up ${UP_OPTS:-} $T/$name.topo 2>&1)
	rc=$?
	check_eq "$name: up fails" 1 "$rc"
	for want in "$@"; do
		check_contains "$name: the message says '$want'" "$want" "$out"
	done
	check_contains "$name: rolled back" "nothing of lab '$name' is left" "$out"
}
fails typo 'node n
    run pyhton3 -m http.server' "node n ($T/typo.topo:3)" "run 'pyhton3 -m http.server'" "command not found"
fails waitport 'node n
    run sleep 100
    wait tcp 9999 timeout 1' "node n ($T/waitport.topo:4)" "timed out after 1 s: nothing listens on tcp port 9999"
fails earlydeath 'node n
    run sh -c "echo oops; exit 4"
    wait file /nonexistent timeout 5' "node n ($T/earlydeath.topo:3)" "exited with exit code 4 before the node was ready" "oops"
UP_OPTS="--timeout 1" fails slow 'node n
    exec sleep 100' "node n ($T/slow.topo:3)" "exec 'sleep 100' did not finish in 1 s"
fails waitexec 'node n
    wait timeout 1 exec false' "timed out after 1 s: the command never succeeded (its last try: exit code 1)"

check_eq "nothing left" "$before" "$(host_snapshot notmp)"
check_eq "no process left" "" "$(netlab_procs)"
finish
