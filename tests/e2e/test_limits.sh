# Resource limits through per-node cgroups: memory, cpu, pids; exec joins
# the node's cgroup; cgroups go away on down, also after a crash.
. tests/e2e/lib.sh
sandbox_setup
before=$(host_snapshot notmp)

cat >$T/lim.topo <<'T'
switch lan
node mem
    ip eth0 10.0.0.1/24
    memory 32M
node cpu
    ip eth0 10.0.0.2/24
    cpu 0.2
    run sh -c 'while :; do :; done'
node bomb
    ip eth0 10.0.0.3/24
    pids 20
node other
    ip eth0 10.0.0.4/24
    run sleep 100000
link mem:eth0 lan
link cpu:eth0 lan
link bomb:eth0 lan
link other:eth0 lan
T
check "up a lab with limits" "$NETLAB" up $T/lim.topo
state=/run/netlab/lim/state.json
cg() { # cg NODE CONTROLLER -> the node's cgroup directory for it
	python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))
n = [n for n in st["nodes"] if n["name"] == sys.argv[2]][0]
c = [d for d in n["cgroups"] if "/" + sys.argv[3] + "/" in d or d.startswith("/sys/fs/cgroup/unified")]
print(c[0] if c else "")' $state "$1" "$2"
}
# Each init starts in all its groups (stage 1 joins its v1 groups itself
# through `tasks`, node/cgroup.h): none is left where `up` ran.
missing=$(python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))
for n in st["nodes"]:
    for d in n["cgroups"]:
        if str(n["pid"]) not in open(d + "/cgroup.procs").read().split():
            print(n["name"], d)' $state 2>&1)
check_eq "every node's init is in each of its cgroups" "" "$missing"
v2=false
case "$(cg mem memory)" in *unified*) v2=true ;; esac

# --- memory ------------------------------------------------------------------
"$NETLAB" exec lim mem python3 -c 'b = bytearray(200 * 1024 * 1024); print("allocated")' >$T/oom.out 2>&1
rc=$?
check_eq "memory 32M: allocating 200 MB is killed by SIGKILL (137)" 137 "$rc"
check_fails "... and never got its memory" grep -q allocated $T/oom.out
if $v2; then
	kills=$(awk '/^oom_kill / {print $2}' "$(cg mem memory)/memory.events")
else
	kills=$(awk '/^oom_kill / {print $2}' "$(cg mem memory)/memory.oom_control")
fi
[ "${kills:-0}" -ge 1 ] && ok "the node's cgroup counted the OOM kill ($kills)" || not_ok "no oom_kill in the node's cgroup"
check "the node itself is still up" "$NETLAB" exec lim mem true
check "other nodes keep running" "$NETLAB" exec lim other ping -c 1 -W 2 10.0.0.1
check "its run command too" "$NETLAB" exec lim other pgrep -x sleep

# --- exec joins the node's cgroup ---------------------------------------------
check_eq "exec'd processes see the node's cgroup as / (cgroup namespace)" "/" \
	"$("$NETLAB" exec lim mem sh -c 'grep -E "(memory|::)" /proc/self/cgroup | head -1 | cut -d: -f3')"
check_eq "a node without limits sees its cgroup as / too" "/" \
	"$("$NETLAB" exec lim other sh -c 'grep -E "(memory|::)" /proc/self/cgroup | head -1 | cut -d: -f3')"
# Every node has its pids group (the default pids limit); with cgroup v1
# a node without `memory` is in the lab's memory group, its memory
# charged to the lab, not to the caller (docs/isolation.md: groups per
# node cost the kernel the square of the lab); cpu ones only with `cpu`.
check_eq "a node without limits gets the default pids limit" 1024 "$(cat "$(cg other pids)/pids.max" 2>/dev/null)"
if $v2; then
	check "... and a memory group of its own (cgroup v2)" test -n "$(cg other memory)" -a -d "$(cg other memory)"
else
	labmem=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("memory_group", ""))' $state)
	check_eq "... no memory group of its own (cgroup v1)" "" "$(cg other memory)"
	other_pid=$(python3 -c 'import json, sys; print([n for n in json.load(open(sys.argv[1]))["nodes"] if n["name"] == "other"][0]["pid"])' $state 2>/dev/null)
	check "... its init is in the lab's memory group (accounting)" grep -qx "${other_pid:-none}" "$labmem/cgroup.procs"
	"$NETLAB" exec lim other sh -c 'sleep 30 >/dev/null 2>&1 &'
	ok_join=false
	for p in $(cat "$labmem/cgroup.procs" 2>/dev/null); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && ok_join=true
	done
	$ok_join && ok "... and so is what netlab exec starts there" || not_ok "exec'd sleep not in the lab's memory group"
