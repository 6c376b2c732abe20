#!/bin/sh
# Makes sure CUnit's headers and library are installed.  As root on a
# Debian-like system it installs libcunit1-dev; otherwise it prints the
# exact command and fails.
for d in /usr/include /usr/local/include; do
	[ -f "$d/CUnit/Basic.h" ] && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "check: CUnit missing; installing libcunit1-dev" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q libcunit1-dev >/dev/null 2>&1 ||
	    { apt-get update -q >/dev/null 2>&1 &&
	      apt-get install -y -q libcunit1-dev >/dev/null; } ||
	    { echo "check: apt-get install libcunit1-dev failed" >&2; exit 1; }
	exit 0
fi
echo "check: CUnit is not installed; install it with:" >&2
echo "    sudo apt-get install libcunit1-dev" >&2
exit 1
