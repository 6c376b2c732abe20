/*
 * test_mactable.c: the MAC hash table: put/get/del semantics, growth
 * and shrinking with many entries, ordered and unordered walks, and a
 * randomized run against a direct-indexed model, which exercises
 * deletion inside probe clusters.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "mactable.h"
#include "testutil.h"

struct val {
	uint64_t	 tag;
	uint32_t	 ip;
	uint32_t	 gen;
	void		*ptr;
};

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t	 z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* MAC number i: spread over all six bytes, distinct for distinct i. */
static struct addr_mac
mac_of(uint32_t i)
{
	struct addr_mac	 m;

	m.b[0] = 0x02;
	m.b[1] = (uint8_t)(i >> 24);
	m.b[2] = (uint8_t)(i >> 16);
	m.b[3] = (uint8_t)(i >> 8);
	m.b[4] = (uint8_t)i;
	m.b[5] = (uint8_t)(i * 7);
	return m;
}

static struct addr_mac
mac_parse(const char *s)
{
	struct addr_mac	 m;

	CU_ASSERT_FATAL(addr_mac_parse(s, &m, NULL) == 0);
	return m;
}

static void
test_basic(void)
{
	struct mactable	*t = mactable_new(sizeof(struct val));
	struct addr_mac	 a = mac_parse("00:1a:2b:3c:4d:5e");
	struct addr_mac	 b = mac_parse("00:1a:2b:3c:4d:5f");
	struct val	*v, *w, out, zero;
	int		 created = -1;

	CU_ASSERT_FATAL(t != NULL);
	memset(&zero, 0, sizeof(zero));
	CU_ASSERT(mactable_count(t) == 0);
	CU_ASSERT(mactable_get(t, &a) == NULL && errno == ENOENT);
	CU_ASSERT(mactable_del(t, &a, &out) == -1 && errno == ENOENT);

	v = mactable_put(t, &a, &created);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT(created == 1);
	CU_ASSERT(memcmp(v, &zero, sizeof(zero)) == 0);
	CU_ASSERT((uintptr_t)v % _Alignof(struct val) == 0);
	v->tag = 0x1111;
	v->ip = 0x0a000001;
	v->ptr = &out;
	CU_ASSERT(mactable_count(t) == 1);

	/* A second put finds the same slot and keeps the value. */
	w = mactable_put(t, &a, &created);
	CU_ASSERT(w == v && created == 0);
	CU_ASSERT(w->tag == 0x1111 && w->ip == 0x0a000001);
	CU_ASSERT(mactable_put(t, &a, NULL) == v);
	CU_ASSERT(mactable_count(t) == 1);

	/* A MAC one bit away is another key. */
	CU_ASSERT(mactable_get(t, &b) == NULL && errno == ENOENT);
	w = mactable_put(t, &b, &created);
	CU_ASSERT_FATAL(w != NULL);
	CU_ASSERT(created == 1 && w->tag == 0);
	w->tag = 0x2222;
	CU_ASSERT(mactable_count(t) == 2);

	v = mactable_get(t, &a);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT(v->tag == 0x1111 && v->ptr == &out);
	CU_ASSERT(mactable_del(t, &a, &out) == 0);
	CU_ASSERT(out.tag == 0x1111 && out.ip == 0x0a000001);
	CU_ASSERT(mactable_count(t) == 1);
	CU_ASSERT(mactable_get(t, &a) == NULL && errno == ENOENT);
	CU_ASSERT(mactable_del(t, &a, NULL) == -1 && errno == ENOENT);
	w = mactable_get(t, &b);
	CU_ASSERT(w != NULL && w->tag == 0x2222);
	/* out may be NULL. */
	CU_ASSERT(mactable_del(t, &b, NULL) == 0);
	CU_ASSERT(mactable_count(t) == 0);

	/* Re-created entries start zeroed again. */
	v = mactable_put(t, &a, &created);
	CU_ASSERT(v != NULL && created == 1 && v->tag == 0);
	mactable_clear(t);
	CU_ASSERT(mactable_count(t) == 0);
	CU_ASSERT(mactable_get(t, &a) == NULL && errno == ENOENT);
	v = mactable_put(t, &a, &created);
	CU_ASSERT(v != NULL && created == 1);
	mactable_free(t);
	mactable_free(NULL);
}

