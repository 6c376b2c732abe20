/*
 * test_os.c: the portability seam, whichever backend is compiled in:
 * process handles on real children, timed semops on a private
 * semaphore, the clock, randomness and the credential hooks.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os.h"
#include "testutil.h"

/* XSI leaves this union to the caller. */
union semun {
	int		 val;
	struct semid_ds	*buf;
	unsigned short	*array;
};

static volatile sig_atomic_t got_usr1;
/* When not -1, on_usr1 also says 'u' there (to whoever sent it). */
static int	usr1_fd = -1;

static int
linux_backend(void)
{
	return strcmp(os_backend(), "linux") == 0;
}

/*
 * pidfds are expected with the Linux backend, except under valgrind
 * (make valgrind), which does not know the system call and answers
 * ENOSYS: the same path as the fallback.
 */
static int
pidfd_expected(void)
{
	return linux_backend() && getenv("RTM_VALGRIND") == NULL;
}

static void
on_usr1(int sig)
{
	int saved = errno;

	(void)sig;
	got_usr1 = 1;
	if (usr1_fd != -1)
		tu_say(usr1_fd, 'u');
	errno = saved;
}

static void
test_backend(void)
{
#if defined(__linux__) && !defined(RTM_PORTABLE)
	CU_ASSERT_STRING_EQUAL(os_backend(), "linux");
#else
	CU_ASSERT_STRING_EQUAL(os_backend(), "posix");
#endif
}

/*
 * A child that waits to be killed.  It reports ready through the pipe
 * only after dropping the test harness's SIGTERM handler, which must
 * never run in a child.
 */
static pid_t
spawn_sleeper(void)
{
	int	 p[2];
	char	 c;
	pid_t	 pid;

	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		signal(SIGTERM, SIG_DFL);
		close(p[0]);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

static void
test_proc_handle(void)
{
	struct pollfd	 pfd;
	pid_t		 pid;
	int		 h, st = 0, sent;

	pid = spawn_sleeper();
	CU_ASSERT_FATAL(pid > 0);
	errno = 0;
	h = os_proc_open(pid);
	if (pidfd_expected()) {
		CU_ASSERT(h >= 0);
		CU_ASSERT(h < 0 || (fcntl(h, F_GETFD) & FD_CLOEXEC));
		/* Not readable while the process lives. */
		pfd = (struct pollfd){ h, POLLIN, 0 };
		CU_ASSERT(h < 0 || poll(&pfd, 1, 0) == 0);
	} else {
		CU_ASSERT(h == -1 && errno == ENOSYS);
	}
	CU_ASSERT(os_proc_signal(h, pid, 0) == 0);
	sent = os_proc_signal(h, pid, SIGTERM) == 0;
	CU_ASSERT(sent);
	if (!sent)
		kill(pid, SIGKILL);
	if (pidfd_expected() && h >= 0) {
		/* Readable once it has exited, before anyone reaps it. */
		pfd = (struct pollfd){ h, POLLIN, 0 };
		CU_ASSERT(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN));
		/* A zombie still takes signals. */
		CU_ASSERT(os_proc_signal(h, pid, 0) == 0);
	}
	CU_ASSERT(waitpid(pid, &st, 0) == pid);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);

	errno = 0;
	CU_ASSERT(os_proc_signal(h, pid, 0) == -1);
	CU_ASSERT(errno == ESRCH);
	if (h >= 0) {
		/*
		 * The handle, not the number, decides: even with the pid
		 * naming a live process (as after reuse), the process
		 * behind the handle is gone.
		 */
		errno = 0;
		CU_ASSERT(os_proc_signal(h, getpid(), 0) == -1);
		CU_ASSERT(errno == ESRCH);
		close(h);
	}
}

static void
test_proc_gone(void)
{
	pid_t	 pid;
	int	 h;

	pid = fork();
	if (pid == 0)
		_exit(0);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT(waitpid(pid, NULL, 0) == pid);
	errno = 0;
	h = os_proc_open(pid);
	CU_ASSERT(h == -1);
	CU_ASSERT(errno == (pidfd_expected() ? ESRCH : ENOSYS));
	if (h >= 0)
		close(h);
	errno = 0;
	CU_ASSERT(os_proc_signal(-1, pid, 0) == -1 && errno == ESRCH);

	/* 0 and negative pids would address process groups: refused. */
	errno = 0;
	CU_ASSERT(os_proc_signal(-1, 0, 0) == -1 && errno == EINVAL);
	errno = 0;
	CU_ASSERT(os_proc_signal(-1, -1, 0) == -1 && errno == EINVAL);
	errno = 0;
	CU_ASSERT(os_proc_open(0) == -1);
	CU_ASSERT(errno == (linux_backend() ? EINVAL : ENOSYS));
}

