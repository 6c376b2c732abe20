/*
 * test_uds.c: the datagram socket helpers against real sockets in the
 * test's run directory: binding rules, full and vanished receivers,
 * truncation, sender paths and kernel credentials.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os.h"
#include "peername.h"
#include "uds.h"
#include "testutil.h"

/* How many datagrams a "never reading" receiver is offered at most. */
#define FILL_MAX	100000

static int
linux_backend(void)
{
	return strcmp(os_backend(), "linux") == 0;
}

static void
xclose(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int
nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL), fdf = fcntl(fd, F_GETFD);

	return fl != -1 && fdf != -1 && (fl & O_NONBLOCK) &&
	    (fdf & FD_CLOEXEC);
}

/* Waits up to 5s for a datagram, then receives it. */
static ssize_t
recv_wait(int fd, void *buf, size_t cap, struct uds_peer *from)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	if (poll(&pfd, 1, 5000) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	return uds_recv(fd, buf, cap, from);
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* The lowest free descriptor number. */
static int
lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd != -1)
		close(fd);
	return fd;
}

static void
test_roundtrip(void)
{
	struct uds_peer	 from;
	char		 buf[64];
	const char	*rp = tu_path("r.sock"), *sp = tu_path("s.sock");
	int		 r, s, c;

	r = uds_bind(rp, 0600);
	s = uds_bind(sp, 0600);
	c = uds_connect(rp);
	CU_ASSERT_FATAL(r >= 0 && s >= 0 && c >= 0);
	CU_ASSERT(nonblock_cloexec(r));
	CU_ASSERT(nonblock_cloexec(s));
	CU_ASSERT(nonblock_cloexec(c));

	/* Nothing queued yet: EAGAIN, not a block. */
	errno = 0;
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), &from) == -1);
	CU_ASSERT(errno == EAGAIN || errno == EWOULDBLOCK);

	CU_ASSERT(uds_sendto(s, rp, "hello", 5) == 0);
	memset(&from, 0x55, sizeof(from));
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), &from) == 5);
	CU_ASSERT(memcmp(buf, "hello", 5) == 0);
	CU_ASSERT_STRING_EQUAL(from.path, sp);

	/* An unbound sender has no path. */
	CU_ASSERT(uds_send(c, "again!", 6) == 0);
	memset(&from, 0x55, sizeof(from));
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), &from) == 6);
	CU_ASSERT(memcmp(buf, "again!", 6) == 0);
	CU_ASSERT_STRING_EQUAL(from.path, "");
	/* Without uds_creds_enable() nothing claims to be kernel-verified. */
	CU_ASSERT(from.has_cred == 0);

	/* from may be NULL; an empty datagram is a datagram. */
	CU_ASSERT(uds_send(c, "", 0) == 0);
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), NULL) == 0);
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), NULL) == -1);
	xclose(r);
	xclose(s);
	xclose(c);
}

static void
test_bind_live(void)
{
	char		 buf[16];
	const char	*p = tu_path("live.sock"), *sp = tu_path("s.sock");
	int		 r, s, r2;

	r = uds_bind(p, 0600);
	s = uds_bind(sp, 0600);
	CU_ASSERT_FATAL(r >= 0 && s >= 0);
	CU_ASSERT(uds_alive(p) == 1);
	errno = 0;
	r2 = uds_bind(p, 0600);
	CU_ASSERT(r2 == -1);
	CU_ASSERT(errno == EADDRINUSE);
	xclose(r2 >= 0 ? r2 : -1);
	/* The first owner was left alone and still receives. */
	CU_ASSERT(uds_sendto(s, p, "x", 1) == 0);
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), NULL) == 1);
	xclose(r);
	xclose(s);
}

