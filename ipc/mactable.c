/*
 * mactable.c: hash table from MAC address to a fixed-size value stored
 * inline (the ARP table of rtm and of the client library).
 *
 * Open addressing with linear probing over a power-of-two capacity,
 * kept between 1/8 and 7/10 full.  Keys and values sit in two parallel
 * arrays: probing reads only the 8-byte keys, and values keep the
 * alignment malloc gives (value_size is the size of the caller's type,
 * so a multiple of its alignment).  A key is the MAC as a 48-bit
 * big-endian number plus a "used" bit, so 0 means empty and comparing
 * keys as numbers orders them as addr_mac_cmp() does.  Deletion shifts
 * back the entries that probed past the hole instead of leaving
 * tombstones, so lookups never slow down with churn.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mactable.h"

#define MT_USED		(1ull << 48)
#define MT_MIN		8

struct mactable {
	uint64_t	*keys;		/* 0: empty */
	unsigned char	*vals;
	size_t		 vsize;		/* value size as given */
	size_t		 stride;	/* vsize, at least 1 */
	size_t		 mask;		/* capacity - 1 when keys != NULL */
	size_t		 count;
};

static uint64_t
mt_key(const struct addr_mac *m)
{
	uint64_t	 k = 0;

	for (int i = 0; i < ADDR_MAC_LEN; i++)
		k = k << 8 | m->b[i];
	return k | MT_USED;
}

static void
mt_mac(uint64_t k, struct addr_mac *m)
{
	for (int i = ADDR_MAC_LEN - 1; i >= 0; i--) {
		m->b[i] = (uint8_t)k;
		k >>= 8;
	}
}

static size_t
mt_hash(uint64_t k)
{
	k ^= k >> 31;
	k *= 0x9e3779b97f4a7c15ull;
	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ull;
	k ^= k >> 32;
	return (size_t)k;
}

static inline void *
mt_val(const struct mactable *t, size_t i)
{
	return t->vals + i * t->stride;
}

/* Position of key k, or of the empty slot where it would go. */
static int
mt_find(const struct mactable *t, uint64_t k, size_t *pos)
{
	size_t		 i;

	if (t->keys == NULL)
		return 0;
	for (i = mt_hash(k) & t->mask;; i = (i + 1) & t->mask) {
		if (t->keys[i] == k) {
			*pos = i;
			return 1;
		}
		if (t->keys[i] == 0) {
			*pos = i;
			return 0;
		}
	}
}

/* Moves everything into a table of cap slots (a power of two). */
static int
mt_resize(struct mactable *t, size_t cap)
{
	uint64_t	*nk, *ok = t->keys;
	unsigned char	*nv, *ov = t->vals;
	size_t		 ocap = ok ? t->mask + 1 : 0, i, j;

	if (cap > SIZE_MAX / t->stride) {
		errno = ENOMEM;
		return -1;
	}
	if ((nk = calloc(cap, sizeof(*nk))) == NULL)
		return -1;
	if ((nv = malloc(cap * t->stride)) == NULL) {
		free(nk);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < ocap; i++) {
		if (ok[i] == 0)
			continue;
		for (j = mt_hash(ok[i]) & (cap - 1); nk[j] != 0;
		    j = (j + 1) & (cap - 1))
			;
		nk[j] = ok[i];
		memcpy(nv + j * t->stride, ov + i * t->stride, t->stride);
	}
	free(ok);
	free(ov);
	t->keys = nk;
	t->vals = nv;
	t->mask = cap - 1;
	return 0;
}

struct mactable *
mactable_new(size_t value_size)
{
	struct mactable	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->vsize = value_size;
	t->stride = value_size ? value_size : 1;
	return t;
}

void
mactable_clear(struct mactable *t)
{
	free(t->keys);
	free(t->vals);
	t->keys = NULL;
	t->vals = NULL;
	t->mask = 0;
	t->count = 0;
}

