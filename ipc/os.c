/*
 * os.c: the portability seam (see os.h).  The Linux backend uses
 * SO_PASSCRED credentials, pidfds and semtimedop(); the POSIX backend,
 * also forced on Linux by -DRTM_PORTABLE, gets by with POSIX.1-2008 +
 * XSI alone.  This is the only file allowed to step outside POSIX.
 */
#if defined(__linux__) && !defined(RTM_PORTABLE)
#define _GNU_SOURCE	/* struct ucred, SCM_CREDENTIALS, semtimedop, syscall */
#define OS_LINUX
#endif

#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/stat.h>
#ifdef OS_LINUX
#include <sys/mman.h>
#include <sys/syscall.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "os.h"

#if defined(OS_LINUX) && defined(SYS_pidfd_open) && \
    defined(SYS_pidfd_send_signal)
#define OS_PIDFD
#endif

#define NS_PER_SEC	1000000000ULL
#define NS_PER_MS	1000000ULL

/* Backoff of the polling semop fallback. */
#define OS_SEMPOLL_MIN_NS	50000ULL	/* 50us */
#define OS_SEMPOLL_MAX_NS	5000000ULL	/* 5ms */
/* Operations copied on the stack by the fallback before it mallocs. */
#define OS_SEMOPS_LOCAL		16

const char *
os_backend(void)
{
#ifdef OS_LINUX
	return "linux";
#else
	return "posix";
#endif
}

/* Credentials. */

int
os_creds_enable(int fd)
{
#ifdef OS_LINUX
	int one = 1;

	return setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
#else
	(void)fd;
	errno = ENOSYS;
	return -1;
#endif
}

size_t
os_creds_cmsg_space(void)
{
#ifdef OS_LINUX
	return CMSG_SPACE(sizeof(struct ucred));
#else
	return 0;
#endif
}

int
os_creds_parse(struct msghdr *mh, pid_t *pid, uid_t *uid, gid_t *gid)
{
#ifdef OS_LINUX
	struct cmsghdr	*c;
	struct ucred	 uc;

	if (mh == NULL || mh->msg_control == NULL ||
	    mh->msg_controllen < sizeof(struct cmsghdr))
		return 0;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_CREDENTIALS ||
		    c->cmsg_len < CMSG_LEN(sizeof(uc)))
			continue;
		memcpy(&uc, CMSG_DATA(c), sizeof(uc));
		/*
		 * pid 0 is what the kernel reports when it has no
		 * credentials for the datagram (queued before SO_PASSCRED
		 * was set) or the sender lives in a pid namespace we cannot
		 * see; the uid is then the overflow uid.  Neither names a
		 * sender, so treat them as absent.
		 */
		if (uc.pid <= 0)
			return 0;
		if (pid != NULL)
			*pid = uc.pid;
		if (uid != NULL)
			*uid = uc.uid;
		if (gid != NULL)
			*gid = uc.gid;
		return 1;
	}
	return 0;
#else
	(void)mh;
	(void)pid;
	(void)uid;
	(void)gid;
	return 0;
#endif
}

/* Peer sockets. */

