#!/usr/bin/env bash
# Resource exhaustion (issue 13 item 7) and long commands (item 10):
#   - a node writing without end (`run yes`) never fills the file system of
#     the logs: its log is capped and rotated, the machine keeps room,
#     `netlab logs` shows the recent output, `logs -f` follows rotations;
#   - a node without `pids` has the default limit: a fork bomb in it is
#     contained, netlab itself (exec, status, down) keeps working;
#   - a node filling its files gets ENOSPC within its memory limit, a
#     memory hog is OOM-killed instead of the init (the node's processes
#     have a higher OOM score); the init survives;
#   - a node whose init died is dead in `status` and fails `netlab test`;
#   - a command too long for execve is refused by `check` with FILE:LINE.
. "$(dirname "$0")/lib.sh"
sandbox_setup
before=$(host_snapshot notmp)
LAB=i14res
state=/run/netlab/$LAB/state.json
cg() { # cg NODE CONTROLLER -> the node's cgroup directory for it
	python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))
n = [n for n in st["nodes"] if n["name"] == sys.argv[2]][0]
c = [d for d in n["cgroups"] if "/" + sys.argv[3] + "/" in d or d.startswith("/sys/fs/cgroup/unified")]
print(c[0] if c else "")' $state "$1" "$2"
}
init_pid() { python3 -c 'import json,sys; print([n["init"]["pid"] if "init" in n else n["pid"] for n in json.load(open(sys.argv[1]))["nodes"] if n["name"] == sys.argv[2]][0])' $state "$1"; }

# --- logs: capped, rotated, the machine keeps room ------------------------------
# A small file system for the logs, as /run is on many machines.
mount -o remount,size=2m /run/netlab
cat >$T/logs.topo <<'T'
lab i14res
node spew
    run yes
node quiet
    run sh -c 'echo hello from quiet; exec sleep 1000'
T
check "up a node that writes without end (/run/netlab: 2 MiB)" "$NETLAB" up $T/logs.topo
sleep 2
check "another program can still write 256 KiB there" dd if=/dev/zero of=/run/netlab/room bs=64k count=4
rm -f /run/netlab/room
size=$(stat -c %s /run/netlab/$LAB/logs/spew.log)
old=$(stat -c %s /run/netlab/$LAB/logs/spew.log.1)
[ "$size" -le 1048576 ] && [ "$old" -le 1048576 ] && ok "its log and the previous one are at most 1 MiB ($size, $old)" ||
	not_ok "logs too big: $size and $old bytes"
# On a file system this small the log has no room for its previous file:
# each rotation empties both (node/log.c), so a read can fall just after
# one, before the next chunk of output; the next read has it.
for _ in 1 2 3 4 5; do
	recent=$("$NETLAB" logs $LAB spew | tail -1)
	[ "$recent" = y ] && break
	sleep 0.2
done
check_eq "netlab logs shows the recent output" y "$recent"
check_contains "the other node's output is still there" "hello from quiet" "$("$NETLAB" logs $LAB quiet)"
check "the lab still works (exec)" "$NETLAB" exec $LAB quiet true
check "down" "$NETLAB" down $LAB
mount -o remount,size=64m /run/netlab

# logs -f across rotations: numbered lines, none missing, none twice.
cat >$T/follow.topo <<'T'
lab i14res
node count
    run python3 -u -c 'import itertools, time; [(print("%08d %s" % (i, "x" * 1000)), time.sleep(0.0005)) for i in itertools.count()]'
T
check "up a node writing numbered lines (about 2 MB/s)" "$NETLAB" up $T/follow.topo
timeout 3 "$NETLAB" logs -f $LAB count >$T/followed 2>/dev/null
python3 - $T/followed >$T/gaps <<'P'
import sys
nums = [int(l.split()[0]) for l in open(sys.argv[1]) if len(l) > 8 and l[:8].isdigit()]
bad = [(a, b) for a, b in zip(nums, nums[1:]) if b != a + 1]
print(len(nums), nums[0] if nums else -1, bad[:3])
P
read -r count first gaps <$T/gaps
[ "$count" -gt 1100 ] && ok "logs -f followed $count lines, over a rotation (1 MiB is about 1000)" ||
	not_ok "logs -f followed only $count lines"