/* A listening stream socket is somebody's too, if not one of ours. */
static void
test_bind_live_stream(void)
{
	struct sockaddr_un	 sun;
	const char		*p = tu_path("stream.sock");
	int			 l, r;

	l = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(l >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p);
	CU_ASSERT(bind(l, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	CU_ASSERT(listen(l, 1) == 0);
	CU_ASSERT(uds_alive(p) == 1);
	errno = 0;
	r = uds_bind(p, 0600);
	CU_ASSERT(r == -1);
	CU_ASSERT(errno == EADDRINUSE);
	xclose(r);
	close(l);
}

static void
test_bind_stale(void)
{
	struct stat	 st;
	struct uds_peer	 from;
	char		 buf[16];
	const char	*p = tu_path("stale.sock"), *sp = tu_path("s.sock");
	int		 r, s;

	r = uds_bind(p, 0600);
	CU_ASSERT_FATAL(r >= 0);
	close(r);
	/* Closing leaves the file behind: a stale socket. */
	CU_ASSERT(lstat(p, &st) == 0 && S_ISSOCK(st.st_mode));
	CU_ASSERT(uds_alive(p) == 0);

	r = uds_bind(p, 0600);
	s = uds_bind(sp, 0600);
	CU_ASSERT(r >= 0);
	CU_ASSERT(s >= 0);
	if (r >= 0 && s >= 0) {
		CU_ASSERT(uds_alive(p) == 1);
		CU_ASSERT(uds_sendto(s, p, "hi", 2) == 0);
		CU_ASSERT(uds_recv(r, buf, sizeof(buf), &from) == 2);
		CU_ASSERT_STRING_EQUAL(from.path, sp);
	}
	xclose(r);
	xclose(s);
}

static void
test_bind_not_socket(void)
{
	struct stat	 st;
	char		*text, target[64];
	const char	*f = tu_path("file"), *d = tu_path("dir");
	const char	*l = tu_path("link");
	int		 r;

	CU_ASSERT_FATAL(write_file(f, "precious\n") == 0);
	errno = 0;
	r = uds_bind(f, 0600);
	CU_ASSERT(r == -1);
	CU_ASSERT(errno == EEXIST);
	xclose(r);
	text = tu_slurp(f);
	CU_ASSERT(text != NULL && strcmp(text, "precious\n") == 0);
	free(text);
	CU_ASSERT(uds_alive(f) == 0);

	CU_ASSERT_FATAL(mkdir(d, 0700) == 0);
	errno = 0;
	r = uds_bind(d, 0600);
	CU_ASSERT(r == -1);
	CU_ASSERT(errno == EEXIST);
	xclose(r);
	CU_ASSERT(lstat(d, &st) == 0 && S_ISDIR(st.st_mode));

	/* A dangling symlink is not ours to replace either. */
	CU_ASSERT_FATAL(symlink("nowhere", l) == 0);
	errno = 0;
	r = uds_bind(l, 0600);
	CU_ASSERT(r == -1);
	CU_ASSERT(errno == EEXIST);
	xclose(r);
	memset(target, 0, sizeof(target));
	CU_ASSERT(readlink(l, target, sizeof(target) - 1) == 7);
	CU_ASSERT_STRING_EQUAL(target, "nowhere");
}

static void
test_bind_names(void)
{
	char		 p91[UDS_PATH_MAX + 2], p92[UDS_PATH_MAX + 2];
	char		 buf[16];
	struct uds_peer	 from;
	size_t		 dl = strlen(tu_dir);
	int		 r, s;

	errno = 0;
	CU_ASSERT(uds_bind("", 0600) == -1 && errno == EINVAL);
	errno = 0;
	CU_ASSERT(uds_bind(NULL, 0600) == -1 && errno == EINVAL);

	/* 92 bytes: refused before touching the file system. */
	memset(p92, 'x', UDS_PATH_MAX + 1);
	p92[UDS_PATH_MAX + 1] = '\0';
	if (dl + 2 <= UDS_PATH_MAX) {
		memcpy(p92, tu_dir, dl);
		p92[dl] = '/';
	}
	CU_ASSERT(strlen(p92) == 92);
	errno = 0;
	CU_ASSERT(uds_bind(p92, 0600) == -1 && errno == ENAMETOOLONG);
	errno = 0;
	CU_ASSERT(uds_connect(p92) == -1 && errno == ENAMETOOLONG);
	CU_ASSERT(uds_alive(p92) == 0);

	/* Exactly 91 bytes works, needing a short enough tu_dir. */
	if (dl + 2 > UDS_PATH_MAX) {
		fprintf(stderr, "test_bind_names: tu_dir too long for a "
		    "91-byte path, skipping that part\n");
		return;
	}
	memcpy(p91, p92, UDS_PATH_MAX);
	p91[UDS_PATH_MAX] = '\0';
	CU_ASSERT(strlen(p91) == 91);
	r = uds_bind(p91, 0600);
	s = uds_bind(tu_path("s.sock"), 0600);
	CU_ASSERT(r >= 0);
	CU_ASSERT(s >= 0);
	errno = 0;
	CU_ASSERT(uds_sendto(s, p92, "x", 1) == -1 && errno == ENAMETOOLONG);
	CU_ASSERT(uds_fate(ENAMETOOLONG) == UDS_FAILED);
	if (r >= 0 && s >= 0) {
		CU_ASSERT(uds_sendto(s, p91, "x", 1) == 0);
		CU_ASSERT(uds_recv(r, buf, sizeof(buf), NULL) == 1);
		/* ...and a 91-byte sender path is reported whole. */
		CU_ASSERT(uds_sendto(r, tu_path("s.sock"), "y", 1) == 0);
		CU_ASSERT(uds_recv(s, buf, sizeof(buf), &from) == 1);
		CU_ASSERT_STRING_EQUAL(from.path, p91);
	}
	xclose(r);
	xclose(s);
}

static void
test_bind_mode(void)
{
	struct stat	 st;
	mode_t		 saved = umask(077), now;
	int		 a, b;

	/* Wider than the umask allows: still exactly what was asked. */
	a = uds_bind(tu_path("a.sock"), 0666);
	now = umask(0);
	CU_ASSERT(now == 077);		/* put back after the bind */
	b = uds_bind(tu_path("b.sock"), 0600);
	now = umask(saved);
	CU_ASSERT(now == 0);
	CU_ASSERT(a >= 0);
	CU_ASSERT(b >= 0);
	CU_ASSERT(stat(tu_path("a.sock"), &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (st.st_mode & 07777) == 0666);
	CU_ASSERT(stat(tu_path("b.sock"), &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (st.st_mode & 07777) == 0600);
	xclose(a);
	xclose(b);
}

/*
 * Whose socket a daemon's is, when that owner could not answer a socket
 * of ours (mode 0600): neither root nor us.  Changing owners needs root.
 */
static void
test_foreign_owner(void)
{
	const char	*p = tu_path("owned.sock");
	int		 fd = uds_bind(p, 0600);

	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_EQUAL(uds_foreign_owner(p), -1);	/* ours */
	CU_ASSERT_EQUAL(uds_foreign_owner(tu_path("none.sock")), -1);
	if (geteuid() == 0) {
		CU_ASSERT(chown(p, 65534, 65534) == 0);
		CU_ASSERT_EQUAL(uds_foreign_owner(p), 65534);
		CU_ASSERT(chown(p, 0, 0) == 0);
		CU_ASSERT_EQUAL(uds_foreign_owner(p), -1);	/* root's */
	}
	close(fd);
	unlink(p);
}

/* Both questions; uds_dead() says 1 only when it is certain. */
static void
test_alive(void)
{
	const char	*p = tu_path("a.sock");
	int		 r;

	CU_ASSERT(uds_alive(p) == 0);
	CU_ASSERT(uds_dead(p) == 1);		/* nothing there */
	CU_ASSERT(uds_alive("") == 0);
	CU_ASSERT(uds_dead("") == 0);
	r = uds_bind(p, 0600);
	CU_ASSERT_FATAL(r >= 0);
	errno = 1234;
	CU_ASSERT(uds_alive(p) == 1);
	CU_ASSERT(uds_dead(p) == 0);
	CU_ASSERT(errno == 1234);
	close(r);
	errno = 1234;
	CU_ASSERT(uds_alive(p) == 0);
	CU_ASSERT(uds_dead(p) == 1);
	CU_ASSERT(errno == 1234);
}

/*
 * Out of descriptors nothing can be probed: a closed socket is then
 * neither alive nor dead.
 */
static void
test_dead_unknown(void)
{
	enum { NFD = 256 };
	const char	*p = tu_path("d.sock");
	struct rlimit	 rl, low;
	int		 fds[NFD], n = 0;

	xclose(uds_bind(p, 0600));
	CU_ASSERT_FATAL(uds_dead(p) == 1);
	CU_ASSERT_FATAL(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	low = rl;
	if (low.rlim_cur > NFD)
		low.rlim_cur = NFD;
	CU_ASSERT_FATAL(setrlimit(RLIMIT_NOFILE, &low) == 0);
	while (n < NFD && (fds[n] = open("/dev/null", O_RDONLY)) != -1)
		n++;
	CU_ASSERT(n < NFD && errno == EMFILE);
	CU_ASSERT(uds_dead(p) == 0);
	CU_ASSERT(uds_alive(p) == 0);
	while (n > 0)
		close(fds[--n]);
	CU_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	CU_ASSERT(uds_dead(p) == 1);
	unlink(p);
}

static void
test_full(void)
{
	char		 dg[64], buf[64];
	const char	*p = tu_path("slow.sock");
	int		 r, c, s, n, e = 0;

	memset(dg, 'd', sizeof(dg));
	r = uds_bind(p, 0600);
	c = uds_connect(p);
	s = uds_bind(tu_path("s.sock"), 0600);
	CU_ASSERT_FATAL(r >= 0 && c >= 0 && s >= 0);
	for (n = 0; n < FILL_MAX; n++)
		if (uds_send(c, dg, sizeof(dg)) == -1) {
			e = errno;
			break;
		}
	CU_ASSERT(n >= 1);
	CU_ASSERT(n < FILL_MAX);
	CU_ASSERT(uds_fate(e) == UDS_FULL);

	/* Another sender to the same full receiver is refused too. */
	errno = 0;
	CU_ASSERT(uds_sendto(s, p, dg, sizeof(dg)) == -1);
	CU_ASSERT(uds_fate(errno) == UDS_FULL);

	/* Reading one makes room for one. */
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), NULL) == (ssize_t)sizeof(dg));
	CU_ASSERT(uds_send(c, dg, sizeof(dg)) == 0);
	xclose(r);
	xclose(c);
	xclose(s);
}

static void
test_gone_connected(void)
{
	const char	*p = tu_path("peer.sock");
	int		 r, c;

	r = uds_bind(p, 0600);
	c = uds_connect(p);
	CU_ASSERT_FATAL(r >= 0 && c >= 0);
	CU_ASSERT(uds_send(c, "x", 1) == 0);
	close(r);
	errno = 0;
	CU_ASSERT(uds_send(c, "x", 1) == -1);
	CU_ASSERT(uds_fate(errno) == UDS_GONE);
	/* And it stays gone. */
	errno = 0;
	CU_ASSERT(uds_send(c, "x", 1) == -1);
	CU_ASSERT(uds_fate(errno) == UDS_GONE);
	xclose(c);

	/* Connecting to a stale socket or to nothing at all fails. */
	errno = 0;
	CU_ASSERT(uds_connect(p) == -1);
	CU_ASSERT(uds_fate(errno) == UDS_GONE);
	CU_ASSERT(unlink(p) == 0);
	errno = 0;
	CU_ASSERT(uds_connect(p) == -1);
	CU_ASSERT(errno == ENOENT);
}

static void
test_gone_sendto(void)
{
	const char	*p = tu_path("peer.sock");
	int		 r, s;

	r = uds_bind(p, 0600);
	s = uds_bind(tu_path("s.sock"), 0600);
	CU_ASSERT_FATAL(r >= 0 && s >= 0);
	CU_ASSERT(uds_sendto(s, p, "x", 1) == 0);
	close(r);
	/* The file is still there but nobody is bound to it. */
	errno = 0;
	CU_ASSERT(uds_sendto(s, p, "x", 1) == -1);
	CU_ASSERT(errno == ECONNREFUSED);
	CU_ASSERT(uds_fate(errno) == UDS_GONE);
	CU_ASSERT(unlink(p) == 0);
	errno = 0;
	CU_ASSERT(uds_sendto(s, p, "x", 1) == -1);
	CU_ASSERT(errno == ENOENT);
	CU_ASSERT(uds_fate(errno) == UDS_GONE);
	xclose(s);
}

static void
test_truncation(void)
{
	char		 big[100], buf[10];
	const char	*p = tu_path("r.sock");
	int		 r, c;

	memset(big, 'b', sizeof(big));
	r = uds_bind(p, 0600);
	c = uds_connect(p);
	CU_ASSERT_FATAL(r >= 0 && c >= 0);
	CU_ASSERT(uds_send(c, big, sizeof(big)) == 0);
	CU_ASSERT(uds_send(c, "tail", 4) == 0);
	errno = 0;
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), NULL) == -1);
	CU_ASSERT(errno == EMSGSIZE);
	/* The long one was consumed; the next is intact. */
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), NULL) == 4);
	CU_ASSERT(memcmp(buf, "tail", 4) == 0);
	/* Exactly cap bytes is not truncation. */
	CU_ASSERT(uds_send(c, big, sizeof(buf)) == 0);
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), NULL) == (ssize_t)sizeof(buf));
	errno = 0;
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), NULL) == -1);
	CU_ASSERT(errno == EAGAIN || errno == EWOULDBLOCK);
	xclose(r);
	xclose(c);
}

