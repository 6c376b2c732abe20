/*
 * uds.h: AF_UNIX SOCK_DGRAM helpers.
 *
 * Every socket is non-blocking and close-on-exec.  Paths are checked
 * against UDS_PATH_MAX, the smallest sun_path among the systems rtm
 * targets (91 usable bytes), and never use the Linux abstract namespace.
 */
#ifndef RTM_UDS_H
#define RTM_UDS_H

#include <sys/types.h>
#include <stddef.h>

#define UDS_PATH_MAX	91	/* bytes, excluding the NUL */

/* What a failed send means to the sender. */
enum uds_fate {
	UDS_SENT = 0,
	UDS_FULL = 1,		/* receiver queue full: EAGAIN/EWOULDBLOCK/ENOBUFS */
	UDS_GONE = 2,		/* peer vanished: ECONNREFUSED/ENOENT/ENOTCONN
				   (also ECONNRESET/EPIPE/EDESTADDRREQ) */
	UDS_FAILED = 3,		/* anything else; errno says what */
};

struct uds_peer {
	char	path[UDS_PATH_MAX + 1];	/* "" when the sender is unbound */
	int	has_cred;		/* 1 when pid/uid/gid come from the kernel */
	pid_t	pid;
	uid_t	uid;
	gid_t	gid;
};

/*
 * Creates a datagram socket bound to path, then chmods the socket file
 * to mode.  The file is created under a umask that grants nothing
 * beyond mode (briefly changing the process umask), so nobody can
 * connect before the chmod.  A stale socket file at path (nobody
 * receiving on it) is removed first; a live one makes it fail with
 * EADDRINUSE, and a path that is not a socket with EEXIST (it is never
 * removed).  ENAMETOOLONG beyond UDS_PATH_MAX, EINVAL when empty.
 * Returns the fd or -1.
 */
int	uds_bind(const char *path, mode_t mode);
/* The same, with the sender's credentials attached to every datagram
 * received (uds_creds_enable()) from before the name exists, so none
 * can slip in without them.  Where the platform has no credentials it
 * is uds_bind(). */
int	uds_bind_creds(const char *path, mode_t mode);
/* A new unbound socket connected to path (sends go only there). */
int	uds_connect(const char *path);
/*
 * The same, and uds_sendto(), for a peer's path: only a socket file
 * uid owns is reached, never what a symbolic link there points to (see
 * os_sock_name()); -1 with ENOTSOCK or EPERM otherwise.
 */
int	uds_connect_owned(const char *path, uid_t uid);
int	uds_sendto_owned(int fd, const char *path, uid_t uid, const void *buf,
	    size_t len);
/*
 * The uid owning the socket at path when a process of that uid cannot
 * write to a socket this process binds mode 0600 (it is neither root
 * nor this process's uid): a daemon of that uid cannot answer us.  -1
 * when it can, or when that cannot be told.
 */
long	uds_foreign_owner(const char *path);
/* 1 when something is bound and receiving at path, else 0. */
int	uds_alive(const char *path);
/*
 * 1 when certainly nothing receives at path: nothing is bound there
 * (its socket was closed), or nothing is there at all.  0 when
 * something receives, and also when that cannot be told (out of
 * descriptors, say): what may remove a file asks this, not !uds_alive().
 */
int	uds_dead(const char *path);
/* Sets SO_SNDBUF/SO_RCVBUF as far as the system allows (best effort;
 * values <= 0 are left alone); -1 only when fd is not a socket. */
int	uds_set_bufs(int fd, int sndbuf, int rcvbuf);

/* Non-blocking sends: 0 on success, -1 with errno on failure;
 * uds_fate() classifies that errno. */
int	uds_send(int fd, const void *buf, size_t len);
int	uds_sendto(int fd, const char *path, const void *buf, size_t len);
enum uds_fate uds_fate(int err);

/*
 * Receives one datagram.  Returns its length, or -1 with errno:
 * EAGAIN when nothing is queued, EMSGSIZE when the datagram was longer
 * than cap (it is consumed and discarded).  When from is not NULL it is
 * filled with the sender's path and, where the platform provides them
 * (uds_creds_enable() was called on fd), its kernel-verified
 * credentials.
 */
ssize_t	uds_recv(int fd, void *buf, size_t cap, struct uds_peer *from);
/* Asks the kernel to attach the sender's credentials to every datagram
 * received on fd.  -1 with ENOSYS where the platform cannot. */
int	uds_creds_enable(int fd);

#endif
