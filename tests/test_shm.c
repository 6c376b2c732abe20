/*
 * test_shm.c: per-MAC segments (shm.h) against real kernel objects and
 * real processes: round trip, forced ftok collisions, probe exhaustion,
 * killed writers, torn reads, stopped readers and the sweep.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sem.h"
#include "shm.h"
#include "testutil.h"

/* Asserts, and on failure jumps to the test's cleanup (no longjmp). */
#define REQUIRE(c) do {							\
	int req_ok_ = (c) ? 1 : 0;					\
	CU_assertImplementation(req_ok_ ? CU_TRUE : CU_FALSE, __LINE__,	\
	    #c, __FILE__, "", CU_FALSE);				\
	if (!req_ok_)							\
		goto out;						\
} while (0)

#define NFOREIGN	(2 * SEG_PROBE_MAX + 8)

union test_semarg {
	int			 val;
	struct semid_ds		*buf;
	unsigned short		*array;
};

static const struct addr_mac mac_a = { { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x0a } };
static const struct addr_mac mac_b = { { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x0b } };
static const struct addr_mac mac_c = { { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x0c } };
static const struct addr_mac mac_d = { { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x0d } };
static const struct addr_mac mac_e = { { 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54 } };

/* Objects a test made by hand, removed by foreign_cleanup(). */
struct foreign {
	int	 shm[NFOREIGN];
	int	 sem[NFOREIGN];
	int	 nshm, nsem;
};

static void
seg_init(struct seg *s)
{
	memset(s, 0, sizeof(*s));
	s->shmid = -1;
	s->semid = -1;
}

static const char *
keyfile(const struct addr_mac *mac)
{
	static char	 buf[4][PATH_MAX];
	static int	 i;

	i = (i + 1) % 4;
	if (seg_keypath(buf[i], sizeof(buf[i]), tu_dir, mac) == -1)
		return "/nonexistent";
	return buf[i];
}

static key_t
key_of(const struct addr_mac *mac, int proj)
{
	return ftok(keyfile(mac), proj);
}

static int
touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Nothing, neither segment nor set, at key. */
static int
key_free(key_t key)
{
	return shmget(key, 0, 0) == -1 && errno == ENOENT &&
	    semget(key, 0, 0) == -1 && errno == ENOENT;
}

/* Destroys a segment the test still owns; checks its key is free. */
static int
seg_gone(struct seg *s)
{
	key_t key = s->key;

	if (s->hdr != NULL && seg_destroy(tu_dir, s) == -1)
		return 0;
	return key == 0 || key_free(key);
}

/* A hand-made segment of size bytes at key, filled from data. */
static int
foreign_shm(struct foreign *f, key_t key, size_t size, const void *data,
    size_t len)
{
	void	*p;
	int	 id;

	if (f->nshm == NFOREIGN)
		return -1;
	if ((id = shmget(key, size, IPC_CREAT | IPC_EXCL | 0600)) == -1)
		return -1;
	f->shm[f->nshm++] = id;
	if (len > 0) {
		if ((p = shmat(id, NULL, 0)) == (void *)-1)
			return -1;
		memcpy(p, data, len);
		shmdt(p);
	}
	return id;
}

/* A hand-made set; used ones have a non-zero otime. */
static int
foreign_sem(struct foreign *f, key_t key, int nsems, int used)
{
	struct sembuf	 op;
	int		 id;

	if (f->nsem == NFOREIGN)
		return -1;
	if ((id = semget(key, nsems, IPC_CREAT | IPC_EXCL | 0600)) == -1)
		return -1;
	f->sem[f->nsem++] = id;
	if (used) {
		op.sem_num = 0;
		op.sem_op = 1;
		op.sem_flg = 0;
		if (semop(id, &op, 1) == -1)
			return -1;
	}
	return id;
}

static int
foreign_cleanup(struct foreign *f)
{
	int ok = 1;

	for (int i = 0; i < f->nshm; i++)
		if (shmctl(f->shm[i], IPC_RMID, NULL) == -1)
			ok = 0;
	for (int i = 0; i < f->nsem; i++)
		if (semctl(f->sem[i], 0, IPC_RMID) == -1)
			ok = 0;
	f->nshm = f->nsem = 0;
	return ok;
}

static int
shm_alive(int id)
{
	struct shmid_ds st;

	return shmctl(id, IPC_STAT, &st) == 0;
}

static int
sem_alive(int id)
{
	return semctl(id, 0, GETVAL) != -1;
}

static uint32_t
gen_of(const struct seg_header *h)
{
	struct seg_header *rh = (struct seg_header *)(uintptr_t)h;

	return atomic_load_explicit(&rh->gen, memory_order_acquire);
}

static int
bytes_equal(uint32_t v)
{
	return v != 0 && v == 0x01010101u * (v & 0xff);
}

static void
test_keypath(void)
{
	char	 buf[64];

	CU_ASSERT_EQUAL(seg_keypath(buf, sizeof(buf), "/run/x", &mac_e), 0);
	CU_ASSERT_STRING_EQUAL(buf, "/run/x/keys/fedcba987654");
	CU_ASSERT_EQUAL(seg_keypath(buf, sizeof(buf), "d", &mac_a), 0);
	CU_ASSERT_STRING_EQUAL(buf, "d/keys/02005e00000a");
	/* "d/keys/" + 12 digits = 19 bytes and the NUL. */
	CU_ASSERT(seg_keypath(buf, 19, "d", &mac_a) == -1 &&
	    errno == ENAMETOOLONG);
	CU_ASSERT_EQUAL(seg_keypath(buf, 20, "d", &mac_a), 0);
}

static void
test_keydir(void)
{
	struct stat	 st;
	const char	*d2 = tu_path("d2");

	CU_ASSERT_EQUAL(seg_keydir_create(tu_dir), 0);
	REQUIRE(stat(tu_path(SEG_KEYDIR), &st) == 0);
	CU_ASSERT(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0755);
	CU_ASSERT_EQUAL(seg_keydir_create(tu_dir), 0);
	REQUIRE(mkdir(d2, 0755) == 0);
	REQUIRE(touch(tu_path("d2/keys")) == 0);
	CU_ASSERT(seg_keydir_create(d2) == -1 && errno == ENOTDIR);
	CU_ASSERT(seg_keydir_create(tu_path("missing")) == -1 &&
	    errno == ENOENT);
out:
	;
}

