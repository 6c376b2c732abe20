/*
 * rtable.c: the IPv4 route table (exact match, longest-prefix match,
 * walks), sized for a million routes in rtm and in every client mirror.
 *
 * Routes: a dense array of 12-byte records (prefix, gateway, length,
 * gateway flag, interned interface index).  Deleting moves the last
 * record into the hole, so the array has no holes and shrinks with the
 * table; an unsorted walk is a plain scan of it.
 *
 * Exact match: open addressing on (prefix, length), linear probing,
 * power-of-two capacity kept between 15% and 70% full, deletion by
 * backward shift (no tombstones).  An entry holds the record index + 1
 * in its low 24 bits and 8 bits of the key's hash above them, so a probe
 * rarely reads a record it does not want.  That caps the table at
 * RT_MAXROUTES (16.7 M) routes.
 *
 * Longest-prefix match: a multibit trie with strides 8-8-8-4-4 and leaf
 * pushing.  A slot holds either the longest route covering every
 * address below it (length << 24 | record index + 1; 0 for none) or,
 * with RT_CHILD set, the index of a chunk of the next level, so a
 * lookup is at most five dependent loads plus the record.  A route
 * lives at the level whose stride ends at or after its length and
 * fills 2^(end - len) slots there (controlled prefix expansion), and
 * is pushed down into child chunks wherever no longer route covers
 * them.  Deleting a route puts back the next-best covering route, found
 * with at most 31 exact-match probes of its shorter prefixes.  Slots
 * carry the length so updates compare routes without reading records.
 * The strides: three of 8 bits so a /24-heavy table resolves in three
 * loads; then two of 4 bits, because 256-slot chunks for /25../32
 * routes would cost a kilobyte per /24 and blow the memory budget.
 *
 * An update costs the size of the subtree below the route: nothing for
 * a /24, up to the whole trie for a /1.  The default route, the one
 * short route every table has, is kept out of the trie (an empty slot
 * means "the default route, if any"), so changing it is O(1).
 *
 * A chunk carries two metadata words after its slots: its parent chunk
 * and slot, and a reference count (routes living in the chunk + child
 * chunks).  A chunk left with no references holds one value in every
 * slot; it is folded back into its parent slot and freed, and the last
 * chunk of its level moves into its place, so chunks stay dense too.
 *
 * Storage: records and chunks live in block arrays of ~64 KiB blocks,
 * except that block 0 grows geometrically from two elements: a small
 * table stays small (the 1 KiB root is inside struct rtable, nothing
 * else is allocated while empty), a big one wastes at most about one
 * block per array, and growth never copies tens of megabytes.
 * Trailing blocks are freed as an array shrinks; an empty table holds
 * no allocation but itself.  Measured with tests/bench/rtable_bench.c:
 * about 80 bytes per route for 1 M random /24s, 91 for a realistic mix.
 *
 * Interface names are interned with reference counts (at most
 * RT_MAXIFS distinct names at once); a freed name's slot is reused and
 * the name table is released when the last route goes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtable.h"

#define RT_LEVELS	5
#define RT_CHILD	0x80000000u
#define RT_IDXBITS	24
#define RT_IDXMASK	((1u << RT_IDXBITS) - 1)
#define RT_MAXROUTES	RT_IDXMASK		/* index + 1 fits 24 bits */
#define RT_MAXIFS	65535			/* index + 1 fits 16 bits */

/* A trie leaf: route length and record index + 1. */
#define RT_LEAF(idx, len)	((uint32_t)(len) << RT_IDXBITS | ((idx) + 1))
#define RT_LEAFLEN(v)		(((v) >> RT_IDXBITS) & 0x3f)

/* Chunks of levels 1-2 (256 slots) and 3-4 (16 slots): slots, 2 words. */
#define RT_BIG_ES	((256 + 2) * sizeof(uint32_t))
#define RT_BIG_SH	6			/* 64 chunks, 66 KiB a block */
#define RT_SMALL_ES	((16 + 2) * sizeof(uint32_t))
#define RT_SMALL_SH	10			/* 1024 chunks, 72 KiB */
#define RT_REC_ES	sizeof(struct rt_rec)
#define RT_REC_SH	12			/* 4096 records, 48 KiB */

#define RT_HASH_MIN	16
#define RT_IFHASH_MIN	8