static void
test_creds(void)
{
	struct uds_peer	 from;
	char		 buf[16];
	const char	*p = tu_path("r.sock"), *cp = tu_path("child.sock");
	ssize_t		 n;
	pid_t		 pid;
	int		 r, rc, st;

	r = uds_bind(p, 0600);
	CU_ASSERT_FATAL(r >= 0);
	errno = 0;
	rc = uds_creds_enable(r);
	if (linux_backend()) {
		CU_ASSERT(rc == 0);
	} else {
		CU_ASSERT(rc == -1 && errno == ENOSYS);
	}

	pid = fork();
	if (pid == 0) {
		int s = uds_bind(cp, 0600);

		_exit(s >= 0 && uds_sendto(s, p, "kid", 3) == 0 ? 0 : 1);
	}
	CU_ASSERT_FATAL(pid > 0);
	memset(&from, 0x55, sizeof(from));
	n = recv_wait(r, buf, sizeof(buf), &from);
	CU_ASSERT(waitpid(pid, &st, 0) == pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT(n == 3);
	CU_ASSERT_STRING_EQUAL(from.path, cp);
	if (linux_backend()) {
		CU_ASSERT(from.has_cred == 1);
		CU_ASSERT(from.pid == pid);
		CU_ASSERT(from.uid == getuid());
		CU_ASSERT(from.gid == getgid());
	} else {
		CU_ASSERT(from.has_cred == 0);
	}

	/* Our own datagram carries our own pid. */
	CU_ASSERT(uds_sendto(r, p, "me", 2) == 0);
	memset(&from, 0x55, sizeof(from));
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), &from) == 2);
	CU_ASSERT_STRING_EQUAL(from.path, p);
	if (linux_backend()) {
		CU_ASSERT(from.has_cred == 1 && from.pid == getpid());
	} else {
		CU_ASSERT(from.has_cred == 0);
	}
	xclose(r);
}