static void
test_roundtrip(void)
{
	struct seg		 s, ad;
	const struct seg_header	*r = NULL;
	struct stat		 st;
	uint32_t		 ip = 0;
	key_t			 key;

	seg_init(&s);
	seg_init(&ad);
	REQUIRE(seg_create(tu_dir, &mac_a, 0x0a000001, 0644, 77, &s) == 0);
	key = s.key;
	CU_ASSERT_EQUAL(s.proj, 1);
	CU_ASSERT_EQUAL(s.key, key_of(&mac_a, s.proj));
	CU_ASSERT(s.shmid >= 0 && s.semid >= 0 && s.hdr != NULL);
	REQUIRE(lstat(keyfile(&mac_a), &st) == 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);

	/* The header, field by field. */
	CU_ASSERT_EQUAL(s.hdr->magic, SEG_MAGIC);
	CU_ASSERT_EQUAL(s.hdr->version, SEG_VERSION);
	CU_ASSERT_EQUAL(s.hdr->size, SEG_SIZE);
	CU_ASSERT(memcmp(s.hdr->mac, mac_a.b, 6) == 0);
	CU_ASSERT_EQUAL(s.hdr->proj, s.proj);
	CU_ASSERT_EQUAL(s.hdr->flags, 0);
	CU_ASSERT_EQUAL(s.hdr->instance, 77);
	CU_ASSERT_EQUAL(gen_of(s.hdr), 2);
	/* Network order in the segment: 10 first. */
	CU_ASSERT_EQUAL(((const uint8_t *)s.hdr)[20], 10);
	CU_ASSERT_EQUAL(((const uint8_t *)s.hdr)[23], 1);
	CU_ASSERT_EQUAL(semlock_value(s.semid), 0);

	r = seg_attach(s.shmid, &mac_a);
	REQUIRE(r != NULL);
	CU_ASSERT_EQUAL(seg_nattch(s.shmid), 2);
	CU_ASSERT(seg_read_ip(r, &ip) == 0 && ip == 0x0a000001);
	CU_ASSERT_EQUAL(seg_write_ip(&s, 0xc0a80102), 0);
	CU_ASSERT(seg_read_ip(r, &ip) == 0 && ip == 0xc0a80102);
	CU_ASSERT_EQUAL(gen_of(r), 4);
	CU_ASSERT_EQUAL(semlock_value(s.semid), 0);

	/* A restarted rtm finds the same objects. */
	REQUIRE(seg_adopt(tu_dir, &mac_a, &ad) == 0);
	CU_ASSERT_EQUAL(ad.shmid, s.shmid);
	CU_ASSERT_EQUAL(ad.semid, s.semid);
	CU_ASSERT_EQUAL(ad.key, s.key);
	CU_ASSERT_EQUAL(ad.proj, s.proj);
	CU_ASSERT_EQUAL(seg_write_ip(&ad, 0x01020304), 0);
	CU_ASSERT(seg_read_ip(r, &ip) == 0 && ip == 0x01020304);
	CU_ASSERT_EQUAL(seg_nattch(s.shmid), 3);
	CU_ASSERT_EQUAL(seg_detach(ad.hdr), 0);
	ad.hdr = NULL;
	CU_ASSERT(seg_adopt(tu_dir, &mac_b, &ad) == -1 && errno == ENOENT);

	CU_ASSERT_EQUAL(seg_destroy(tu_dir, &s), 0);
	CU_ASSERT(s.hdr == NULL && s.shmid == -1 && s.semid == -1);
	CU_ASSERT(key_free(key));
	CU_ASSERT(!exists(keyfile(&mac_a)));
	/* The reader's mapping outlives the removal until it detaches. */
	CU_ASSERT(seg_read_ip(r, &ip) == 0 && ip == 0x01020304);
	CU_ASSERT(seg_adopt(tu_dir, &mac_a, &ad) == -1 && errno == ENOENT);
out:
	if (r != NULL)
		CU_ASSERT_EQUAL(seg_detach(r), 0);
	if (ad.hdr != NULL)
		seg_detach(ad.hdr);
	CU_ASSERT(seg_gone(&s));
}

/* What ipcs shows: size, modes, owner, one semaphore. */
static void
test_ipcs_visible(void)
{
	struct seg		 s;
	struct shmid_ds		 st;
	struct semid_ds		 sst;
	union test_semarg	 arg;
	mode_t			 modes[2] = { 0644, 0640 };

	for (int i = 0; i < 2; i++) {
		seg_init(&s);
		REQUIRE(seg_create(tu_dir, &mac_b, 1, modes[i], 1, &s) == 0);
		REQUIRE(shmctl(s.shmid, IPC_STAT, &st) == 0);
		CU_ASSERT_EQUAL(st.shm_segsz, SEG_SIZE);
		CU_ASSERT_EQUAL(st.shm_perm.mode & 0777, modes[i]);
		CU_ASSERT_EQUAL(st.shm_perm.cuid, geteuid());
		CU_ASSERT_EQUAL(st.shm_cpid, getpid());
		CU_ASSERT_EQUAL(st.shm_nattch, 1);
		CU_ASSERT_EQUAL(shmget(s.key, 0, 0), s.shmid);
		arg.buf = &sst;
		REQUIRE(semctl(s.semid, 0, IPC_STAT, arg) == 0);
		CU_ASSERT_EQUAL(sst.sem_nsems, 1);
		CU_ASSERT_EQUAL(sst.sem_perm.mode & 0777, 0600);
		CU_ASSERT_EQUAL(semget(s.key, 0, 0), s.semid);
		CU_ASSERT(seg_gone(&s));
	}
out:
	CU_ASSERT(seg_gone(&s));
}

