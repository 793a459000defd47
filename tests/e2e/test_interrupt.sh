# Interrupting `up` converges: ^C or SIGTERM of `up` rolls back like a
# failed `up` (nothing to `down` afterwards); SIGKILL of `up` leaves the
# lab up or gone, and an `up` right after it works, 40 times in a row;
# `down` during `up` stops the setup at once and says what it waits for;
# a held lock makes `up` say what it waits for.
. tests/e2e/lib.sh
sandbox_setup
before=$(host_snapshot notmp)
sysctl -qw net.ipv4.ip_forward=0

cat >$T/slow.topo <<'TOPO'
lab slow
node a
    ip eth0 10.0.1.1/24
    exec sleep 2
node host
    ip hs 10.0.1.9/24
    forward
    nat masquerade hs
link a:eth0 host:hs
TOPO
cat >$T/fast.topo <<'TOPO'
lab fast
switch s
node a
    ip eth0 10.0.0.1/24
    ip eth1 10.0.1.1/24
    run sleep 1000
node b
    ip eth0 10.0.0.2/24
node host
    ip hf 10.0.1.9/24
    forward
    nat masquerade hf
link a:eth0 s
link b:eth0 s
link a:eth1 host:hf
TOPO
ms() { echo $(($(date +%s%N) / 1000000)); }
fw() { echo "$(sysctl -n net.ipv4.ip_forward) $(iptables-legacy-save | grep -c netlab:)"; }

for sig in INT TERM HUP; do
	# A shell starts background jobs with SIGINT ignored, and `up` keeps
	# an ignored signal ignored: this one has them all at their default.
	env --default-signal=INT,TERM,HUP "$NETLAB" up $T/slow.topo >$T/out 2>&1 &
	pid=$!
	sleep 0.7
	t0=$(ms)
	kill -$sig $pid
	wait $pid
	rc=$?
	t=$(($(ms) - t0))
	code=$(kill -l $sig >/dev/null 2>&1; echo $((128 + $(kill -l $sig))))
	check_eq "SIG$sig of up: it exits with 128+signal" "$code" "$rc"
	check_contains "SIG$sig of up: it says it was interrupted" "interrupted by SIG$sig" "$(cat $T/out)"
	check_contains "SIG$sig of up: and that it rolled back" "rolled back: nothing of lab 'slow' is left" "$(cat $T/out)"
	check "SIG$sig of up: within 5 s, not 12 as when setup ignored SIGTERM ($t ms)" test $t -lt 5000
	check_eq "SIG$sig of up: nothing left, without a down" "$before" "$(host_snapshot notmp)"
	check_eq "SIG$sig of up: no forwarding, no host rule" "0 0" "$(fw)"
	t0=$(ms)
	check_contains "SIG$sig of up: down then has nothing to do" "not up; nothing to do" "$("$NETLAB" down slow 2>&1)"
	check "SIG$sig of up: ... at once" test $(($(ms) - t0)) -lt 2000
done

# An impatient second ^C: the supervisor is killed outright, and `up`
# still leaves nothing.
env --default-signal=INT,TERM,HUP "$NETLAB" up $T/slow.topo >$T/out 2>&1 &
pid=$!
sleep 0.7
kill -INT $pid
sleep 0.01
kill -INT $pid
wait $pid
check_eq "two ^C: up exits 130" 130 $?
check_contains "two ^C: rolled back" "rolled back: nothing of lab 'slow' is left" "$(cat $T/out)"
check_eq "two ^C: nothing left" "$before" "$(host_snapshot notmp)"
check_eq "two ^C: no forwarding, no host rule" "0 0" "$(fw)"

# down while up is in its setup: it says what it waits for, stops it.
"$NETLAB" up $T/slow.topo >$T/out 2>&1 &
pid=$!
sleep 0.7
t0=$(ms)
"$NETLAB" down slow >$T/down 2>&1
rc=$?
t=$(($(ms) - t0))
wait $pid
uprc=$?
check_eq "down during up succeeds" 0 "$rc"
check_contains "down says what it waits for" "waiting for the lock of lab slow, held by pid $pid (netlab up)" "$(cat $T/down)"
check_contains "and that it stopped the setup" "told the lab's supervisor" "$(cat $T/down)"
check_contains "down reports the lab down" "lab slow is down" "$(cat $T/down)"
check "down during up takes under 4 s, not the 2 s exec line and more ($t ms)" test $t -lt 4000
check_eq "up reports failure" 1 "$uprc"
check_contains "up says the setup was stopped" "setup stopped by SIGTERM" "$(cat $T/out)"
check_eq "nothing left after down during up" "$before" "$(host_snapshot notmp)"
check_eq "no forwarding, no host rule after down during up" "0 0" "$(fw)"