void
mactable_free(struct mactable *t)
{
	int	 saved = errno;

	if (t == NULL)
		return;
	mactable_clear(t);
	free(t);
	errno = saved;
}

void *
mactable_get(const struct mactable *t, const struct addr_mac *mac)
{
	size_t		 pos;

	if (!mt_find(t, mt_key(mac), &pos)) {
		errno = ENOENT;
		return NULL;
	}
	return mt_val(t, pos);
}

void *
mactable_put(struct mactable *t, const struct addr_mac *mac, int *created)
{
	uint64_t	 k = mt_key(mac);
	size_t		 pos = 0, cap;

	if (created != NULL)
		*created = 0;
	if (mt_find(t, k, &pos))
		return mt_val(t, pos);
	cap = t->keys ? t->mask + 1 : 0;
	if ((t->count + 1) * 10 > cap * 7) {
		cap = cap ? cap * 2 : MT_MIN;
		if (cap == 0 || mt_resize(t, cap) == -1) {
			errno = ENOMEM;
			return NULL;
		}
		(void)mt_find(t, k, &pos);
	}
	t->keys[pos] = k;
	memset(mt_val(t, pos), 0, t->stride);
	t->count++;
	if (created != NULL)
		*created = 1;
	return mt_val(t, pos);
}

int
mactable_del(struct mactable *t, const struct addr_mac *mac, void *out)
{
	size_t		 i, j, home, m = t->mask, cap;

	if (!mt_find(t, mt_key(mac), &i)) {
		errno = ENOENT;
		return -1;
	}
	if (out != NULL && t->vsize != 0)
		memcpy(out, mt_val(t, i), t->vsize);
	for (j = i;;) {
		j = (j + 1) & m;
		if (t->keys[j] == 0)
			break;
		home = mt_hash(t->keys[j]) & m;
		/* The entry at j may fill the hole if the hole is on its path. */
		if (((j - home) & m) >= ((j - i) & m)) {
			t->keys[i] = t->keys[j];
			memcpy(mt_val(t, i), mt_val(t, j), t->stride);
			i = j;
		}
	}
	t->keys[i] = 0;
	t->count--;
	cap = m + 1;
	if (t->count == 0)
		mactable_clear(t);
	else if (cap > MT_MIN && t->count < cap / 8)
		(void)mt_resize(t, cap / 2);	/* failing is harmless */
	return 0;
}

size_t
mactable_count(const struct mactable *t)
{
	return t->count;
}

static int
mt_paircmp(const void *a, const void *b)
{
	const uint64_t	*x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

int
mactable_walk(const struct mactable *t, int sorted,
    int (*cb)(const struct addr_mac *mac, void *value, void *arg), void *arg)
{
	struct addr_mac	 mac;
	uint64_t	*pairs;
	size_t		 i, n = 0, cap = t->keys ? t->mask + 1 : 0;
	int		 rv = 0, saved;

	if (!sorted || t->count < 2) {
		for (i = 0; i < cap; i++) {
			if (t->keys[i] == 0)
				continue;
			mt_mac(t->keys[i], &mac);
			if ((rv = cb(&mac, mt_val(t, i), arg)) != 0)
				return rv;
		}
		return 0;
	}
	/* (key, position) pairs; the keys are unique, so qsort suffices. */
	if ((pairs = calloc(t->count, 2 * sizeof(*pairs))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < cap; i++) {
		if (t->keys[i] != 0) {
			pairs[2 * n] = t->keys[i];
			pairs[2 * n + 1] = i;
			n++;
		}
	}
	qsort(pairs, n, 2 * sizeof(*pairs), mt_paircmp);
	for (i = 0; i < n; i++) {
		mt_mac(pairs[2 * i], &mac);
		if ((rv = cb(&mac, mt_val(t, (size_t)pairs[2 * i + 1]),
		    arg)) != 0)
			break;
	}
	saved = errno;
	free(pairs);
	errno = saved;
	return rv;
}
