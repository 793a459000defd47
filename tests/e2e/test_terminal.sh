# Node code never reaches the caller's terminal (TIOCSTI, CVE-2017-5226):
# an operator types `netlab exec`/`netlab shell` into an interactive bash on
# a terminal of its own (helpers/tty_harness.py), the node tries to push a
# command into every terminal it can reach, and we check that the
# operator's shell never ran it.  Also what a user of a terminal expects of
# the relay: window size at start and on resize, exit status, ^C, raw mode.
. tests/e2e/lib.sh
sandbox_setup
cp tests/e2e/helpers/tty_harness.py tests/e2e/helpers/tiocsti.py $T/
before=$(host_snapshot notmp)

cat >$T/tty.topo <<'TOPO'
lab tty
node a
node off
    userns off
TOPO
check "up" "$NETLAB" up $T/tty.topo
# The node cannot read the test's /tmp: its TIOCSTI script goes in once.
for n in a off; do
	"$NETLAB" exec tty $n sh -c 'cat >/tmp/tiocsti.py' <$T/tiocsti.py
done

H="python3 $T/tty_harness.py"
# A marker the operator's own echo of the command line does not contain.
D='echo "DO""NE rc=$?"'
legacy=$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo absent)
echo "# dev.tty.legacy_tiocsti = $legacy"

for n in a off; do
	# 1. exec with the operator's terminal on stdin, stdout and stderr.
	out=$($H "send:$NETLAB exec tty $n python3 /tmp/tiocsti.py 'touch $T/pwned-$n-1\\\\n'; $D\n" "wait:DONE rc=" "sleep:1")
	if [ "$legacy" = 0 ]; then
		echo "# skip: TIOCSTI is off on this kernel (dev.tty.legacy_tiocsti=0): the attack cannot be tried"
	else
		check_contains "$n: exec runs the command (its own terminal, so TIOCSTI there succeeds)" "0: injected" "$out"
	fi
	check_eq "$n: ... but what it pushed never reached the operator's shell" "absent" \
		"$([ -e $T/pwned-$n-1 ] && echo present || echo absent)"
	# 2. From the background, after exec has returned (the issue's attack).
	out=$($H "send:$NETLAB exec tty $n sh -c 'python3 /tmp/tiocsti.py \"touch $T/pwned-$n-2\\\\n\" 2 0<&2 &'; $D\n" \
		"wait:DONE rc=0" "sleep:3" "send:$D\n" "wait:DONE rc=0")
	check_eq "$n: a background TIOCSTI after exec returned reaches nothing" "absent" \
		"$([ -e $T/pwned-$n-2 ] && echo present || echo absent)"
	# 3. netlab shell: "exit" then a command, pushed into the shell's terminal.
	out=$($H "send:$NETLAB shell tty $n; $D\n" "wait:tty:$n]" \
		"send:python3 /tmp/tiocsti.py 'exit\\\\ntouch $T/pwned-$n-3\\\\n'\n" "wait:DONE rc=" "sleep:1")
	check_contains "$n: in netlab shell the push only ends the node's own shell" "DONE rc=0" "$out"
	check_eq "$n: ... and the command after it never runs on the host" "absent" \
		"$([ -e $T/pwned-$n-3 ] && echo present || echo absent)"
	# 4. No terminal at all: a session of its own, no controlling terminal.
	out=$($H "send:$NETLAB exec tty $n python3 /tmp/tiocsti.py 'touch $T/pwned-$n-4\\\\n' </dev/null >$T/out4 2>&1; $D\n" \
		"wait:DONE rc=" "sleep:1")
	check_contains "$n: without a terminal on its stdio the command has no controlling terminal" \
		"/dev/tty: open: No such device or address" "$(cat $T/out4)"
	check_eq "$n: ... and nothing reaches the operator's shell" "absent" \
		"$([ -e $T/pwned-$n-4 ] && echo present || echo absent)"
	# 5. Only stdout a terminal: the command still gets a pty, not ours.
	out=$($H "send:$NETLAB exec tty $n sh -c 'python3 /tmp/tiocsti.py \"touch $T/pwned-$n-5\\\\n\"; tty' </dev/null; $D\n" \
		"wait:DONE rc=" "sleep:1")
	check_eq "$n: with stdout alone a terminal, nothing reaches the operator's shell" "absent" \
		"$([ -e $T/pwned-$n-5 ] && echo present || echo absent)"
	check_contains "$n: ... its stdin stays what it was" "not a tty" "$out"
done

# What a terminal user expects of the relay.
out=$($H --rows 33 --cols 111 "send:$NETLAB exec tty a stty size; $D\n" "wait:DONE rc=")
check_contains "the window size is passed on" "33 111" "$out"
out=$($H --rows 33 --cols 111 "send:$NETLAB shell tty a; $D\n" "wait:tty:a]" "winsize:44:122" "sleep:0.5" \
	"send:stty size\n" "sleep:0.5" "send:exit 5\n" "wait:DONE rc=")
check_contains "a resize reaches the node's shell (SIGWINCH)" "44 122" "$out"
check_contains "netlab shell returns the shell's exit status" "DONE rc=5" "$out"
out=$($H "send:$NETLAB exec tty a sh -c 'exit 7'; $D\n" "wait:DONE rc=")
check_contains "exec returns the command's exit status" "DONE rc=7" "$out"
out=$($H "send:$NETLAB exec tty a sleep 100; $D\n" "sleep:1" "send:\\x03" "wait:DONE rc=")
check_contains "^C reaches the command (128+SIGINT)" "DONE rc=130" "$out"
out=$($H "send:$NETLAB exec tty a sh -c 'read x; echo got:\$x'; $D\n" "sleep:1" "send:hello\n" "wait:DONE rc=")
check_contains "typed input reaches the command" "got:hello" "$out"
out=$($H "send:stty -g >$T/stty.before; $NETLAB exec tty a true; stty -g >$T/stty.after; $D\n" "wait:DONE rc=")
check_eq "the operator's terminal is restored after the relay" "$(cat $T/stty.before)" "$(cat $T/stty.after)"
check_eq "pipes are passed as they are (no terminal in between)" "x y" \
	"$(echo 'x y' | "$NETLAB" exec tty a cat)"

check "down" "$NETLAB" down tty
check_eq "nothing left" "$before" "$(host_snapshot notmp)"
finish