static void
test_attach_rejects(void)
{
	struct seg		 s;
	struct seg_header	 fake;
	struct foreign		 f = { .nshm = 0 };
	const struct seg_header	*r;
	uint32_t		 garbage = 0xdeadbeef;
	int			 id;

	seg_init(&s);
	REQUIRE(seg_create(tu_dir, &mac_a, 0x0a000001, 0644, 1, &s) == 0);
	errno = 0;
	CU_ASSERT(seg_attach(s.shmid, &mac_b) == NULL && errno == EBADMSG);
	/* and it detached again */
	CU_ASSERT_EQUAL(seg_nattch(s.shmid), 1);
	CU_ASSERT(seg_attach(-1, &mac_a) == NULL && errno == EINVAL);

	/* Foreign segments: zeros, garbage, too short, wrong version. */
	id = foreign_shm(&f, IPC_PRIVATE, SEG_SIZE, NULL, 0);
	REQUIRE(id != -1);
	CU_ASSERT(seg_attach(id, &mac_a) == NULL && errno == EBADMSG);
	id = foreign_shm(&f, IPC_PRIVATE, SEG_SIZE, &garbage, sizeof(garbage));
	REQUIRE(id != -1);
	CU_ASSERT(seg_attach(id, &mac_a) == NULL && errno == EBADMSG);
	id = foreign_shm(&f, IPC_PRIVATE, 16, s.hdr, 16);
	REQUIRE(id != -1);
	CU_ASSERT(seg_attach(id, &mac_a) == NULL && errno == EBADMSG);
	CU_ASSERT_EQUAL(seg_nattch(id), 0);
	memcpy(&fake, s.hdr, sizeof(fake));
	fake.version = SEG_VERSION + 1;
	id = foreign_shm(&f, IPC_PRIVATE, SEG_SIZE, &fake, sizeof(fake));
	REQUIRE(id != -1);
	CU_ASSERT(seg_attach(id, &mac_a) == NULL && errno == EBADMSG);
	fake.version = SEG_VERSION;
	fake.size = SEG_SIZE + 8;
	id = foreign_shm(&f, IPC_PRIVATE, SEG_SIZE + 8, &fake, sizeof(fake));
	REQUIRE(id != -1);
	CU_ASSERT(seg_attach(id, &mac_a) == NULL && errno == EBADMSG);
	/* A faithful copy passes: the check is the header, not the id. */
	fake.size = SEG_SIZE;
	id = foreign_shm(&f, IPC_PRIVATE, SEG_SIZE, &fake, sizeof(fake));
	REQUIRE(id != -1);
	r = seg_attach(id, &mac_a);
	CU_ASSERT(r != NULL);
	if (r != NULL)
		seg_detach(r);
out:
	CU_ASSERT(foreign_cleanup(&f));
	CU_ASSERT(seg_gone(&s));
}

static void
test_keyfile_refused(void)
{
	struct seg	 s;
	key_t		 tkey;

	seg_init(&s);
	REQUIRE(seg_keydir_create(tu_dir) == 0);
	REQUIRE(touch(tu_path("target")) == 0);
	tkey = ftok(tu_path("target"), 1);
	REQUIRE(symlink(tu_path("target"), keyfile(&mac_a)) == 0);
	CU_ASSERT(seg_create(tu_dir, &mac_a, 1, 0644, 1, &s) == -1 &&
	    errno == ELOOP);
	CU_ASSERT(key_free(tkey));
	CU_ASSERT(seg_adopt(tu_dir, &mac_a, &s) == -1 && errno == ELOOP);
	REQUIRE(mkdir(keyfile(&mac_b), 0755) == 0);
	/* open(O_CREAT) of a directory fails by itself. */
	CU_ASSERT(seg_create(tu_dir, &mac_b, 1, 0644, 1, &s) == -1 &&
	    (errno == EISDIR || errno == EINVAL));
	CU_ASSERT(seg_adopt(tu_dir, &mac_b, &s) == -1 && errno == EINVAL);
	CU_ASSERT(seg_adopt(tu_dir, &mac_c, &s) == -1 && errno == ENOENT);
	CU_ASSERT(!exists(keyfile(&mac_c)));
	/* A key file alone is not a segment. */
	REQUIRE(touch(keyfile(&mac_c)) == 0);
	CU_ASSERT(seg_adopt(tu_dir, &mac_c, &s) == -1 && errno == ENOENT);
	CU_ASSERT(s.hdr == NULL);
	/* No keys dir yet: seg_create makes it. */
	REQUIRE(mkdir(tu_path("d2"), 0755) == 0);
	CU_ASSERT(seg_adopt(tu_path("d2"), &mac_d, &s) == -1 &&
	    errno == ENOENT);
	REQUIRE(seg_create(tu_path("d2"), &mac_d, 1, 0644, 1, &s) == 0);
	CU_ASSERT_EQUAL(seg_destroy(tu_path("d2"), &s), 0);
out:
	if (s.hdr != NULL)
		seg_destroy(tu_path("d2"), &s);
}

/*
 * Reader-side probing as docs/segments.md describes it: the first key
 * whose segment carries this MAC.
 */
static const struct seg_header *
probe_attach(const struct addr_mac *mac, int *projp, int *rejected)
{
	const struct seg_header	*h;
	int			 proj, id;

	*rejected = 0;
	for (proj = 1; proj <= SEG_PROBE_MAX; proj++) {
		if ((id = shmget(key_of(mac, proj), 0, 0)) == -1)
			continue;
		if ((h = seg_attach(id, mac)) != NULL) {
			*projp = proj;
			return h;
		}
		if (errno == EBADMSG)
			(*rejected)++;
	}
	return NULL;
}

/*
 * B's key file is a hard link to A's: same inode, so the same ftok key
 * for every proj.  B must land on proj 2 and the two must never be
 * confused.
 */