fi
check_eq "... but no cpu group" "" "$(cg other cpu)"
"$NETLAB" exec lim mem sh -c 'sleep 30 >/dev/null 2>&1 &'
ok_join=false
for p in $(cat "$(cg mem memory)/cgroup.procs" 2>/dev/null); do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && ok_join=true
done
$ok_join && ok "a process started by netlab exec is in the node's cgroup" || not_ok "exec'd sleep not in the node's cgroup"

# --- cpu -------------------------------------------------------------------------
if $v2; then
	usage() { awk '/^usage_usec/ {print $2 * 1000}' "$(cg cpu cpu)/cpu.stat"; }
else
	usage() { cat "$(cg cpu cpuacct)/cpuacct.usage"; }
fi
u0=$(usage); t0=$(date +%s%N)
sleep 3
u1=$(usage); t1=$(date +%s%N)
pct=$(( (u1 - u0) * 100 / (t1 - t0) ))
[ $pct -ge 10 ] && [ $pct -le 35 ] && ok "cpu 0.2: a busy loop gets ${pct}% of a core (10..35 allowed)" ||
	not_ok "cpu 0.2: a busy loop got ${pct}% of a core"

# --- pids ------------------------------------------------------------------------
check_eq "pids 20 is set" 20 "$(cat "$(cg bomb pids)/pids.max")"
# A real fork bomb, started through exec (which joins the cgroup); it
# cannot get more than 20 processes, the lab stays usable.
timeout 5 "$NETLAB" exec lim bomb bash -c 'b() { b | b & }; b' >/dev/null 2>&1
sleep 1
cur=$(cat "$(cg bomb pids)/pids.current")
[ "$cur" -le 20 ] && ok "the fork bomb is contained ($cur processes)" || not_ok "pids.current is $cur"
events=$(cat "$(cg bomb pids)/pids.events" 2>/dev/null | awk '{print $2}')
[ "${events:-0}" -ge 1 ] && ok "forks were refused ($events)" || not_ok "no refused fork counted"
check "other nodes still answer" "$NETLAB" exec lim other ping -c 1 -W 2 10.0.0.2
dirs=$(python3 -c 'import json,sys; st=json.load(open(sys.argv[1])); print(" ".join(st["cgroups"] + [d for n in st["nodes"] for d in n["cgroups"]]))' $state)
start=$(date +%s)
check "down with a fork bomb running" timeout 30 "$NETLAB" down lim
[ $(( $(date +%s) - start )) -le 15 ] && ok "and down is quick" || not_ok "down took $(( $(date +%s) - start ))s"
left=""
for d in $dirs; do [ -e "$d" ] && left="$left $d"; done
check_eq "every cgroup of the lab is removed" "" "$left"

# --- crash: kill -9 of the supervisor, then down ------------------------------------
check "up again" "$NETLAB" up $T/lim.topo
dirs=$(python3 -c 'import json,sys; st=json.load(open(sys.argv[1])); print(" ".join(st["cgroups"] + [d for n in st["nodes"] for d in n["cgroups"]]))' $state)
sup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor"]["pid"])' $state)
kill -9 "$sup"
check "down after kill -9 of the supervisor" "$NETLAB" down lim
left=""
for d in $dirs; do [ -e "$d" ] && left="$left $d"; done
check_eq "its cgroups are removed too" "" "$left"
check_eq "no process left" "" "$(netlab_procs)"

# --- limits that cannot be enforced are errors ------------------------------------------
cat >$T/nolim.topo <<'T'
node n
    memory 64M
T
out=$(unshare --mount sh -c "umount -R /sys/fs/cgroup && '$NETLAB' up $T/nolim.topo" 2>&1)
check_contains "no cgroup controller mounted: memory is an error naming the kernel option" "CONFIG_MEMCG" "$out"
"$NETLAB" down nolim >/dev/null 2>&1
check_eq "nothing left" "$before" "$(host_snapshot notmp)"
finish
