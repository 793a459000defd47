#!/usr/bin/env bash
# The fault-injection suite (`make faults`; `make test` runs its quick
# form): `netlab up` of a lab with a host link, host forwarding and NAT, a
# node with a memory limit, a `user`, exec and run lines, and
#   - SIGKILL, SIGINT, SIGTERM of `up` at many moments of its setup,
#   - SIGKILL and SIGTERM of its supervisor at many moments,
#   - the Nth call of a mutating system call failing, in every netlab
#     process (strace -f -e inject=SYSCALL:error=E:when=N),
# each in a sandbox of its own (tests/faults/trial.sh), which after at most
# one `down` must equal its baseline, and where a fresh `up` must work.
#
# Usage: tests/faults/run.sh NETLAB [quick|full]
set -u
NETLAB=$(realpath "${1:-./netlab}")
mode=${2:-full}
cd "$(dirname "$0")/../.."
export NETLAB
if [ "$(id -u)" != 0 ]; then
	echo "faults: skipped: needs root (namespaces, veth, bridges)"
	exit 0
fi
if ! command -v strace >/dev/null; then
	echo "faults: strace is missing (scripts/install-deps.sh installs it)"
	exit 1
fi

trials=()
if [ $mode = quick ]; then
	delays="0 3 8 15 30"
	ns="1 3"
else
	delays=$(seq 0 3 90)
	ns="1 2 3 4 5 6 8 10 13 17 21"
fi
for d in $delays; do
	for sig in KILL INT TERM; do trials+=("kill-up $sig $d"); done
	for sig in KILL TERM; do trials+=("kill-sup $sig $d"); done
done
# The system calls through which netlab changes something, each failing
# with an errno it can meet.
inject="sendmsg:ENOBUFS sendto:ENOBUFS setsockopt:ENOMEM write:ENOSPC openat:EMFILE mkdir:ENOSPC
renameat:ENOSPC clone:ENOMEM unshare:ENOMEM setns:EPERM mount:EPERM socket:EMFILE socketpair:EMFILE
bind:EADDRINUSE flock:ENOLCK rmdir:EBUSY fstatfs:EIO pidfd_open:EMFILE signalfd4:ENOMEM epoll_ctl:ENOMEM
prctl:EINVAL setresuid:EPERM madvise:ENOMEM"
[ $mode = quick ] && inject="sendmsg:ENOBUFS setsockopt:ENOMEM write:ENOSPC openat:EMFILE renameat:ENOSPC
clone:ENOMEM unshare:ENOMEM setns:EPERM mount:EPERM bind:EADDRINUSE"
for sc in $inject; do
	for n in $ns; do trials+=("inject ${sc%%:*} ${sc#*:} $n"); done
done

tried=0 clean=0 works=0
for t in "${trials[@]}"; do
	out=$(timeout 120 unshare --net --mount --pid --fork --mount-proc -- bash tests/faults/trial.sh $t 2>&1 | tail -1)
	tried=$((tried + 1))
	case $out in clean*) clean=$((clean + 1)) ;; esac
	case $out in *"fresh up works") works=$((works + 1)) ;; esac
	case $out in
	clean*"fresh up works") echo "ok - fault $t: $out" ;;
	*) echo "not ok - fault $t: ${out:-(no verdict: the trial timed out)}" ;;
	esac
done
echo "faults: $tried tried, $clean clean after at most one down, $works with a working fresh up"
[ $clean = $tried ] && [ $works = $tried ]
