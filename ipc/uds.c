/*
 * uds.c: AF_UNIX SOCK_DGRAM helpers (see uds.h).  Plain POSIX socket
 * calls; sender credentials, the one platform-specific piece, come
 * from os.c.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "os.h"
#include "uds.h"

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) > UDS_PATH_MAX,
    "sun_path cannot hold UDS_PATH_MAX bytes");

/*
 * The sockets are O_NONBLOCK already; MSG_DONTWAIT also covers a
 * descriptor whose flags someone changed.  MSG_NOSIGNAL keeps a send on
 * a shut-down socket from raising SIGPIPE.
 */
#ifdef MSG_DONTWAIT
#define UDS_DONTWAIT	MSG_DONTWAIT
#else
#define UDS_DONTWAIT	0
#endif
#ifdef MSG_NOSIGNAL
#define UDS_NOSIGNAL	MSG_NOSIGNAL
#else
#define UDS_NOSIGNAL	0
#endif
#define UDS_SEND_FLAGS	(UDS_DONTWAIT | UDS_NOSIGNAL)
/* A descriptor someone passes us is closed at once (uds_drop_fds()),
 * but must not reach a program another thread execs meanwhile. */
#ifdef MSG_CMSG_CLOEXEC
#define UDS_RECV_FLAGS	(UDS_DONTWAIT | MSG_CMSG_CLOEXEC)
#else
#define UDS_RECV_FLAGS	UDS_DONTWAIT
#endif

/* Control buffer for recvmsg; os_creds_cmsg_space() must fit. */
#define UDS_CMSG_MAX	128
/* uds_set_bufs() stops halving a refused size below this. */
#define UDS_BUF_MIN	1024

