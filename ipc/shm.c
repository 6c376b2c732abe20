/*
 * shm.c: the per-MAC System V segment holding one IPv4 address, its
 * writer semaphore, the key files they are found by, and the sweep that
 * removes what a dead rtm left.  docs/segments.md is the full contract
 * (layout, probe, seqlock, crash repair); shm.h the interface.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sem.h"
#include "shm.h"

#ifndef O_NOFOLLOW
#define O_NOFOLLOW	0
#endif

/* How long seg_write_ip waits for another writer before EAGAIN. */
#define SEG_LOCK_MS	1000

/* The layout is a contract with other processes: pin it. */
_Static_assert(sizeof(struct seg_header) == SEG_SIZE, "seg_header size");
_Static_assert(offsetof(struct seg_header, version) == 4, "version offset");
_Static_assert(offsetof(struct seg_header, size) == 6, "size offset");
_Static_assert(offsetof(struct seg_header, mac) == 8, "mac offset");
_Static_assert(offsetof(struct seg_header, proj) == 14, "proj offset");
_Static_assert(offsetof(struct seg_header, flags) == 15, "flags offset");
_Static_assert(offsetof(struct seg_header, gen) == 16, "gen offset");
_Static_assert(offsetof(struct seg_header, ip) == 20, "ip offset");
_Static_assert(offsetof(struct seg_header, instance) == 24, "instance offset");
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic u32 size");
/* An atomic that needs a lock would be locked per process, not shared. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "lock-free 32-bit atomics needed");
_Static_assert(SEG_PROBE_MAX >= 1 && SEG_PROBE_MAX <= 255, "proj range");

union seg_semarg {
	int			 val;
	struct semid_ds		*buf;
	unsigned short		*array;
};

static void
mac_hex(const struct addr_mac *mac, char out[2 * ADDR_MAC_LEN + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	int			 i;

	for (i = 0; i < ADDR_MAC_LEN; i++) {
		out[2 * i] = hex[mac->b[i] >> 4];
		out[2 * i + 1] = hex[mac->b[i] & 0xf];
	}
	out[2 * ADDR_MAC_LEN] = '\0';
}

/* A key file name: exactly 12 lowercase hex digits. */
static int
mac_from_name(const char *name, struct addr_mac *mac)
{
	int	 i, hi, lo;

	for (i = 0; i < 2 * ADDR_MAC_LEN; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return -1;
	if (name[i] != '\0')
		return -1;
	for (i = 0; i < ADDR_MAC_LEN; i++) {
		hi = name[2 * i] <= '9' ? name[2 * i] - '0' :
		    name[2 * i] - 'a' + 10;
		lo = name[2 * i + 1] <= '9' ? name[2 * i + 1] - '0' :
		    name[2 * i + 1] - 'a' + 10;
		mac->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
seg_keypath(char *buf, size_t size, const char *dir,
    const struct addr_mac *mac)
{
	char	 name[2 * ADDR_MAC_LEN + 1];
	int	 n;

	mac_hex(mac, name);
	n = snprintf(buf, size, "%s/%s/%s", dir, SEG_KEYDIR, name);
	if (n < 0)
		return -1;
	if ((size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
seg_keydir_create(const char *dir)
{
	char		 path[PATH_MAX];
	struct stat	 st;
	int		 n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, SEG_KEYDIR);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(path, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	/* Key files decide which segment a MAC gets: nobody else may
	 * put or swap one there. */
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/*
 * Checks (and with create, makes) the key file.  Only a regular file
 * will do: ftok() follows symlinks, and a planted link would point our
 * keys at whatever its target's inode yields.  O_NONBLOCK so that a FIFO
 * put there makes open return instead of hanging.  With create,
 * *created says whether this call made it.
 */
static int
keyfile_check(const char *path, int create, int *created)
{
	struct stat	 st;
	int		 fd, save, flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
			    O_CLOEXEC;

	if (created != NULL)
		*created = 0;
	/* Exclusive first, to know whether a failure must take it back. */
	if (create && (fd = open(path, flags | O_CREAT | O_EXCL, 0644)) != -1)
		*created = 1;
	else if (create && errno != EEXIST)
		return -1;
	else if ((fd = open(path, flags)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		save = errno;
		close(fd);
		errno = save;
		return -1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int
hdr_check(const struct seg_header *h, const struct addr_mac *mac)
{
	if (h->magic != SEG_MAGIC)
		return -1;
	/* Pairs with the release fence before the creator's magic store. */
	atomic_thread_fence(memory_order_acquire);
	if (h->version != SEG_VERSION || h->size != SEG_SIZE ||
	    memcmp(h->mac, mac->b, ADDR_MAC_LEN) != 0)
		return -1;
	return 0;
}

/*
 * The seqlock write.  A generation that is already odd means a writer
 * died between its two generation stores: keep it odd, and the closing
 * store still moves it to a new even value no reader can have seen.
 */
static void
seg_store_ip(struct seg_header *h, uint32_t nip)
{
	uint32_t	 odd;

	odd = atomic_load_explicit(&h->gen, memory_order_relaxed) | 1u;
	atomic_store_explicit(&h->gen, odd, memory_order_relaxed);
	/* The odd generation must be visible before any part of the ip. */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&h->ip, nip, memory_order_relaxed);
	/* After 2^31 writes, wrap past the value that means retired. */
	atomic_store_explicit(&h->gen, odd + 1u == SEG_GEN_RETIRED ? 0 :
	    odd + 1u, memory_order_release);
}

void
seg_retire(struct seg *s)
{
	if (s->hdr != NULL)
		atomic_store_explicit(&s->hdr->gen, SEG_GEN_RETIRED,
		    memory_order_release);
}

/* The segment and its set at the first free key of key file path. */
static int
seg_make(const char *path, const struct addr_mac *mac, uint32_t ip,
    mode_t mode, uint64_t instance, struct seg *out)
{
	struct seg_header	*h;
	key_t			 key;
	int			 proj, semid, shmid, save;

	for (proj = 1; proj <= SEG_PROBE_MAX; proj++) {
		if ((key = ftok(path, proj)) == (key_t)-1)
			return -1;
		if (key == IPC_PRIVATE)
			continue;
		/*
		 * Semaphore first: if we die before the segment exists, the
		 * orphan is a never-used one-semaphore set, which seg_sweep
		 * recognises (docs/segments.md, "Crashes").
		 */
		if ((semid = semlock_create(key, mode & 0600)) == -1) {
			if (errno == EEXIST)
				continue;
			return -1;
		}
		shmid = shmget(key, SEG_SIZE,
		    IPC_CREAT | IPC_EXCL | (int)(mode & 0777));
		if (shmid == -1) {
			save = errno;
			(void)semlock_remove(semid);
			if (save == EEXIST)
				continue;
			errno = save;
			return -1;
		}
		if ((h = shmat(shmid, NULL, 0)) == (void *)-1) {
			save = errno;
			(void)shmctl(shmid, IPC_RMID, NULL);
			(void)semlock_remove(semid);
			errno = save;
			return -1;
		}
		h->version = SEG_VERSION;
		h->size = SEG_SIZE;
		memcpy(h->mac, mac->b, ADDR_MAC_LEN);
		h->proj = (uint8_t)proj;
		h->flags = 0;
		h->instance = instance;
		seg_store_ip(h, htonl(ip));
		/* Magic last: a header with magic set is complete. */
		atomic_thread_fence(memory_order_release);
		h->magic = SEG_MAGIC;

		out->key = key;
		out->shmid = shmid;
		out->semid = semid;
		out->proj = proj;
		out->hdr = h;
		return 0;
	}
	errno = EEXIST;
	return -1;
}

int
seg_create(const char *dir, const struct addr_mac *mac, uint32_t ip,
    mode_t mode, uint64_t instance, struct seg *out)
{
	char	 path[PATH_MAX];
	int	 made, save;

	if (seg_keypath(path, sizeof(path), dir, mac) == -1 ||
	    seg_keydir_create(dir) == -1 || keyfile_check(path, 1, &made) == -1)
		return -1;
	if (seg_make(path, mac, ip, mode, instance, out) == 0)
		return 0;
	/* Nothing partial stays: a key file made for nothing goes. */
	save = errno;
	if (made)
		(void)unlink(path);
	errno = save;
	return -1;
}

/*
 * Objects made and owned by this user.  Anyone may create a segment or
 * a set at a key (keys are public), so a valid header proves nothing:
 * adopting or removing someone else's object would hand them what our
 * readers read, or destroy theirs.
 */
static int
shm_is_ours(const struct shmid_ds *st)
{
	return st->shm_perm.cuid == geteuid() && st->shm_perm.uid == geteuid();
}

static int
sem_is_ours(int semid)
{
	struct semid_ds		 st;
	union seg_semarg	 arg;

	arg.buf = &st;
	return semctl(semid, 0, IPC_STAT, arg) == 0 &&
	    st.sem_perm.cuid == geteuid() && st.sem_perm.uid == geteuid();
}

int
seg_adopt(const char *dir, const struct addr_mac *mac, struct seg *out)
{
	char			 path[PATH_MAX];
	struct shmid_ds		 st;
	struct seg_header	*h;
	key_t			 key;
	int			 proj, shmid, semid, save;

	if (seg_keypath(path, sizeof(path), dir, mac) == -1 ||
	    keyfile_check(path, 0, NULL) == -1)
		return -1;
	for (proj = 1; proj <= SEG_PROBE_MAX; proj++) {
		if ((key = ftok(path, proj)) == (key_t)-1)
			return -1;
		if (key == IPC_PRIVATE)
			continue;
		/* Anything unreadable or not ours just is not it: go on. */
		if ((shmid = shmget(key, 0, 0)) == -1)
			continue;
		if (shmctl(shmid, IPC_STAT, &st) == -1 ||
		    st.shm_segsz < SEG_SIZE || !shm_is_ours(&st))
			continue;
		if ((h = shmat(shmid, NULL, 0)) == (void *)-1)
			continue;
		if (hdr_check(h, mac) == -1) {
			(void)shmdt(h);
			continue;
		}
		/*
		 * A valid segment without its semaphore is what a writer
		 * killed inside seg_destroy leaves: give it a new one.
		 */
		if ((semid = semlock_get(key)) == -1 && errno == ENOENT)
			semid = semlock_create(key, st.shm_perm.mode & 0600);
		else if (semid != -1 && !sem_is_ours(semid)) {
			semid = -1;	/* our segment, someone's lock */
			errno = EPERM;
		}
		if (semid == -1) {
			save = errno;
			(void)shmdt(h);
			errno = save;
			return -1;
		}
		/* An odd generation is left for the next write to repair. */
		out->key = key;
		out->shmid = shmid;
		out->semid = semid;
		out->proj = proj;
		out->hdr = h;
		return 0;
	}
	errno = ENOENT;
	return -1;
}

int
seg_write_ip(struct seg *s, uint32_t ip)
{
	if (semlock_acquire(s->semid, SEG_LOCK_MS) == -1)
		return -1;
	seg_store_ip(s->hdr, htonl(ip));
	return semlock_release(s->semid);
}

int
seg_destroy(const char *dir, struct seg *s)
{
	char		 path[PATH_MAX];
	struct addr_mac	 mac;
	int		 err = 0;

	if (s->hdr == NULL) {
		errno = EINVAL;
		return -1;
	}
	memcpy(mac.b, s->hdr->mac, ADDR_MAC_LEN);
	if (shmdt(s->hdr) == -1)
		err = errno;
	/*
	 * Semaphore before segment: dying in between leaves a segment with
	 * a valid header, which seg_sweep and seg_adopt recognise, whereas
	 * a used semaphore alone could not be told from someone else's.
	 */
	if (semlock_remove(s->semid) == -1 && err == 0)
		err = errno;
	if (shmctl(s->shmid, IPC_RMID, NULL) == -1 && err == 0)
		err = errno;
	if (seg_keypath(path, sizeof(path), dir, &mac) == -1) {
		if (err == 0)
			err = errno;
	} else if (unlink(path) == -1 && errno != ENOENT && err == 0)
		err = errno;
	s->hdr = NULL;
	s->shmid = -1;
	s->semid = -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

const struct seg_header *
seg_attach(int shmid, const struct addr_mac *mac)
{
	struct shmid_ds		 st;
	const struct seg_header	*h;

	/* Check the size first: reading a short segment would fault. */
	if (shmctl(shmid, IPC_STAT, &st) == -1)
		return NULL;
	if (st.shm_segsz < SEG_SIZE) {
		errno = EBADMSG;
		return NULL;
	}
	if ((h = shmat(shmid, NULL, SHM_RDONLY)) == (void *)-1)
		return NULL;
	if (hdr_check(h, mac) == -1) {
		(void)shmdt(h);
		errno = EBADMSG;
		return NULL;
	}
	return h;
}

int
seg_detach(const struct seg_header *h)
{
	return shmdt(h);
}

int
seg_read_ip(const struct seg_header *h, uint32_t *ip)
{
	/* The segment is mapped read-only; atomic loads never write. */
	struct seg_header	*rh = (struct seg_header *)(uintptr_t)h;
	uint32_t		 g1, g2, v;
	int			 i;

	for (i = 0; i < SEG_READ_TRIES; i++) {
		g1 = atomic_load_explicit(&rh->gen, memory_order_acquire);
		if (g1 & 1u)
			continue;
		v = atomic_load_explicit(&rh->ip, memory_order_relaxed);
		/* Keeps the ip load before the second generation load. */
		atomic_thread_fence(memory_order_acquire);
		g2 = atomic_load_explicit(&rh->gen, memory_order_relaxed);
		if (g1 == g2) {
			if (g1 == SEG_GEN_RETIRED) {
				errno = EIDRM;
				return -1;
			}
			*ip = ntohl(v);
			return 0;
		}
	}
	errno = EAGAIN;
	return -1;
}

int
seg_nattch(int shmid)
{
	struct shmid_ds st;

	if (shmctl(shmid, IPC_STAT, &st) == -1)
		return -1;
	return (int)st.shm_nattch;
}

/*
 * A semaphore set the creator left when it died between creating it
 * and creating the segment: one semaphore, created by us, never
 * operated on (an rtm that got as far as writing would have set otime).
 */
static int
sem_is_orphan(int semid)
{
	struct semid_ds		 st;
	union seg_semarg	 arg;

	arg.buf = &st;
	if (semctl(semid, 0, IPC_STAT, arg) == -1)
		return 0;
	return st.sem_nsems == 1 && st.sem_perm.cuid == geteuid() &&
	    st.sem_otime == 0;
}

/*
 * A segment whose creator died between shmget() and the magic store:
 * magic still 0, our size, created by us, nobody attached, and the
 * creating process gone (a live one may still be writing the header).
 */
static int
seg_is_unwritten(const struct seg_header *h, const struct shmid_ds *st)
{
	if (h->magic != 0 || st->shm_segsz != SEG_SIZE ||
	    st->shm_perm.cuid != geteuid() || st->shm_nattch != 0)
		return 0;
	return kill(st->shm_cpid, 0) == -1 && errno == ESRCH;
}

/*
 * Sweeps one key.  Returns 1 when it removed a segment of ours, 0 when
 * there was nothing of ours, -1 when removing ours failed.
 */
static int
sweep_key(key_t key, const struct addr_mac *mac)
{
	struct shmid_ds		 st;
	const struct seg_header	*h;
	int			 shmid, semid, ours = 0, remnant = 0;

	if ((shmid = shmget(key, 0, 0)) == -1) {
		if (errno != ENOENT)
			return 0;
		if ((semid = semlock_get(key)) == -1 || !sem_is_orphan(semid))
			return 0;
		return semlock_remove(semid) == -1 && errno != EINVAL &&
		    errno != EIDRM ? -1 : 0;
	}
	if (shmctl(shmid, IPC_STAT, &st) == -1 || st.shm_segsz < SEG_SIZE ||
	    !shm_is_ours(&st))
		return 0;
	if ((h = shmat(shmid, NULL, SHM_RDONLY)) == (void *)-1)
		return 0;
	if (hdr_check(h, mac) == 0)
		ours = 1;
	else if (seg_is_unwritten(h, &st))
		ours = remnant = 1;
	(void)shmdt(h);
	if (!ours)
		return 0;
	if (shmctl(shmid, IPC_RMID, NULL) == -1 && errno != EINVAL &&
	    errno != EIDRM)
		return -1;
	/*
	 * The set at the same key was created with the segment; for a
	 * remnant, whose ownership is only inferred, ask for the orphan
	 * signature too.
	 */
	if ((semid = semlock_get(key)) != -1 && sem_is_ours(semid) &&
	    (!remnant || sem_is_orphan(semid)) &&
	    semlock_remove(semid) == -1 && errno != EINVAL && errno != EIDRM)
		return -1;
	return 1;
}

int
seg_sweep(const char *dir, unsigned *removed)
{
	char		 kdir[PATH_MAX], path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	struct addr_mac	 mac;
	key_t		 key;
	unsigned	 count = 0;
	int		 n, proj, r, keep, err = 0;

	if (removed != NULL)
		*removed = 0;
	n = snprintf(kdir, sizeof(kdir), "%s/%s", dir, SEG_KEYDIR);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(kdir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((d = opendir(kdir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (mac_from_name(de->d_name, &mac) == -1)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", kdir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		/* Not a regular file: not a key file of ours, leave it. */
		if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		keep = 0;
		for (proj = 1; proj <= SEG_PROBE_MAX; proj++) {
			if ((key = ftok(path, proj)) == (key_t)-1) {
				keep = 1;
				break;
			}
			if (key == IPC_PRIVATE)
				continue;
			if ((r = sweep_key(key, &mac)) == -1) {
				if (err == 0)
					err = errno;
				keep = 1;
			} else
				count += (unsigned)r;
		}
		/* Without the key file, what we failed to remove is lost. */
		if (!keep && unlink(path) == -1 && errno != ENOENT && err == 0)
			err = errno;
	}
	closedir(d);
	if (removed != NULL)
		*removed = count;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
