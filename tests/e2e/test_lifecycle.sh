# Two labs from one file, rollback of a failed exec, crash of the supervisor.
. tests/e2e/lib.sh
sandbox_setup
before=$(host_snapshot notmp)

check "up lab a" "$NETLAB" up "$TOPO/two-webservers.topo" --name lab-a
check "up lab b from the same file" "$NETLAB" up "$TOPO/two-webservers.topo" --name lab-b
check "lab a works" "$NETLAB" exec lab-a web2 ping -c 1 -W 2 192.168.0.1
check "lab b works with the same addresses" "$NETLAB" exec lab-b web2 ping -c 1 -W 2 192.168.0.1
check_fails "exec without a lab name is ambiguous with two labs up" "$NETLAB" exec web2 true
check "down --all" "$NETLAB" down --all
check_eq "nothing left after two labs" "$before" "$(host_snapshot notmp)"

cat >$T/fail.topo <<'T'
switch s
node a
    ip eth0 10.0.0.1/24
    exec echo about to fail; echo 'bad thing' >&2; exit 3
node b
    ip eth0 10.0.0.2/24
    run sleep 1000
link a:eth0 s
link b:eth0 s
T
out=$("$NETLAB" up $T/fail.topo 2>&1)
rc=$?
check_eq "a failing exec makes up exit 1" 1 "$rc"
check_contains "the message names node and line" "node a ($T/fail.topo:4)" "$out"
check_contains "the message gives the exit code" "exit code 3" "$out"
check_contains "the message shows the command's output" "bad thing" "$out"
check_eq "rollback left nothing" "$before" "$(host_snapshot notmp)"
check_eq "no process left after rollback" "" "$(netlab_procs)"

check "up for the crash test" "$NETLAB" up "$TOPO/two-webservers.topo"
sup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor"]["pid"])' /run/netlab/two-webservers/state.json)
inits=$(pgrep -x netlab-init | tr '\n' ' ')
kill -9 "$sup"
for _ in $(seq 50); do [ -z "$(pgrep -x netlab-init)" ] && break; sleep 0.1; done
check_eq "kill -9 of the supervisor takes every node with it" "" "$(pgrep -x netlab-init)"
check "down after the crash succeeds" "$NETLAB" down two-webservers
check_eq "and leaves nothing" "$before" "$(host_snapshot notmp)"
[ -n "$inits" ] && ok "there were node inits before the crash ($inits)" || not_ok "no node inits seen before the crash"

cat >$T/host.topo <<'T'
node n1
    ip eth0 10.9.0.2/24
link host:nlhost0 n1:eth0
node host
    ip nlhost0 10.9.0.1/24
T
check "up a lab with a host link" "$NETLAB" up $T/host.topo
check "the host reaches the node over the host link" ping -c 1 -W 2 10.9.0.2
sup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor"]["pid"])' /run/netlab/host/state.json)
kill -9 "$sup"
check "down after a crash with a host link" "$NETLAB" down host
check_eq "the host end is gone at once" "" "$(ip -o link show nlhost0 2>/dev/null)"
check "an immediate up of the same file succeeds" "$NETLAB" up $T/host.topo
check "down" "$NETLAB" down $T/host.topo
check_eq "nothing left" "$before" "$(host_snapshot notmp)"

echo marker-ok >$T/marker.txt
cat >$T/logs.topo <<'T'
node n
    env GREETING=hello
    run echo "$GREETING from $NETLAB_NODE in $(pwd)"
    run cat marker.txt
T
check "up a lab with a run command" "$NETLAB" up $T/logs.topo
sleep 0.3
# Issue 12: the topology's directory is /lab in every node, and the
# lines start there.
check_contains "run output reaches netlab logs, with env and working directory /lab" "hello from n in /lab" "$("$NETLAB" logs n)"
check_contains "files next to the topology are readable from the node, even under /tmp" "marker-ok" "$("$NETLAB" logs n)"
check "down" "$NETLAB" down logs
finish
