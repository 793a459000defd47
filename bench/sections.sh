# Sections of `make bench` sourced by scripts/bench.sh (they use its helpers:
# rec get med fmt ratio fail say check_clean, and NETLAB TIMER W RUNS):
# what an impairment costs (issue 14), a lab across machines (issue 18),
# rootless labs (issue 15).

# ---- impairments (issue 14) -------------------------------------------------
# What shaping costs at `up`: the same star of IMPAIR_N links plain, with a
# rate on both ends of every link (tbf, one qdisc per end), and with rate and
# loss (tbf, clsact and the cls_bpf loss program per end).
IMPAIR_N=${BENCH_IMPAIR_LINKS:-100}
gen_impair() { # N VARIANT OPTIONS
	cat <<EOF
lab imp$1$2
switch lan
node h[1..$1]
    ip eth0 10.{i/65536}.{i/256%256}.{i%256}/8
link h[1..$1]:eth0 lan $3
EOF
}
run_impair() {
	local v opts lab
	for v in plain rate rateloss; do
		case $v in
		plain) opts="" ;;
		rate) opts="rate 100mbit" ;;
		rateloss) opts="rate 100mbit loss 1%" ;;
		esac
		lab=imp$IMPAIR_N$v
		gen_impair "$IMPAIR_N" "$v" "$opts" >"$W/$lab.topo"
		for r in $(seq "$RUNS"); do
			"$TIMER" "$W/t" 300 "$NETLAB" up "$W/$lab.topo" --timing >"$W/up.out" 2>&1 ||
				fail "netlab up $lab: $(tail -3 "$W/up.out")"
			rec netlab "impair-$v" "$IMPAIR_N" up_ms "$(cat "$W/t")"
			# The phases that do the shaping: links (switch ports) and
			# configure (node ends); less noise than the whole `up`.
			rec netlab "impair-$v" "$IMPAIR_N" shape_ms "$(sed -n 's/^phases (ms):.* links=\([0-9]*\) configure=\([0-9]*\).*/\1 \2/p' "$W/up.out" | awk '{print $1 + $2}')"
			# Loss may take a ping or two: three tries, one must answer.
			timeout 20 "$NETLAB" exec "$lab" "h$IMPAIR_N" ping -c 3 -i 0.2 -W 2 10.0.0.1 >/dev/null 2>&1 ||
				fail "netlab $lab: ping h$IMPAIR_N -> h1 failed"
			[ "$v" = plain ] || [ "$("$NETLAB" exec "$lab" h1 tc qdisc show dev eth0 | grep -c tbf)" = 1 ] ||
				fail "netlab $lab: no tbf on h1:eth0"
			"$TIMER" "$W/t" 300 "$NETLAB" down "$lab" >"$W/down.out" 2>&1 || fail "netlab down $lab: $(tail -3 "$W/down.out")"
			rec netlab "impair-$v" "$IMPAIR_N" down_ms "$(cat "$W/t")"
			check_clean "netlab impair $v run $r"
		done
		say "netlab impair $v $IMPAIR_N links: up $(get netlab "impair-$v" "$IMPAIR_N" up_ms) ms (median min max)"
	done
}
impair_name() {
	case $1 in
	plain) echo "no options" ;;
	rate) echo "rate 100mbit (tbf)" ;;
	rateloss) echo "rate 100mbit loss 1% (tbf + clsact + cls_bpf)" ;;
	esac
}
impair_table() {
	local plain m extra v
	plain=$(med netlab impair-plain "$IMPAIR_N" shape_ms)
	echo "| star of $IMPAIR_N links, options on both ends of each | up ms | links+configure phases ms | their cost over plain, per link | down ms |"
	echo "|---|---|---|---:|---|"
	for v in plain rate rateloss; do
		m=$(med netlab "impair-$v" "$IMPAIR_N" shape_ms)
		extra=$(awk -v a="$m" -v b="$plain" -v n="$IMPAIR_N" 'BEGIN {if (a == "" || b == "") print "n/a"; else printf "%+.0f ms (%+.2f ms)", a - b, (a - b) / n}')
		echo "| $(impair_name $v) | $(fmt netlab "impair-$v" "$IMPAIR_N" up_ms) | $(fmt netlab "impair-$v" "$IMPAIR_N" shape_ms) | $extra | $(fmt netlab "impair-$v" "$IMPAIR_N" down_ms) |"
	done
}