check_eq "... each line once, in order, none missing" "[]" "$gaps"
# Plain logs while the log rotates every half second: each dump is one
# snapshot of NODE.log.1 then NODE.log, with nothing a rotation moved
# left out between them.
bad=0 dumps=0
for _ in $(seq 30); do
	"$NETLAB" logs $LAB count >$T/dump 2>/dev/null
	r=$(python3 - $T/dump <<'P'
import sys
nums = [int(l.split()[0]) for l in open(sys.argv[1]) if len(l) > 8 and l[:8].isdigit()]
print("ok" if len(nums) > 100 and all(b == a + 1 for a, b in zip(nums, nums[1:])) else "bad %d" % len(nums))
P
)
	dumps=$((dumps + 1))
	[ "$r" = ok ] || { bad=$((bad + 1)); echo "# dump $dumps: $r"; }
	sleep 0.1
done
check_eq "netlab logs while it rotates: $dumps dumps, each contiguous" 0 "$bad"
check "down" "$NETLAB" down $LAB
# A rotation caught half done (the init held up between copying NODE.log
# into .1 and emptying NODE.log): .1 holds the start of NODE.log, which
# `logs` shows once.  Made by hand in a node that writes nothing.
cat >$T/quiet.topo <<'T'
lab i14res
node quiet
T
check "up a node that writes nothing" "$NETLAB" up $T/quiet.topo
L=/run/netlab/$LAB/logs/quiet.log
printf '00000001 a\n00000002 b\n00000003 c\n' >>$L
printf '00000001 a\n0000' >$L.1
check_eq "logs: a rotation half done shows NODE.log once" "$(cat $L)" "$("$NETLAB" logs $LAB quiet 2>&1)"
printf '00000000 z\n' >$L.1
check_eq "logs: otherwise the previous log, then the log" "$(cat $L.1 $L)" "$("$NETLAB" logs $LAB quiet 2>&1)"
check "down" "$NETLAB" down $LAB

# --- pids: a default limit; a fork bomb is contained -----------------------------
cat >$T/pids.topo <<'T'
lab i14res
switch lan
node bomb
    ip eth0 10.62.0.1/24
node free
    ip eth0 10.62.0.2/24
    pids max
node other
    ip eth0 10.62.0.3/24
    run sleep 1000
link bomb:eth0 lan
link free:eth0 lan
link other:eth0 lan
T
check "up nodes without pids and with pids max" "$NETLAB" up $T/pids.topo
check_eq "a node without pids gets the default limit" 1024 "$(cat "$(cg bomb pids)/pids.max")"
check_eq "pids max: no limit of its own" max "$(cat "$(cg free pids)/pids.max")"
tasks=$(python3 -c 'print(min(int(open("/proc/sys/kernel/pid_max").read()), int(open("/proc/sys/kernel/threads-max").read())) // 2)')
check_eq "all nodes together: half the machine's tasks" "$tasks" "$(cat "$(dirname "$(dirname "$(cg bomb pids)")")/pids.max")"
timeout 3 "$NETLAB" exec $LAB bomb bash -c 'b() { b | b & }; b' >/dev/null 2>&1
cur=$(cat "$(cg bomb pids)/pids.current")
[ "$cur" -le 1024 ] && ok "the fork bomb is contained ($cur tasks)" || not_ok "pids.current is $cur"
refused=$(awk '{print $2}' "$(cg bomb pids)/pids.events" 2>/dev/null)
[ "${refused:-0}" -ge 1 ] && ok "forks were refused ($refused)" || not_ok "no refused fork counted"
check "netlab exec into another node still works" "$NETLAB" exec $LAB other ping -c 1 -W 2 10.62.0.2
check "netlab status still works" "$NETLAB" status $LAB
start=$(date +%s)
check "down with the fork bomb running" timeout 60 "$NETLAB" down $LAB
[ $(( $(date +%s) - start )) -le 15 ] && ok "and down is quick" || not_ok "down took $(( $(date +%s) - start ))s"

# --- memory: files get ENOSPC, a hog is OOM-killed, never the init ----------------
cat >$T/mem.topo <<'T'
lab i14res
node mem
    memory 64M
    run sleep 1000
