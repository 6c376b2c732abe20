#!/bin/sh
# make bench: the performance benchmark of issue 6 (docs/performance.md).
#
# Builds the harness programs of tests/bench/ against the libraries of
# build prefix $1 (after `make all`), then runs each measurement next to
# its raw baseline in the same run, in a private temporary directory,
# and prints a table (also written as CSV to tests/bench/results.csv).
# Everything it starts is stopped, and every System V object and
# sysctl it touched is put back, however it ends.
#
# usage: sh tests/bench/run.sh [BUILD_PREFIX]
# Environment (defaults in brackets):
#   BENCH_ROUTES [1000000]  routes loaded      BENCH_OPS [10000] changes
#   BENCH_MACS [32768]      MACs created       BENCH_LOOKUPS [20000000]
#   BENCH_KERNEL [1]        0: skip the kernel ip -batch reference
#   BENCH_RTABLE [0]        1: also run the rtable micro-benchmark
#   BENCH_TMPDIR            where the state files and inputs go [$TMPDIR,
#                           /tmp]
#   BENCH_RUNDIR            where rtm's run directories go [as root, /run
#                           when it is a tmpfs, as rtm's /var/run/rtm is;
#                           else BENCH_TMPDIR]
#   BENCH_REPEAT [3]        runs of each load and fan-out: the table shows
#                           the median, the details every run
#   BENCH_HALTPOLL          as root on a KVM guest idling with
#                           cpuidle-haltpoll: guest_halt_poll_ns for the
#                           run (the kernel's default is 200000), put
#                           back after; the table says what it was
#   BENCH_BUDGET [600]      seconds for all the measurements together:
#                           each step has its own deadline as well, and
#                           steps that find the budget spent report timeout
#   CC [cc]
B=${1:-}
cd "$(dirname "$0")/../.." || exit 1	# paths below are from the top
RTM="${B}rtm/rtm"
ADMIN="${B}admin/rtm-admin"
OUT="${B:-build/}bench"
CSV=tests/bench/results.csv
TXT=tests/bench/results.txt
ROUTES=${BENCH_ROUTES:-1000000}
MACS=${BENCH_MACS:-32768}
OPS=${BENCH_OPS:-10000}
LOOKUPS=${BENCH_LOOKUPS:-20000000}
SEED=1
BUDGET=${BENCH_BUDGET:-600}
REPEAT=${BENCH_REPEAT:-3}
CC=${CC:-cc}
CFLAGS="-std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
-Wformat=2 -Wundef -Wwrite-strings -Wvla"
CPPFLAGS="-D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -Iipc -Iclient"

say() { printf 'bench: %s\n' "$*" >&2; }

for f in "$RTM" "$ADMIN" "${B}ipc/libipc.a" "${B}client/librtmc.a"; do
	[ -e "$f" ] || { say "$f missing: run make all first"; exit 1; }
done

# --- build ---------------------------------------------------------------
mkdir -p "$OUT" || exit 1
for p in bench_gen bench_client bench_driver bench_fanout; do
	$CC $CFLAGS $CPPFLAGS -o "$OUT/$p" "tests/bench/$p.c" \
	    tests/bench/bench_util.c "${B}client/librtmc.a" "${B}ipc/libipc.a" ||
	    { say "cannot build $p"; exit 1; }
done
$CC $CFLAGS $CPPFLAGS -o "$OUT/rtable_bench" tests/bench/rtable_bench.c \
    "${B}ipc/libipc.a" || { say "cannot build rtable_bench"; exit 1; }
# Finds what a crash would leave in the kernel (a leak check at the end).
$CC $CFLAGS $CPPFLAGS -o "$OUT/sweep" tests/sweep.c "${B}ipc/libipc.a" ||
    { say "cannot build sweep"; exit 1; }

