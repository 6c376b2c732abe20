#!/bin/sh
# Runs every test program of build prefix $1, each in its own scratch
# root, then sweeps any System V object the tests left behind (a leak
# fails the run).  Ends with the line "N passed, N failed".
B=${1:-}
root=$(mktemp -d "${TMPDIR:-/tmp}/rtm-tests.XXXXXX") || exit 1
export RTM_BUILD="${B:-./}" RTM_TEST_ROOT="$root"
unset RTM_DIR

# A program that hangs fails instead of holding the run (and CI) for
# ever: RTM_TEST_TIMEOUT seconds each (default 600, three times that
# under valgrind), where timeout(1) exists.
limit=${RTM_TEST_TIMEOUT:-600}
[ -n "${RTM_VALGRIND:-}" ] && limit=$((limit * 3))
deadline=
command -v timeout >/dev/null 2>&1 && deadline="timeout -k 10 $limit"

passed=0 failed=0 broken=""
for t in "${B}"tests/test_*; do
	case $t in *.c|*.o|*.d) continue ;; esac
	[ -x "$t" ] || continue
	name=${t##*/}
	out="$root/$name.out"
	if [ -n "${RTM_VALGRIND:-}" ]; then
		$deadline valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
		    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		    "$t" >"$out" 2>&1
	else
		$deadline "$t" >"$out" 2>&1
	fi
	rc=$?
	[ $rc -eq 124 ] && [ -n "$deadline" ] &&
	    echo "$name: no result after $limit s: stopped" >>"$out"
	cat "$out"
	line=$(awk '$1 == "tests" && NF >= 5 { print $3, $4, $5 }' "$out" | tail -n 1)
	if [ -n "$line" ]; then
		set -- $line
		[ "$2" != n/a ] && passed=$((passed + $2))
		[ "$3" != n/a ] && failed=$((failed + $3))
	fi
	if [ $rc -ne 0 ]; then
		broken="$broken $name(exit $rc)"
		[ -z "$line" ] || [ "$3" = 0 ] && failed=$((failed + 1))
	fi
done

# Anything still in the kernel from the scratch root is a leak.
leaks=$("${B}"tests/sweep "$root" 2>&1)
if [ -n "$leaks" ]; then
	echo "$leaks"
	broken="$broken ipc-leak"
	failed=$((failed + 1))
fi

# CI shows the end of the log: say again there what failed and why.
for b in $broken; do
	o="$root/${b%%(*}.out"
	[ -f "$o" ] || continue
	echo "--- ${b%%(*}: failures"
	# Each failed assertion under the name of its test.
	awk '/^  Test: /	{ t = $0 }
	    /^    [0-9]+\. /	{ if (t != "") print t; t = ""; print }
	    /no result after|^==[0-9]+== /' "$o" | head -n 40
done
rm -rf "$root"

[ -n "$broken" ] && echo "FAILED:$broken"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ -z "$broken" ]