static void
test_forced_collision(void)
{
	struct seg		 a, b, ad;
	const struct seg_header	*ra = NULL, *rb = NULL, *h;
	uint32_t		 ip;
	int			 proj, rej;

	seg_init(&a);
	seg_init(&b);
	seg_init(&ad);
	REQUIRE(seg_keydir_create(tu_dir) == 0);
	REQUIRE(touch(keyfile(&mac_a)) == 0);
	REQUIRE(link(keyfile(&mac_a), keyfile(&mac_b)) == 0);
	REQUIRE(key_of(&mac_a, 1) == key_of(&mac_b, 1));

	REQUIRE(seg_create(tu_dir, &mac_a, 0x0a0000aa, 0644, 1, &a) == 0);
	REQUIRE(seg_create(tu_dir, &mac_b, 0x0a0000bb, 0644, 1, &b) == 0);
	CU_ASSERT_EQUAL(a.proj, 1);
	CU_ASSERT_EQUAL(b.proj, 2);
	CU_ASSERT_EQUAL(b.hdr->proj, 2);
	CU_ASSERT_EQUAL(b.key, key_of(&mac_b, 2));
	CU_ASSERT(a.shmid != b.shmid && a.semid != b.semid);

	ra = seg_attach(a.shmid, &mac_a);
	rb = seg_attach(b.shmid, &mac_b);
	REQUIRE(ra != NULL && rb != NULL);
	CU_ASSERT(seg_read_ip(ra, &ip) == 0 && ip == 0x0a0000aa);
	CU_ASSERT(seg_read_ip(rb, &ip) == 0 && ip == 0x0a0000bb);
	CU_ASSERT(seg_attach(a.shmid, &mac_b) == NULL && errno == EBADMSG);
	CU_ASSERT(seg_attach(b.shmid, &mac_a) == NULL && errno == EBADMSG);

	/*
	 * A reader looking for B by key finds A's segment at proj 1,
	 * rejects it on the MAC and goes on to proj 2.
	 */
	CU_ASSERT_EQUAL(shmget(key_of(&mac_b, 1), 0, 0), a.shmid);
	h = probe_attach(&mac_b, &proj, &rej);
	CU_ASSERT(h != NULL && proj == 2 && rej == 1);
	if (h != NULL) {
		CU_ASSERT(seg_read_ip(h, &ip) == 0 && ip == 0x0a0000bb);
		seg_detach(h);
	}
	h = probe_attach(&mac_a, &proj, &rej);
	CU_ASSERT(h != NULL && proj == 1 && rej == 0);
	if (h != NULL)
		seg_detach(h);

	/* Adoption skips the other MAC's segment too. */
	REQUIRE(seg_adopt(tu_dir, &mac_b, &ad) == 0);
	CU_ASSERT(ad.shmid == b.shmid && ad.semid == b.semid && ad.proj == 2);
	seg_detach(ad.hdr);
	ad.hdr = NULL;
	REQUIRE(seg_adopt(tu_dir, &mac_a, &ad) == 0);
	CU_ASSERT(ad.shmid == a.shmid && ad.semid == a.semid && ad.proj == 1);
	seg_detach(ad.hdr);
	ad.hdr = NULL;

	/* Writes go to the right place. */
	CU_ASSERT_EQUAL(seg_write_ip(&b, 0x0a0000bc), 0);
	CU_ASSERT(seg_read_ip(ra, &ip) == 0 && ip == 0x0a0000aa);
	CU_ASSERT(seg_read_ip(rb, &ip) == 0 && ip == 0x0a0000bc);

	/* Destroying A leaves B, its objects and its key file alone. */
	CU_ASSERT_EQUAL(seg_destroy(tu_dir, &a), 0);
	CU_ASSERT(key_free(key_of(&mac_b, 1)));
	CU_ASSERT(!exists(keyfile(&mac_a)));
	CU_ASSERT(exists(keyfile(&mac_b)));
	CU_ASSERT_EQUAL(shmget(b.key, 0, 0), b.shmid);
	CU_ASSERT_EQUAL(semget(b.key, 0, 0), b.semid);
	CU_ASSERT_EQUAL(b.key, key_of(&mac_b, 2));
	CU_ASSERT_EQUAL(seg_write_ip(&b, 0x0a0000bd), 0);
	CU_ASSERT(seg_read_ip(rb, &ip) == 0 && ip == 0x0a0000bd);
	REQUIRE(seg_adopt(tu_dir, &mac_b, &ad) == 0);
	CU_ASSERT_EQUAL(ad.shmid, b.shmid);
	seg_detach(ad.hdr);
	ad.hdr = NULL;
	CU_ASSERT_EQUAL(seg_destroy(tu_dir, &b), 0);
	CU_ASSERT(!exists(keyfile(&mac_b)));
out:
	if (ra != NULL)
		seg_detach(ra);
	if (rb != NULL)
		seg_detach(rb);
	if (ad.hdr != NULL)
		seg_detach(ad.hdr);
	CU_ASSERT(seg_gone(&a));
	CU_ASSERT(seg_gone(&b));
}

/*
 * Every proj's key taken by objects that are not ours, in every shape:
 * seg_create gives up with EEXIST, undoes its own half-creations, and
 * neither adopt nor sweep touches any of them.
 */
