/*
 * peername.c: the names of peers' sockets in DIR/peers (see
 * peername.h).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "os.h"
#include "peername.h"
#include "uds.h"

/* Fallback names tried; each is 32 random bits, so a clash is bad luck
 * only, never a user's doing. */
#define PEERNAME_TRIES	4

#define PEERNAME_EXT	".sock"

int
peername_match(const char *name, const char *role, pid_t *pid)
{
	size_t		 n = strlen(role), digits;
	const char	*s;
	uint64_t	 v = 0;

	if (strncmp(name, role, n) != 0 || name[n] != '.')
		return 0;
	s = name + n + 1;
	/* Decimal as rtm prints a pid: no sign, no leading zero. */
	digits = strspn(s, "0123456789");
	if (digits == 0 || digits > 10 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < digits; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (v > INT32_MAX)
		return 0;
	s += digits;
	if (s[0] == '.' && strspn(s + 1, "0123456789abcdef") == 8 &&
	    s[9] == '.')
		s += PEERNAME_SUFFIX_LEN;
	if (strcmp(s, PEERNAME_EXT) != 0)
		return 0;
	if (pid != NULL)
		*pid = (pid_t)v;
	return 1;
}

static int
peername_try(const char *path, mode_t mode, int creds)
{
	return creds ? uds_bind_creds(path, mode) : uds_bind(path, mode);
}

/*
 * Did binding path fail (err) because of a file this process may not
 * take over?  A stale socket of its own uid was replaced already; a
 * live one is this process's (a second handle) or its uid's, and that
 * stays an error.  Anything else there is someone else's: not a socket
 * (never removed), or another user's socket, which the bind could not
 * write to (EACCES), found alive (EADDRINUSE, for root), or could not
 * remove from the sticky directory (EPERM).
 */
static int
peername_taken(const char *path, int err)
{
	struct stat st;

	if (err != EEXIST && err != EADDRINUSE && err != EACCES &&
	    err != EPERM)
		return 0;
	if (lstat(path, &st) == -1)
		return 0;
	return !S_ISSOCK(st.st_mode) || st.st_uid != geteuid();
}

int
peername_bind(char *path, size_t size, mode_t mode, int creds)
{
	char		 alt[UDS_PATH_MAX + 1];
	size_t		 n = strlen(path), ext = strlen(PEERNAME_EXT);
	uint32_t	 r;
	int		 fd, e, e2;

	if ((fd = peername_try(path, mode, creds)) != -1)
		return fd;
	e = errno;
	if (n < ext || strcmp(path + n - ext, PEERNAME_EXT) != 0 ||
	    n + PEERNAME_SUFFIX_LEN > UDS_PATH_MAX ||
	    n + PEERNAME_SUFFIX_LEN >= size || !peername_taken(path, e))
		goto fail;
	for (int i = 0; i < PEERNAME_TRIES; i++) {
		os_random(&r, sizeof(r));
		snprintf(alt, sizeof(alt), "%.*s.%08lx%s", (int)(n - ext),
		    path, (unsigned long)r, PEERNAME_EXT);
		if ((fd = peername_try(alt, mode, creds)) != -1) {
			memcpy(path, alt, n + PEERNAME_SUFFIX_LEN + 1);
			return fd;
		}
		e2 = errno;
		if (!peername_taken(alt, e2))
			break;
	}
fail:
	errno = e;
	return -1;
}
