/*
 * test_rtable_nomem.c: the route table when memory runs out.
 *
 * rtable.h promises that ENOMEM leaves the table unchanged.  This
 * program builds ipc/rtable.c itself with its allocation calls routed
 * through a counter that fails the k-th one, and runs every operation
 * of a long random program with k = 0, 1, 2 ... until it goes
 * through: after each failure the table must still hold exactly what
 * a brute-force model holds (finds and lookups), and the operation
 * must then succeed and match the model.  The program fills one /16
 * past what a palette chunk holds, so the chunk's widening is among
 * the allocations that fail.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Allocations allowed before one fails; -1: none fails. */
static long	nm_left = -1;
static int	nm_failed;

static int
nm_fail(void)
{
	if (nm_left < 0)
		return 0;
	if (nm_left == 0) {
		nm_failed = 1;
		return 1;
	}
	nm_left--;
	return 0;
}

static void *
nm_malloc(size_t n)
{
	if (nm_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return malloc(n);
}

static void *
nm_calloc(size_t n, size_t size)
{
	if (nm_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return calloc(n, size);
}

static void *
nm_realloc(void *p, size_t n)
{
	if (nm_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n);
}

static int
nm_posix_memalign(void **p, size_t align, size_t n)
{
	if (nm_fail())
		return ENOMEM;
	return posix_memalign(p, align, n);
}

#define malloc(n)		nm_malloc(n)
#define calloc(n, s)		nm_calloc(n, s)
#define realloc(p, n)		nm_realloc(p, n)
#define posix_memalign(p, a, n)	nm_posix_memalign(p, a, n)
#include "rtable.c"
#undef malloc
#undef calloc
#undef realloc
#undef posix_memalign

#define MAXR	400		/* routes at most in the program's table */

static int
lookup_agrees(struct rtable *t, const struct tu_ref *m, uint32_t a)
{
	const struct addr_route *best = tu_ref_lookup(m, a);
	struct addr_route got;
	int		 rc = rtable_lookup(t, a, &got);

	return best == NULL ? rc == -1 : rc == 0 && tu_route_eq(&got, best);
}

/* Whether t holds exactly m: every route found, every edge looked up. */
static int
agrees(struct rtable *t, const struct tu_ref *m)
{
	struct addr_route got;

	if (rtable_count(t) != m->n)
		return 0;
	for (size_t i = 0; i < m->n; i++) {
		uint32_t lo = m->v[i].dst.addr;
		uint32_t hi = lo | ~addr_prefix_mask(m->v[i].dst.len);

		if (rtable_find(t, &m->v[i].dst, &got) != 0 ||
		    !tu_route_eq(&got, &m->v[i]) ||
		    !lookup_agrees(t, m, lo) || !lookup_agrees(t, m, hi) ||
		    !lookup_agrees(t, m, hi + 1))
			return 0;
	}
	return 1;
}

/* Mostly in 10.1/16 (past a palette's 31 values), some in 10.2/16 and
 * above them, a few anywhere. */
static struct addr_route
program_route(uint64_t *rs)
{
	static const uint8_t lens[] = { 8, 12, 16, 17, 20, 23, 24, 24, 24, 24,
	    24, 24, 25, 27, 28, 30, 32 };
	struct addr_route r;
	uint64_t	 x = tu_rnd(rs);
	uint32_t	 a;

	memset(&r, 0, sizeof(r));
	r.dst.len = lens[x % NELEM(lens)];
	switch (x >> 8 & 7) {
	case 0:
		a = (uint32_t)(x >> 32);
		break;
	case 1:
	case 2:
		a = IP(10, 2, 0, 0) | (uint32_t)(x >> 32 & 0xffff);
		break;
	default:
		a = IP(10, 1, 0, 0) | (uint32_t)(x >> 32 & 0xffff);
		break;
	}
	r.dst.addr = a & addr_prefix_mask(r.dst.len);
	r.has_gw = 1;
	r.gw = IP(10, 255, 0, 1 + (uint32_t)(x >> 16 & 3));
	snprintf(r.ifname, sizeof(r.ifname), "eth%u", (unsigned)(x >> 20 & 3));
	return r;
}

static void
test_nomem_changes_nothing(void)
{
	struct tu_ref	 m = { NULL, 0, 0 };
	struct rtable	*t = rtable_new();
	uint64_t	 rs = 0x6e6f6d656dULL;
	unsigned	 failures = 0, bad = 0, wide_seen = 0;
	size_t		 empty;

	CU_ASSERT_FATAL(t != NULL);
	empty = rtable_memory(t);
	for (int op = 0; op < 4000; op++) {
		struct addr_route r = program_route(&rs);
		long		 k = tu_ref_find(&m, &r.dst);
		int		 del = m.n >= MAXR - 1 || (m.n > 0 &&
		    tu_rnd(&rs) % 4 == 0);
		int		 rc;

		if (del) {
			k = (long)(tu_rnd(&rs) % m.n);
			r = m.v[k];
		}
		for (long budget = 0;; budget++) {
			nm_left = budget;
			nm_failed = 0;
			rc = del ? rtable_del(t, &r.dst, NULL) :
			    rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL);
			nm_left = -1;
			if (rc == 0)
				break;
			failures++;
			/* Only a failed allocation may fail it, and then
			 * nothing changed. */
			if (!nm_failed || errno != ENOMEM || !agrees(t, &m)) {
				bad++;
				break;
			}
		}
		if (rc != 0)
			break;
		if (del)
			tu_ref_del(&m, k);
		else
			tu_ref_put(&m, &r);
		if (t->pool[2].n > 0)
			wide_seen = 1;
		if (op % 50 == 0)
			bad += !agrees(t, &m);
		/* Emptied now and then, so memory is given back and taken
		 * again: more allocations to fail. */
		if (op % 800 == 400) {
			while (m.n > 0) {
				bad += rtable_del(t, &m.v[m.n - 1].dst,
				    NULL) != 0;
				tu_ref_del(&m, (long)m.n - 1);
			}
			bad += rtable_memory(t) != empty;
		}
	}
	CU_ASSERT(bad == 0);
	CU_ASSERT(agrees(t, &m));
	/* The program exercised what it is for. */
	CU_ASSERT(failures > 200);
	CU_ASSERT(wide_seen);
	if (bad)
		fprintf(stderr, "nomem: %u bad after %u failures\n", bad,
		    failures);
	free(m.v);
	rtable_free(t);
}

static const struct tu_test nomem_tests[] = {
	{ "changes_nothing", test_nomem_changes_nothing },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "rtable_nomem", nomem_tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