static const uint8_t rt_shift[RT_LEVELS] = { 24, 16, 8, 4, 0 };
static const uint8_t rt_bits[RT_LEVELS] = { 8, 8, 8, 4, 4 };
static const uint8_t rt_end[RT_LEVELS] = { 8, 16, 24, 28, 32 };

struct rt_rec {
	uint32_t	prefix;
	uint32_t	gw;
	uint16_t	ifx;		/* into rtable.ifs */
	uint8_t		len;
	uint8_t		has_gw;
};

_Static_assert(sizeof(struct rt_rec) == 12, "route record is not packed");

/*
 * Elements [0, n) in use out of cap allocated.  Block 0 holds cap
 * elements while cap < 1 << shift; past that every block is full size.
 */
struct rt_arr {
	unsigned char	**blk;
	uint32_t	  nblk;
	uint32_t	  blkcap;
	uint32_t	  n;
	uint32_t	  cap;
	uint32_t	  esize;
	uint32_t	  shift;
};

struct rt_if {
	char		name[ADDR_IFNAMSIZ];	/* "" when the slot is free */
	uint32_t	ref;			/* free: next free slot + 1 */
};

struct rt_iftab {
	struct rt_if	*v;
	uint16_t	*h;		/* slot + 1, open addressing */
	uint32_t	 n;		/* slots ever used, live or free */
	uint32_t	 cap;
	uint32_t	 hmask;		/* h has hmask + 1 entries when h */
	uint32_t	 live;
	uint32_t	 freeh;		/* first free slot + 1, 0: none */
};

struct rtable {
	uint32_t	 root[256];
	struct rt_arr	 pool[RT_LEVELS];	/* [0] unused: root */
	struct rt_arr	 recs;
	uint32_t	*htab;
	uint32_t	 hmask;		/* htab has hmask + 1 entries when htab */
	uint32_t	 dflt;		/* leaf of 0.0.0.0/0, or 0 */
	uint32_t	 lencnt[33];	/* routes per length: skips probes */
	struct rt_iftab	 ifs;
};

/* Block arrays. */

static inline void *
arr_at(const struct rt_arr *a, uint32_t i)
{
	return a->blk[i >> a->shift] +
	    (size_t)(i & ((1u << a->shift) - 1)) * a->esize;
}

static void
arr_init(struct rt_arr *a, size_t esize, unsigned shift)
{
	memset(a, 0, sizeof(*a));
	a->esize = (uint32_t)esize;
	a->shift = shift;
}

static void
arr_free(struct rt_arr *a)
{
	for (uint32_t i = 0; i < a->nblk; i++)
		free(a->blk[i]);
	free(a->blk);
	arr_init(a, a->esize, a->shift);
}

static int
arr_blkgrow(struct rt_arr *a)
{
	uint32_t	 c = a->blkcap ? a->blkcap * 2 : 4;
	unsigned char	**p;

	if ((p = realloc(a->blk, c * sizeof(*p))) == NULL)
		return -1;
	a->blk = p;
	a->blkcap = c;
	return 0;
}

/*
 * Makes room for need elements.  May move block 0, so no element
 * pointer survives it.  On failure the contents are intact (the
 * capacity may have grown part of the way).
 */
static int
arr_reserve(struct rt_arr *a, uint32_t need)
{
	uint32_t	 full = 1u << a->shift, c;
	unsigned char	*p;

	if (need <= a->cap)
		return 0;
	if (a->blkcap == 0 && arr_blkgrow(a) == -1)
		return -1;
	if (a->cap < full) {
		c = a->cap ? a->cap * 2 : 2;
		while (c < need && c < full)
			c *= 2;
		if (c > full)
			c = full;
		p = realloc(a->nblk ? a->blk[0] : NULL, (size_t)c * a->esize);
		if (p == NULL)
			return -1;
		a->blk[0] = p;
		a->nblk = 1;
		a->cap = c;
	}
	while (a->cap < need) {
		if (a->nblk == a->blkcap && arr_blkgrow(a) == -1)
			return -1;
		if ((p = malloc((size_t)full * a->esize)) == NULL)
			return -1;
		a->blk[a->nblk++] = p;
		a->cap += full;
	}
	return 0;
}

/*
 * Gives memory back after n went down.  A half-block of slack is kept
 * before freeing a block, so a count going back and forth across a
 * block boundary does not malloc and free a block each time.
 */