static int
sem_private(int nsems)
{
	union semun	 arg;
	int		 id;

	if ((id = semget(IPC_PRIVATE, nsems, IPC_CREAT | 0600)) == -1)
		return -1;
	arg.val = 0;
	for (int i = 0; i < nsems; i++)
		if (semctl(id, i, SETVAL, arg) == -1) {
			semctl(id, 0, IPC_RMID);
			return -1;
		}
	return id;
}

static int
sem_value(int id)
{
	return semctl(id, 0, GETVAL);
}

static void
test_semop_timeout(void)
{
	struct sembuf	 take = { 0, -1, 0 };
	struct sembuf	 nowait = { 0, -1, IPC_NOWAIT };
	struct sembuf	 many[20];
	union semun	 arg;
	int		 id;

	id = sem_private(1);
	CU_ASSERT_FATAL(id != -1);

	/* Value 0: nobody can take it. */
	errno = 0;
	CU_ASSERT(os_semop_timed(id, &take, 1, 30) == -1);
	CU_ASSERT(errno == EAGAIN);
	CU_ASSERT(take.sem_flg == 0);	/* the caller's ops are untouched */
	errno = 0;
	CU_ASSERT(os_semop_timed(id, &take, 1, 0) == -1);
	CU_ASSERT(errno == EAGAIN);
	errno = 0;
	CU_ASSERT(os_semop_timed(id, &nowait, 1, 60000) == -1);
	CU_ASSERT(errno == EAGAIN);

	arg.val = 1;
	CU_ASSERT(semctl(id, 0, SETVAL, arg) == 0);
	CU_ASSERT(os_semop_timed(id, &take, 1, 1000) == 0);
	CU_ASSERT(sem_value(id) == 0);
	CU_ASSERT(semctl(id, 0, SETVAL, arg) == 0);
	CU_ASSERT(os_semop_timed(id, &take, 1, -1) == 0);
	CU_ASSERT(sem_value(id) == 0);

	/* More operations than the fallback keeps on its stack. */
	for (int i = 0; i < 20; i++)
		many[i] = (struct sembuf){ 0, 1, 0 };
	CU_ASSERT(os_semop_timed(id, many, 20, 1000) == 0);
	CU_ASSERT(sem_value(id) == 20);
	for (int i = 0; i < 20; i++)
		many[i] = (struct sembuf){ 0, -1, 0 };
	CU_ASSERT(os_semop_timed(id, many, 20, 1000) == 0);
	CU_ASSERT(sem_value(id) == 0);
	/* All or nothing: 20 decrements of a value of 19 wait, then fail. */
	arg.val = 19;
	CU_ASSERT(semctl(id, 0, SETVAL, arg) == 0);
	errno = 0;
	CU_ASSERT(os_semop_timed(id, many, 20, 20) == -1);
	CU_ASSERT(errno == EAGAIN);
	CU_ASSERT(sem_value(id) == 19);

	CU_ASSERT(semctl(id, 0, IPC_RMID) == 0);
}

/*
 * A child interrupts our wait with a signal and only then releases the
 * semaphore: the wait must ride out EINTR and succeed.
 */
