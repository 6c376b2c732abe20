/*
 * fuzz_rtable.c: libFuzzer target for the route table.
 *
 * The input is a program of table operations, 4 bytes each: an opcode
 * (set in one of the three modes, delete, find), the prefix length, and
 * 16 address bits.  Most prefixes fall in one of two /16s, so level-2
 * chunks fill past what a palette holds, widen, lose routes and fold;
 * the rest anywhere, around routes short enough to cover those /16s.
 * Every result is checked against a brute-force model, every lookup
 * near the changed prefix after each operation, every route's edges at
 * the end; and the emptied table must hold no more memory than a new
 * one.  Any disagreement aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "rtable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXROUTES	512

struct model {
	struct addr_route	 v[MAXROUTES];
	size_t			 n;
};

static struct model m;

static long
model_find(const struct addr_prefix *p)
{
	for (size_t i = 0; i < m.n; i++)
		if (m.v[i].dst.addr == p->addr && m.v[i].dst.len == p->len)
			return (long)i;
	return -1;
}

static const struct addr_route *
model_lookup(uint32_t a)
{
	const struct addr_route *best = NULL;

	for (size_t i = 0; i < m.n; i++)
		if ((a & addr_prefix_mask(m.v[i].dst.len)) == m.v[i].dst.addr &&
		    (best == NULL || m.v[i].dst.len > best->dst.len))
			best = &m.v[i];
	return best;
}

static int
same(const struct addr_route *a, const struct addr_route *b)
{
	return a->dst.addr == b->dst.addr && a->dst.len == b->dst.len &&
	    a->has_gw == b->has_gw && (!a->has_gw || a->gw == b->gw) &&
	    strncmp(a->ifname, b->ifname, ADDR_IFNAMSIZ) == 0;
}

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_rtable: %s disagrees with the model\n",
		    what);
		abort();
	}
}

static void
check_lookup(const struct rtable *t, uint32_t a)
{
	const struct addr_route *want = model_lookup(a);
	struct addr_route got;
	int		 rc = rtable_lookup(t, a, &got);

	check(want == NULL ? rc == -1 && errno == ENOENT :
	    rc == 0 && same(&got, want), "lookup");
}

static void
check_around(const struct rtable *t, const struct addr_prefix *p)
{
	uint32_t	 lo = p->addr, hi = lo | ~addr_prefix_mask(p->len);

	check_lookup(t, lo);
	check_lookup(t, hi);
	check_lookup(t, lo - 1);
	check_lookup(t, hi + 1);
	check_lookup(t, lo + (hi - lo) / 2);
}

/* One operation's prefix: in 10.1/16, in 192.168/16, or anywhere. */
static struct addr_prefix
decode_prefix(uint8_t op, uint8_t len, uint16_t low)
{
	static const uint32_t hot[] = { 0x0a010000, 0xc0a80000 };
	struct addr_prefix p;

	p.len = len % 33;
	switch (op >> 6) {
	case 0:
	case 1:
		p.addr = hot[op >> 6] | low;
		break;
	case 2:
		/* Above the /16s: a short route covering one of them. */
		p.addr = hot[low & 1] ^ ((uint32_t)low << 16 & 0xff000000);
		break;
	default:
		p.addr = (uint32_t)low << 16 | low;
		break;
	}
	p.addr &= addr_prefix_mask(p.len);
	return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t	 empty;
	struct rtable	*t;
	size_t		 i;

	if ((t = rtable_new()) == NULL)
		return 0;
	if (empty == 0)
		empty = rtable_memory(t);
	m.n = 0;
	for (i = 0; i + 4 <= size; i += 4) {
		struct addr_route r, old;
		struct addr_prefix p = decode_prefix(data[i], data[i + 1],
		    (uint16_t)(data[i + 2] << 8 | data[i + 3]));
		long		 k = model_find(&p);
		int		 rc, replaced = -1;

		memset(&r, 0, sizeof(r));
		r.dst = p;
		r.has_gw = (data[i] >> 3) & 1;
		r.gw = r.has_gw ? 0x0afe0001u + (data[i + 3] & 3) : 0;
		snprintf(r.ifname, sizeof(r.ifname), "eth%u", data[i] >> 4 & 3);
		switch (data[i] & 7) {
		case 0:
		case 1:
		case 2:
			if (k < 0 && m.n == MAXROUTES)
				break;
			rc = rtable_set(t, &r, (enum rtable_mode)(data[i] & 7),
			    &old, &replaced);
			if (k >= 0 && (data[i] & 7) == RTABLE_ADD)
				check(rc == -1 && errno == EEXIST, "add");
			else if (k < 0 && (data[i] & 7) == RTABLE_CHANGE)
				check(rc == -1 && errno == ENOENT, "change");
			else if (k >= 0) {
				check(rc == 0 && replaced == 1 &&
				    same(&old, &m.v[k]), "replace");
				m.v[k] = r;
			} else {
				check(rc == 0 && replaced == 0, "insert");
				m.v[m.n++] = r;
			}
			break;
		case 3:
		case 4:
		case 5:
			/* Mostly a route that is there. */
			if (m.n > 0 && (data[i] & 7) != 5) {
				k = (long)(((size_t)data[i + 2] << 8 |
				    data[i + 3]) % m.n);
				p = m.v[k].dst;
			}
			rc = rtable_del(t, &p, &old);
			if (k >= 0) {
				check(rc == 0 && same(&old, &m.v[k]), "delete");
				m.v[k] = m.v[--m.n];
			} else
				check(rc == -1 && errno == ENOENT, "delete");
			break;
		default:
			rc = rtable_find(t, &p, &old);
			check(k >= 0 ? rc == 0 && same(&old, &m.v[k]) :
			    rc == -1 && errno == ENOENT, "find");
			break;
		}
		check(rtable_count(t) == m.n, "count");
		check_around(t, &p);
	}
	for (i = 0; i < m.n; i++)
		check_around(t, &m.v[i].dst);
	while (m.n > 0) {
		check(rtable_del(t, &m.v[m.n - 1].dst, NULL) == 0, "drain");
		m.n--;
	}
	check(rtable_count(t) == 0 && rtable_memory(t) == empty,
	    "memory after draining");
	rtable_free(t);
	return 0;
}