static int
uds_addr(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n;

	if (path == NULL || path[0] == '\0') {
		errno = EINVAL;
		return -1;
	}
	if ((n = strnlen(path, UDS_PATH_MAX + 1)) > UDS_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

/*
 * Close-on-exec from the start where the system has SOCK_CLOEXEC
 * (POSIX.1-2024): the library runs in threaded programs, where another
 * thread may fork and exec between socket() and fcntl().  POSIX.1-2008
 * systems keep that window.
 */
static int
uds_socket(void)
{
	int fd, fl, e;

#ifdef SOCK_CLOEXEC
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
#else
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
#endif
	if (fd == -1)
		return -1;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
uds_connect_fd(int fd, const struct sockaddr_un *sun, socklen_t len)
{
	int r;

	/* A datagram connect completes at once; EINTR is only a retry. */
	while ((r = connect(fd, (const struct sockaddr *)sun, len)) == -1 &&
	    errno == EINTR)
		;
	return r;
}

/*
 * Is a socket at sun receiving?  1 yes, 0 no (nothing bound there, or
 * nothing at all), -1 with errno when it cannot be told (then nothing
 * must be removed).
 */
static int
uds_probe(const struct sockaddr_un *sun, socklen_t len)
{
	int fd, r, e;

	if ((fd = uds_socket()) == -1)
		return -1;
	r = uds_connect_fd(fd, sun, len);
	e = errno;
	close(fd);
	if (r == 0)
		return 1;
	switch (e) {
	case ECONNREFUSED:
	case ENOENT:
		return 0;
	case EPROTOTYPE:
		/* A stream or seqpacket socket is listening: alive. */
		return 1;
	default:
		errno = e;
		return -1;
	}
}

/* uds_probe() of path; errno kept. */
static int
uds_probe_path(const char *path)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 e = errno, r = -1;

	if (uds_addr(path, &sun, &len) == 0)
		r = uds_probe(&sun, len);
	errno = e;
	return r;
}

int
uds_alive(const char *path)
{
	return uds_probe_path(path) == 1;
}

int
uds_dead(const char *path)
{
	return uds_probe_path(path) == 0;
}

/*
 * bind() creates the socket file with 0777 & ~umask, and a sender can
 * connect() while that mode is wider than the requested one; a datagram
 * socket connected then keeps sending after a chmod.  So the file must
 * be born with nothing beyond mode.  Linux takes it from the socket's
 * own mode (os_sock_premode()); elsewhere the file is created under a
 * umask that leaves nothing beyond mode, and the umask is process-wide:
 * another thread creating a file during the bind would get these
 * restrictive bits.  The chmod in bind_path() then sets mode exactly.
 */
static int
uds_bind_masked(int fd, const struct sockaddr_un *sun, socklen_t len,
    mode_t mode)
{
	mode_t	 old;
	int	 r, e;

	if (os_sock_premode(fd, mode) == 0)
		return bind(fd, (const struct sockaddr *)sun, len);
	old = umask((mode_t)(~mode & (S_IRWXU | S_IRWXG | S_IRWXO)));
	r = bind(fd, (const struct sockaddr *)sun, len);
	e = errno;
	umask(old);
	errno = e;
	return r;
}

static int
bind_path(const char *path, mode_t mode, int creds)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	struct stat		 st;
	int			 fd, e, alive;

	if (uds_addr(path, &sun, &len) == -1)
		return -1;
	if ((fd = uds_socket()) == -1)
		return -1;
	/* Before bind(): no datagram may ever arrive without credentials. */
	if (creds && os_creds_enable(fd) == -1 && errno != ENOSYS) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/*
	 * Bind first and look only when the name is taken, so the usual
	 * case has no check-then-act window.  One retry after removing a
	 * stale socket; losing that race again is reported as in use.
	 */
	for (int tries = 0;; tries++) {
		if (uds_bind_masked(fd, &sun, len, mode) == 0)
			break;
		if ((errno != EADDRINUSE && errno != EEXIST) || tries > 0)
			goto fail;
		if (lstat(path, &st) == -1) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile */
			goto fail;
		}
		/* Never remove what is not a socket: it is not ours. */
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			goto fail;
		}
		if ((alive = uds_probe(&sun, len)) == -1)
			goto fail;
		if (alive) {
			errno = EADDRINUSE;
			goto fail;
		}
		if (unlink(path) == -1 && errno != ENOENT)
			goto fail;
	}
	if (chmod(path, mode) == -1) {
		e = errno;
		unlink(path);
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
uds_bind(const char *path, mode_t mode)
{
	return bind_path(path, mode, 0);
}

int
uds_bind_creds(const char *path, mode_t mode)
{
	return bind_path(path, mode, 1);
}

int
uds_connect(const char *path)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd, e;

	if (uds_addr(path, &sun, &len) == -1)
		return -1;
	if ((fd = uds_socket()) == -1)
		return -1;
	if (uds_connect_fd(fd, &sun, len) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

long
uds_foreign_owner(const char *path)
{
	struct stat	 st;

	if (stat(path, &st) == -1 || st.st_uid == 0 || st.st_uid == geteuid())
		return -1;
	return (long)st.st_uid;
}

int
uds_connect_owned(const char *path, uid_t uid)
{
	char	 name[UDS_PATH_MAX + 1];
	int	 fd, pin, e;

	if (os_sock_name(path, uid, name, sizeof(name), &pin) == -1)
		return -1;
	fd = uds_connect(name);
	e = errno;
	if (pin != -1)
		close(pin);
	errno = e;
	return fd;
}

int
uds_sendto_owned(int fd, const char *path, uid_t uid, const void *buf,
    size_t len)
{
	char	 name[UDS_PATH_MAX + 1];
	int	 pin, r, e;

	if (os_sock_name(path, uid, name, sizeof(name), &pin) == -1)
		return -1;
	r = uds_sendto(fd, name, buf, len);
	e = errno;
	if (pin != -1)
		close(pin);
	errno = e;
	return r;
}

/* Halves a refused size until the system takes it. */
static void
uds_set_buf(int fd, int opt, int want)
{
	while (want >= UDS_BUF_MIN) {
		if (setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want)) == 0)
			return;
		want /= 2;
	}
}

int
uds_set_bufs(int fd, int sndbuf, int rcvbuf)
{
	int		 cur;
	socklen_t	 sl = sizeof(cur);

	/* Only a descriptor that is not a socket is worth an error. */
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &sl) == -1)
		return -1;
	if (sndbuf > 0)
		uds_set_buf(fd, SO_SNDBUF, sndbuf);
	if (rcvbuf > 0)
		uds_set_buf(fd, SO_RCVBUF, rcvbuf);
	return 0;
}