static void
semop_woken(int timeout_ms)
{
	struct sigaction sa, old;
	struct sembuf	 take = { 0, -1, 0 };
	pid_t		 pid, parent = getpid();
	int		 id, r, e, st = 0, p[2];
	/* A timed wait without semtimedop() (the POSIX backend) polls and
	 * naps: nothing waits in the kernel to see. */
	int		 blocks = timeout_ms < 0 || linux_backend();

	CU_ASSERT_FATAL(pipe(p) == 0);
	id = sem_private(1);
	if (id == -1)
		tu_close_pipe(p);
	CU_ASSERT_FATAL(id != -1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	usr1_fd = p[1];
	sigaction(SIGUSR1, &sa, &old);
	got_usr1 = 0;

	pid = tu_fork();
	if (pid == 0) {
		struct sembuf	 give = { 0, 1, 0 };
		struct pollfd	 pfd = { p[0], POLLIN, 0 };
		char		 c;
		int		 fail = 0;

		/*
		 * The signal must come while our parent waits in semop(),
		 * or there is no EINTR to ride out: only once the kernel
		 * counts it waiting.  The release, only once its handler
		 * has run (the wait was interrupted).  Released whatever
		 * happens, so the parent never waits for ever.
		 */
		for (int i = 0; blocks && semctl(id, 0, GETNCNT) <= 0; i++) {
			if (i == 10000) {
				fail = 3;
				break;
			}
			tu_sleep_ms(1);
		}
		if (!blocks)
			tu_sleep_ms(20);
		if (!fail && (kill(parent, SIGUSR1) == -1 ||
		    poll(&pfd, 1, 10000) != 1 || read(p[0], &c, 1) != 1))
			fail = 4;
		if (semop(id, &give, 1) == -1)
			fail = 1;
		_exit(fail);
	}
	if (pid > 0) {
		errno = 0;
		r = os_semop_timed(id, &take, 1, timeout_ms);
		e = errno;
		CU_ASSERT(r == 0);
		if (r != 0) {
			CU_ASSERT(e != EINTR);
		}
		CU_ASSERT(waitpid(pid, &st, 0) == pid);
		CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CU_ASSERT(got_usr1 == 1);
		CU_ASSERT(sem_value(id) == 0);
	} else
		CU_FAIL("fork");
	sigaction(SIGUSR1, &old, NULL);
	usr1_fd = -1;
	tu_close_pipe(p);
	CU_ASSERT(semctl(id, 0, IPC_RMID) == 0);
}

static void
test_semop_woken_timed(void)
{
	semop_woken(10000);
}

static void
test_semop_woken_forever(void)
{
	semop_woken(-1);
}

static void
test_random(void)
{
	unsigned char	 a[32], b[32], zero[32], *big;
	size_t		 bigsz = 100000;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(zero, 0, sizeof(zero));
	errno = 4321;
	os_random(a, sizeof(a));
	CU_ASSERT(errno == 4321);
	os_random(b, sizeof(b));
	CU_ASSERT(memcmp(a, zero, sizeof(a)) != 0);
	CU_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	os_random(NULL, 0);

	/* Odd sizes fill every byte: the tail differs between two runs. */
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	os_random(a, 13);
	os_random(b, 13);
	CU_ASSERT(memcmp(a, b, 13) != 0);
	CU_ASSERT(memcmp(a + 13, zero, sizeof(a) - 13) == 0);

	big = calloc(1, bigsz);
	CU_ASSERT_FATAL(big != NULL);
	os_random(big, bigsz);
	CU_ASSERT(memcmp(big + bigsz - sizeof(zero), zero, sizeof(zero)) != 0);
	free(big);
}

static void
test_now_ns(void)
{
	unsigned long long a, b, c;

	a = os_now_ns();
	b = os_now_ns();
	CU_ASSERT(a > 0);
	CU_ASSERT(b >= a);
	tu_sleep_ms(2);
	c = os_now_ns();
	/* A sleep of 2ms lasts at least that long on a monotonic clock. */
	CU_ASSERT(c - b >= 1000000ULL);
}

static void
test_creds_hooks(void)
{
	struct msghdr	 mh;
	pid_t		 pid = 77;
	uid_t		 uid = 77;
	gid_t		 gid = 77;
	int		 s, p[2];

	memset(&mh, 0, sizeof(mh));
	CU_ASSERT(os_creds_parse(&mh, &pid, &uid, &gid) == 0);
	CU_ASSERT(pid == 77 && uid == 77 && gid == 77);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	CU_ASSERT_FATAL(s >= 0);
	errno = 0;
	if (linux_backend()) {
		CU_ASSERT(os_creds_cmsg_space() > 0);
		CU_ASSERT(os_creds_enable(s) == 0);
		if (pipe(p) == 0) {
			CU_ASSERT(os_creds_enable(p[0]) == -1);
			close(p[0]);
			close(p[1]);
		}
	} else {
		CU_ASSERT(os_creds_cmsg_space() == 0);
		CU_ASSERT(os_creds_enable(s) == -1 && errno == ENOSYS);
	}
	close(s);
}

static const struct tu_test os_tests[] = {
	{ "backend", test_backend },
	{ "proc_handle", test_proc_handle },
	{ "proc_gone", test_proc_gone },
	{ "semop_timeout", test_semop_timeout },
	{ "semop_woken_timed", test_semop_woken_timed },
	{ "semop_woken_forever", test_semop_woken_forever },
	{ "random", test_random },
	{ "now_ns", test_now_ns },
	{ "creds_hooks", test_creds_hooks },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "os", os_tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