static void
test_probe_exhaustion(void)
{
	struct seg		 s;
	struct seg_header	 other;
	struct foreign		 f = { .nshm = 0 };
	uint32_t		 garbage[4] = { 0xdeadbeef, 1, 2, 3 };
	unsigned		 n = 99;
	key_t			 key, keys[SEG_PROBE_MAX + 1] = { 0 };
	int			 proj, kind, ok;

	seg_init(&s);
	memset(&other, 0, sizeof(other));
	REQUIRE(seg_keydir_create(tu_dir) == 0);
	REQUIRE(touch(keyfile(&mac_c)) == 0);
	/* A valid header of another MAC, as a colliding key file yields. */
	other.magic = SEG_MAGIC;
	other.version = SEG_VERSION;
	other.size = SEG_SIZE;
	memcpy(other.mac, mac_d.b, 6);
	for (proj = 1; proj <= SEG_PROBE_MAX; proj++) {
		key = key_of(&mac_c, proj);
		REQUIRE(key != (key_t)-1);
		keys[proj] = key;
		kind = proj % 6;
		ok = 1;
		if (kind == 0)		/* a busy set, no segment */
			ok = foreign_sem(&f, key, 1, 1) != -1;
		else if (kind == 1)	/* a bigger set, no segment */
			ok = foreign_sem(&f, key, 2, 0) != -1;
		else if (kind == 2)	/* garbage segment, no set */
			ok = foreign_shm(&f, key, SEG_SIZE, garbage,
			    sizeof(garbage)) != -1;
		else if (kind == 3)	/* zero segment of a live creator */
			ok = foreign_shm(&f, key, SEG_SIZE, NULL, 0) != -1;
		else if (kind == 4)	/* another MAC's segment and set */
			ok = foreign_shm(&f, key, SEG_SIZE, &other,
			    sizeof(other)) != -1 &&
			    foreign_sem(&f, key, 1, 1) != -1;
		else			/* short segment */
			ok = foreign_shm(&f, key, 8, garbage, 8) != -1;
		/* Taken already by someone on this host is just as good. */
		REQUIRE(ok || errno == EEXIST);
	}
	CU_ASSERT(seg_create(tu_dir, &mac_c, 1, 0644, 1, &s) == -1 &&
	    errno == EEXIST);
	CU_ASSERT(s.hdr == NULL);
	/* Where only a segment was in the way, our set was undone. */
	for (proj = 1; proj <= SEG_PROBE_MAX; proj++)
		if (proj % 6 == 2 || proj % 6 == 3 || proj % 6 == 5)
			CU_ASSERT(semget(keys[proj], 0, 0) == -1 &&
			    errno == ENOENT);
	CU_ASSERT(seg_adopt(tu_dir, &mac_c, &s) == -1 && errno == ENOENT);

	CU_ASSERT_EQUAL(seg_sweep(tu_dir, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	for (int i = 0; i < f.nshm; i++)
		CU_ASSERT(shm_alive(f.shm[i]));
	for (int i = 0; i < f.nsem; i++)
		CU_ASSERT(sem_alive(f.sem[i]));
	CU_ASSERT(!exists(keyfile(&mac_c)));
out:
	CU_ASSERT(foreign_cleanup(&f));
	if (s.hdr != NULL)
		seg_destroy(tu_dir, &s);
	for (proj = 1; proj <= SEG_PROBE_MAX; proj++)
		if (keys[proj] != 0)
			CU_ASSERT(key_free(keys[proj]));
}

/*
 * A writer SIGKILLed between its generation stores: the semaphore comes
 * back, readers get EAGAIN rather than a half-written value, and the
 * next write repairs the generation.
 */
static void
test_killed_writer(void)
{
	struct seg		 s, ad;
	const struct seg_header	*r = NULL;
	uint32_t		 ip, g;
	pid_t			 pid = -1;
	int			 p[2] = { -1, -1 }, status;

	seg_init(&s);
	seg_init(&ad);
	REQUIRE(seg_create(tu_dir, &mac_a, 0x0a000001, 0644, 1, &s) == 0);
	r = seg_attach(s.shmid, &mac_a);
	REQUIRE(r != NULL);
	REQUIRE(pipe(p) == 0);
	if ((pid = tu_fork()) == 0) {
		close(p[0]);
		if (semlock_acquire(s.semid, 1000) == -1)
			_exit(1);
		g = atomic_load_explicit(&s.hdr->gen, memory_order_relaxed);
		atomic_store_explicit(&s.hdr->gen, g + 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_release);
		atomic_store_explicit(&s.hdr->ip, 0xffffffffu,
		    memory_order_relaxed);
		tu_say(p[1], 'k');
		for (;;)
			pause();
	}
	REQUIRE(pid != -1);
	close(p[1]);
	p[1] = -1;
	REQUIRE(tu_wait_byte(p[0], 5000) == 'k');
	status = tu_kill(pid);
	pid = -1;
	CU_ASSERT(WIFSIGNALED(status));

	CU_ASSERT_EQUAL(semlock_value(s.semid), 0);
	g = gen_of(r);
	CU_ASSERT_EQUAL(g, 3);
	CU_ASSERT(seg_read_ip(r, &ip) == -1 && errno == EAGAIN);
	/* A restarted rtm adopts it as it is. */
	REQUIRE(seg_adopt(tu_dir, &mac_a, &ad) == 0);
	CU_ASSERT_EQUAL(gen_of(ad.hdr), 3);
	CU_ASSERT_EQUAL(seg_write_ip(&ad, 0x0a000002), 0);
	CU_ASSERT_EQUAL(gen_of(r), 4);
	CU_ASSERT(seg_read_ip(r, &ip) == 0 && ip == 0x0a000002);
	CU_ASSERT_EQUAL(seg_write_ip(&s, 0x0a000003), 0);
	CU_ASSERT_EQUAL(gen_of(r), 6);
	CU_ASSERT(seg_read_ip(r, &ip) == 0 && ip == 0x0a000003);
	CU_ASSERT_EQUAL(semlock_value(s.semid), 0);
out:
	if (pid != -1)
		tu_kill(pid);
	tu_close_pipe(p);
	if (r != NULL)
		seg_detach(r);
	if (ad.hdr != NULL)
		seg_detach(ad.hdr);
	CU_ASSERT(seg_gone(&s));
}

/*
 * A retired segment tells a reader still attached that its MAC is gone
 * (EIDRM), where it used to give the last address; and writes wrap
 * their generation past the value that means retired.
 */
static void
test_retired(void)
{
	struct seg		 s;
	const struct seg_header	*r = NULL;
	uint32_t		 ip;

	seg_init(&s);
	REQUIRE(seg_create(tu_dir, &mac_a, 0x0a000001, 0644, 1, &s) == 0);
	r = seg_attach(s.shmid, &mac_a);
	REQUIRE(r != NULL);
	atomic_store_explicit(&s.hdr->gen, SEG_GEN_RETIRED - 2,
	    memory_order_relaxed);
	CU_ASSERT_EQUAL(seg_write_ip(&s, 0x0a000002), 0);
	CU_ASSERT_EQUAL(gen_of(r), 0);
	CU_ASSERT(seg_read_ip(r, &ip) == 0 && ip == 0x0a000002);
	seg_retire(&s);
	errno = 0;
	CU_ASSERT(seg_read_ip(r, &ip) == -1 && errno == EIDRM);
	/* Removed: the mapping stays, and keeps saying so. */
	CU_ASSERT_EQUAL(seg_destroy(tu_dir, &s), 0);
	errno = 0;
	CU_ASSERT(seg_read_ip(r, &ip) == -1 && errno == EIDRM);
out:
	if (r != NULL)
		seg_detach(r);
	CU_ASSERT(seg_gone(&s));
}

/* Another writer holding the semaphore: EAGAIN, and nothing written. */
static void
test_write_timeout(void)
{
	struct seg	 s;
	uint32_t	 ip;
	pid_t		 pid = -1;
	int		 p[2] = { -1, -1 };

	seg_init(&s);
	REQUIRE(seg_create(tu_dir, &mac_a, 0x0a000001, 0644, 1, &s) == 0);
	REQUIRE(pipe(p) == 0);
	if ((pid = tu_fork()) == 0) {
		close(p[0]);
		if (semlock_acquire(s.semid, 1000) == -1)
			_exit(1);
		tu_say(p[1], 'h');
		for (;;)
			pause();
	}
	REQUIRE(pid != -1);
	close(p[1]);
	p[1] = -1;
	REQUIRE(tu_wait_byte(p[0], 5000) == 'h');
	CU_ASSERT(seg_write_ip(&s, 0x0a000009) == -1 && errno == EAGAIN);
	CU_ASSERT_EQUAL(gen_of(s.hdr), 2);
	CU_ASSERT(seg_read_ip(s.hdr, &ip) == 0 && ip == 0x0a000001);
	tu_kill(pid);
	pid = -1;
	CU_ASSERT_EQUAL(seg_write_ip(&s, 0x0a000009), 0);
	CU_ASSERT(seg_read_ip(s.hdr, &ip) == 0 && ip == 0x0a000009);
	CU_ASSERT_EQUAL(semlock_value(s.semid), 0);
out:
	if (pid != -1)
		tu_kill(pid);
	tu_close_pipe(p);
	CU_ASSERT(seg_gone(&s));
}

/*
 * A writer process alternates values whose four bytes are equal; the
 * reader must only ever see such values, never a mix.
 */
static void
test_torn_read(void)
{
	struct seg		 s;
	const struct seg_header	*r = NULL;
	uint32_t		 ip, last = 0;
	unsigned long		 i, ok = 0, eagain = 0, other = 0, bad = 0;
	unsigned long		 changes = 0;
	pid_t			 pid = -1;
	int			 p[2] = { -1, -1 }, stop[2] = { -1, -1 };

	seg_init(&s);
	REQUIRE(seg_create(tu_dir, &mac_a, 0x01010101, 0644, 1, &s) == 0);
	r = seg_attach(s.shmid, &mac_a);
	REQUIRE(r != NULL);
	REQUIRE(pipe(p) == 0 && pipe(stop) == 0);
	if ((pid = tu_fork()) == 0) {
		unsigned	 k = 2, n;
		char		 c;

		close(p[0]);
		close(stop[1]);
		fcntl(stop[0], F_SETFL, O_NONBLOCK);
		for (n = 0;; n++) {
			if (seg_write_ip(&s, 0x01010101u * k) == -1)
				_exit(1);
			k = k % 255 + 1;
			if (n == 0)
				tu_say(p[1], 's');
			/* EOF on the stop pipe: the parent is done. */
			if ((n & 63) == 0 && read(stop[0], &c, 1) == 0)
				_exit(0);
		}
	}
	REQUIRE(pid != -1);
	close(p[1]);
	p[1] = -1;
	close(stop[0]);
	stop[0] = -1;
	REQUIRE(tu_wait_byte(p[0], 5000) == 's');
	for (i = 0; i < 1000000 || (changes < 1000 && i < 200000000); i++) {
		if (seg_read_ip(r, &ip) == -1) {
			if (errno == EAGAIN)
				eagain++;
			else
				other++;
			continue;
		}
		if (!bytes_equal(ip))
			bad++;
		if (ok++ > 0 && ip != last)
			changes++;
		last = ip;
	}
	close(stop[1]);
	stop[1] = -1;
	CU_ASSERT_EQUAL(tu_exit_code(pid, 5000), 0);
	pid = -1;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(other, 0);
	CU_ASSERT(ok > 0);
	CU_ASSERT(ok + eagain == i);
	/* The writer really ran concurrently with the reads. */
	CU_ASSERT(changes > 0);
	CU_ASSERT_EQUAL(gen_of(r) & 1, 0);
	CU_ASSERT(seg_read_ip(r, &ip) == 0 && bytes_equal(ip));
	CU_ASSERT_EQUAL(semlock_value(s.semid), 0);
out:
	if (pid != -1)
		tu_kill(pid);
	tu_close_pipe(p);
	tu_close_pipe(stop);
	if (r != NULL)
		seg_detach(r);
	CU_ASSERT(seg_gone(&s));
}

/* A reader stopped while attached cannot hold up the writer. */
static void
test_stopped_reader(void)
{
	struct seg	 s;
	uint32_t	 ip;
	pid_t		 reader = -1, writer = -1;
	int		 p[2] = { -1, -1 }, status;

	seg_init(&s);
	REQUIRE(seg_create(tu_dir, &mac_a, 0x0a000001, 0644, 1, &s) == 0);
	REQUIRE(pipe(p) == 0);
	if ((reader = tu_fork()) == 0) {
		const struct seg_header	*h;
		uint32_t		 v;

		close(p[0]);
		/* Only its own read-only attachment: drop the inherited one. */
		shmdt(s.hdr);
		if ((h = seg_attach(s.shmid, &mac_a)) == NULL)
			_exit(1);
		tu_say(p[1], 'r');
		for (;;)
			(void)seg_read_ip(h, &v);
	}
	REQUIRE(reader != -1);
	close(p[1]);
	p[1] = -1;
	REQUIRE(tu_wait_byte(p[0], 5000) == 'r');
	REQUIRE(kill(reader, SIGSTOP) == 0);
	REQUIRE(waitpid(reader, &status, WUNTRACED) == reader);
	CU_ASSERT(WIFSTOPPED(status));
	CU_ASSERT_EQUAL(seg_nattch(s.shmid), 2);

	if ((writer = tu_fork()) == 0) {
		for (uint32_t n = 1; n <= 10000; n++)
			if (seg_write_ip(&s, 0x0a000000 + n) == -1)
				_exit(1);
		_exit(0);
	}
	REQUIRE(writer != -1);
	CU_ASSERT_EQUAL(tu_exit_code(writer, 10000), 0);
	writer = -1;
	CU_ASSERT(seg_read_ip(s.hdr, &ip) == 0 && ip == 0x0a000000 + 10000);
	CU_ASSERT_EQUAL(gen_of(s.hdr), 2 + 2 * 10000);
	CU_ASSERT_EQUAL(semlock_value(s.semid), 0);
	tu_kill(reader);
	reader = -1;
	CU_ASSERT_EQUAL(seg_nattch(s.shmid), 1);
out:
	if (reader != -1)
		tu_kill(reader);
	if (writer != -1)
		tu_kill(writer);
	tu_close_pipe(p);
	CU_ASSERT(seg_gone(&s));
}

/* A segment whose semaphore vanished (writer killed in seg_destroy). */
static void
test_missing_semaphore(void)
{
	struct seg	 s, ad;
	uint32_t	 ip;
	unsigned	 n = 0;
	key_t		 key;

	seg_init(&s);
	seg_init(&ad);
	REQUIRE(seg_create(tu_dir, &mac_a, 0x0a000001, 0644, 1, &s) == 0);
	key = s.key;
	REQUIRE(semlock_remove(s.semid) == 0);
	REQUIRE(seg_adopt(tu_dir, &mac_a, &ad) == 0);
	CU_ASSERT(ad.semid != -1 && ad.semid != s.semid);
	CU_ASSERT_EQUAL(semget(key, 0, 0), ad.semid);
	CU_ASSERT_EQUAL(seg_write_ip(&ad, 0x0a000002), 0);
	CU_ASSERT(seg_read_ip(s.hdr, &ip) == 0 && ip == 0x0a000002);
	seg_detach(ad.hdr);
	ad.hdr = NULL;
	/* Gone again, and the sweep still recognises the segment. */
	REQUIRE(semlock_remove(ad.semid) == 0);
	CU_ASSERT_EQUAL(seg_sweep(tu_dir, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(key_free(key));
	seg_detach(s.hdr);
	s.hdr = NULL;
out:
	if (ad.hdr != NULL)
		seg_detach(ad.hdr);
	CU_ASSERT(seg_gone(&s));
}

/*
 * seg_sweep removes what seg_create made, and what a creator killed
 * half-way left, but nothing foreign, even at colliding keys.
 */
static void
test_sweep(void)
{
	struct seg		 a, b;
	struct foreign		 f = { .nshm = 0 };
	uint32_t		 garbage = 0xdeadbeef;
	unsigned		 n = 0;
	pid_t			 pid;
	key_t			 fkey = 0;
	int			 fshm = -1, ezero = -1, esem = -1, i;

	seg_init(&a);
	seg_init(&b);
	REQUIRE(seg_keydir_create(tu_dir) == 0);
	REQUIRE(touch(keyfile(&mac_a)) == 0);
	REQUIRE(link(keyfile(&mac_a), keyfile(&mac_b)) == 0);
	REQUIRE(seg_create(tu_dir, &mac_a, 0x0a0000aa, 0644, 1, &a) == 0);
	REQUIRE(seg_create(tu_dir, &mac_b, 0x0a0000bb, 0644, 1, &b) == 0);
	REQUIRE(b.proj == 2);
	/* Someone else's segment at the next key of both files. */
	fkey = key_of(&mac_a, 3);
	fshm = foreign_shm(&f, fkey, SEG_SIZE, &garbage,
	    sizeof(garbage));
	REQUIRE(fshm != -1);

	/* C: a creator killed between its semget and its shmget. */
	REQUIRE(touch(keyfile(&mac_c)) == 0);
	if ((pid = tu_fork()) == 0)
		_exit(semlock_create(key_of(&mac_c, 1), 0600) == -1);
	REQUIRE(pid != -1);
	CU_ASSERT_EQUAL(tu_exit_code(pid, 5000), 0);
	/* D: killed between its shmget and writing the header. */
	REQUIRE(touch(keyfile(&mac_d)) == 0);
	if ((pid = tu_fork()) == 0)
		_exit(semlock_create(key_of(&mac_d, 1), 0600) == -1 ||
		    shmget(key_of(&mac_d, 1), SEG_SIZE,
		    IPC_CREAT | IPC_EXCL | 0644) == -1);
	REQUIRE(pid != -1);
	CU_ASSERT_EQUAL(tu_exit_code(pid, 5000), 0);
	/* E: the same shapes, but made by a live process or used. */
	REQUIRE(touch(keyfile(&mac_e)) == 0);
	ezero = foreign_shm(&f, key_of(&mac_e, 1), SEG_SIZE, NULL, 0);
	esem = foreign_sem(&f, key_of(&mac_e, 2), 1, 1);
	REQUIRE(ezero != -1 && esem != -1);
	/* Not key files: wrong names are never looked at. */
	REQUIRE(touch(tu_path("keys/02005E00000A")) == 0);
	REQUIRE(touch(tu_path("keys/02005e00000a0")) == 0);

	CU_ASSERT_EQUAL(seg_sweep(tu_dir, &n), 0);
	CU_ASSERT_EQUAL(n, 3);		/* A, B and D's remnant */
	for (i = 1; i <= 2; i++)
		CU_ASSERT(key_free(key_of(&mac_a, i)));
	CU_ASSERT(key_free(key_of(&mac_c, 1)));
	CU_ASSERT(key_free(key_of(&mac_d, 1)));
	CU_ASSERT(shm_alive(fshm));
	CU_ASSERT(shm_alive(ezero));
	CU_ASSERT(sem_alive(esem));
	CU_ASSERT(!exists(keyfile(&mac_a)));
	CU_ASSERT(!exists(keyfile(&mac_b)));
	CU_ASSERT(!exists(keyfile(&mac_c)));
	CU_ASSERT(!exists(keyfile(&mac_d)));
	CU_ASSERT(!exists(keyfile(&mac_e)));
	CU_ASSERT(exists(tu_path("keys/02005E00000A")));
	CU_ASSERT(exists(tu_path("keys/02005e00000a0")));
	/* Our attachments survive the removal until we let go. */
	CU_ASSERT_EQUAL(seg_nattch(a.shmid), 1);
	CU_ASSERT_EQUAL(seg_detach(a.hdr), 0);
	CU_ASSERT_EQUAL(seg_detach(b.hdr), 0);
	CU_ASSERT(seg_nattch(a.shmid) == -1 && seg_nattch(b.shmid) == -1);
	a.hdr = b.hdr = NULL;
	/* Nothing left to sweep. */
	CU_ASSERT_EQUAL(seg_sweep(tu_dir, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(seg_sweep(tu_path("nonexistent"), &n), 0);
out:
	if (a.hdr != NULL)
		seg_destroy(tu_dir, &a);
	if (b.hdr != NULL)
		seg_destroy(tu_dir, &b);
	CU_ASSERT(foreign_cleanup(&f));
	if (fkey != 0)
		CU_ASSERT(key_free(fkey));
}

/*
 * Keys are public: anyone may put a segment with a valid header, and a
 * set, at one of ours.  Creation steps over that key; adoption after a
 * crash, and the sweep, take only objects this user made, so the
 * foreign ones are neither read by our clients nor removed.  (Another
 * uid makes them: root only.)
 */
static void
test_foreign_not_adopted(void)
{
	struct seg	 s, ad;
	struct shmid_ds	 ds;
	key_t		 k1 = IPC_PRIVATE;
	unsigned	 removed = 0;
	int		 fshm, fsem, st;
	pid_t		 pid;

	if (geteuid() != 0)
		return;
	seg_init(&s);
	seg_init(&ad);
	REQUIRE(seg_keydir_create(tu_dir) == 0);
	REQUIRE(touch(keyfile(&mac_a)) == 0);
	k1 = key_of(&mac_a, 1);
	if ((pid = fork()) == 0) {
		struct seg_header	*h;
		int			 id;

		if (setgid(65534) == -1 || setuid(65534) == -1 ||
		    semget(k1, 1, IPC_CREAT | IPC_EXCL | 0666) == -1 ||
		    (id = shmget(k1, SEG_SIZE, IPC_CREAT | IPC_EXCL |
		    0666)) == -1 || (h = shmat(id, NULL, 0)) == (void *)-1)
			_exit(1);
		h->version = SEG_VERSION;
		h->size = SEG_SIZE;
		memcpy(h->mac, mac_a.b, ADDR_MAC_LEN);
		h->proj = 1;
		atomic_store(&h->ip, htonl(0x06060606));
		h->magic = SEG_MAGIC;
		_exit(0);
	}
	REQUIRE(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	fshm = shmget(k1, 0, 0);
	fsem = semget(k1, 0, 0);
	CU_ASSERT(fshm != -1 && fsem != -1);
	if (seg_create(tu_dir, &mac_a, 0x0a000001, 0644, 1, &s) == 0) {
		CU_ASSERT_EQUAL(s.proj, 2);
		/* As after a crash: found again, ours, not theirs. */
		CU_ASSERT(seg_adopt(tu_dir, &mac_a, &ad) == 0 &&
		    ad.proj == 2 && ad.shmid == s.shmid);
		if (ad.hdr != NULL)
			(void)shmdt(ad.hdr);
		(void)shmdt(s.hdr);
	} else
		CU_FAIL("seg_create");
	CU_ASSERT(seg_sweep(tu_dir, &removed) == 0 && removed == 1);
	CU_ASSERT(shmctl(fshm, IPC_STAT, &ds) == 0);	/* theirs stays */
	CU_ASSERT(semctl(fsem, 0, GETVAL) != -1);
out:
	/* Root may remove them; nobody else's sweep would. */
	if (k1 != IPC_PRIVATE && (fshm = shmget(k1, 0, 0)) != -1)
		(void)shmctl(fshm, IPC_RMID, NULL);
	if (k1 != IPC_PRIVATE && (fsem = semget(k1, 0, 0)) != -1)
		(void)semctl(fsem, 0, IPC_RMID);
}

static const struct tu_test shm_tests[] = {
	{ "keypath", test_keypath },
	{ "keydir", test_keydir },
	{ "roundtrip", test_roundtrip },
	{ "ipcs_visible", test_ipcs_visible },
	{ "attach_rejects", test_attach_rejects },
	{ "keyfile_refused", test_keyfile_refused },
	{ "forced_collision", test_forced_collision },
	{ "probe_exhaustion", test_probe_exhaustion },
	{ "killed_writer", test_killed_writer },
	{ "retired", test_retired },
	{ "write_timeout", test_write_timeout },
	{ "torn_read", test_torn_read },
	{ "stopped_reader", test_stopped_reader },
	{ "missing_semaphore", test_missing_semaphore },
	{ "sweep", test_sweep },
	{ "foreign_not_adopted", test_foreign_not_adopted },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "shm", shm_tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	/* Mode assertions below expect the usual umask. */
	umask(022);
	return tu_main(argc, argv, suites);
}