static void
arr_trim(struct rt_arr *a)
{
	uint32_t	 full = 1u << a->shift, c;
	unsigned char	*p;

	if (a->n == 0) {
		arr_free(a);
		return;
	}
	while (a->nblk > 1 && a->n + full / 2 <= (a->nblk - 1) * full) {
		free(a->blk[--a->nblk]);
		a->cap -= full;
	}
	if (a->nblk == 1 && a->cap > 2 && a->n <= a->cap / 4) {
		c = a->cap / 2;
		if ((p = realloc(a->blk[0], (size_t)c * a->esize)) != NULL) {
			a->blk[0] = p;
			a->cap = c;
		}
	}
}

static size_t
arr_bytes(const struct rt_arr *a)
{
	return (size_t)a->blkcap * sizeof(*a->blk) +
	    (size_t)a->cap * a->esize;
}

/* Hashing. */

static inline uint64_t
rt_mix(uint64_t k)
{
	k ^= k >> 31;
	k *= 0x9e3779b97f4a7c15ull;
	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ull;
	k ^= k >> 32;
	return k;
}

static inline uint64_t
rt_hkey(uint32_t prefix, uint8_t len)
{
	return rt_mix((uint64_t)len << 32 | prefix);
}

static inline struct rt_rec *
rec_at(const struct rtable *t, uint32_t i)
{
	return arr_at(&t->recs, i);
}

/*
 * Looks (prefix, len) up.  Returns 1 and its entry's position, or 0 and
 * the empty position where it would go.
 */
static int
rt_hfind(const struct rtable *t, uint32_t prefix, uint8_t len,
    uint32_t *pos)
{
	uint64_t	 h;
	uint32_t	 i, e, fp;
	struct rt_rec	*r;

	if (t->htab == NULL)
		return 0;
	h = rt_hkey(prefix, len);
	fp = (uint32_t)(h >> 56) << RT_IDXBITS;
	for (i = (uint32_t)h & t->hmask;; i = (i + 1) & t->hmask) {
		if ((e = t->htab[i]) == 0) {
			*pos = i;
			return 0;
		}
		if ((e & ~RT_IDXMASK) != fp)
			continue;
		r = rec_at(t, (e & RT_IDXMASK) - 1);
		if (r->prefix == prefix && r->len == len) {
			*pos = i;
			return 1;
		}
	}
}

/* Enters record idx, known to be absent; there is room. */
static void
rt_hput(struct rtable *t, uint32_t idx)
{
	const struct rt_rec *r = rec_at(t, idx);
	uint64_t	 h = rt_hkey(r->prefix, r->len);
	uint32_t	 i;

	for (i = (uint32_t)h & t->hmask; t->htab[i] != 0;
	    i = (i + 1) & t->hmask)
		;
	t->htab[i] = (uint32_t)(h >> 56) << RT_IDXBITS | (idx + 1);
}

/* Rebuilds the hash with cap entries (a power of two, room for all). */
static int
rt_hresize(struct rtable *t, uint32_t cap)
{
	uint32_t	*nt, *ot = t->htab;

	if ((nt = calloc(cap, sizeof(*nt))) == NULL)
		return -1;
	t->htab = nt;
	t->hmask = cap - 1;
	for (uint32_t i = 0; i < t->recs.n; i++)
		rt_hput(t, i);
	free(ot);
	return 0;
}

/* Grows the hash so that need entries stay under 70% load. */
static int
rt_hreserve(struct rtable *t, uint32_t need)
{
	uint32_t	 cap = t->htab ? t->hmask + 1 : 0;

	if ((uint64_t)need * 10 <= (uint64_t)cap * 7)
		return 0;
	if (cap == 0)
		cap = RT_HASH_MIN;
	while ((uint64_t)need * 10 > (uint64_t)cap * 7)
		cap *= 2;
	return rt_hresize(t, cap);
}

/* Removes the entry at pos, shifting back what probed past it. */
static void
rt_hdel(struct rtable *t, uint32_t pos)
{
	uint32_t	 m = t->hmask, i = pos, j = pos, e, home;
	struct rt_rec	*r;

	for (;;) {
		j = (j + 1) & m;
		if ((e = t->htab[j]) == 0)
			break;
		r = rec_at(t, (e & RT_IDXMASK) - 1);
		home = (uint32_t)rt_hkey(r->prefix, r->len) & m;
		/* e may fill the hole if the hole is on its probe path. */
		if (((j - home) & m) >= ((j - i) & m)) {
			t->htab[i] = e;
			i = j;
		}
	}
	t->htab[i] = 0;
}