static int
os_sock_check(const struct stat *st, uid_t uid)
{
	if (!S_ISSOCK(st->st_mode)) {
		errno = ENOTSOCK;	/* a link, a file: not what was bound */
		return -1;
	}
	if (uid != (uid_t)-1 && st->st_uid != uid) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
os_sock_name(const char *path, uid_t uid, char *name, size_t size,
    int *pin)
{
	struct stat	 st;
	int		 n;

	*pin = -1;
#ifdef OS_LINUX
	if ((*pin = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(*pin, &st) == -1 || os_sock_check(&st, uid) == -1) {
		int e = errno;

		close(*pin);
		*pin = -1;
		errno = e;
		return -1;
	}
	n = snprintf(name, size, "/proc/self/fd/%d", *pin);
	if (n > 0 && (size_t)n < size && access(name, F_OK) == 0)
		return 0;
	/* No /proc mounted: name the path, as the fallback does. */
	close(*pin);
	*pin = -1;
#endif
	if (lstat(path, &st) == -1 || os_sock_check(&st, uid) == -1)
		return -1;
	n = snprintf(name, size, "%s", path);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Process handles. */

int
os_proc_open(pid_t pid)
{
#ifdef OS_PIDFD
	long fd;

	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	/* pidfds are always close-on-exec. */
	if ((fd = syscall(SYS_pidfd_open, pid, 0)) == -1)
		return -1;
	return (int)fd;
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int
os_proc_signal(int handle, pid_t pid, int sig)
{
#ifdef OS_PIDFD
	if (handle >= 0) {
		/*
		 * The pidfd pins the process itself, not its number, so
		 * this fails with ESRCH once it has been reaped even if
		 * the pid already belongs to somebody else.
		 */
		if (syscall(SYS_pidfd_send_signal, handle, sig, NULL, 0) == 0)
			return 0;
		if (errno != ENOSYS)
			return -1;
		/* A kernel (or seccomp filter) without the call: use pid. */
	}
#else
	(void)handle;
#endif
	/* kill(0 or -n) would signal whole process groups. */
	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	return kill(pid, sig);
}

/* Descriptors. */

int
os_sock_premode(int fd, mode_t mode)
{
#ifdef OS_LINUX
	return fchmod(fd, mode);
#else
	(void)fd;
	(void)mode;
	errno = ENOSYS;
	return -1;
#endif
}

int
os_pipe_cloexec(int p[2])
{
#ifdef OS_LINUX
	return pipe2(p, O_CLOEXEC);
#else
	if (pipe(p) == -1)
		return -1;
	if (fcntl(p[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(p[1], F_SETFD, FD_CLOEXEC) == -1) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	return 0;
#endif
}

int
os_nofork(void *addr, size_t len)
{
#if defined(OS_LINUX) && defined(MADV_DONTFORK)
	return madvise(addr, len, MADV_DONTFORK);
#else
	(void)addr;
	(void)len;
	return 0;
#endif
}

/* Semaphores. */

unsigned long long
os_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (unsigned long long)ts.tv_sec * NS_PER_SEC +
	    (unsigned long long)ts.tv_nsec;
}

static void
os_ns_to_ts(unsigned long long ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / NS_PER_SEC);
	ts->tv_nsec = (long)(ns % NS_PER_SEC);
}

#ifndef OS_LINUX
/*
 * No semtimedop(): retry a non-blocking semop with growing sleeps.  The
 * operations are copied so the caller's array is never modified.
 */
static int
os_semop_poll(int semid, struct sembuf *ops, size_t nops,
    unsigned long long deadline)
{
	struct sembuf		 local[OS_SEMOPS_LOCAL], *nw = local;
	struct timespec		 ts;
	unsigned long long	 delay = OS_SEMPOLL_MIN_NS, now, nap;
	int			 r, e, caller_nowait = 0;

	if (nops > OS_SEMOPS_LOCAL &&
	    (nw = malloc(nops * sizeof(*nw))) == NULL)
		return -1;
	for (size_t i = 0; i < nops; i++) {
		nw[i] = ops[i];
		if (ops[i].sem_flg & IPC_NOWAIT)
			caller_nowait = 1;
		nw[i].sem_flg = (short)(nw[i].sem_flg | IPC_NOWAIT);
	}
	for (;;) {
		if ((r = semop(semid, nw, nops)) == 0)
			break;
		if (errno == EINTR)
			continue;
		/* The caller's own IPC_NOWAIT means "do not wait at all". */
		if (errno != EAGAIN || caller_nowait)
			break;
		now = os_now_ns();
		if (now >= deadline) {
			errno = EAGAIN;
			break;
		}
		nap = deadline - now < delay ? deadline - now : delay;
		os_ns_to_ts(nap, &ts);
		/* An interrupted nap just means an earlier retry. */
		(void)nanosleep(&ts, NULL);
		if ((delay *= 2) > OS_SEMPOLL_MAX_NS)
			delay = OS_SEMPOLL_MAX_NS;
	}
	if (nw != local) {
		e = errno;
		free(nw);
		errno = e;
	}
	return r;
}
#endif

int
os_semop_timed(int semid, struct sembuf *ops, size_t nops, int timeout_ms)
{
	unsigned long long deadline;

	if (timeout_ms < 0) {
		while (semop(semid, ops, nops) == -1)
			if (errno != EINTR)
				return -1;
		return 0;
	}
	deadline = os_now_ns() + (unsigned long long)timeout_ms * NS_PER_MS;
#ifdef OS_LINUX
	for (;;) {
		struct timespec		 ts;
		unsigned long long	 now = os_now_ns();

		/* After EINTR only what is left of the timeout remains. */
		os_ns_to_ts(deadline > now ? deadline - now : 0, &ts);
		if (semtimedop(semid, ops, nops, &ts) == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
#else
	return os_semop_poll(semid, ops, nops, deadline);
#endif
}

/* Randomness. */

/* splitmix64: spreads weak seed bits over the whole output. */
static uint64_t
os_mix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
os_random_weak(unsigned char *p, size_t len)
{
	struct timespec	 ts;
	uint64_t	 state, v;
	int		 local;

	state = os_now_ns();
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
		state ^= (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
	state ^= (uint64_t)getpid() << 32 ^ (uint64_t)getppid();
	/* Address bits differ between runs where ASLR is on. */
	state ^= (uint64_t)(uintptr_t)&local ^ (uint64_t)(uintptr_t)p << 7;
	(void)os_mix(&state);
	while (len > 0) {
		size_t n = len < sizeof(v) ? len : sizeof(v);

		v = os_mix(&state);
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}

void
os_random(void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 n;
	int		 fd, e = errno;

	if (len == 0)
		return;
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) != -1) {
		while (len > 0) {
			if ((n = read(fd, p, len)) == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			p += n;
			len -= (size_t)n;
		}
		close(fd);
	}
	if (len > 0)
		os_random_weak(p, len);
	errno = e;
}