/*
 * A datagram queued before credentials were asked for: the kernel has
 * no identity for it, and none may be made up.
 */
static void
test_creds_late(void)
{
	struct uds_peer	 from;
	char		 buf[16];
	const char	*p = tu_path("r.sock");
	int		 r, c;

	r = uds_bind(p, 0600);
	c = uds_connect(p);
	CU_ASSERT_FATAL(r >= 0 && c >= 0);
	CU_ASSERT(uds_send(c, "early", 5) == 0);
	(void)uds_creds_enable(r);
	memset(&from, 0x55, sizeof(from));
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), &from) == 5);
	CU_ASSERT(from.has_cred == 0 ||
	    (from.pid == getpid() && from.uid == getuid()));
	xclose(r);
	xclose(c);
}

/* Descriptors smuggled in with SCM_RIGHTS must not stay open in us. */
static void
test_fds_dropped(void)
{
	union {
		struct cmsghdr	 hdr;
		unsigned char	 b[64];
	}		 cm;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*c;
	struct uds_peer	 from;
	char		 buf[16], payload[] = "fds";
	const char	*p = tu_path("r.sock");
	int		 r, s, pass[3], before, sent_ok;

	r = uds_bind(p, 0600);
	s = uds_connect(p);
	CU_ASSERT_FATAL(r >= 0 && s >= 0);
	(void)uds_creds_enable(r);
	pass[0] = open("/dev/null", O_RDONLY);
	pass[1] = open("/dev/null", O_RDONLY);
	pass[2] = open("/dev/null", O_RDONLY);
	CU_ASSERT_FATAL(pass[0] >= 0 && pass[1] >= 0 && pass[2] >= 0);

	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = payload;
	iov.iov_len = 3;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = CMSG_SPACE(sizeof(pass));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(pass));
	memcpy(CMSG_DATA(c), pass, sizeof(pass));
	sent_ok = sendmsg(s, &mh, 0) == 3;
	CU_ASSERT(sent_ok);
	close(pass[0]);
	close(pass[1]);
	close(pass[2]);

	before = lowest_free_fd();
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), &from) == 3);
	CU_ASSERT(memcmp(buf, "fds", 3) == 0);
	CU_ASSERT(lowest_free_fd() == before);
	if (linux_backend()) {
		CU_ASSERT(from.has_cred == 1 && from.pid == getpid());
	} else {
		CU_ASSERT(from.has_cred == 0);
	}
	xclose(r);
	xclose(s);
}

