#!/bin/sh
# Lists the functions a header declares, one per line: the names
# `make install` links to rtmc(3) so that `man rtmc_open` works.
sed -n 's/^[a-z].*[ *]\(rtmc_[a-z0-9_]*\)(.*/\1/p' "$1" | sort -u