static int
uds_sent(ssize_t n, size_t len)
{
	if (n == -1)
		return -1;
	/* A datagram goes whole or not at all; be sure anyway. */
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
uds_send(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while ((n = send(fd, buf, len, UDS_SEND_FLAGS)) == -1 &&
	    errno == EINTR)
		;
	return uds_sent(n, len);
}

int
uds_sendto(int fd, const char *path, const void *buf, size_t len)
{
	struct sockaddr_un	 sun;
	socklen_t		 alen;
	ssize_t			 n;

	if (uds_addr(path, &sun, &alen) == -1)
		return -1;
	while ((n = sendto(fd, buf, len, UDS_SEND_FLAGS,
	    (const struct sockaddr *)&sun, alen)) == -1 && errno == EINTR)
		;
	return uds_sent(n, len);
}

enum uds_fate
uds_fate(int err)
{
	if (err == 0)
		return UDS_SENT;
	if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS)
		return UDS_FULL;
	/*
	 * ECONNREFUSED: the peer's socket closed (first send on a
	 * connected socket, or a path nobody is bound to); ENOTCONN: later
	 * sends on a socket the kernel disconnected from its dead peer;
	 * ENOENT: the path was removed; ECONNRESET/EPIPE are other
	 * systems' words for the same; EDESTADDRREQ: a socket left with no
	 * peer at all cannot reach it either.
	 */
	if (err == ECONNREFUSED || err == ENOENT || err == ENOTCONN ||
	    err == ECONNRESET || err == EPIPE || err == EDESTADDRREQ)
		return UDS_GONE;
	return UDS_FAILED;
}

/*
 * Descriptors passed with SCM_RIGHTS are installed in our table by the
 * receive itself: close them, or any sender could exhaust our fds.
 */
static void
uds_drop_fds(struct msghdr *mh)
{
	struct cmsghdr	*c;
	unsigned char	*base = mh->msg_control, *p;
	size_t		 n, avail;
	int		 fd;

	if (base == NULL || mh->msg_controllen < sizeof(struct cmsghdr))
		return;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		p = CMSG_DATA(c);
		avail = (size_t)mh->msg_controllen - (size_t)(p - base);
		n = (size_t)c->cmsg_len - CMSG_LEN(0);
		if (n > avail)
			n = avail;
		for (; n >= sizeof(fd); n -= sizeof(fd), p += sizeof(fd)) {
			memcpy(&fd, p, sizeof(fd));
			close(fd);
		}
	}
}

/*
 * The sender's bound path, or "" for an unbound sender, an abstract
 * name (anyone can take any abstract name, so it proves nothing) or a
 * path longer than we can hold (cutting it short could forge another).
 */
static void
uds_peer_path(const struct sockaddr_un *sun, socklen_t len, char *out)
{
	size_t		 off = offsetof(struct sockaddr_un, sun_path), max, n;
	const char	*nul;

	out[0] = '\0';
	if (len <= off || sun->sun_family != AF_UNIX ||
	    sun->sun_path[0] == '\0')
		return;
	max = (size_t)len - off;
	if (max > sizeof(sun->sun_path))
		max = sizeof(sun->sun_path);
	nul = memchr(sun->sun_path, '\0', max);
	n = nul != NULL ? (size_t)(nul - sun->sun_path) : max;
	if (n > UDS_PATH_MAX)
		return;
	memcpy(out, sun->sun_path, n);
	out[n] = '\0';
}

ssize_t
uds_recv(int fd, void *buf, size_t cap, struct uds_peer *from)
{
	struct sockaddr_un	 sun;
	struct msghdr		 mh;
	struct iovec		 iov;
	union {
		struct cmsghdr	 hdr;
		unsigned char	 b[UDS_CMSG_MAX];
	}			 cm;
	size_t			 cs = os_creds_cmsg_space();
	ssize_t			 n;
	int			 e;

	/*
	 * No more control space than credentials need: on Linux they come
	 * first, so passed descriptors do not fit and the kernel discards
	 * them instead of installing them (uds_drop_fds() is the backstop).
	 */
	if (cs > sizeof(cm))
		cs = sizeof(cm);
	memset(&sun, 0, sizeof(sun));
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = cap;
	mh.msg_name = &sun;
	mh.msg_namelen = sizeof(sun);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (cs > 0) {
		mh.msg_control = cm.b;
		mh.msg_controllen = cs;
	}
	while ((n = recvmsg(fd, &mh, UDS_RECV_FLAGS)) == -1 && errno == EINTR)
		;
	if (n == -1)
		return -1;
	e = errno;
	uds_drop_fds(&mh);
	errno = e;
	if (mh.msg_flags & MSG_TRUNC) {
		errno = EMSGSIZE;
		return -1;
	}
	if (from != NULL) {
		memset(from, 0, sizeof(*from));
		uds_peer_path(&sun, mh.msg_namelen, from->path);
		if (cs > 0 && os_creds_parse(&mh, &from->pid, &from->uid,
		    &from->gid) == 1)
			from->has_cred = 1;
	}
	return n;
}

int
uds_creds_enable(int fd)
{
	return os_creds_enable(fd);
}
