/*
 * os.h: the portability seam.  Every call that is not POSIX.1-2008 + XSI
 * lives behind these functions, in os.c, each with a POSIX fallback.
 * Building with -DRTM_PORTABLE forces the fallbacks everywhere, so they
 * are built and tested on Linux too.
 */
#ifndef RTM_OS_H
#define RTM_OS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/sem.h>
#include <stddef.h>

/* Name of the backend compiled in: "linux" or "posix". */
const char *os_backend(void);

/*
 * Sender credentials on datagram sockets.
 * os_creds_enable(): ask the kernel to attach credentials to every
 * datagram received on fd (Linux SO_PASSCRED); -1/ENOSYS otherwise.
 * os_creds_cmsg_space(): control buffer bytes recvmsg needs (0 if none).
 * os_creds_parse(): extract pid/uid/gid from a received msghdr;
 * returns 1 when found, 0 when absent (pointers may be NULL).  A
 * credential with pid 0, which Linux reports when it has none for a
 * datagram, counts as absent.
 */
int	os_creds_enable(int fd);
size_t	os_creds_cmsg_space(void);
int	os_creds_parse(struct msghdr *mh, pid_t *pid, uid_t *uid, gid_t *gid);

/*
 * Process handles that survive pid reuse.  os_proc_open() returns a
 * handle fd (a pidfd on Linux, which becomes readable when the process
 * exits) or -1 with ENOSYS in the fallback, where the caller falls back
 * to kill(pid, 0) plus its own liveness checks.
 */
int	os_proc_open(pid_t pid);
/*
 * Signals the process behind a handle; ESRCH once it has been reaped.
 * A handle < 0 (or the fallback) signals pid instead; pid <= 0 is
 * refused with EINVAL rather than reaching a process group.
 */
int	os_proc_signal(int handle, pid_t pid, int sig);

/*
 * semop with a timeout in milliseconds (-1 = none).  Linux uses
 * semtimedop(); the fallback polls with IPC_NOWAIT and short sleeps.
 * EAGAIN on timeout.
 */
int	os_semop_timed(int semid, struct sembuf *ops, size_t nops, int timeout_ms);

/*
 * Names the socket file at path so that rtm reaches that very file: it
 * must be a socket (not a symbolic link to one) owned by uid (by anyone
 * when uid is (uid_t)-1), else -1 with ENOTSOCK or EPERM.  Linux: "/proc/self/fd/N" of an O_PATH
 * descriptor held in *pin until the caller has connected or sent
 * (close it then), so nothing swapped in at path meanwhile is reached.
 * The fallback (*pin = -1) checks with lstat() and names path itself:
 * a link swapped in just after the check would still be followed.
 */
int	os_sock_name(const char *path, uid_t uid, char *name, size_t size,
	    int *pin);

/*
 * Makes a socket's file, when bind() creates it, no wider than mode,
 * without changing the process-wide umask: Linux creates it with the
 * socket's own mode less the umask, so an fchmod() before bind() does
 * it (the caller's chmod() after makes the mode exact).  -1 with
 * ENOSYS in the fallback, where the caller narrows the umask.
 */
int	os_sock_premode(int fd, mode_t mode);

/* A pipe whose ends are close-on-exec from the start where the system
 * has pipe2() (POSIX.1-2024), else set just after creation. */
int	os_pipe_cloexec(int p[2]);

/*
 * Keeps a mapping (addr page-aligned) out of children forked later:
 * fork() copies each mapping, which for tens of thousands of attached
 * segments takes longer than the work of the child.  madvise
 * MADV_DONTFORK on Linux; elsewhere nothing (the child gets it).
 */
int	os_nofork(void *addr, size_t len);

/* Monotonic clock in nanoseconds. */
unsigned long long os_now_ns(void);

/* Fills buf with unpredictable bytes (/dev/urandom, else time/pid mix). */
void	os_random(void *buf, size_t len);

#endif
