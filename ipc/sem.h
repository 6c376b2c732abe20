/*
 * sem.h: one System V semaphore serialising the writers of one segment.
 *
 * Value 0 means free.  Acquire is the single atomic operation
 * {wait for 0, add 1} and release is {add -1}, both with SEM_UNDO, so a
 * writer killed while holding the lock releases it as the kernel undoes
 * its adjustment, and the undo values of acquire and release cancel
 * exactly (the count can never drift above one writer).  Because free is
 * the initial value of a new set, no SETVAL race exists at creation.
 * Readers never touch the semaphore: see shm.h.
 */
#ifndef RTM_SEM_H
#define RTM_SEM_H

#include <sys/types.h>
#include <sys/ipc.h>

/* IPC_CREAT|IPC_EXCL; returns semid or -1 (EEXIST when the key is taken). */
int	semlock_create(key_t key, mode_t mode);
/* An existing set; ENOENT when none. */
int	semlock_get(key_t key);
/* timeout_ms < 0 waits forever; EAGAIN on timeout; EINTR is retried. */
int	semlock_acquire(int semid, int timeout_ms);
int	semlock_release(int semid);
/* Current value (0 free, 1 held) or -1. */
int	semlock_value(int semid);
int	semlock_remove(int semid);

#endif