# ---- a lab across machines (issue 18) -----------------------------------------
# bench/multihost.sh in a sandbox of its own (its machines' underlay and
# sshds must not change this one's snapshot): the star of MH_N hosts on
# this machine, on one machine over ssh, over three; alternating runs.
MH_DONE=
run_multihost() {
	if [ ! -x /usr/sbin/sshd ]; then
		say "multihost: skipped: no /usr/sbin/sshd (openssh-server; scripts/install-deps.sh installs it)"
		return 0
	fi
	unshare --net --mount --pid --fork --mount-proc -- bash "$REPO/bench/multihost.sh" "$MH_N" "$RUNS" "$NETLAB" "$TIMER" \
		>>"$RES" || fail "multihost"
	MH_DONE=1
	for k in local one three; do
		say "multihost star $MH_N, $k: up $(get "mh-$k" star "$MH_N" up_ms) down $(get "mh-$k" star "$MH_N" down_ms) ms (median min max)"
	done
}
multihost_table() {
	local lu ld
	[ -n "$MH_DONE" ] || {
		echo "(not run: no /usr/sbin/sshd)"
		return
	}
	lu=$(med mh-local star "$MH_N" up_ms)
	ld=$(med mh-local star "$MH_N" down_ms)
	echo "| star of $MH_N hosts | up ms | down ms | up ÷ on this machine | down ÷ on this machine |"
	echo "|---|---|---|---:|---:|"
	for k in local one three; do
		echo "| $(case $k in local) echo "on this machine (no ssh)" ;; one) echo "on one machine, over ssh" ;; three) echo "over three machines (a switch spanning them)" ;; esac) | $(fmt "mh-$k" star "$MH_N" up_ms) | $(fmt "mh-$k" star "$MH_N" down_ms) | ×$(ratio "$(med "mh-$k" star "$MH_N" up_ms)" "$lu") | ×$(ratio "$(med "mh-$k" star "$MH_N" down_ms)" "$ld") |"
	done
}

# ---- rootless labs (issue 15) ------------------------------------------------
# The same labs brought up and down by root and by uid 65534 (nobody, no
# subordinate IDs: docs/rootless.md), runs alternating; both through
# env -i (the user's also through setpriv).  Checked every run: a ping
# across, and after `down` nothing left (processes, state, the sandbox).
RL_U=65534
run_rootless() {
	local who topo n lab r to node up pre
	mkdir -p "$W/rl-home" "$W/rl-xdg"
	# A runtime directory is a tmpfs (pam_systemd's /run/user/UID), as
	# root's /run/netlab is here.
	mountpoint -q "$W/rl-xdg" || mount -t tmpfs -o mode=700,uid=$RL_U,gid=$RL_U netlab-bench-xdg "$W/rl-xdg" ||
		fail "tmpfs on $W/rl-xdg"
	chown $RL_U:$RL_U "$W/rl-home"
	cp "$REPO/topologies/two-webservers.topo" "$W/rl-home/web.topo"
	gen_star "$RL_N" >"$W/rl-home/star.topo"
	chmod 644 "$W/rl-home/"*.topo
	for r in $(seq "$RUNS"); do
		for who in root user; do
			for topo in web star; do
				if [ $topo = web ]; then lab=two-webservers n=2 to=192.168.0.1 node=web2; else lab=star$RL_N n=$RL_N to=10.0.0.1 node=h$RL_N; fi
				pre=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin)
				[ $who = root ] || pre=(setpriv --reuid $RL_U --regid $RL_U --clear-groups env -i HOME="$W/rl-home"
					XDG_RUNTIME_DIR="$W/rl-xdg" PATH=/usr/sbin:/usr/bin:/sbin:/bin)
				"$TIMER" "$W/t" 300 "${pre[@]}" "$NETLAB" up "$W/rl-home/$topo.topo" >"$W/up.out" 2>&1 ||
					fail "rootless bench: $who up $topo: $(tail -3 "$W/up.out")"
				up=$(cat "$W/t")
				rec "rl-$who" $topo $n up_ms "$up"
				timeout 20 "${pre[@]}" "$NETLAB" exec $lab $node ping -c 1 -W 3 $to >/dev/null 2>&1 ||
					fail "rootless bench: $who $topo: no ping"
				"$TIMER" "$W/t" 300 "${pre[@]}" "$NETLAB" down "$lab" >"$W/down.out" 2>&1 ||
					fail "rootless bench: $who down $topo: $(tail -3 "$W/down.out")"
				rec "rl-$who" $topo $n down_ms "$(cat "$W/t")"
				rec "rl-$who" $topo $n updown_ms "$(awk -v a="$up" -v b="$(cat "$W/t")" 'BEGIN {print a + b}')"
				check_clean "rootless bench $who $topo run $r"
				[ -z "$(ls -A "$W/rl-xdg/netlab" 2>/dev/null)" ] || fail "rootless bench: the user's state is left"
			done
		done
	done
	for topo in web star; do
		n=$([ $topo = web ] && echo 2 || echo "$RL_N")
		say "rootless $topo $n: root up+down $(get rl-root $topo $n updown_ms), user $(get rl-user $topo $n updown_ms) ms (median min max)"
	done
}
rootless_table() {
	local n topo target
	echo "| lab | by root: up / down ms | by a user (rootless): up / down ms | up+down: user ÷ root | target |"
	echo "|---|---|---|---:|---|"
	for topo in web star; do
		n=$([ $topo = web ] && echo 2 || echo "$RL_N")
		target=$([ $topo = web ] && echo 2 || echo 1.5)
		r=$(ratio "$(med rl-user $topo $n updown_ms)" "$(med rl-root $topo $n updown_ms)")
		echo "| $([ $topo = web ] && echo two-webservers || echo "star of $n") | $(fmt rl-root $topo $n up_ms) / $(fmt rl-root $topo $n down_ms) | $(fmt rl-user $topo $n up_ms) / $(fmt rl-user $topo $n down_ms) | ×$r | ≤ ×$target: $(awk -v r="$r" -v t="$target" 'BEGIN {print (r == "n/a" ? "n/a" : (r <= t ? "PASS" : "MISS"))}') |"
	done
}
