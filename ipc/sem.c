/*
 * sem.c: the one-semaphore System V set that serialises the writers of
 * a segment.  See sem.h for the protocol and docs/segments.md for why it
 * looks like this.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>

#include <errno.h>

#include "os.h"
#include "sem.h"

/*
 * The caller must define union semun (XSI); some systems declare it in
 * <sys/sem.h> and some do not, so use a tag of our own that can never
 * clash with either.
 */
union semlock_arg {
	int			 val;
	struct semid_ds		*buf;
	unsigned short		*array;
};

/* struct sembuf's member order is unspecified: fill it by name. */
static void
semlock_op(struct sembuf *op, short val, short flg)
{
	op->sem_num = 0;
	op->sem_op = val;
	op->sem_flg = flg;
}

int
semlock_create(key_t key, mode_t mode)
{
	/*
	 * No SETVAL: a new set reads 0 (free) on every system we know of,
	 * and a SETVAL after creation would race with a first acquirer and
	 * wipe its undo entry.
	 */
	return semget(key, 1, IPC_CREAT | IPC_EXCL | (int)(mode & 0777));
}

int
semlock_get(key_t key)
{
	return semget(key, 0, 0);
}

int
semlock_acquire(int semid, int timeout_ms)
{
	struct sembuf		 ops[2];
	unsigned long long	 deadline = 0, now;
	int			 left = timeout_ms;

	if (timeout_ms > 0)
		deadline = os_now_ns() + (unsigned long long)timeout_ms *
		    1000000ULL;
	for (;;) {
		/* Wait for zero and take it in one step: no window between. */
		semlock_op(&ops[0], 0, SEM_UNDO);
		semlock_op(&ops[1], 1, SEM_UNDO);
		if (os_semop_timed(semid, ops, 2, left) == 0)
			return 0;
		if (errno != EINTR)
			return -1;
		if (timeout_ms > 0) {
			now = os_now_ns();
			if (now >= deadline)
				left = 0;	/* one last non-blocking try */
			else
				left = (int)((deadline - now + 999999ULL) /
				    1000000ULL);
		}
	}
}

int
semlock_release(int semid)
{
	struct sembuf op;

	/*
	 * IPC_NOWAIT: releasing a free lock is a caller bug, and must fail
	 * (EAGAIN) rather than block until someone else takes the lock.
	 */
	semlock_op(&op, -1, SEM_UNDO | IPC_NOWAIT);
	for (;;) {
		if (semop(semid, &op, 1) == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int
semlock_value(int semid)
{
	return semctl(semid, 0, GETVAL);
}

int
semlock_remove(int semid)
{
	union semlock_arg arg;

	arg.buf = NULL;
	return semctl(semid, 0, IPC_RMID, arg);
}
