#!/usr/bin/env bash
# netlab restart: one node's lines run again with real processes, nothing
# else touched (the other node's processes, the namespaces, the links);
# what forked away is stopped, what `netlab exec` started stays, what
# ignores SIGTERM is killed after the grace period; `after` is honoured; a
# failing line names FILE:LINE with its output; exit codes; `down` during
# a restart; requests from others than root are refused.
. "$(dirname "$0")/lib.sh"
sandbox_setup
before=$(host_snapshot notmp)
LAB=i14rst

cat >$T/rst.topo <<'T'
lab i14rst
switch lan
node srv
    ip eth0 10.61.0.1/24
    exec test ! -e /tmp/broken || { echo "srv is broken: /tmp/broken"; exit 4; }
    run python3 -m http.server 8080
    wait tcp 8080
    exec sh -c 'setsid sleep 2001 >/dev/null 2>&1 &'
    run sh -c 'trap "" TERM; exec sleep 2002'
node cli
    ip eth0 10.61.0.2/24
    run sleep 2003
node late
    after srv
    ip eth0 10.61.0.3/24
    exec curl -sf -o /dev/null http://10.61.0.1:8080/
    run sleep 2004
link srv:eth0 lan
link cli:eth0 lan
link late:eth0 lan
T
fetch() { "$NETLAB" exec $LAB cli curl -s -m 3 -o /dev/null -w '%{http_code}' http://10.61.0.1:8080/ 2>/dev/null; }
pid_of() { # pid_of NODE COMMAND-PREFIX: from status --json (host pids)
	"$NETLAB" status $LAB --json | python3 -c '
import json, sys
lab = json.load(sys.stdin)
n = [n for n in lab["nodes"] if n["name"] == sys.argv[1]][0]
print(" ".join(str(c["pid"]) for c in n.get("commands", []) if c["command"].startswith(sys.argv[2])))' "$1" "$2"
}
jnode() { # jnode NODE EXPR: a Python expression over the node's JSON (n)
	"$NETLAB" status $LAB --json | python3 -c '
import json, sys
lab = json.load(sys.stdin)
n = [n for n in lab["nodes"] if n["name"] == sys.argv[1]][0]
v = eval(sys.argv[2])
print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1" "$2"
}

check "up (grace 1 s)" "$NETLAB" up --grace 1 $T/rst.topo
check_eq "the server answers" 200 "$(fetch)"
cli_sleep=$(pid_of cli "sleep 2003")
server=$(pid_of srv "python3 -m http.server")
daemon=$(pid_of srv "sleep 2001")
netns=$(jnode srv 'n["namespaces"]["net"]')
"$NETLAB" exec $LAB srv sh -c 'sleep 2005 >/dev/null 2>&1 &'
for _ in $(seq 30); do [ -n "$(pid_of srv "sleep 2005")" ] && break; sleep 0.1; done
exec_sleep=$(pid_of srv "sleep 2005")
check "a daemon that made a session of its own runs ($daemon)" test -n "$daemon"

# The server dies: the page is gone, status says so.
kill "$server"
sleep 0.5
check_fails "with its server killed, the page is gone" sh -c "[ \"\$(fetch)\" = 200 ]"
check_contains "status shows the run line ended" "was killed by signal 15" "$("$NETLAB" status $LAB)"

start=$(date +%s%N)
out=$("$NETLAB" restart $LAB srv 2>&1)
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check_eq "restart exits 0" 0 "$rc"
check_contains "it says what it did" "node srv of lab $LAB restarted" "$out"
check_contains "the SIGTERM-ignoring line was killed after the grace period" "1 killed by SIGKILL" "$out"
[ $ms -ge 900 ] && ok "the grace period was given ($ms ms)" || not_ok "restart took $ms ms, under the 1 s grace"
check_eq "the server answers again" 200 "$(fetch)"
check_eq "the other node's process is the same (pid $cli_sleep)" "$cli_sleep" "$(pid_of cli "sleep 2003")"
check_eq "the node's network namespace is the same" "$netns" "$(jnode srv 'n["namespaces"]["net"]')"
check_fails "the daemon that forked away was stopped" kill -0 "$daemon"
new_daemon=$(pid_of srv "sleep 2001")
check "... and started again by its line ($new_daemon)" test -n "$new_daemon" -a "$new_daemon" != "$daemon"
check "what netlab exec started stays ($exec_sleep)" kill -0 "$exec_sleep"
check_eq "status: the ended run line is no longer listed" "[]" "$(jnode srv 'n["exited"]')"
check_eq "status --json: one restart, ok" "1 ok" "$(jnode srv 'n["restarts"], n["last_restart"]["result"]')"
check_contains "status shows it" "restarted 1 time" "$("$NETLAB" status $LAB)"
"$NETLAB" status $LAB --json >$T/lab.json
check "status --json follows docs/json.md" python3 tests/json_schema.py lab $T/lab.json
check_eq "the server's log has both starts" 2 "$("$NETLAB" logs $LAB srv | grep -c 'Serving HTTP')"

# `after`: late waits for srv when both restart at once; its exec needs
# srv's server, which srv's restart (1 s grace) brings back late.
"$NETLAB" restart $LAB srv >$T/srv.out 2>&1 &
srvjob=$!
sleep 0.3
check "restart of a node after one being restarted waits for it" "$NETLAB" restart $LAB late
wait $srvjob
check_eq "... and that one succeeded too" 0 "$?"

# A failing line: named with FILE:LINE and its output; exit 1.
"$NETLAB" exec $LAB srv touch /tmp/broken
out=$("$NETLAB" restart $LAB srv 2>&1)
check_eq "a restart whose line fails exits 1" 1 "$?"
check_contains "it names FILE:LINE" "node srv ($T/rst.topo:5)" "$out"
check_contains "and the line's output" "srv is broken: /tmp/broken" "$out"
check_eq "status --json: failed, with why" "failed True" \
	"$(jnode srv 'n["last_restart"]["result"], "rst.topo:5" in n["last_restart"]["error"]')"
check_contains "status says it" "restarted 3 times" "$("$NETLAB" status $LAB)"
out=$("$NETLAB" restart $LAB late 2>&1)
check_eq "a node after one whose restart failed cannot restart" 1 "$?"
check_contains "... and says why" "after node srv, which is not ready" "$out"
"$NETLAB" exec $LAB srv rm /tmp/broken
check "once fixed, the restart works" "$NETLAB" restart $LAB srv
check_eq "and the page is back" 200 "$(fetch)"

# Usage and not-found exit codes.
"$NETLAB" restart >/dev/null 2>&1
check_eq "no NODE: usage (2)" 2 "$?"
"$NETLAB" restart $LAB nosuch >$T/e.out 2>&1
check_eq "no such node: 3" 3 "$?"
check_contains "... naming the nodes" "has no node 'nosuch' (nodes: srv cli late)" "$(cat $T/e.out)"
"$NETLAB" restart nolab srv >/dev/null 2>&1
check_eq "no such lab: 3" 3 "$?"
"$NETLAB" restart srv >/dev/null 2>&1
check_eq "LAB left out with one lab up" 0 "$?"

# Only root may ask: the beacon is an abstract socket anyone can reach.
cat >$T/ask.py <<'P'
import os, socket, struct, sys
st = os.stat("/run/netlab")
addr = "\0netlab/%x:%x/%s" % (st.st_dev, st.st_ino, sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(addr)
s.settimeout(3)
try:
    if sys.argv[2] == "junk":
        s.send(b"\xff" * 40)
    else:
        text = sys.argv[2].encode()
        # proto/proto.c: u16 type, u16 text length, u32, three int64s; RESTART is 20.
        s.send(struct.pack("=HHIqqq", 20, len(text), 0, 0, 0, 0) + text)
    print("answer" if s.recv(9000) else "closed")
except socket.timeout:
    print("nothing")
except (ConnectionResetError, BrokenPipeError):
    print("closed")
P
check_eq "the request, from root, is answered (so the one below is well-formed)" answer "$(python3 $T/ask.py $LAB cli)"
for _ in $(seq 30); do [ -n "$(pid_of cli "sleep 2003")" ] && break; sleep 0.1; done
cli_sleep=$(pid_of cli "sleep 2003")
check_eq "a user other than root is shut out" closed "$(setpriv --reuid 65534 --regid 65534 --clear-groups /usr/bin/python3 $T/ask.py $LAB cli 2>&1)"
check_eq "... and cli was not restarted" "$cli_sleep" "$(pid_of cli "sleep 2003")"
python3 $T/ask.py $LAB junk >/dev/null 2>&1
check "junk on the beacon leaves the supervisor working" "$NETLAB" restart $LAB cli
check_fails "cli's sleep was restarted" kill -0 "$cli_sleep"

# down during a restart: the restart says so, down works.
"$NETLAB" restart $LAB srv >$T/during.out 2>&1 &
job=$!
sleep 0.3
check "down during a restart" "$NETLAB" down $LAB
wait $job
check_eq "the restart exits 1" 1 "$?"
check_contains "... saying the lab went down" "going down" "$(cat $T/during.out)"
check_eq "no process left" "" "$(netlab_procs)"
check_eq "nothing left" "$before" "$(host_snapshot notmp)"
finish
