/*
 * test_sem.c: the writer semaphore (sem.h) against real kernel sets and
 * real processes: undo on SIGKILL, no drift, timeouts, EINTR, removal.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os.h"
#include "sem.h"
#include "testutil.h"

/* Asserts, and on failure jumps to the test's cleanup (no longjmp). */
#define REQUIRE(c) do {							\
	int req_ok_ = (c) ? 1 : 0;					\
	CU_assertImplementation(req_ok_ ? CU_TRUE : CU_FALSE, __LINE__,	\
	    #c, __FILE__, "", CU_FALSE);				\
	if (!req_ok_)							\
		goto out;						\
} while (0)

union test_semarg {
	int			 val;
	struct semid_ds		*buf;
	unsigned short		*array;
};

/*
 * A fresh set at a free key derived from a file in tu_dir.  Stepping
 * over taken keys keeps the test independent of what else is on the
 * host.
 */
static int
sem_new(key_t *keyp)
{
	const char	*path = tu_path("semkey");
	key_t		 key;
	int		 fd, proj, semid;

	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) == -1)
		return -1;
	close(fd);
	for (proj = 1; proj < 256; proj++) {
		if ((key = ftok(path, proj)) == (key_t)-1)
			return -1;
		if ((semid = semlock_create(key, 0600)) != -1) {
			*keyp = key;
			return semid;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/* Removes the set and checks that it is really gone. */
static int
sem_gone(int semid, key_t key)
{
	if (semid != -1)
		(void)semlock_remove(semid);
	return semlock_get(key) == -1 && errno == ENOENT;
}

static void
test_create_get_remove(void)
{
	struct semid_ds		 st;
	union test_semarg	 arg;
	key_t			 key = 0;
	int			 semid;

	semid = sem_new(&key);
	REQUIRE(semid != -1);
	CU_ASSERT(semlock_create(key, 0600) == -1 && errno == EEXIST);
	CU_ASSERT_EQUAL(semlock_get(key), semid);
	CU_ASSERT_EQUAL(semlock_value(semid), 0);
	arg.buf = &st;
	REQUIRE(semctl(semid, 0, IPC_STAT, arg) == 0);
	CU_ASSERT_EQUAL(st.sem_nsems, 1);
	CU_ASSERT_EQUAL(st.sem_perm.mode & 0777, 0600);
	CU_ASSERT_EQUAL(semlock_remove(semid), 0);
	semid = -1;
	CU_ASSERT(semlock_get(key) == -1 && errno == ENOENT);
	CU_ASSERT(semlock_value(semid) == -1);
out:
	CU_ASSERT(sem_gone(semid, key));
}

static void
test_acquire_release(void)
{
	key_t	 key = 0;
	int	 semid;

	semid = sem_new(&key);
	REQUIRE(semid != -1);
	CU_ASSERT_EQUAL(semlock_acquire(semid, -1), 0);
	CU_ASSERT_EQUAL(semlock_value(semid), 1);
	CU_ASSERT_EQUAL(semlock_release(semid), 0);
	CU_ASSERT_EQUAL(semlock_value(semid), 0);
	/* A zero timeout on a free lock still takes it. */
	CU_ASSERT_EQUAL(semlock_acquire(semid, 0), 0);
	CU_ASSERT_EQUAL(semlock_value(semid), 1);
	/* Not recursive: the holder itself times out. */
	CU_ASSERT(semlock_acquire(semid, 10) == -1 && errno == EAGAIN);
	CU_ASSERT_EQUAL(semlock_release(semid), 0);
	/* Releasing a free lock fails instead of blocking. */
	CU_ASSERT(semlock_release(semid) == -1 && errno == EAGAIN);
	CU_ASSERT_EQUAL(semlock_value(semid), 0);
	CU_ASSERT(semlock_acquire(-1, 0) == -1);
	CU_ASSERT(semlock_release(-1) == -1);
out:
	CU_ASSERT(sem_gone(semid, key));
}

/* A child takes the lock, reports, and waits to be killed. */
static pid_t
holder_start(int semid, int *ok)
{
	int	 p[2];
	pid_t	 pid;

	*ok = 0;
	if (pipe(p) == -1)
		return -1;
	if ((pid = tu_fork()) == 0) {
		close(p[0]);
		if (semlock_acquire(semid, 2000) == -1)
			_exit(1);
		tu_say(p[1], 'h');
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid != -1)
		*ok = tu_wait_byte(p[0], 5000) == 'h';
	close(p[0]);
	return pid;
}

static void
test_killed_holder(void)
{
	key_t	 key = 0;
	pid_t	 pid = -1;
	int	 semid, ok, status;

	semid = sem_new(&key);
	REQUIRE(semid != -1);
	pid = holder_start(semid, &ok);
	REQUIRE(pid != -1 && ok);
	CU_ASSERT_EQUAL(semlock_value(semid), 1);
	CU_ASSERT(semlock_acquire(semid, 50) == -1 && errno == EAGAIN);
	status = tu_kill(pid);
	pid = -1;
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The kernel undid the dead holder's +1. */
	CU_ASSERT_EQUAL(semlock_value(semid), 0);
	CU_ASSERT_EQUAL(semlock_acquire(semid, 0), 0);
	CU_ASSERT_EQUAL(semlock_value(semid), 1);
	CU_ASSERT_EQUAL(semlock_release(semid), 0);
	CU_ASSERT_EQUAL(semlock_value(semid), 0);
out:
	if (pid != -1)
		tu_kill(pid);
	CU_ASSERT(sem_gone(semid, key));
}

/* A waiter blocked without a timeout gets the lock when the holder dies. */
static void
test_waiter_after_kill(void)
{
	key_t	 key = 0;
	pid_t	 holder = -1, waiter = -1;
	int	 semid, ok, p[2] = { -1, -1 };

	semid = sem_new(&key);
	REQUIRE(semid != -1);
	holder = holder_start(semid, &ok);
	REQUIRE(holder != -1 && ok);
	REQUIRE(pipe(p) == 0);
	if ((waiter = tu_fork()) == 0) {
		close(p[0]);
		tu_say(p[1], 'w');
		if (semlock_acquire(semid, -1) == -1)
			_exit(1);
		_exit(semlock_value(semid) == 1 ? 0 : 2);
	}
	REQUIRE(waiter != -1);
	close(p[1]);
	p[1] = -1;
	REQUIRE(tu_wait_byte(p[0], 5000) == 'w');
	/* Whether or not it is blocked yet, it can only get in now. */
	tu_kill(holder);
	holder = -1;
	CU_ASSERT_EQUAL(tu_exit_code(waiter, 5000), 0);
	waiter = -1;
	/* And its own exit released it again. */
	CU_ASSERT_EQUAL(semlock_value(semid), 0);
out:
	if (holder != -1)
		tu_kill(holder);
	if (waiter != -1)
		tu_kill(waiter);
	tu_close_pipe(p);
	CU_ASSERT(sem_gone(semid, key));
}

/* 1000 acquire/release pairs, checking the value while holding. */
static int
pairs(int semid, int n)
{
	for (int i = 0; i < n; i++) {
		if (semlock_acquire(semid, 5000) == -1)
			return 1;
		if (semlock_value(semid) != 1)
			return 2;
		if (semlock_release(semid) == -1)
			return 3;
	}
	return 0;
}

static void
test_no_drift(void)
{
	key_t	 key = 0;
	pid_t	 c[3] = { -1, -1, -1 };
	int	 semid, i, p[2] = { -1, -1 }, q[2] = { -1, -1 };

	semid = sem_new(&key);
	REQUIRE(semid != -1);
	if ((c[0] = tu_fork()) == 0)
		_exit(pairs(semid, 1000));
	REQUIRE(c[0] != -1);
	CU_ASSERT_EQUAL(tu_exit_code(c[0], 10000), 0);
	c[0] = -1;
	CU_ASSERT_EQUAL(semlock_value(semid), 0);

	/* Two at once: each sees exactly one holder, itself. */
	for (i = 0; i < 2; i++) {
		if ((c[i] = tu_fork()) == 0)
			_exit(pairs(semid, 1000));
		REQUIRE(c[i] != -1);
	}
	for (i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(tu_exit_code(c[i], 10000), 0);
		c[i] = -1;
	}
	CU_ASSERT_EQUAL(semlock_value(semid), 0);

	/* Exiting while holding after many pairs: the undo is exactly -1. */
	if ((c[2] = tu_fork()) == 0) {
		if (pairs(semid, 1000) != 0 || semlock_acquire(semid, 0) == -1)
			_exit(1);
		_exit(0);
	}
	REQUIRE(c[2] != -1);
	CU_ASSERT_EQUAL(tu_exit_code(c[2], 10000), 0);
	c[2] = -1;
	CU_ASSERT_EQUAL(semlock_value(semid), 0);
	CU_ASSERT_EQUAL(pairs(semid, 10), 0);
	CU_ASSERT_EQUAL(semlock_value(semid), 0);

	/*
	 * A balanced process exiting while someone else holds the lock
	 * must not take that holder's +1 away (its undo must be zero).
	 */
	REQUIRE(pipe(p) == 0 && pipe(q) == 0);
	if ((c[0] = tu_fork()) == 0) {
		close(p[0]);
		close(q[1]);
		if (pairs(semid, 1000) != 0)
			_exit(1);
		tu_say(p[1], 'd');
		_exit(tu_wait_byte(q[0], 5000) == 'g' ? 0 : 2);
	}
	REQUIRE(c[0] != -1);
	REQUIRE(tu_wait_byte(p[0], 5000) == 'd');
	REQUIRE(semlock_acquire(semid, 1000) == 0);
	tu_say(q[1], 'g');
	CU_ASSERT_EQUAL(tu_exit_code(c[0], 5000), 0);
	c[0] = -1;
	CU_ASSERT_EQUAL(semlock_value(semid), 1);
	CU_ASSERT_EQUAL(semlock_release(semid), 0);
	CU_ASSERT_EQUAL(semlock_value(semid), 0);
out:
	for (i = 0; i < 2; i++) {
		if (p[i] != -1)
			close(p[i]);
		if (q[i] != -1)
			close(q[i]);
	}
	for (i = 0; i < 3; i++)
		if (c[i] != -1)
			tu_kill(c[i]);
	CU_ASSERT(sem_gone(semid, key));
}

static void
test_timeout(void)
{
	key_t	 key = 0;
	pid_t	 pid = -1;
	int	 semid, ok;

	semid = sem_new(&key);
	REQUIRE(semid != -1);
	pid = holder_start(semid, &ok);
	REQUIRE(pid != -1 && ok);
	CU_ASSERT(semlock_acquire(semid, 0) == -1 && errno == EAGAIN);
	CU_ASSERT(semlock_acquire(semid, 100) == -1 && errno == EAGAIN);
	/* A failed attempt leaves no trace: still exactly one holder. */
	CU_ASSERT_EQUAL(semlock_value(semid), 1);
	tu_kill(pid);
	pid = -1;
	CU_ASSERT_EQUAL(semlock_value(semid), 0);
out:
	if (pid != -1)
		tu_kill(pid);
	CU_ASSERT(sem_gone(semid, key));
}

/* In the child: its pipe to the test, where the handler says 'u'. */
static int	usr1_fd = -1;

static void
on_usr1(int sig)
{
	int saved = errno;

	(void)sig;
	if (usr1_fd != -1)
		tu_say(usr1_fd, 'u');
	errno = saved;
}

/* Someone waits in the kernel for the lock (for its value to be 0). */
static int
waiter_blocked(void *arg)
{
	return semctl(*(int *)arg, 0, GETZCNT) > 0;
}

/* Signals without SA_RESTART interrupt the wait; acquire must go on. */
static void
test_eintr_retried(void)
{
	struct sigaction	 sa;
	key_t			 key = 0;
	pid_t			 pid = -1;
	int			 semid, p[2] = { -1, -1 }, timed, blocks;

	semid = sem_new(&key);
	REQUIRE(semid != -1);
	for (timed = 0; timed < 2; timed++) {
		/* A timed wait without semtimedop() (the POSIX backend)
		 * polls and naps: nothing waits in the kernel to see. */
		blocks = !timed || strcmp(os_backend(), "linux") == 0;
		REQUIRE(semlock_acquire(semid, 0) == 0);
		REQUIRE(pipe(p) == 0);
		if ((pid = tu_fork()) == 0) {
			usr1_fd = p[1];
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = on_usr1;
			sigemptyset(&sa.sa_mask);
			sa.sa_flags = 0;
			sigaction(SIGUSR1, &sa, NULL);
			close(p[0]);
			tu_say(p[1], 'w');
			if (semlock_acquire(semid, timed ? 5000 : -1) == -1)
				_exit(errno == EINTR ? 2 : 1);
			_exit(0);
		}
		REQUIRE(pid != -1);
		close(p[1]);
		p[1] = -1;
		REQUIRE(tu_wait_byte(p[0], 5000) == 'w');
		/*
		 * The signal must come while the child waits in semop(),
		 * or there is no EINTR to ride out: only once the kernel
		 * counts it waiting.  Its handler has run once it says so
		 * (the wait was interrupted), and then it must wait again.
		 */
		if (blocks)
			REQUIRE(tu_wait_until(waiter_blocked, &semid, 10000));
		else
			tu_sleep_ms(20);
		CU_ASSERT(kill(pid, SIGUSR1) == 0);
		REQUIRE(tu_wait_byte(p[0], 5000) == 'u');
		if (blocks)
			REQUIRE(tu_wait_until(waiter_blocked, &semid, 10000));
		close(p[0]);
		p[0] = -1;
		CU_ASSERT_EQUAL(semlock_release(semid), 0);
		CU_ASSERT_EQUAL(tu_exit_code(pid, 5000), 0);
		pid = -1;
		CU_ASSERT_EQUAL(semlock_value(semid), 0);
	}
out:
	if (pid != -1)
		tu_kill(pid);
	tu_close_pipe(p);
	CU_ASSERT(sem_gone(semid, key));
}

/* Removing the set wakes a blocked acquirer with an error. */
static void
test_remove_wakes_waiter(void)
{
	key_t	 key = 0;
	pid_t	 pid = -1;
	int	 semid, p[2] = { -1, -1 }, status;

	semid = sem_new(&key);
	REQUIRE(semid != -1);
	REQUIRE(semlock_acquire(semid, 0) == 0);
	REQUIRE(pipe(p) == 0);
	if ((pid = tu_fork()) == 0) {
		close(p[0]);
		tu_say(p[1], 'w');
		if (semlock_acquire(semid, -1) == 0)
			_exit(1);
		_exit(errno == EIDRM || errno == EINVAL ? 0 : 2);
	}
	REQUIRE(pid != -1);
	close(p[1]);
	p[1] = -1;
	REQUIRE(tu_wait_byte(p[0], 5000) == 'w');
	/* Blocked, not about to block: else the removal would only make
	 * its first semop() fail. */
	REQUIRE(tu_wait_until(waiter_blocked, &semid, 10000));
	CU_ASSERT_EQUAL(semlock_remove(semid), 0);
	semid = -1;
	status = tu_exit_code(pid, 5000);
	pid = -1;
	CU_ASSERT_EQUAL(status, 0);
out:
	if (pid != -1)
		tu_kill(pid);
	tu_close_pipe(p);
	CU_ASSERT(sem_gone(semid, key));
}

static const struct tu_test sem_tests[] = {
	{ "create_get_remove", test_create_get_remove },
	{ "acquire_release", test_acquire_release },
	{ "killed_holder", test_killed_holder },
	{ "waiter_after_kill", test_waiter_after_kill },
	{ "no_drift", test_no_drift },
	{ "timeout", test_timeout },
	{ "eintr_retried", test_eintr_retried },
	{ "remove_wakes_waiter", test_remove_wakes_waiter },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "sem", sem_tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
