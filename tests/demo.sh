#!/bin/sh
# make demo: rtm, two monitoring clients and a scripted admin session
# in a private run directory.  Leaves nothing behind, even on ^C.
B=${1:-}
RTM="${B}rtm/rtm"
ADMIN="${B}admin/rtm-admin"
CLIENT="${B}client/rtm-client"

dir=$(mktemp -d "${TMPDIR:-/tmp}/rtm-demo.XXXXXX") || exit 1
export RTM_DIR="$dir"
pids=""

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	[ -x "$RTM" ] && "$RTM" -C -d "$dir" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); else bold= plain=; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "starting rtm in $dir"
"$RTM" -f -d "$dir" -s "$dir/rtm.state" 2>"$dir/rtm.log" &
rtm_pid=$!
pids="$rtm_pid"
i=0
until [ -S "$dir/rtm.sock" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$dir/rtm.sock" ] || { echo "demo: rtm did not start:"; cat "$dir/rtm.log"; exit 1; }
echo "rtm running, pid $rtm_pid"

step "starting two clients: rtm-client monitor"
for n in 1 2; do
	"$CLIENT" monitor >"$dir/client$n.out" 2>&1 &
	pids="$! $pids"
done
sleep 0.3

step "admin session"
run "$ADMIN" route add 10.0.0.0/8 dev eth0
run "$ADMIN" route add 10.1.0.0/16 via 10.0.0.1 dev eth0
run "$ADMIN" route add 192.168.1.0/24 dev eth1
run "$ADMIN" route add 0.0.0.0/0 via 192.168.1.1 dev eth1
run "$ADMIN" route change 192.168.1.0/24 dev eth2
run "$ADMIN" route del 10.0.0.0/8
run "$ADMIN" route show
run "$ADMIN" route get 10.1.2.3
run "$ADMIN" route get 8.8.8.8
run "$ADMIN" arp add 00:1a:2b:3c:4d:5e 192.168.1.10
run "$ADMIN" arp add 00:1a:2b:3c:4d:5f 192.168.1.11
run "$ADMIN" arp add 02:00:00:00:00:01 192.168.1.12
run "$ADMIN" arp change 00:1a:2b:3c:4d:5f 192.168.1.99
run "$ADMIN" arp del 02:00:00:00:00:01
run "$ADMIN" route add 10.0.0.1/24 dev eth0 || echo "(refused, as it should be: exit $?)"
run "$ADMIN" route add 10.1.0.0/16 dev eth3 || echo "(refused, as it should be: exit $?)"
sleep 0.3	# clients acknowledge at most every 100 ms
run "$ADMIN" clients
run "$CLIENT" show
run "$ADMIN" -j route show

step "the segments: rtm-admin arp show next to ipcs"
run "$ADMIN" arp show
run "$CLIENT" arp get 00:1a:2b:3c:4d:5f
echo "$ ipcs -m -s   (rtm's objects only)"
keys=$("$ADMIN" arp show | awk '{ print $4 }')
ipcs -m -s | awk -v keys="$keys" 'BEGIN { n = split(keys, k, "\n"); for (i = 1; i <= n; i++) want[k[i]] = 1 }
	/^---/ || /^key/ { print; next } $1 in want { print }'

step "flush: every client gets SIGUSR1 and empties its tables"
run "$ADMIN" flush
sleep 0.3
run "$ADMIN" stats

step "what the clients printed (rtm-client monitor)"
for n in 1 2; do
	echo "-- client $n"
	sed 's/^/   /' "$dir/client$n.out"
done

step "shutting down"
for p in $pids; do [ "$p" = "$rtm_pid" ] || kill "$p" 2>/dev/null; done
sleep 0.2
kill "$rtm_pid"
wait "$rtm_pid"
echo "rtm exited with status $?"
pids=""
left=$(ipcs -m -s | grep -c "^0x" || true)
echo "$ ipcs -m -s | grep -c ^0x"
echo "$left"
for k in $keys; do
	if ipcs -m -s | grep -q "^$k "; then
		echo "demo: segment $k was left behind" >&2
		exit 1
	fi
done
echo "all of rtm's segments and semaphore sets are gone."