#ifdef __linux__
/* A socket bound by hand, outside uds_bind()'s rules. */
static int
raw_bound(const char *name, size_t len)
{
	struct sockaddr_un	 sun;
	int			 fd;

	if (len > sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, len);
	if (bind(fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Names rtm cannot trust are reported as no name at all. */
static void
test_peer_untrusted(void)
{
	struct sockaddr_un	 sun;
	struct uds_peer		 from;
	char			 name[sizeof(sun.sun_path)], buf[16];
	const char		*p = tu_path("r.sock");
	size_t			 dl = strlen(tu_dir), len;
	int			 r, a, l;

	r = uds_bind(p, 0600);
	CU_ASSERT_FATAL(r >= 0);

	/* Abstract: anyone may take any abstract name. */
	len = (size_t)snprintf(name, sizeof(name), "%c%s/r.sock", '\0',
	    tu_dir);
	if (len > sizeof(name))
		len = sizeof(name);
	a = raw_bound(name, len);
	CU_ASSERT(a >= 0);
	if (a >= 0) {
		CU_ASSERT(uds_sendto(a, p, "abs", 3) == 0);
		memset(&from, 0x55, sizeof(from));
		CU_ASSERT(uds_recv(r, buf, sizeof(buf), &from) == 3);
		CU_ASSERT_STRING_EQUAL(from.path, "");
		close(a);
	}

	/* Longer than UDS_PATH_MAX: cutting it short could name another. */
	len = UDS_PATH_MAX + 5;
	if (dl + 2 <= UDS_PATH_MAX && len < sizeof(name)) {
		memset(name, 'z', len);
		memcpy(name, tu_dir, dl);
		name[dl] = '/';
		name[len] = '\0';
		l = raw_bound(name, len + 1);
		CU_ASSERT(l >= 0);
		if (l >= 0) {
			CU_ASSERT(uds_sendto(l, p, "long", 4) == 0);
			memset(&from, 0x55, sizeof(from));
			CU_ASSERT(uds_recv(r, buf, sizeof(buf), &from) == 4);
			CU_ASSERT_STRING_EQUAL(from.path, "");
			close(l);
		}
	}
	xclose(r);
}
#endif

static void
test_set_bufs(void)
{
	const char	*p = tu_path("r.sock");
	int		 r, c, v, pfd[2];
	socklen_t	 sl = sizeof(v);
	char		 buf[16];

	r = uds_bind(p, 0600);
	c = uds_connect(p);
	CU_ASSERT_FATAL(r >= 0 && c >= 0);
	CU_ASSERT(uds_set_bufs(r, 32768, 32768) == 0);
	CU_ASSERT(getsockopt(r, SOL_SOCKET, SO_RCVBUF, &v, &sl) == 0 &&
	    v >= 32768);
	sl = sizeof(v);
	CU_ASSERT(getsockopt(r, SOL_SOCKET, SO_SNDBUF, &v, &sl) == 0 &&
	    v >= 32768);
	/* Far beyond any limit: best effort, and the socket still works. */
	CU_ASSERT(uds_set_bufs(c, 1 << 30, 1 << 30) == 0);
	CU_ASSERT(uds_set_bufs(c, 0, -1) == 0);
	CU_ASSERT(uds_send(c, "ok", 2) == 0);
	CU_ASSERT(uds_recv(r, buf, sizeof(buf), NULL) == 2);
	errno = 0;
	CU_ASSERT(uds_set_bufs(-1, 4096, 4096) == -1 && errno == EBADF);
	if (pipe(pfd) == 0) {
		errno = 0;
		CU_ASSERT(uds_set_bufs(pfd[0], 4096, 4096) == -1 &&
		    errno == ENOTSOCK);
		close(pfd[0]);
		close(pfd[1]);
	}
	xclose(r);
	xclose(c);
}

static void
test_fate(void)
{
	CU_ASSERT(uds_fate(0) == UDS_SENT);
	CU_ASSERT(uds_fate(EAGAIN) == UDS_FULL);
	CU_ASSERT(uds_fate(EWOULDBLOCK) == UDS_FULL);
	CU_ASSERT(uds_fate(ENOBUFS) == UDS_FULL);
	CU_ASSERT(uds_fate(ECONNREFUSED) == UDS_GONE);
	CU_ASSERT(uds_fate(ENOENT) == UDS_GONE);
	CU_ASSERT(uds_fate(ENOTCONN) == UDS_GONE);
	CU_ASSERT(uds_fate(ECONNRESET) == UDS_GONE);
	CU_ASSERT(uds_fate(EPIPE) == UDS_GONE);
	CU_ASSERT(uds_fate(EDESTADDRREQ) == UDS_GONE);
	CU_ASSERT(uds_fate(EMSGSIZE) == UDS_FAILED);
	CU_ASSERT(uds_fate(EACCES) == UDS_FAILED);
	CU_ASSERT(uds_fate(EBADF) == UDS_FAILED);
	CU_ASSERT(uds_fate(EINVAL) == UDS_FAILED);
}

/*
 * Peer socket names (peername.h): what rtm takes for a role's name,
 * spelled exactly; anything near it is not.
 */
static void
test_peername_match(void)
{
	static const struct {
		const char	*name;
		pid_t		 pid;	/* 0: not a client's name */
	} t[] = {
		{ "client.1.sock", 1 },
		{ "client.4242.sock", 4242 },
		{ "client.2147483647.sock", 2147483647 },
		{ "client.4242.0123abcd.sock", 4242 },
		{ "client.7.ffffffff.sock", 7 },
		{ "client.7.00000000.sock", 7 },
		{ "client.0.sock", 0 },
		{ "client.04242.sock", 0 },
		{ "client.+4242.sock", 0 },
		{ "client.-4242.sock", 0 },
		{ "client. 4242.sock", 0 },
		{ "client.2147483648.sock", 0 },
		{ "client.42949672950.sock", 0 },
		{ "client..sock", 0 },
		{ "client.sock", 0 },
		{ "client.4242", 0 },
		{ "client.4242.sock.x", 0 },
		{ "client.4242.sockx", 0 },
		{ "client.4242.socket", 0 },
		{ "client.4242..sock", 0 },
		{ "client.4242.0123ABCD.sock", 0 },
		{ "client.4242.0123abc.sock", 0 },
		{ "client.4242.0123abcde.sock", 0 },
		{ "client.4242.0123abcg.sock", 0 },
		{ "client.4242.0123abcd.0123abcd.sock", 0 },
		{ "client.4242.0123abcd..sock", 0 },
		{ "client.4242.0123abcd.x.sock", 0 },
		{ "client.4242.x.sock", 0 },
		{ "client.4242.-123abcd.sock", 0 },
		{ "client.4242.0x23abcd.sock", 0 },
		{ "clients.4242.sock", 0 },
		{ "admin.4242.sock", 0 },
		{ "xclient.4242.sock", 0 },
		{ "", 0 },
	};
	pid_t pid;

	for (size_t i = 0; i < NELEM(t); i++) {
		pid = -1;
		CU_ASSERT_EQUAL(peername_match(t[i].name, "client", &pid),
		    t[i].pid != 0);
		/* Left alone when it is not one. */
		CU_ASSERT_EQUAL(pid, t[i].pid != 0 ? t[i].pid : -1);
	}
	CU_ASSERT(peername_match("admin.4242.sock", "admin", NULL) == 1);
	CU_ASSERT(peername_match("admin.4242.89abcdef.sock", "admin",
	    &pid) == 1 && pid == 4242);
	CU_ASSERT(peername_match("client.4242.sock", "admin", NULL) == 0);
}

/* path is a fallback name for dir/client.PID.sock, and receives. */
static int
is_fallback(const char *path, const char *dir, pid_t want)
{
	char	 plain[64];
	size_t	 n = strlen(dir);
	pid_t	 pid = 0;

	snprintf(plain, sizeof(plain), "client.%ld.sock", (long)want);
	return strncmp(path, dir, n) == 0 && path[n] == '/' &&
	    peername_match(path + n + 1, "client", &pid) && pid == want &&
	    strlen(path + n + 1) == strlen(plain) + PEERNAME_SUFFIX_LEN &&
	    uds_alive(path);
}

/*
 * The plain name when it is free or a stale socket of ours; a fallback
 * name when another user's file holds it; and the plain name's error
 * when our own live socket does (a second handle in one process), or
 * when the fallback name would not fit.
 */
static void
test_peername_bind(void)
{
	char		 path[UDS_PATH_MAX + 1], plain[UDS_PATH_MAX + 1];
	char		 dir[UDS_PATH_MAX + 1], *text;
	size_t		 dl = strlen(tu_dir);
	int		 fd, fd2, squat;

	snprintf(plain, sizeof(plain), "%s/client.4242.sock", tu_dir);
	snprintf(path, sizeof(path), "%s", plain);
	fd = peername_bind(path, sizeof(path), 0600, 1);
	CU_ASSERT(fd != -1 && strcmp(path, plain) == 0);
	xclose(fd);
	/* Stale, and ours: replaced, as uds_bind() does. */
	fd = peername_bind(path, sizeof(path), 0600, 0);
	CU_ASSERT(fd != -1 && strcmp(path, plain) == 0);

	/* Alive, and ours: that stays an error. */
	errno = 0;
	fd2 = peername_bind(path, sizeof(path), 0600, 1);
	CU_ASSERT(fd2 == -1 && errno == EADDRINUSE);
	CU_ASSERT_STRING_EQUAL(path, plain);
	xclose(fd2);
	xclose(fd);
	CU_ASSERT(unlink(plain) == 0);

	/* Not a socket: nobody's to replace, a fallback name instead. */
	CU_ASSERT_FATAL(write_file(plain, "precious\n") == 0);
	fd = peername_bind(path, sizeof(path), 0600, 1);
	CU_ASSERT(fd != -1 && is_fallback(path, tu_dir, 4242));
	text = tu_slurp(plain);
	CU_ASSERT(text != NULL && strcmp(text, "precious\n") == 0);
	free(text);
	/* Bound anew where it is, as a client's rebind does. */
	xclose(fd);
	fd = uds_bind_creds(path, 0600);
	CU_ASSERT(fd != -1);
	xclose(fd);
	unlink(path);

	/* Another user's live socket (root can chown one there). */
	if (geteuid() == 0) {
		CU_ASSERT_FATAL(unlink(plain) == 0);
		squat = tu_foreign_socket(plain);
		CU_ASSERT_FATAL(squat != -1);
		snprintf(path, sizeof(path), "%s", plain);
		fd = peername_bind(path, sizeof(path), 0600, 0);
		CU_ASSERT(fd != -1 && is_fallback(path, tu_dir, 4242));
		CU_ASSERT(uds_alive(plain));
		xclose(fd);
		unlink(path);
		close(squat);
		CU_ASSERT_FATAL(unlink(plain) == 0);
		CU_ASSERT_FATAL(write_file(plain, "precious\n") == 0);
	}

	/* A buffer with no room for the longer name: the plain error. */
	snprintf(path, sizeof(path), "%s", plain);
	errno = 0;
	CU_ASSERT(peername_bind(path, strlen(plain) + 1, 0600, 0) == -1 &&
	    errno == EEXIST);
	CU_ASSERT_STRING_EQUAL(path, plain);

	/* A plain name of UDS_PATH_MAX bytes: no fallback fits. */
	if (dl + 1 + 1 + strlen("/client.4242.sock") <= UDS_PATH_MAX) {
		size_t n = UDS_PATH_MAX - dl - 1 - strlen("/client.4242.sock");

		CU_ASSERT_FATAL(snprintf(dir, sizeof(dir), "%s/%.*s", tu_dir,
		    (int)n,
		    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
		    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddd") ==
		    (int)(dl + 1 + n));
		CU_ASSERT_FATAL(mkdir(dir, 0700) == 0);
		CU_ASSERT_FATAL(snprintf(plain, sizeof(plain),
		    "%s/client.4242.sock", dir) == UDS_PATH_MAX);
		CU_ASSERT_FATAL(write_file(plain, "x") == 0);
		snprintf(path, sizeof(path), "%s", plain);
		errno = 0;
		CU_ASSERT(peername_bind(path, sizeof(path), 0600, 0) == -1 &&
		    errno == EEXIST);
		CU_ASSERT_STRING_EQUAL(path, plain);
	}
}

/*
 * The child of test_peername_bind_other_user, as nobody: the plain
 * names hold root's dead sockets, which nobody may not write to (mode
 * 0600: EACCES) or may not remove (mode 0666, in a sticky directory:
 * EPERM).  Exit 0: a fallback name each time.
 */
static int
bind_as_nobody(const char *dir)
{
	char	 path[UDS_PATH_MAX + 1];
	int	 fd, pid;

	if (setgid(65534) == -1 || setuid(65534) == -1)
		return 10;
	for (int i = 0; i < 2; i++) {
		pid = 4242 + i;
		snprintf(path, sizeof(path), "%s/client.%d.sock", dir, pid);
		if ((fd = uds_bind(path, 0600)) != -1 ||
		    errno != (i == 0 ? EACCES : EPERM))
			return 11 + i;
		if ((fd = peername_bind(path, sizeof(path), 0600, 1)) == -1)
			return 13 + i;
		if (!is_fallback(path, dir, pid))
			return 15 + i;
		close(fd);
		unlink(path);
	}
	return 0;
}

/* The errors of another user's dead socket, as root only. */
static void
test_peername_bind_other_user(void)
{
	char	 dir[] = "/dev/shm/rtm-test.XXXXXX", peers[64], path[128];
	pid_t	 kid;
	int	 fd;

	if (geteuid() != 0 || mkdtemp(dir) == NULL)
		return;
	tu_own_dir(dir);
	CU_ASSERT_FATAL(chmod(dir, 0755) == 0);
	snprintf(peers, sizeof(peers), "%s/peers", dir);
	CU_ASSERT_FATAL(mkdir(peers, 01733) == 0 && chmod(peers, 01733) == 0);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/client.%d.sock", peers,
		    4242 + i);
		fd = uds_bind(path, i == 0 ? 0600 : 0666);
		CU_ASSERT_FATAL(fd != -1);
		close(fd);
	}
	if ((kid = tu_fork()) == 0)
		_exit(bind_as_nobody(peers));
	CU_ASSERT_FATAL(kid > 0);
	tu_track(kid);
	CU_ASSERT_EQUAL(tu_exit_code(kid, 10000), 0);
	/* Root's files are still there. */
	for (int i = 0; i < 2; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/client.%d.sock", peers,
		    4242 + i);
		CU_ASSERT(lstat(path, &st) == 0 && st.st_uid == 0);
	}
}

static const struct tu_test uds_tests[] = {
	{ "roundtrip", test_roundtrip },
	{ "bind_live", test_bind_live },
	{ "bind_live_stream", test_bind_live_stream },
	{ "bind_stale", test_bind_stale },
	{ "bind_not_socket", test_bind_not_socket },
	{ "bind_names", test_bind_names },
	{ "bind_mode", test_bind_mode },
	{ "alive", test_alive },
	{ "dead_unknown", test_dead_unknown },
	{ "foreign_owner", test_foreign_owner },
	{ "full", test_full },
	{ "gone_connected", test_gone_connected },
	{ "gone_sendto", test_gone_sendto },
	{ "truncation", test_truncation },
	{ "creds", test_creds },
	{ "creds_late", test_creds_late },
	{ "fds_dropped", test_fds_dropped },
#ifdef __linux__
	{ "peer_untrusted", test_peer_untrusted },
#endif
	{ "set_bufs", test_set_bufs },
	{ "fate", test_fate },
	{ "peername_match", test_peername_match },
	{ "peername_bind", test_peername_bind },
	{ "peername_bind_other_user", test_peername_bind_other_user },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "uds", uds_tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