# SIGKILL of up at many moments (0 to 20 ms: before, during and after its
# setup), then up again right away, 40 times.  Each time the lab must be
# whole: either the killed up got it up (the new up then says it is up,
# and it works) or it is gone and the new up makes it.
converged=0 made=0
for i in $(seq 40); do
	"$NETLAB" up $T/fast.topo >/dev/null 2>&1 &
	pid=$!
	sleep $(printf 0.%03d $((i / 2)))
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	"$NETLAB" up $T/fast.topo >$T/again 2>&1
	rc=$?
	works=no
	# A lab under load may drop the very first packet (ARP): three tries.
	for _ in 1 2 3; do
		"$NETLAB" exec fast b ping -c 1 -W 2 10.0.0.1 >/dev/null 2>&1 && works=yes && break
	done
	if [ $rc = 0 ] && [ $works = yes ]; then
		converged=$((converged + 1)) made=$((made + 1))
	elif grep -q "already up" $T/again && [ $works = yes ] && [ "$(sysctl -n net.ipv4.ip_forward)" = 1 ]; then
		converged=$((converged + 1))
	else
		echo "# try $i: rc $rc, lab works: $works: $(cat $T/again)"
	fi
	"$NETLAB" down fast >/dev/null 2>&1
done
echo "# of 40, $made were rolled back by the supervisor and made again, $((converged - made)) were up already"
check_eq "SIGKILL of up, then up right away: 40 of 40 end with a whole, working lab" 40 "$converged"
check "... some kills landed in the setup (rolled back, made again)" test $made -gt 0
check_eq "nothing left after the 40 kills" "$before" "$(host_snapshot notmp)"
check_eq "no forwarding, no host rule after the 40 kills" "0 0" "$(fw)"

# SIGKILL of up during the exec line: once the supervisor notices, the lab
# is gone, with no down.
"$NETLAB" up $T/slow.topo >/dev/null 2>&1 &
pid=$!
sleep 0.7
kill -9 $pid
wait $pid 2>/dev/null
for _ in $(seq 50); do [ -z "$(ls -A /run/netlab)" ] && break; sleep 0.1; done
check_eq "SIGKILL of up in its setup: the supervisor rolls back by itself" "$before" "$(host_snapshot notmp)"
check_eq "... forwarding and host rules too" "0 0" "$(fw)"

# A held lock: up says what it waits for, then goes on.
( flock /run/netlab sleep 2 ) &
sleep 0.2
"$NETLAB" up $T/fast.topo >$T/out 2>&1
check_contains "a held host lock: up says what it waits for" "waiting for the host lock, held by" "$(cat $T/out)"
check_contains "and names the holder" "(flock" "$(cat $T/out)"
check_contains "then goes on" "lab fast is up" "$(cat $T/out)"
"$NETLAB" down fast >/dev/null
( flock /run/netlab/.fast.lock sleep 2 ) &
sleep 0.2
"$NETLAB" up $T/fast.topo >$T/out 2>&1
check_contains "a held lab lock: up says what it waits for" "waiting for the lock of lab fast, held by" "$(cat $T/out)"
check_contains "then goes on" "lab fast is up" "$(cat $T/out)"
wait
# SIGTERM of a supervisor during setup: up fails at once, nothing left.
"$NETLAB" down fast >/dev/null
"$NETLAB" up $T/slow.topo >$T/out 2>&1 &
pid=$!
sleep 0.7
sup=$(pgrep -P $pid | head -1)
t0=$(ms)
[ -n "$sup" ] && kill -TERM "$sup"
wait $pid
check "SIGTERM of the supervisor in setup: up fails within 4 s" test $(($(ms) - t0)) -lt 4000
check_contains "... saying so" "setup stopped by SIGTERM" "$(cat $T/out)"
check_eq "... and nothing is left" "$before" "$(host_snapshot notmp)"

# An ignored signal stays ignored (nohup, background jobs of a script).
nohup "$NETLAB" up $T/slow.topo >$T/out 2>&1 &
pid=$!
sleep 0.7
kill -HUP $pid
wait $pid
check_eq "SIGHUP of a nohup'ed up: ignored, the lab comes up" 0 $?
check "down" "$NETLAB" down slow
finish
