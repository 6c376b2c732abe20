/*
 * peername.h: the names of peers' sockets in DIR/peers.
 *
 * A peer binds DIR/peers/<role>.<pid>.sock, role "client" or "admin".
 * The directory is writable by all, and pids are predictable, so
 * another user may have put a file at that name first; the peer then
 * binds DIR/peers/<role>.<pid>.<8 lowercase hex digits>.sock, a name
 * nobody can guess (the directory cannot be listed but by its owner).
 * rtm accepts either, with the pid the sender is.
 */
#ifndef RTM_PEERNAME_H
#define RTM_PEERNAME_H

#include <sys/types.h>

/* What the fallback name adds to the plain one: ".%08x". */
#define PEERNAME_SUFFIX_LEN	9

/*
 * Whether name, a file name in DIR/peers, is one of role's:
 * "<role>.<pid>.sock" or "<role>.<pid>.<8 lowercase hex>.sock", pid in
 * decimal without sign or leading zero, 1 to INT32_MAX.  1 with the pid
 * in *pid (may be NULL), else 0.
 */
int	peername_match(const char *name, const char *role, pid_t *pid);

/*
 * Binds path, which holds DIR/peers/<role>.<pid>.sock, as uds_bind()
 * does (uds_bind_creds() when creds).  When that name is held by
 * something this process may not take over (anything but a socket, or
 * another user's socket: alive, or dead in the sticky directory), it
 * tries a few fallback names instead and leaves the one bound in path
 * (size bytes).  Returns the fd, or -1 with the errno of the plain name
 * (and path unchanged) when no fallback fits in a socket address or
 * none could be bound.
 */
int	peername_bind(char *path, size_t size, mode_t mode, int creds);

#endif