/* Odd value sizes, including none at all. */
static void
test_value_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 3, 6, 40, 1000 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct mactable	*t = mactable_new(sizes[k]);
		unsigned char	 out[1000];
		int		 bad = 0, created;

		CU_ASSERT_FATAL(t != NULL);
		for (uint32_t i = 0; i < 300; i++) {
			struct addr_mac	 m = mac_of(i);
			unsigned char	*v = mactable_put(t, &m, &created);

			CU_ASSERT_FATAL(v != NULL);
			bad += created != 1;
			for (size_t j = 0; j < sizes[k]; j++)
				v[j] = (unsigned char)(i + j);
		}
		for (uint32_t i = 0; i < 300; i += 2) {
			struct addr_mac	 m = mac_of(i);

			memset(out, 0xee, sizeof(out));
			CU_ASSERT_FATAL(mactable_del(t, &m, out) == 0);
			for (size_t j = 0; j < sizes[k]; j++)
				bad += out[j] != (unsigned char)(i + j);
			/* Nothing past the value is written. */
			if (sizes[k] < sizeof(out))
				bad += out[sizes[k]] != 0xee;
		}
		for (uint32_t i = 0; i < 300; i++) {
			struct addr_mac	 m = mac_of(i);
			unsigned char	*v = mactable_get(t, &m);

			if (i % 2 == 0) {
				bad += v != NULL;
				continue;
			}
			if (v == NULL) {
				bad++;
				continue;
			}
			for (size_t j = 0; j < sizes[k]; j++)
				bad += v[j] != (unsigned char)(i + j);
		}
		CU_ASSERT(bad == 0);
		CU_ASSERT(mactable_count(t) == 150);
		mactable_free(t);
	}
}

struct walk_state {
	struct addr_mac	 last;
	size_t		 calls;
	int		 ordered;
	int		 bad;
	unsigned char	*seen;
	int		 stop_at;
};

static int
walk_cb(const struct addr_mac *mac, void *value, void *arg)
{
	struct walk_state *w = arg;
	struct val	*v = value;
	uint32_t	 i = (uint32_t)v->gen;
	struct addr_mac	 m = mac_of(i);

	if (w->ordered && w->calls > 0 && addr_mac_cmp(&w->last, mac) >= 0)
		w->bad++;
	if (addr_mac_cmp(&m, mac) != 0 || v->tag != (uint64_t)i * 3)
		w->bad++;
	if (w->seen[i]++ != 0)
		w->bad++;
	w->last = *mac;
	w->calls++;
	return w->stop_at != 0 && (int)w->calls == w->stop_at ? -5 : 0;
}

/* 100k entries: growth, every value intact, walks, shrinking. */
static void
test_many(void)
{
	enum { N = 100000 };
	struct mactable	*t = mactable_new(sizeof(struct val));
	struct walk_state w;
	int		 bad = 0, created;

	CU_ASSERT_FATAL(t != NULL);
	memset(&w, 0, sizeof(w));
	CU_ASSERT_FATAL((w.seen = calloc(N, 1)) != NULL);
	CU_ASSERT(mactable_walk(t, 1, walk_cb, &w) == 0 && w.calls == 0);
	for (uint32_t i = 0; i < N; i++) {
		struct addr_mac	 m = mac_of(i);
		struct val	*v = mactable_put(t, &m, &created);

		CU_ASSERT_FATAL(v != NULL);
		bad += created != 1;
		v->tag = (uint64_t)i * 3;
		v->gen = i;
	}
	CU_ASSERT(mactable_count(t) == N);
	for (uint32_t i = 0; i < N; i++) {
		struct addr_mac	 m = mac_of(i);
		struct val	*v = mactable_get(t, &m);

		bad += v == NULL || v->tag != (uint64_t)i * 3 || v->gen != i;
	}
	CU_ASSERT(bad == 0);

	w.ordered = 1;
	CU_ASSERT(mactable_walk(t, 1, walk_cb, &w) == 0);
	CU_ASSERT(w.calls == N && w.bad == 0);
	memset(w.seen, 0, N);
	memset(&w.last, 0, sizeof(w.last));
	w.calls = 0;
	w.ordered = 0;
	CU_ASSERT(mactable_walk(t, 0, walk_cb, &w) == 0);
	CU_ASSERT(w.calls == N && w.bad == 0);
	/* A non-zero return stops the walk and comes back. */
	for (int sorted = 0; sorted < 2; sorted++) {
		memset(w.seen, 0, N);
		w.calls = 0;
		w.ordered = sorted;
		w.stop_at = 10;
		CU_ASSERT(mactable_walk(t, sorted, walk_cb, &w) == -5);
		CU_ASSERT(w.calls == 10 && w.bad == 0);
	}

	/* Delete all but every 1000th: the rest stays reachable. */
	for (uint32_t i = 0; i < N; i++) {
		struct addr_mac	 m = mac_of(i);
		struct val	 out;

		if (i % 1000 == 0)
			continue;
		bad += mactable_del(t, &m, &out) != 0 || out.gen != i;
	}
	CU_ASSERT(mactable_count(t) == N / 1000);
	for (uint32_t i = 0; i < N; i++) {
		struct addr_mac	 m = mac_of(i);
		struct val	*v = mactable_get(t, &m);

		if (i % 1000 == 0)
			bad += v == NULL || v->gen != i;
		else
			bad += v != NULL;
	}
	CU_ASSERT(bad == 0);
	free(w.seen);
	mactable_free(t);
}

