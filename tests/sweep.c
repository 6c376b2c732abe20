/*
 * sweep: removes the System V objects that key files under a test root
 * lead to, and reports each removal (every one is a leak by some test).
 * Prints nothing and exits 0 when the root is clean.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "shm.h"

static unsigned total;

static void
sweep(const char *dir, int depth)
{
	char		 sub[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	unsigned	 n = 0;

	if (depth > 4 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(sub))
			continue;
		if (lstat(sub, &st) == -1 || !S_ISDIR(st.st_mode))
			continue;
		if (strcmp(de->d_name, SEG_KEYDIR) == 0) {
			if (seg_sweep(dir, &n) == 0 && n > 0) {
				printf("sweep: %s: removed %u leaked segment(s)\n",
				    dir, n);
				total += n;
			}
		} else
			sweep(sub, depth + 1);
	}
	closedir(d);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: sweep ROOT\n");
		return 2;
	}
	sweep(argv[1], 0);
	return total > 0;
}