# --- the private run area and its cleanup ---------------------------------
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/rtm-bench.XXXXXX") || exit 1
res="$tmp/results"
: >"$res"
rtm_pid= rdir= ns= sysctl_saved= runs= haltpoll_saved=

fs_of() { df -T "$1" 2>/dev/null | awk 'NR == 2 { print $2 }'; }

# rtm's own layout: as root, the run directory (sockets, key files) on
# the tmpfs of /var/run/rtm and the state file on disk in /var/lib/rtm;
# as anyone else, both in TMPDIR.  Where the key files are decides the
# MAC figure on a disk file system (docs/performance.md).
rbase=${BENCH_RUNDIR:-}
if [ -z "$rbase" ] && [ "$(id -u)" = 0 ] && [ "$(fs_of /run)" = tmpfs ] &&
    [ -w /run ]; then
	rbase=/run
fi
if [ -n "$rbase" ]; then
	runs=$(mktemp -d "$rbase/rtm-bench.XXXXXX") || { rm -rf "$tmp"; exit 1; }
else
	runs=$tmp
fi

is_ours() {	# pid: still one of our harness processes?
	if [ -r "/proc/$1/cmdline" ]; then
		grep -q bench_client "/proc/$1/cmdline" 2>/dev/null
	else
		[ "$(ps -p "$1" -o comm= 2>/dev/null)" = bench_client ]
	fi
}

nap() { sleep 0.1 2>/dev/null || sleep 1; }

stop_rtm() {
	[ -n "$rtm_pid" ] || return 0
	kill "$rtm_pid" 2>/dev/null
	i=0
	while kill -0 "$rtm_pid" 2>/dev/null && [ $i -lt 300 ]; do
		nap; i=$((i + 1))
	done
	kill -9 "$rtm_pid" 2>/dev/null
	wait "$rtm_pid" 2>/dev/null
	rtm_pid=
	"$RTM" -C -d "$rdir" >/dev/null 2>&1
}

restore_sysctls() {
	[ -n "$sysctl_saved" ] || return 0
	echo "$old_shmmni" >/proc/sys/kernel/shmmni
	echo "$old_sem" >/proc/sys/kernel/sem
	sysctl_saved=
	say "restored kernel.shmmni=$old_shmmni kernel.sem=\"$old_sem\""
}

# A KVM guest idling with cpuidle-haltpoll polls up to guest_halt_poll_ns
# before it halts a vCPU; waking a halted one takes an IPI and a VM exit,
# and the host may have run something else meanwhile.  Some hosts boot
# their guests with it 0.  It moves the route change figures more than
# anything of rtm's does (docs/performance.md), so the table says it.
haltpoll=/sys/module/haltpoll/parameters/guest_halt_poll_ns
haltpoll_on() {
	[ -r "$haltpoll" ] && [ "$(cat /sys/devices/system/cpu/cpuidle/current_driver \
	    2>/dev/null)" = haltpoll ]
}

restore_haltpoll() {
	[ -n "$haltpoll_saved" ] || return 0
	echo "$haltpoll_saved" >"$haltpoll"
	say "restored guest_halt_poll_ns=$haltpoll_saved"
	haltpoll_saved=
}