/* Interned interface names. */

static uint32_t
if_hash(const char *name)
{
	uint32_t	 h = 2166136261u;

	for (size_t i = 0; i < ADDR_IFNAMSIZ && name[i] != '\0'; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return (uint32_t)rt_mix(h);
}

/* Returns the slot of name or -1, and its hash position or the free one. */
static long
if_find(const struct rt_iftab *f, const char *name, uint32_t *pos)
{
	uint32_t	 i, e;

	if (f->h == NULL)
		return -1;
	for (i = if_hash(name) & f->hmask;; i = (i + 1) & f->hmask) {
		if ((e = f->h[i]) == 0) {
			*pos = i;
			return -1;
		}
		if (strncmp(f->v[e - 1].name, name, ADDR_IFNAMSIZ) == 0) {
			*pos = i;
			return (long)e - 1;
		}
	}
}

static void
if_hput(struct rt_iftab *f, uint32_t x)
{
	uint32_t	 i;

	for (i = if_hash(f->v[x].name) & f->hmask; f->h[i] != 0;
	    i = (i + 1) & f->hmask)
		;
	f->h[i] = (uint16_t)(x + 1);
}

static int
if_hresize(struct rt_iftab *f, uint32_t cap)
{
	uint16_t	*nh, *oh = f->h;

	if ((nh = calloc(cap, sizeof(*nh))) == NULL)
		return -1;
	f->h = nh;
	f->hmask = cap - 1;
	for (uint32_t x = 0; x < f->n; x++)
		if (f->v[x].name[0] != '\0')
			if_hput(f, x);
	free(oh);
	return 0;
}

static void
if_free(struct rt_iftab *f)
{
	free(f->v);
	free(f->h);
	memset(f, 0, sizeof(*f));
}

/* A reference to name (checked by the caller); ENOMEM or ENOSPC. */
static int
if_acquire(struct rt_iftab *f, const char *name, uint16_t *ifx)
{
	struct rt_if	*v;
	uint32_t	 pos, x, c;
	long		 found;

	if ((found = if_find(f, name, &pos)) != -1) {
		f->v[found].ref++;
		*ifx = (uint16_t)found;
		return 0;
	}
	if (f->freeh == 0 && f->n == f->cap) {
		if (f->cap == RT_MAXIFS) {
			errno = ENOSPC;
			return -1;
		}
		c = f->cap ? f->cap * 2 : 4;
		if (c > RT_MAXIFS)
			c = RT_MAXIFS;
		if ((v = realloc(f->v, c * sizeof(*v))) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		f->v = v;
		f->cap = c;
	}
	c = f->h ? f->hmask + 1 : 0;
	if ((f->live + 1) * 2 > c) {
		c = c ? c * 2 : RT_IFHASH_MIN;
		if (if_hresize(f, c) == -1) {
			errno = ENOMEM;
			return -1;
		}
	}
	if (f->freeh != 0) {
		x = f->freeh - 1;
		f->freeh = f->v[x].ref;
	} else
		x = f->n++;
	memset(f->v[x].name, 0, sizeof(f->v[x].name));
	memcpy(f->v[x].name, name, strnlen(name, ADDR_IFNAMSIZ - 1));
	f->v[x].ref = 1;
	f->live++;
	if_hput(f, x);
	*ifx = (uint16_t)x;
	return 0;
}

static void
if_release(struct rt_iftab *f, uint16_t x)
{
	uint32_t	 m = f->hmask, i, j, e, home;

	if (--f->v[x].ref != 0)
		return;
	if (--f->live == 0) {
		if_free(f);
		return;
	}
	(void)if_find(f, f->v[x].name, &i);
	for (j = i;;) {
		j = (j + 1) & m;
		if ((e = f->h[j]) == 0)
			break;
		home = if_hash(f->v[e - 1].name) & m;
		if (((j - home) & m) >= ((j - i) & m)) {
			f->h[i] = (uint16_t)e;
			i = j;
		}
	}
	f->h[i] = 0;
	f->v[x].name[0] = '\0';
	f->v[x].ref = f->freeh;
	f->freeh = x + 1u;
}

/* The trie. */

static inline unsigned
rt_index(uint32_t a, int lv)
{
	return (a >> rt_shift[lv]) & ((1u << rt_bits[lv]) - 1);
}

static inline int
rt_home(uint8_t len)
{
	if (len <= 8)
		return 0;
	if (len <= 16)
		return 1;
	if (len <= 24)
		return 2;
	if (len <= 28)
		return 3;
	return 4;
}

static inline uint32_t *
rt_slots(struct rtable *t, int lv, uint32_t ci)
{
	return lv == 0 ? t->root : arr_at(&t->pool[lv], ci);
}

/* A chunk's metadata words: parent chunk, then parent slot << 16 | ref. */
#define RT_PCI(c, lv)	((c)[1u << rt_bits[lv]])
#define RT_PSREF(c, lv)	((c)[(1u << rt_bits[lv]) + 1])

/* Takes a reserved chunk of level lv, every slot set to fill. */
static uint32_t
rt_chunk_new(struct rtable *t, int lv, uint32_t pci, unsigned ps,
    uint32_t fill)
{
	uint32_t	 ci = t->pool[lv].n++, w = 1u << rt_bits[lv];
	uint32_t	*c = arr_at(&t->pool[lv], ci);

	for (uint32_t s = 0; s < w; s++)
		c[s] = fill;
	RT_PCI(c, lv) = pci;
	RT_PSREF(c, lv) = (uint32_t)ps << 16;
	return ci;
}

/* Frees chunk ci of level lv (no children) by moving the last one in. */
static void
rt_chunk_free(struct rtable *t, int lv, uint32_t ci)
{
	struct rt_arr	*a = &t->pool[lv];
	uint32_t	 last = a->n - 1, w = 1u << rt_bits[lv];
	uint32_t	*c, *k;

	if (ci != last) {
		c = arr_at(a, ci);
		memcpy(c, arr_at(a, last), a->esize);
		rt_slots(t, lv - 1, RT_PCI(c, lv))[RT_PSREF(c, lv) >> 16] =
		    RT_CHILD | ci;
		for (uint32_t s = 0; lv + 1 < RT_LEVELS && s < w; s++) {
			if (!(c[s] & RT_CHILD))
				continue;
			k = arr_at(&t->pool[lv + 1], c[s] & ~RT_CHILD);
			RT_PCI(k, lv + 1) = ci;
		}
	}
	a->n--;
	arr_trim(a);
}

/*
 * Drops one reference to chunk ci of level lv and folds away every
 * chunk on the way up that is left with none: such a chunk holds one
 * value in all its slots, the one its parent slot must take back.
 */
static void
rt_unref(struct rtable *t, int lv, uint32_t ci)
{
	uint32_t	*c, pci, v;
	unsigned	 ps;

	while (lv > 0) {
		c = rt_slots(t, lv, ci);
		if ((--RT_PSREF(c, lv) & 0xffff) != 0)
			return;
		v = c[0];
		pci = RT_PCI(c, lv);
		ps = RT_PSREF(c, lv) >> 16;
		rt_slots(t, lv - 1, pci)[ps] = v;
		rt_chunk_free(t, lv, ci);
		lv--;
		ci = pci;
	}
}

/*
 * Gives value v of a route of length len to slots [s, s + n) of chunk
 * ci of level lv and below, wherever no longer route holds them.
 */
static void
rt_push(struct rtable *t, int lv, uint32_t ci, unsigned s, unsigned n,
    uint32_t v, uint8_t len)
{
	uint32_t	*c = rt_slots(t, lv, ci), cur;

	for (; n > 0; s++, n--) {
		cur = c[s];
		if (cur & RT_CHILD)
			rt_push(t, lv + 1, cur & ~RT_CHILD, 0,
			    1u << rt_bits[lv + 1], v, len);
		else if (cur == 0 || RT_LEAFLEN(cur) < len)
			c[s] = v;
	}
}

/* Replaces value from with to in slots [s, s + n) of ci and below. */
static void
rt_swap(struct rtable *t, int lv, uint32_t ci, unsigned s, unsigned n,
    uint32_t from, uint32_t to)
{
	uint32_t	*c = rt_slots(t, lv, ci), cur;

	for (; n > 0; s++, n--) {
		cur = c[s];
		if (cur == from)
			c[s] = to;
		else if (cur & RT_CHILD)
			rt_swap(t, lv + 1, cur & ~RT_CHILD, 0,
			    1u << rt_bits[lv + 1], from, to);
	}
}

/* The chunk a route of this prefix and home level lives in; it exists. */
static uint32_t
rt_descend(struct rtable *t, uint32_t prefix, int home)
{
	uint32_t	 ci = 0;

	for (int lv = 0; lv < home; lv++)
		ci = rt_slots(t, lv, ci)[rt_index(prefix, lv)] & ~RT_CHILD;
	return ci;
}

/* Chunks an insert of prefix at level home needs, per level. */
static void
rt_need(struct rtable *t, uint32_t prefix, int home, int need[RT_LEVELS])
{
	uint32_t	 ci = 0, v;
	int		 lv;

	for (lv = 0; lv < RT_LEVELS; lv++)
		need[lv] = 0;
	for (lv = 0; lv < home; lv++) {
		v = rt_slots(t, lv, ci)[rt_index(prefix, lv)];
		if (!(v & RT_CHILD))
			break;
		ci = v & ~RT_CHILD;
	}
	for (lv++; lv <= home; lv++)
		need[lv] = 1;
}

/* Puts record idx in the trie; the chunks it needs are reserved. */
static void
rt_trie_add(struct rtable *t, uint32_t idx)
{
	const struct rt_rec *r = rec_at(t, idx);
	uint32_t	 prefix = r->prefix, ci = 0, v, *c;
	uint8_t		 len = r->len;
	int		 home = rt_home(len), lv;
	unsigned	 s;

	if (len == 0) {
		t->dflt = RT_LEAF(idx, 0);
		return;
	}
	for (lv = 0; lv < home; lv++) {
		s = rt_index(prefix, lv);
		c = rt_slots(t, lv, ci);
		if (!((v = c[s]) & RT_CHILD)) {
			v = RT_CHILD | rt_chunk_new(t, lv + 1, ci, s, v);
			c[s] = v;
			if (lv > 0)
				RT_PSREF(c, lv)++;
		}
		ci = v & ~RT_CHILD;
	}
	if (home > 0)
		RT_PSREF(rt_slots(t, home, ci), home)++;
	rt_push(t, home, ci, rt_index(prefix, home),
	    1u << (rt_end[home] - len), RT_LEAF(idx, len), len);
}

static void
rt_export(const struct rtable *t, const struct rt_rec *r,
    struct addr_route *out)
{
	memset(out, 0, sizeof(*out));
	out->dst.addr = r->prefix;
	out->dst.len = r->len;
	out->gw = r->gw;
	out->has_gw = r->has_gw;
	memcpy(out->ifname, t->ifs.v[r->ifx].name, ADDR_IFNAMSIZ);
}

/* Public interface. */

struct rtable *
rtable_new(void)
{
	struct rtable	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	arr_init(&t->pool[1], RT_BIG_ES, RT_BIG_SH);
	arr_init(&t->pool[2], RT_BIG_ES, RT_BIG_SH);
	arr_init(&t->pool[3], RT_SMALL_ES, RT_SMALL_SH);
	arr_init(&t->pool[4], RT_SMALL_ES, RT_SMALL_SH);
	arr_init(&t->recs, RT_REC_ES, RT_REC_SH);
	return t;
}

void
rtable_clear(struct rtable *t)
{
	for (int lv = 1; lv < RT_LEVELS; lv++)
		arr_free(&t->pool[lv]);
	arr_free(&t->recs);
	free(t->htab);
	t->htab = NULL;
	t->hmask = 0;
	if_free(&t->ifs);
	memset(t->root, 0, sizeof(t->root));
	t->dflt = 0;
	memset(t->lencnt, 0, sizeof(t->lencnt));
}

void
rtable_free(struct rtable *t)
{
	int	 saved = errno;

	if (t == NULL)
		return;
	rtable_clear(t);
	free(t);
	errno = saved;
}

static int
rt_insert(struct rtable *t, const struct addr_route *r)
{
	struct rt_rec	*rec;
	uint32_t	 idx, n = t->recs.n;
	uint16_t	 ifx;
	int		 need[RT_LEVELS], home = rt_home(r->dst.len);

	if (n >= RT_MAXROUTES) {
		errno = ENOSPC;
		return -1;
	}
	/* Everything that can fail comes first: ENOMEM changes nothing. */
	rt_need(t, r->dst.addr, home, need);
	for (int lv = 1; lv < RT_LEVELS; lv++) {
		if (need[lv] &&
		    arr_reserve(&t->pool[lv], t->pool[lv].n + 1) == -1)
			goto nomem;
	}
	if (arr_reserve(&t->recs, n + 1) == -1 || rt_hreserve(t, n + 1) == -1)
		goto nomem;
	if (if_acquire(&t->ifs, r->ifname, &ifx) == -1)
		return -1;

	idx = t->recs.n++;
	rec = rec_at(t, idx);
	rec->prefix = r->dst.addr;
	rec->len = r->dst.len;
	rec->gw = r->gw;
	rec->has_gw = r->has_gw;
	rec->ifx = ifx;
	rt_hput(t, idx);
	t->lencnt[r->dst.len]++;
	rt_trie_add(t, idx);
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

int
rtable_set(struct rtable *t, const struct addr_route *r,
    enum rtable_mode mode, struct addr_route *old, int *replaced)
{
	struct rt_rec	*rec;
	uint32_t	 pos;
	uint16_t	 ifx;

	if (replaced != NULL)
		*replaced = 0;
	if (addr_route_valid(r, NULL) == -1 || (mode != RTABLE_ADD &&
	    mode != RTABLE_CHANGE && mode != RTABLE_REPLACE)) {
		errno = EINVAL;
		return -1;
	}
	if (!rt_hfind(t, r->dst.addr, r->dst.len, &pos)) {
		if (mode == RTABLE_CHANGE) {
			errno = ENOENT;
			return -1;
		}
		return rt_insert(t, r);
	}
	if (mode == RTABLE_ADD) {
		errno = EEXIST;
		return -1;
	}
	/* In place: the trie holds the record index, which stays. */
	if (if_acquire(&t->ifs, r->ifname, &ifx) == -1)
		return -1;
	rec = rec_at(t, (t->htab[pos] & RT_IDXMASK) - 1);
	if (old != NULL)
		rt_export(t, rec, old);
	if_release(&t->ifs, rec->ifx);
	rec->gw = r->gw;
	rec->has_gw = r->has_gw;
	rec->ifx = ifx;
	if (replaced != NULL)
		*replaced = 1;
	return 0;
}

int
rtable_del(struct rtable *t, const struct addr_prefix *dst,
    struct addr_route *old)
{
	struct rt_rec	*rec, *lrec;
	uint32_t	 pos, p, idx, last, repl = 0, cap;
	uint8_t		 len;
	int		 home;

	if (addr_prefix_valid(dst, NULL) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (!rt_hfind(t, dst->addr, dst->len, &pos)) {
		errno = ENOENT;
		return -1;
	}
	idx = (t->htab[pos] & RT_IDXMASK) - 1;
	rec = rec_at(t, idx);
	if (old != NULL)
		rt_export(t, rec, old);

	/*
	 * The trie falls back to the longest shorter route covering dst
	 * (the default route lives outside the trie: not a candidate).
	 */
	for (len = dst->len; len-- > 1;) {
		if (t->lencnt[len] != 0 && rt_hfind(t,
		    dst->addr & addr_prefix_mask(len), len, &p)) {
			repl = RT_LEAF((t->htab[p] & RT_IDXMASK) - 1, len);
			break;
		}
	}
	home = rt_home(dst->len);
	if (dst->len == 0)
		t->dflt = 0;
	else {
		rt_swap(t, home, rt_descend(t, dst->addr, home),
		    rt_index(dst->addr, home), 1u << (rt_end[home] - dst->len),
		    RT_LEAF(idx, dst->len), repl);
		rt_unref(t, home, rt_descend(t, dst->addr, home));
	}

	t->lencnt[dst->len]--;
	if_release(&t->ifs, rec->ifx);
	rt_hdel(t, pos);

	/* Keep the records dense: the last one takes the hole. */
	last = t->recs.n - 1;
	if (idx != last) {
		lrec = rec_at(t, last);
		if (rt_hfind(t, lrec->prefix, lrec->len, &p))
			t->htab[p] = (t->htab[p] & ~RT_IDXMASK) | (idx + 1);
		home = rt_home(lrec->len);
		if (lrec->len == 0)
			t->dflt = RT_LEAF(idx, 0);
		else
			rt_swap(t, home, rt_descend(t, lrec->prefix, home),
			    rt_index(lrec->prefix, home),
			    1u << (rt_end[home] - lrec->len),
			    RT_LEAF(last, lrec->len), RT_LEAF(idx, lrec->len));
		*rec = *lrec;
	}
	t->recs.n--;
	arr_trim(&t->recs);

	cap = t->hmask + 1;
	if (t->recs.n == 0) {
		free(t->htab);
		t->htab = NULL;
		t->hmask = 0;
	} else if (cap > RT_HASH_MIN && (uint64_t)t->recs.n * 100 < cap * 15ull)
		(void)rt_hresize(t, cap / 2);	/* failing is harmless */
	return 0;
}

int
rtable_find(const struct rtable *t, const struct addr_prefix *dst,
    struct addr_route *out)
{
	uint32_t	 pos;

	if (addr_prefix_valid(dst, NULL) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (!rt_hfind(t, dst->addr, dst->len, &pos)) {
		errno = ENOENT;
		return -1;
	}
	if (out != NULL)
		rt_export(t, rec_at(t, (t->htab[pos] & RT_IDXMASK) - 1), out);
	return 0;
}

/* One trie step with the level's element size and shift as constants. */
static inline uint32_t
rt_step(const struct rt_arr *a, size_t es, unsigned sh, uint32_t v,
    unsigned s)
{
	uint32_t	 ci = v & ~RT_CHILD;

	return ((const uint32_t *)(a->blk[ci >> sh] +
	    (size_t)(ci & ((1u << sh) - 1)) * es))[s];
}

int
rtable_lookup(const struct rtable *t, uint32_t a, struct addr_route *out)
{
	uint32_t	 v = t->root[a >> 24];

	if (v & RT_CHILD) {
		v = rt_step(&t->pool[1], RT_BIG_ES, RT_BIG_SH, v,
		    (a >> 16) & 0xff);
		if (v & RT_CHILD) {
			v = rt_step(&t->pool[2], RT_BIG_ES, RT_BIG_SH, v,
			    (a >> 8) & 0xff);
			if (v & RT_CHILD) {
				v = rt_step(&t->pool[3], RT_SMALL_ES,
				    RT_SMALL_SH, v, (a >> 4) & 0xf);
				if (v & RT_CHILD)
					v = rt_step(&t->pool[4], RT_SMALL_ES,
					    RT_SMALL_SH, v, a & 0xf);
			}
		}
	}
	if (v == 0 && (v = t->dflt) == 0) {
		errno = ENOENT;
		return -1;
	}
	if (out != NULL)
		rt_export(t, rec_at(t, (v & RT_IDXMASK) - 1), out);
	return 0;
}

size_t
rtable_count(const struct rtable *t)
{
	return t->recs.n;
}

size_t
rtable_memory(const struct rtable *t)
{
	size_t		 n = sizeof(*t) + arr_bytes(&t->recs);

	for (int lv = 1; lv < RT_LEVELS; lv++)
		n += arr_bytes(&t->pool[lv]);
	if (t->htab != NULL)
		n += ((size_t)t->hmask + 1) * sizeof(*t->htab);
	n += (size_t)t->ifs.cap * sizeof(*t->ifs.v);
	if (t->ifs.h != NULL)
		n += ((size_t)t->ifs.hmask + 1) * sizeof(*t->ifs.h);
	return n;
}

static int
rt_keycmp(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int
rtable_walk(const struct rtable *t, int sorted,
    int (*cb)(const struct addr_route *r, void *arg), void *arg)
{
	struct addr_route r;
	const struct rt_rec *rec;
	uint64_t	*keys;
	uint32_t	 i, n = t->recs.n;
	int		 rv = 0, saved;

	if (!sorted || n < 2) {
		for (i = 0; i < n; i++) {
			rt_export(t, rec_at(t, i), &r);
			if ((rv = cb(&r, arg)) != 0)
				return rv;
		}
		return 0;
	}
	/* Address, then length, then the record index riding along. */
	if ((keys = malloc((size_t)n * sizeof(*keys))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < n; i++) {
		rec = rec_at(t, i);
		keys[i] = (uint64_t)rec->prefix << 32 |
		    (uint64_t)rec->len << RT_IDXBITS | i;
	}
	qsort(keys, n, sizeof(*keys), rt_keycmp);
	for (i = 0; i < n; i++) {
		rt_export(t, rec_at(t, (uint32_t)keys[i] & RT_IDXMASK), &r);
		if ((rv = cb(&r, arg)) != 0)
			break;
	}
	saved = errno;
	free(keys);
	errno = saved;
	return rv;
}