/*
 * Random put/get/del over a small key space against a model indexed by
 * key number.  The key space is small and the table stays near its
 * 70% growth threshold, so clusters are long and most deletions shift
 * entries back.  Half the keys differ only in their last byte.
 */
static void
test_random_model(void)
{
	enum { KEYS = 3000, OPS = 200000 };
	struct mactable	*t = mactable_new(sizeof(struct val));
	struct addr_mac	 keys[KEYS];
	struct val	 model[KEYS];
	unsigned char	 present[KEYS];
	size_t		 count = 0;
	int		 bad = 0, created;

	CU_ASSERT_FATAL(t != NULL);
	rng_state = 0xabcdef;
	memset(present, 0, sizeof(present));
	for (uint32_t i = 0; i < KEYS; i++) {
		if (i < KEYS / 2) {
			keys[i] = mac_parse("52:54:00:12:34:00");
			keys[i].b[5] = (uint8_t)i;
			keys[i].b[4] = (uint8_t)(0x34 + (i >> 8));
		} else
			keys[i] = mac_of(i * 2654435761u);
	}
	for (int op = 0; op < OPS; op++) {
		uint32_t	 k = (uint32_t)(rng() % KEYS);
		uint32_t	 dice = (uint32_t)(rng() % 100);
		struct val	*v, out;

		if (dice < 40) {
			v = mactable_put(t, &keys[k], &created);
			if (v == NULL) {
				bad++;
				continue;
			}
			if (present[k]) {
				bad += created != 0 ||
				    memcmp(v, &model[k], sizeof(*v)) != 0;
			} else {
				bad += created != 1 || v->tag != 0 ||
				    v->ptr != NULL;
				present[k] = 1;
				count++;
			}
			v->tag = rng();
			v->ip = (uint32_t)op;
			v->gen = k;
			v->ptr = NULL;
			model[k] = *v;
		} else if (dice < 75) {
			int	 rc = mactable_del(t, &keys[k], &out);

			if (present[k]) {
				bad += rc != 0 ||
				    memcmp(&out, &model[k], sizeof(out)) != 0;
				present[k] = 0;
				count--;
			} else
				bad += rc != -1 || errno != ENOENT;
		} else {
			v = mactable_get(t, &keys[k]);
			if (present[k])
				bad += v == NULL ||
				    memcmp(v, &model[k], sizeof(*v)) != 0;
			else
				bad += v != NULL || errno != ENOENT;
		}
		bad += mactable_count(t) != count;
		/* Now and then everything, present or not. */
		if (op % 20000 == 0) {
			for (uint32_t i = 0; i < KEYS; i++) {
				v = mactable_get(t, &keys[i]);
				bad += present[i] ? v == NULL || memcmp(v,
				    &model[i], sizeof(*v)) != 0 : v != NULL;
			}
		}
	}
	CU_ASSERT(bad == 0);
	/* Drain it: shrinking on the way down keeps everything. */
	for (uint32_t i = 0; i < KEYS; i++) {
		struct val	 out;

		if (!present[i])
			continue;
		bad += mactable_del(t, &keys[i], &out) != 0 ||
		    memcmp(&out, &model[i], sizeof(out)) != 0;
		present[i] = 0;
		if (i % 97 == 0) {
			for (uint32_t j = i + 1; j < KEYS; j++) {
				struct val *v = mactable_get(t, &keys[j]);

				bad += present[j] ? v == NULL || memcmp(v,
				    &model[j], sizeof(*v)) != 0 : v != NULL;
			}
		}
	}
	CU_ASSERT(bad == 0);
	CU_ASSERT(mactable_count(t) == 0);
	mactable_free(t);
}

static const struct tu_test mactable_tests[] = {
	{ "basic", test_basic },
	{ "value_sizes", test_value_sizes },
	{ "many", test_many },
	{ "random_model", test_random_model },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "mactable", mactable_tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