expect mem exec true
T
check "up a node with memory 64M" "$NETLAB" up $T/mem.topo
init=$(init_pid mem)
out=$("$NETLAB" exec $LAB mem dd if=/dev/zero of=/tmp/fill bs=1M count=200 2>&1)
check_contains "filling /tmp ends with ENOSPC (its layer is half its memory)" "No space left on device" "$out"
"$NETLAB" exec $LAB mem rm /tmp/fill
check_eq "the node's commands have OOM score 500" 500 "$(cat /proc/$(pgrep -x sleep -P $init | head -1)/oom_score_adj)"
check_eq "its init keeps the one it was given" "$(cat /proc/self/oom_score_adj)" "$(cat /proc/$init/oom_score_adj)"
"$NETLAB" exec $LAB mem python3 -c 'b = bytearray(200 * 1024 * 1024)' >/dev/null 2>&1
check_eq "a memory hog is killed by the OOM killer (137)" 137 "$?"
kills=$(awk '/^oom_kill / {print $2}' "$(cg mem memory)/memory.oom_control" "$(cg mem memory)/memory.events" 2>/dev/null | head -1)
[ "${kills:-0}" -ge 1 ] && ok "the node's cgroup counted it ($kills)" || not_ok "no oom_kill counted"
check "the init survives" kill -0 "$init"
check "netlab test passes" "$NETLAB" test $LAB
check_eq "status: no dead node" 0 "$("$NETLAB" status $LAB --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["dead_nodes"])')"
check "down" "$NETLAB" down $LAB

# --- a dead node: status and test say so ---------------------------------------
cat >$T/dead.topo <<'T'
lab i14res
switch lan
node a
    ip eth0 10.63.0.1/24
    run sleep 1000
node b
    ip eth0 10.63.0.2/24
link a:eth0 lan
link b:eth0 lan
expect a reach b
expect b reach a
T
check "up" "$NETLAB" up $T/dead.topo
check "test passes while every node runs" "$NETLAB" test $LAB
kill -9 "$(init_pid a)"
sleep 0.5
st=$("$NETLAB" status $LAB)
check_contains "status: the lab has a dead node" "state up (1 node dead)" "$st"
check_contains "status: how it died" "dead: its init was killed by signal 9" "$st"
check_contains "status (all labs): up (1 dead)" "up (1 dead)" "$("$NETLAB" status)"
"$NETLAB" status $LAB --json >$T/lab.json
check "status --json follows docs/json.md" python3 tests/json_schema.py lab $T/lab.json
check_eq "status --json: died with signal 9" 9 "$(python3 -c 'import json,sys; print([n for n in json.load(open(sys.argv[1]))["nodes"] if n["name"] == "a"][0]["died"]["signal"])' $T/lab.json)"
out=$("$NETLAB" test $LAB 2>&1)
check_eq "netlab test fails" 1 "$?"
check_contains "... naming the dead node with its line" "not ok 3 - node a is running (dead.topo:3)" "$out"
check_contains "... and the expectation from it" "not ok 1 - a reach b (dead.topo:10) # node a is dead" "$out"
# The one to it: the dead node's network namespace goes with its init
# (the supervisor holds no descriptor of it), which the kernel tears
# down in its own time: b's ping to a fails once that is done.
"$NETLAB" test --format json $LAB >$T/test.json
failed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["failed"])' $T/test.json)
case $failed in
2 | 3) ok "test --format json: $failed failed (the dead node, the expectation from it, and maybe the one to it)" ;;
*) not_ok "test --format json: $failed failed, expected 2 or 3" ;;
esac
"$NETLAB" restart $LAB a >$T/r.out 2>&1
check_eq "restart of a dead node exits 1" 1 "$?"
check_contains "... saying why" "is dead" "$(cat $T/r.out)"
check "down" "$NETLAB" down $LAB

# --- a command too long for execve ---------------------------------------------
python3 - $T/long.topo <<'P'
import sys
with open(sys.argv[1], "w") as f:
    f.write("lab i14res\nnode n\n    run echo \\\n")
    for i in range(40):
        f.write("    " + "x" * 4000 + " \\\n")
    f.write("    end\n")
P
out=$("$NETLAB" check $T/long.topo 2>&1)
check_eq "check refuses a 160 KB command" 2 "$?"
check_contains "... at its FILE:LINE" "long.topo:3:9: error: the command is" "$out"
check_contains "... MAX_ARG_STRLEN" "MAX_ARG_STRLEN" "$out"
check_fails "up refuses it too" "$NETLAB" up $T/long.topo

check_eq "no process left" "" "$(netlab_procs)"
check_eq "nothing left" "$before" "$(host_snapshot notmp)"
finish
