#!/usr/bin/env bash
# The main job in one command: build netlab, check and draw the classic
# example, bring it up, show a request crossing the lab, take it down.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -s
topo=topologies/two-webservers.topo
echo "== netlab check $topo"
./netlab check "$topo"
echo "== netlab graph $topo (DOT, first lines)"
./netlab graph "$topo" | sed -n '1,8p'   # sed reads it all: no SIGPIPE under pipefail
echo "== netlab up $topo"
./netlab up "$topo"
trap './netlab down two-webservers >/dev/null 2>&1 || true' EXIT
./netlab status two-webservers
# The server needs a moment to bind its port after `up` started it.
for _ in $(seq 50); do
	./netlab exec two-webservers web2 curl -s -o /dev/null -m 1 http://web1:8080/ && break
	sleep 0.1
done
echo "== netlab exec web2 curl http://web1:8080/  (a request crossing the lab)"
./netlab exec two-webservers web2 curl -s -m 5 -w 'HTTP %{http_code} from %{remote_ip}\n' -o /dev/null http://web1:8080/
echo "== netlab exec web2 ping -c 1 fd00::1"
./netlab exec two-webservers web2 ping -c 1 -W 2 fd00::1 | sed -n '1,2p'
echo "== web1's server log (netlab logs two-webservers web1)"
./netlab logs two-webservers web1 | tail -n 2
echo "== netlab down two-webservers"
./netlab down two-webservers
trap - EXIT