cleanup() {
	trap - EXIT INT TERM HUP
	trap '' PIPE		# a reader gone must not cut the cleanup short
	stop_rtm
	if [ -f "$tmp/pids" ]; then
		for p in $(cat "$tmp/pids"); do
			is_ours "$p" && kill -9 "$p" 2>/dev/null
		done
	fi
	for d in "$runs"/run.*; do
		[ -d "$d" ] && "$RTM" -C -d "$d" >/dev/null 2>&1
	done
	if [ -n "$ns" ]; then
		ip netns del "$ns" 2>/dev/null
		ns=
	fi
	restore_sysctls
	restore_haltpoll
	leaks=$("$OUT/sweep" "$runs" 2>&1)
	[ -n "$leaks" ] && say "LEAK: $leaks"
	[ "$runs" != "$tmp" ] && rm -rf "$runs"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
trap 'exit 141' PIPE

start_rtm() {	# name
	rdir="$runs/run.$1"
	mkdir -p "$rdir" || return 1
	"$RTM" -f -d "$rdir" -s "$tmp/state.$1" 2>"$rdir/rtm.log" &
	rtm_pid=$!
	i=0
	while [ ! -S "$rdir/rtm.sock" ] && [ $i -lt 100 ]; do
		kill -0 "$rtm_pid" 2>/dev/null || break
		nap; i=$((i + 1))
	done
	[ -S "$rdir/rtm.sock" ] && return 0
	say "rtm did not start:"; cat "$rdir/rtm.log" >&2
	return 1
}

now() { date +%s; }
t_start=$(now)

# Seconds a step may take: its own bound, cut to what the budget has left.
allow() {
	left=$((BUDGET - ($(now) - t_start)))
	[ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}

# step TAG SECONDS COMMAND...: runs one measurement program, keeping its
# "R key value" lines; a program that dies without saying why is an error.
# SECONDS must come from allow(); a spent budget skips the step.
step() {
	tag=$1 secs=$2
	shift 2
	if [ "$secs" -le 0 ]; then
		say "$tag: no time left in the budget (BENCH_BUDGET=$BUDGET)"
		echo "R ${tag}_status timeout" >>"$res"
		return 124
	fi
	if command -v timeout >/dev/null 2>&1; then
		set -- timeout -k 5 $((secs + 30)) "$@"
	fi
	"$@" >"$tmp/step.out"
	rc=$?
	grep '^R ' "$tmp/step.out" >>"$res"
	if [ $rc -ne 0 ] && ! grep -q "^R ${tag}_status " "$tmp/step.out"; then
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "R ${tag}_status timeout" >>"$res"
		else
			echo "R ${tag}_status error" >>"$res"
		fi
	fi
	return $rc
}

status() { echo "R ${1}_status $2" >>"$res"; }

driver() {	# TAG SECONDS FILE K [driver options]
	dtag=$1 dsecs=$(allow "$2") dfile=$3 dk=$4
	shift 4
	step "$dtag" "$dsecs" "$OUT/bench_driver" -d "$rdir" \
	    -c "$OUT/bench_client" -a "$ADMIN" -f "$dfile" -k "$dk" \
	    -T "$dtag" -r "$rtm_pid" -P "$tmp/pids" -t "$dsecs" "$@"
}

# median NAME: appends NAME = the median of the numbers recorded as NAME
# or NAME_2, NAME_3 ... (the table reads the last value of a key), and
# NAME_runs = all of them in order.
median() {
	vals=$(awk -v n="$1" '$1 == "R" && ($2 == n || $2 ~ ("^" n "_[0-9]+$")) &&
	    $3 ~ /^[0-9.]+$/ { print $3 }' "$res")
	[ -n "$vals" ] || return 0
	echo "R ${1}_runs $(echo $vals | tr ' ' ',')" >>"$res"
	echo "R $1 $(printf '%s\n' $vals | sort -n |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" >>"$res"
}

# load_runs TAG K SECONDS [OPTIONS]: K clients load the routes REPEAT times,
# each time into a fresh rtm; OPTIONS (further measurements on the
# loaded table) go to the first run only.
load_runs() {
	ltag=$1 lk=$2 lsecs=$3
	shift 3
	r=1
	while [ $r -le "$REPEAT" ]; do
		t=$ltag
		[ $r -gt 1 ] && t=${ltag}_$r
		if start_rtm "$t"; then
			driver "$t" "$lsecs" "$tmp/routes" "$lk" -n "$ROUTES" "$@"
			stop_rtm
		else
			status "$t" error
		fi
		set --			# OPTIONS: the first run only
		r=$((r + 1))
	done
	median "$ltag"
}

# fanout_runs K: the raw fan-out baseline to K receivers, REPEAT times.
fanout_runs() {
	r=1
	while [ $r -le "$REPEAT" ]; do
		s=$(allow 60)
		step "fanout$1" "$s" "$OUT/bench_fanout" fanout -d "$runs" \
		    -k "$1" -n "$ROUTES" -s "$SEED" -t "$s"
		r=$((r + 1))
	done
	median "fanout${1}_s"
}

# --- the machine ----------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
[ -n "$cpu" ] || cpu=$(uname -p)
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')
loadavg=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
machine="$ncpu CPUs, $cpu, $(uname -sr), run dirs on $(fs_of "$runs"),"
machine="$machine state on $(fs_of "$tmp")"
if [ -n "${BENCH_HALTPOLL:-}" ]; then
	case $BENCH_HALTPOLL in
	*[!0-9]*) say "BENCH_HALTPOLL=$BENCH_HALTPOLL: not a number of" \
	    "nanoseconds"; exit 2 ;;
	esac
	if haltpoll_on && [ -w "$haltpoll" ]; then
		old=$(cat "$haltpoll")
		echo "$BENCH_HALTPOLL" >"$haltpoll" || exit 1
		haltpoll_saved=$old
		say "guest_halt_poll_ns=$BENCH_HALTPOLL for this run (was $old)"
	else
		say "BENCH_HALTPOLL: ignored: no writable $haltpoll with" \
		    "cpuidle-haltpoll idling (not root, or not a KVM guest)"
	fi
fi
if haltpoll_on; then
	us=$(($(cat "$haltpoll") / 1000))
	[ "$us" -gt 0 ] && machine="$machine, idle polling $us us" ||
	    machine="$machine, idle polling off"
fi
machine="$machine, load average at start ${loadavg:-?}"
say "$machine"
say "run area $tmp, run directories in $runs"
[ "$(fs_of "$runs")" = tmpfs ] ||
    say "note: key files on $(fs_of "$runs"), not tmpfs: MAC creation" \
    "depends on what the file system went through just before" \
    "(docs/performance.md, MAC creation); BENCH_RUNDIR chooses"

# --- input ----------------------------------------------------------------
"$OUT/bench_gen" routes "$ROUTES" "$SEED" "$tmp/routes" || exit 1
first=$(awk 'NR == 1 { print $3; exit }' "$tmp/routes")

# --- 1, 3, 5, 7: 1M routes, 16 clients; route changes; RSS; lookups --------
say "$ROUTES routes -> 16 clients (runs: $REPEAT), the first followed by" \
    "$OPS route changes and $LOOKUPS lookups"
load_runs load16 16 180 -l "$OPS" -x "$first" -L "$LOOKUPS"
say "baselines: raw fan-out to 16 (runs: $REPEAT), raw ping to 16"
fanout_runs 16
s=$(allow 60)
step ping "$s" "$OUT/bench_fanout" ping -d "$runs" -k 16 -o "$OPS" -t "$s"

# --- 2: 64 clients --------------------------------------------------------
say "$ROUTES routes -> 64 clients, raw fan-out to 64 (runs: $REPEAT)"
load_runs load64 64 240
fanout_runs 64
# What the kernel takes to hand 64 processes the memory the clients'
# mirrors grew by (fresh pages, zeroed): part of the 64-client figure
# that no code of rtm's is in, and on a VM the part that varies most.
bpu=$(awk '$2 == "load64_rss_client_bpu" { print $3 }' "$res")
mib=$(awk -v b="$bpu" -v n="$ROUTES" 'BEGIN { printf "%d", b * n / 1048576 }')
if [ "${mib:-0}" -gt 0 ]; then
	s=$(allow 60)
	step mem64 "$s" "$OUT/bench_fanout" memory -k 64 -m "$mib" -t "$s"
	echo "R mem64_mib $mib" >>"$res"
fi

# --- 6, 4: MACs, segments, ARP lookups ------------------------------------
# Every MAC is one segment and one semaphore set: the kernel's limits
# must leave room for them next to what is already in use.
macs=$MACS arp_ok=1
if [ -r /proc/sys/kernel/shmmni ] && [ -r /proc/sys/kernel/sem ]; then
	old_shmmni=$(cat /proc/sys/kernel/shmmni)
	old_sem=$(cat /proc/sys/kernel/sem)
	set -- $old_sem
	semmsl=$1 semmns=$2 semopm=$3 semmni=$4
	used_shm=$(($(wc -l </proc/sysvipc/shm) - 1))
	used_sem=$(($(wc -l </proc/sysvipc/sem) - 1))
	need_shm=$((MACS + used_shm))
	need_sem=$((MACS + used_sem))
	if [ "$old_shmmni" -lt "$need_shm" ] || [ "$semmni" -lt "$need_sem" ] ||
	    [ "$semmns" -lt "$need_sem" ]; then
		new_mns=$semmns
		[ "$new_mns" -lt "$need_sem" ] && new_mns=$need_sem
		new_shmmni=$old_shmmni new_mni=$semmni
		[ "$new_shmmni" -lt "$need_shm" ] && new_shmmni=$need_shm
		[ "$new_mni" -lt "$need_sem" ] && new_mni=$need_sem
		if [ "$(id -u)" = 0 ]; then
			sysctl_saved=1
			if echo "$new_shmmni" >/proc/sys/kernel/shmmni 2>/dev/null &&
			    echo "$semmsl $new_mns $semopm $new_mni" \
			    >/proc/sys/kernel/sem 2>/dev/null; then
				say "raised kernel.shmmni to $new_shmmni and" \
				    "kernel.sem to \"$semmsl $new_mns $semopm" \
				    "$new_mni\" (restored at the end)"
			else
				say "cannot raise kernel.shmmni to $new_shmmni" \
				    "or kernel.sem semmni (4th field) to" \
				    "$new_mni: Linux allows at most 32768 of" \
				    "each unless booted with ipcmni_extend," \
				    "and $used_shm segments / $used_sem" \
				    "semaphore sets are in use already"
				arp_ok=0
			fi
		else
			say "$MACS MACs need kernel.shmmni >= $need_shm (is" \
			    "$old_shmmni) and kernel.sem semmni, its 4th field," \
			    ">= $need_sem (is $semmni): raise them (as root:" \
			    "sysctl -w kernel.shmmni=$need_shm" \
			    "kernel.sem=\"$semmsl $new_mns $semopm $need_sem\")" \
			    "or run the benchmark as root"
			arp_ok=0
		fi
	fi
fi
if [ $arp_ok = 0 ]; then
	status macs skip
	status shm skip
	macs=1024
	say "skipping the $MACS-MAC measurement; ARP lookups on $macs MACs"
fi
"$OUT/bench_gen" arp "$macs" "$tmp/arp" || exit 1
say "$macs MACs -> 4 clients, then ARP lookups"
if start_rtm macs; then
	if [ $arp_ok = 1 ]; then
		driver macs 120 "$tmp/arp" 4 -m "$macs" -A
	else
		driver arpsmall 120 "$tmp/arp" 4 -m "$macs" -A
	fi
	stop_rtm
else
	status macs error
fi
s=$(allow 30)
[ $arp_ok = 1 ] && step shm "$s" "$OUT/bench_fanout" shm -m "$MACS" -t "$s"
s=$(allow 30)
step semop "$s" "$OUT/bench_fanout" semop -t "$s"
restore_sysctls

# --- reference: the kernel's own table ------------------------------------
kmem() {	# kB the kernel holds in slab caches and vmalloc
	awk '/^(Slab|VmallocUsed):/ { s += $2 } END { print s }' /proc/meminfo
}
if [ "${BENCH_KERNEL:-1}" = 0 ]; then
	say "kernel ip -batch reference skipped (BENCH_KERNEL=0)"
	status kernel skip
elif [ "$(uname -s)" != Linux ] || [ "$(id -u)" != 0 ] ||
    ! command -v ip >/dev/null 2>&1 || ! ip netns list >/dev/null 2>&1; then
	say "kernel ip -batch reference skipped (needs root on Linux" \
	    "with ip netns)"
	status kernel skip
elif ! ip netns add "rtmbench$$" 2>/dev/null; then
	say "kernel ip -batch reference skipped: ip netns add failed"
	status kernel skip
else
	ns="rtmbench$$"
	ok=1
	ip -n "$ns" link set lo up
	for i in 0 1 2 3; do
		# dummy when the kernel has it, else a veth pair (carrier up)
		if ! ip -n "$ns" link add "eth$i" type dummy 2>/dev/null; then
			ip -n "$ns" link add "eth$i" type veth peer name \
			    "peer$i" && ip -n "$ns" link set "peer$i" up ||
			    ok=0
		fi
		ip -n "$ns" addr add "10.255.$i.254/24" dev "eth$i" &&
		    ip -n "$ns" link set "eth$i" up || ok=0
	done
	if [ $ok = 1 ]; then
		say "kernel: ip -batch of the same $ROUTES routes into" \
		    "namespace $ns"
		k0=$(kmem)
		s=$(allow 180)
		if step kernel "$s" "$OUT/bench_driver" -T kernel -t "$s" -e \
		    ip -n "$ns" -batch "$tmp/routes"; then
			k1=$(kmem)
			echo "R kernel_bpu $(( (k1 - k0) * 1024 / ROUTES ))" \
			    >>"$res"
		fi
	else
		say "kernel: cannot set up interfaces in $ns"
		status kernel error
	fi
	ip netns del "$ns"
	ns=
fi

if [ "${BENCH_RTABLE:-0}" = 1 ]; then
	say "rtable micro-benchmark (tests/bench/rtable_bench.c)"
	"$OUT/rtable_bench" -n "$ROUTES" -l 5000000 >&2
fi

# --- the table ------------------------------------------------------------
human() {	# 1000000 -> 1M, 32768 -> 32768
	if [ $(($1 % 1000000)) -eq 0 ]; then echo "$(($1 / 1000000))M"
	else echo "$1"; fi
}
R=$(human "$ROUTES")
# rows: label | unit | rtm key | baseline key | baseline | target
rows="$R routes -> 16 clients (rtm-admin -b)|s|load16|fanout16_s|raw fan-out to 16|<= 2.0
$R routes -> 64 clients (rtm-admin -b)|s|load64|fanout64_s|raw fan-out to 64|<= 6.0
route change -> 16 clients, p50|us|lat_p50_us|ping_p50_us|raw ping to 16|-
route change -> 16 clients, p99|us|lat_p99_us|ping_p99_us|raw ping to 16|<= 300
ARP lookup, attached, median|ns|arp_ns|arp_read_ns|plain load, same segments|<= 100
ARP lookup vs a locking read|ns|arp_ns|arp_semop_ns|semop lock+unlock|-
ARP lookup system calls|n|arp_syscalls|-|-|= 0
RSS per route, rtm ($R routes)|B|load16_rss_rtm_bpu|kernel_bpu|kernel FIB slab+vmalloc|<= 100
RSS per route, client (worst of 16)|B|load16_rss_client_bpu|kernel_bpu|kernel FIB slab+vmalloc|<= 100
$MACS MACs created + attached by 4 clients|s|macs|shm_s|raw shmget+shmat|<= 3.0
route get LPM on $R routes, one core|M/s|lpm_mps|hash_mps|one hash probe|>= 5
reference: kernel ip -batch, same routes|s|load16|kernel|kernel ip -batch|-"

printf '%s\n' "$rows" | awk -F'|' -v res="$res" -v csv="$CSV.tmp" \
    -v machine="$machine" '
function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?$/ }
function step(k) {
	if (k == "-") return ""
	if (k ~ /^(lat|lpm|load16)/) return "load16"
	if (k ~ /^arp_semop/) return "semop"
	if (k ~ /^arp/) return (("arpsmall_status") in v) ? "arpsmall" : "macs"
	if (k ~ /^hash/) return "load16"
	if (k ~ /^kernel/) return "kernel"
	if (k ~ /^fanout16/) return "fanout16"
	if (k ~ /^fanout64/) return "fanout64"
	if (k ~ /^ping/) return "ping"
	sub(/_.*/, "", k)
	return k
}
function get(k,   s) {
	if (k == "-") return "-"
	if (k in v) return v[k]
	s = step(k)
	if ((s "_status") in v) return v[s "_status"]
	return "n/a"
}
function fmt(x) {
	if (!num(x)) return x
	return (x >= 100) ? sprintf("%.0f", x) : (x >= 10) ? sprintf("%.1f", x) : sprintf("%.3g", x)
}
BEGIN {
	while ((getline line < res) > 0) {
		split(line, f, " ")
		if (f[1] == "R") v[f[2]] = f[3]
	}
	printf "\nrtm benchmark: %s\n\n", machine
	printf "%-42s %-4s %10s %10s %7s %-26s %8s %s\n", "measurement", "unit",
	    "rtm", "baseline", "ratio", "baseline is", "target", "met"
	print "measurement,unit,rtm,baseline,ratio,baseline_is,target,met" > csv
}
{
	r = get($3); b = get($4); ratio = "-"
	if (num(r) && num(b) && b + 0 != 0) ratio = sprintf("%.2f", r / b)
	met = "-"
	if ($6 != "-") {
		split($6, t, " ")
		if (t[1] == "=" && r == "unknown") met = "unverified"
		else if (t[1] == "=" && r == "some") met = "NO"
		else if (!num(r)) met = r
		else if (t[1] == "<=") met = (r + 0 <= t[2] + 0) ? "yes" : "NO"
		else if (t[1] == ">=") met = (r + 0 >= t[2] + 0) ? "yes" : "NO"
		else if (t[1] == "=") met = (r == t[2]) ? "yes" : "NO"
	}
	if (met == "NO" && num(r) && t[2] + 0 != 0)
		met = sprintf("NO (x%.1f)", (t[1] == ">=") ? t[2] / r : r / t[2])
	printf "%-42s %-4s %10s %10s %7s %-26s %8s %s\n", $1, $2, fmt(r),
	    fmt(b), ratio, $5, $6, met
	printf "\"%s\",%s,%s,%s,%s,\"%s\",\"%s\",\"%s\"\n", $1, $2, r, b, ratio,
	    $5, $6, met > csv
}
END {
	print ""
	print "details:"
	n = split("load16_admin_s load64_admin_s lat_max_us lat_reply_max_us " \
	    "ping_max_us fanout16_mib fanout16_dgrams load16_rss_rtm_mib " \
	    "load16_rss_client_avg_bpu macs_admin_s macs_rss_rtm_bpu " \
	    "macs_rss_client_bpu arp_all_ns arp_checked lpm_hit_pct " \
	    "load64_rss_client_bpu mem64_s mem64_mib load16_runs " \
	    "fanout16_s_runs load64_runs fanout64_s_runs arpsmall", d, " ")
	for (i = 1; i <= n; i++)
		if (d[i] in v) printf "  %-28s %s\n", d[i], v[d[i]]
	for (k in v)
		if (k ~ /_status$/) printf "  %-28s %s\n", k, v[k]
}' | tee "$TXT.tmp"
mv "$CSV.tmp" "$CSV" && mv "$TXT.tmp" "$TXT"
say "table in $TXT, CSV in $CSV"
