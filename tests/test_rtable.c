/*
 * test_rtable.c: the route table: set/del/find semantics and errno,
 * longest-prefix match across the trie's level boundaries, walks,
 * memory given back, the shortcuts the trie takes for the hash (a
 * prefix hidden under longer routes, a fallback route hidden in the
 * sibling), the batch and hint calls, and long randomized runs checked
 * against a brute-force model kept in this file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "rtable.h"
#include "testutil.h"

/* A deterministic generator, so a failure reproduces. */
static uint64_t rng_state;

static void
rng_seed(uint64_t s)
{
	rng_state = s;
}

static uint64_t
rng(void)
{
	uint64_t	 z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

static struct addr_route
mkroute(const char *dst, const char *gw, const char *ifname)
{
	struct addr_route r;

	memset(&r, 0, sizeof(r));
	CU_ASSERT_FATAL(addr_prefix_parse(dst, &r.dst, NULL) == 0);
	if (gw != NULL) {
		CU_ASSERT_FATAL(addr_ipv4_parse(gw, &r.gw, NULL) == 0);
		r.has_gw = 1;
	}
	snprintf(r.ifname, sizeof(r.ifname), "%s", ifname);
	return r;
}

static struct addr_prefix
mkprefix(const char *s)
{
	struct addr_prefix p;

	CU_ASSERT_FATAL(addr_prefix_parse(s, &p, NULL) == 0);
	return p;
}

static uint32_t
ip(const char *s)
{
	uint32_t	 a;

	CU_ASSERT_FATAL(addr_ipv4_parse(s, &a, NULL) == 0);
	return a;
}

/* The prefix length of the route rtable_lookup() picks, -1 for none. */
static int
lookup_len(struct rtable *t, const char *addr)
{
	struct addr_route r;

	if (rtable_lookup(t, ip(addr), &r) == -1)
		return errno == ENOENT ? -1 : -2;
	return r.dst.len;
}

static void
add(struct rtable *t, const char *dst, const char *ifname)
{
	struct addr_route r = mkroute(dst, NULL, ifname);

	CU_ASSERT_FATAL(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == 0);
}

static void
del(struct rtable *t, const char *dst)
{
	struct addr_prefix p = mkprefix(dst);

	CU_ASSERT_FATAL(rtable_del(t, &p, NULL) == 0);
}

/* Compares one lookup with the model; returns 1 when they agree. */
static int
check_lookup(struct rtable *t, const struct tu_ref *m, uint32_t a)
{
	const struct addr_route *want = tu_ref_lookup(m, a);
	struct addr_route got;
	int		 rc = rtable_lookup(t, a, &got);

	if (want == NULL)
		return rc == -1 && errno == ENOENT;
	return rc == 0 && tu_route_eq(&got, want);
}

/* Addresses at and around the edges of every route of the model. */
static int
check_edges(struct rtable *t, const struct tu_ref *m)
{
	int		 bad = 0;

	for (size_t i = 0; i < m->n; i++) {
		uint32_t	 lo = m->v[i].dst.addr;
		uint32_t	 hi = lo | ~addr_prefix_mask(m->v[i].dst.len);
		uint32_t	 probe[] = { lo, hi, lo - 1, hi + 1,
		    lo + (hi - lo) / 2, lo + (hi - lo) / 2 + 1 };

		for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++)
			bad += !check_lookup(t, m, probe[k]);
	}
	return bad;
}

static void
test_crud(void)
{
	struct rtable	*t = rtable_new();
	struct addr_route r, got, old;
	struct addr_prefix p = mkprefix("10.1.0.0/16");
	int		 replaced = -1;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT(rtable_count(t) == 0);
	CU_ASSERT(rtable_find(t, &p, &got) == -1 && errno == ENOENT);
	CU_ASSERT(rtable_lookup(t, ip("10.1.2.3"), &got) == -1 &&
	    errno == ENOENT);
	CU_ASSERT(rtable_del(t, &p, &got) == -1 && errno == ENOENT);

	r = mkroute("10.1.0.0/16", "192.168.0.1", "eth0");
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, &old, &replaced) == 0);
	CU_ASSERT(replaced == 0);
	CU_ASSERT(rtable_count(t) == 1);
	CU_ASSERT(rtable_find(t, &p, &got) == 0 && tu_route_eq(&got, &r));
	CU_ASSERT(rtable_lookup(t, ip("10.1.255.255"), &got) == 0 &&
	    tu_route_eq(&got, &r));

	/* ADD of a present prefix: EEXIST, and the route is untouched. */
	r = mkroute("10.1.0.0/16", NULL, "eth9");
	replaced = -1;
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, &old, &replaced) == -1);
	CU_ASSERT(errno == EEXIST);
	CU_ASSERT(replaced == 0);
	CU_ASSERT(rtable_find(t, &p, &got) == 0);
	CU_ASSERT(strcmp(got.ifname, "eth0") == 0 && got.has_gw == 1);

	/* CHANGE of an absent prefix: ENOENT, nothing added. */
	r = mkroute("10.2.0.0/16", NULL, "eth1");
	CU_ASSERT(rtable_set(t, &r, RTABLE_CHANGE, NULL, NULL) == -1);
	CU_ASSERT(errno == ENOENT);
	CU_ASSERT(rtable_count(t) == 1);

	/* REPLACE of an absent prefix adds. */
	replaced = -1;
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, &old, &replaced) == 0);
	CU_ASSERT(replaced == 0);
	CU_ASSERT(rtable_count(t) == 2);

	/* CHANGE and REPLACE overwrite, hand back the old route. */
	r = mkroute("10.1.0.0/16", NULL, "eth2");
	CU_ASSERT(rtable_set(t, &r, RTABLE_CHANGE, &old, &replaced) == 0);
	CU_ASSERT(replaced == 1);
	CU_ASSERT(strcmp(old.ifname, "eth0") == 0 && old.has_gw == 1 &&
	    old.gw == ip("192.168.0.1"));
	CU_ASSERT(rtable_count(t) == 2);
	CU_ASSERT(rtable_lookup(t, ip("10.1.0.0"), &got) == 0 &&
	    tu_route_eq(&got, &r));
	r = mkroute("10.1.0.0/16", "10.9.9.9", "eth3");
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, &old, &replaced) == 0);
	CU_ASSERT(replaced == 1 && strcmp(old.ifname, "eth2") == 0 &&
	    old.has_gw == 0);
	CU_ASSERT(rtable_count(t) == 2);
	CU_ASSERT(rtable_find(t, &p, &got) == 0 && tu_route_eq(&got, &r));
	/* old and replaced may be NULL. */
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == 0);

	/* A prefix differing only in length is another route. */
	p = mkprefix("10.1.0.0/17");
	CU_ASSERT(rtable_find(t, &p, NULL) == -1 && errno == ENOENT);
	CU_ASSERT(rtable_del(t, &p, NULL) == -1 && errno == ENOENT);

	p = mkprefix("10.1.0.0/16");
	CU_ASSERT(rtable_del(t, &p, &old) == 0 && tu_route_eq(&old, &r));
	CU_ASSERT(rtable_count(t) == 1);
	CU_ASSERT(rtable_del(t, &p, &old) == -1 && errno == ENOENT);
	CU_ASSERT(rtable_find(t, &p, NULL) == -1 && errno == ENOENT);
	CU_ASSERT(rtable_lookup(t, ip("10.1.0.1"), &got) == -1 &&
	    errno == ENOENT);
	CU_ASSERT(rtable_lookup(t, ip("10.2.0.1"), &got) == 0 &&
	    strcmp(got.ifname, "eth1") == 0);
	rtable_free(t);
	rtable_free(NULL);
}

static void
test_einval(void)
{
	struct rtable	*t = rtable_new();
	struct addr_route r, ok = mkroute("10.0.0.0/8", NULL, "eth0");
	struct addr_prefix p;
	size_t		 mem;
	int		 replaced = -1;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_FATAL(rtable_set(t, &ok, RTABLE_ADD, NULL, NULL) == 0);
	mem = rtable_memory(t);

	r = ok;
	r.dst.len = 33;
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, &replaced) == -1);
	CU_ASSERT(errno == EINVAL && replaced == 0);
	r = ok;
	r.dst.addr |= 1;		/* host bits */
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == -1);
	CU_ASSERT(errno == EINVAL);
	r = ok;
	memset(r.ifname, 'x', sizeof(r.ifname));	/* unterminated */
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == -1);
	CU_ASSERT(errno == EINVAL);
	r = ok;
	r.ifname[0] = '\0';
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == -1);
	CU_ASSERT(errno == EINVAL);
	r = ok;
	r.has_gw = 2;
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == -1);
	CU_ASSERT(errno == EINVAL);
	r = ok;
	CU_ASSERT(rtable_set(t, &r, (enum rtable_mode)7, NULL, NULL) == -1);
	CU_ASSERT(errno == EINVAL);
	CU_ASSERT(rtable_set(t, NULL, RTABLE_ADD, NULL, NULL) == -1);
	CU_ASSERT(errno == EINVAL);

	p.addr = ip("10.0.0.1");
	p.len = 8;
	CU_ASSERT(rtable_del(t, &p, NULL) == -1 && errno == EINVAL);
	CU_ASSERT(rtable_find(t, &p, NULL) == -1 && errno == EINVAL);
	p.addr = ip("10.0.0.0");
	p.len = 40;
	CU_ASSERT(rtable_del(t, &p, NULL) == -1 && errno == EINVAL);
	CU_ASSERT(rtable_find(t, &p, NULL) == -1 && errno == EINVAL);

	/* None of that touched the table. */
	CU_ASSERT(rtable_count(t) == 1);
	CU_ASSERT(rtable_memory(t) == mem);
	CU_ASSERT(lookup_len(t, "10.200.0.1") == 8);
	rtable_free(t);
}

static void
test_lpm_overlap(void)
{
	struct rtable	*t = rtable_new();

	CU_ASSERT_FATAL(t != NULL);
	add(t, "10.0.0.0/8", "a");
	add(t, "10.0.0.0/16", "b");
	add(t, "10.0.0.0/24", "c");
	add(t, "10.0.0.0/25", "d");

	CU_ASSERT(lookup_len(t, "10.0.0.0") == 25);
	CU_ASSERT(lookup_len(t, "10.0.0.127") == 25);
	CU_ASSERT(lookup_len(t, "10.0.0.128") == 24);
	CU_ASSERT(lookup_len(t, "10.0.0.255") == 24);
	CU_ASSERT(lookup_len(t, "10.0.1.0") == 16);
	CU_ASSERT(lookup_len(t, "10.0.255.255") == 16);
	CU_ASSERT(lookup_len(t, "10.1.0.0") == 8);
	CU_ASSERT(lookup_len(t, "10.255.255.255") == 8);
	CU_ASSERT(lookup_len(t, "9.255.255.255") == -1);
	CU_ASSERT(lookup_len(t, "11.0.0.0") == -1);

	/* Deleting the more specific falls back to the less specific. */
	del(t, "10.0.0.0/25");
	CU_ASSERT(lookup_len(t, "10.0.0.0") == 24);
	CU_ASSERT(lookup_len(t, "10.0.0.127") == 24);
	del(t, "10.0.0.0/16");
	CU_ASSERT(lookup_len(t, "10.0.0.5") == 24);
	CU_ASSERT(lookup_len(t, "10.0.1.0") == 8);
	CU_ASSERT(lookup_len(t, "10.0.255.255") == 8);
	del(t, "10.0.0.0/24");
	CU_ASSERT(lookup_len(t, "10.0.0.5") == 8);
	/* And adding back a middle one in between works. */
	add(t, "10.0.0.0/16", "b");
	CU_ASSERT(lookup_len(t, "10.0.0.5") == 16);
	CU_ASSERT(lookup_len(t, "10.1.0.5") == 8);
	del(t, "10.0.0.0/8");
	CU_ASSERT(lookup_len(t, "10.0.0.5") == 16);
	CU_ASSERT(lookup_len(t, "10.1.0.5") == -1);
	rtable_free(t);
}

static void
test_default_host(void)
{
	struct rtable	*t = rtable_new();
	struct addr_route got;

	CU_ASSERT_FATAL(t != NULL);
	add(t, "10.0.0.0/24", "lan");
	add(t, "10.0.0.7/32", "host");
	add(t, "192.168.1.1/32", "host2");
	CU_ASSERT(lookup_len(t, "0.0.0.0") == -1);
	CU_ASSERT(lookup_len(t, "10.0.0.7") == 32);
	CU_ASSERT(lookup_len(t, "10.0.0.6") == 24);
	CU_ASSERT(lookup_len(t, "10.0.0.8") == 24);
	CU_ASSERT(lookup_len(t, "192.168.1.1") == 32);
	CU_ASSERT(lookup_len(t, "192.168.1.0") == -1);
	CU_ASSERT(lookup_len(t, "192.168.1.2") == -1);

	/* The default route under existing more specifics. */
	add(t, "0.0.0.0/0", "wan");
	CU_ASSERT(lookup_len(t, "0.0.0.0") == 0);
	CU_ASSERT(lookup_len(t, "255.255.255.255") == 0);
	CU_ASSERT(lookup_len(t, "192.168.1.0") == 0);
	CU_ASSERT(lookup_len(t, "192.168.1.2") == 0);
	CU_ASSERT(lookup_len(t, "192.168.1.1") == 32);
	CU_ASSERT(lookup_len(t, "10.0.0.7") == 32);
	CU_ASSERT(lookup_len(t, "10.0.0.6") == 24);
	CU_ASSERT(lookup_len(t, "10.0.1.0") == 0);
	CU_ASSERT(rtable_lookup(t, ip("8.8.8.8"), &got) == 0 &&
	    strcmp(got.ifname, "wan") == 0);

	/* Host route deleted: its /24 takes over, elsewhere the default. */
	del(t, "10.0.0.7/32");
	CU_ASSERT(lookup_len(t, "10.0.0.7") == 24);
	del(t, "192.168.1.1/32");
	CU_ASSERT(lookup_len(t, "192.168.1.1") == 0);

	/* Deleting the default leaves holes again. */
	del(t, "0.0.0.0/0");
	CU_ASSERT(lookup_len(t, "192.168.1.1") == -1);
	CU_ASSERT(lookup_len(t, "255.255.255.255") == -1);
	CU_ASSERT(lookup_len(t, "10.0.0.7") == 24);
	add(t, "0.0.0.0/0", "wan");
	add(t, "255.255.255.255/32", "bcast");
	CU_ASSERT(lookup_len(t, "255.255.255.255") == 32);
	CU_ASSERT(lookup_len(t, "255.255.255.254") == 0);
	del(t, "10.0.0.0/24");
	CU_ASSERT(lookup_len(t, "10.0.0.7") == 0);
	CU_ASSERT(rtable_count(t) == 2);
	rtable_free(t);
}

/*
 * Nested prefixes ending on and around every trie level boundary
 * (8 16 24 28 32), added and removed in several orders, each state
 * checked at the edges of every prefix.
 */
static void
test_boundaries(void)
{
	static const uint8_t lens[] = { 0, 7, 8, 9, 15, 16, 17, 23, 24, 25,
	    27, 28, 29, 31, 32 };
	static const uint32_t bases[] = { 0x0abcdef7, 0x00000000, 0xffffffff,
	    0x80000000, 0x7fffffff, 0x0a0000ff };
	enum { NL = sizeof(lens) / sizeof(lens[0]) };
	struct tu_ref	 m = { NULL, 0, 0 };
	int		 bad = 0;

	rng_seed(42);
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		struct rtable	*t = rtable_new();
		size_t		 order[NL];

		CU_ASSERT_FATAL(t != NULL);
		m.n = 0;
		for (int round = 0; round < 4; round++) {
			/* Shuffled order, except round 0: shortest first. */
			for (size_t i = 0; i < NL; i++)
				order[i] = i;
			for (size_t i = NL - 1; round > 0 && i > 0; i--) {
				size_t j = rng_below((uint32_t)i + 1), x;

				x = order[i];
				order[i] = order[j];
				order[j] = x;
			}
			for (size_t i = 0; i < NL; i++) {
				struct addr_route r;

				memset(&r, 0, sizeof(r));
				r.dst.len = lens[order[i]];
				r.dst.addr = bases[b] &
				    addr_prefix_mask(r.dst.len);
				snprintf(r.ifname, sizeof(r.ifname), "if%u",
				    r.dst.len);
				CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL,
				    NULL) == 0);
				tu_ref_put(&m, &r);
				bad += check_edges(t, &m);
			}
			/* Reverse of a fresh shuffle for removal. */
			for (size_t i = NL - 1; i > 0; i--) {
				size_t j = rng_below((uint32_t)i + 1), x;

				x = order[i];
				order[i] = order[j];
				order[j] = x;
			}
			for (size_t i = 0; i < NL; i++) {
				struct addr_prefix p;
				long	 k;

				p.len = lens[order[i]];
				p.addr = bases[b] & addr_prefix_mask(p.len);
				CU_ASSERT(rtable_del(t, &p, NULL) == 0);
				k = tu_ref_find(&m, &p);
				CU_ASSERT_FATAL(k >= 0);
				tu_ref_del(&m, k);
				bad += check_edges(t, &m);
				/* The deleted prefix itself must now miss. */
				bad += !check_lookup(t, &m, p.addr);
			}
			CU_ASSERT(rtable_count(t) == 0);
		}
		rtable_free(t);
	}
	CU_ASSERT(bad == 0);
	free(m.v);
}

/* Neighbouring host routes and prefixes split at level boundaries. */
static void
test_siblings(void)
{
	struct rtable	*t = rtable_new();

	CU_ASSERT_FATAL(t != NULL);
	add(t, "10.0.0.1/32", "a");
	add(t, "10.0.0.2/32", "b");
	add(t, "10.0.0.16/28", "c");
	add(t, "10.0.0.32/27", "d");
	add(t, "10.0.1.0/24", "e");
	add(t, "10.0.2.0/23", "f");
	add(t, "10.1.0.0/16", "g");
	add(t, "10.2.0.0/15", "h");
	CU_ASSERT(lookup_len(t, "10.0.0.0") == -1);
	CU_ASSERT(lookup_len(t, "10.0.0.1") == 32);
	CU_ASSERT(lookup_len(t, "10.0.0.2") == 32);
	CU_ASSERT(lookup_len(t, "10.0.0.3") == -1);
	CU_ASSERT(lookup_len(t, "10.0.0.15") == -1);
	CU_ASSERT(lookup_len(t, "10.0.0.16") == 28);
	CU_ASSERT(lookup_len(t, "10.0.0.31") == 28);
	CU_ASSERT(lookup_len(t, "10.0.0.32") == 27);
	CU_ASSERT(lookup_len(t, "10.0.0.63") == 27);
	CU_ASSERT(lookup_len(t, "10.0.0.64") == -1);
	CU_ASSERT(lookup_len(t, "10.0.1.0") == 24);
	CU_ASSERT(lookup_len(t, "10.0.1.255") == 24);
	CU_ASSERT(lookup_len(t, "10.0.2.0") == 23);
	CU_ASSERT(lookup_len(t, "10.0.3.255") == 23);
	CU_ASSERT(lookup_len(t, "10.0.4.0") == -1);
	CU_ASSERT(lookup_len(t, "10.1.0.0") == 16);
	CU_ASSERT(lookup_len(t, "10.1.255.255") == 16);
	CU_ASSERT(lookup_len(t, "10.2.0.0") == 15);
	CU_ASSERT(lookup_len(t, "10.3.255.255") == 15);
	CU_ASSERT(lookup_len(t, "10.4.0.0") == -1);
	del(t, "10.0.0.1/32");
	CU_ASSERT(lookup_len(t, "10.0.0.1") == -1);
	CU_ASSERT(lookup_len(t, "10.0.0.2") == 32);
	del(t, "10.0.0.2/32");
	del(t, "10.0.0.16/28");
	CU_ASSERT(lookup_len(t, "10.0.0.2") == -1);
	CU_ASSERT(lookup_len(t, "10.0.0.16") == -1);
	CU_ASSERT(lookup_len(t, "10.0.0.32") == 27);
	rtable_free(t);
}

/* Overwrites keep the count, the trie and the interned names right. */
static void
test_replace_names(void)
{
	struct rtable	*t = rtable_new();
	struct addr_route r, got;
	size_t		 empty, n = 2000;
	char		 name[ADDR_IFNAMSIZ];

	CU_ASSERT_FATAL(t != NULL);
	empty = rtable_memory(t);
	for (size_t i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.dst.addr = 0x0a000000u | (uint32_t)i << 8;
		r.dst.len = 24;
		snprintf(r.ifname, sizeof(r.ifname), "eth%zu", i % 7);
		CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == 0);
	}
	/* Every route moves to a name of its own, then back to one. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			int	 replaced = 0;

			memset(&r, 0, sizeof(r));
			r.dst.addr = 0x0a000000u | (uint32_t)i << 8;
			r.dst.len = 24;
			r.has_gw = 1;
			r.gw = 0x0b000000u | (uint32_t)i;
			if (pass == 0)
				snprintf(r.ifname, sizeof(r.ifname),
				    "veth%zu", i);
			else
				snprintf(r.ifname, sizeof(r.ifname), "bond0");
			CU_ASSERT(rtable_set(t, &r, pass ? RTABLE_REPLACE :
			    RTABLE_CHANGE, NULL, &replaced) == 0);
			CU_ASSERT(replaced == 1);
		}
		CU_ASSERT(rtable_count(t) == n);
		for (size_t i = 0; i < n; i += 97) {
			CU_ASSERT_FATAL(rtable_lookup(t, 0x0a000000u |
			    (uint32_t)i << 8 | 0x42, &got) == 0);
			if (pass == 0)
				snprintf(name, sizeof(name), "veth%zu", i);
			else
				snprintf(name, sizeof(name), "bond0");
			CU_ASSERT(strcmp(got.ifname, name) == 0);
			CU_ASSERT(got.has_gw == 1 &&
			    got.gw == (0x0b000000u | (uint32_t)i));
			CU_ASSERT(got.dst.len == 24);
		}
	}
	rtable_clear(t);
	CU_ASSERT(rtable_count(t) == 0);
	CU_ASSERT(rtable_memory(t) == empty);
	CU_ASSERT(lookup_len(t, "10.0.0.66") == -1);
	/* Usable after clear. */
	add(t, "10.0.0.0/24", "eth0");
	CU_ASSERT(lookup_len(t, "10.0.0.66") == 24);

	/* A name freed and its slot taken by another: a name looked up
	 * recently (the table keeps a few) must not lead to the slot. */
	add(t, "10.1.0.0/24", "gone0");
	CU_ASSERT(rtable_del(t, &(struct addr_prefix){ 0x0a010000u, 24 },
	    NULL) == 0);
	add(t, "10.2.0.0/24", "new0");
	add(t, "10.3.0.0/24", "gone0");
	CU_ASSERT_FATAL(rtable_lookup(t, 0x0a030001u, &got) == 0);
	CU_ASSERT_STRING_EQUAL(got.ifname, "gone0");
	CU_ASSERT_FATAL(rtable_lookup(t, 0x0a020001u, &got) == 0);
	CU_ASSERT_STRING_EQUAL(got.ifname, "new0");
	rtable_free(t);
}

static int
walk_collect(const struct addr_route *r, void *arg)
{
	struct tu_ref	*m = arg;

	tu_ref_put(m, r);
	return 0;
}

static int
walk_stop(const struct addr_route *r, void *arg)
{
	int		*calls = arg;

	(void)r;
	return ++*calls == 3 ? 77 : 0;
}

static int
cmp_route(const void *a, const void *b)
{
	return addr_route_cmp(a, b);
}

static void
test_walk(void)
{
	struct rtable	*t = rtable_new();
	struct tu_ref	 m = { NULL, 0, 0 }, got = { NULL, 0, 0 };
	int		 calls = 0, sorted_ok = 1, same = 1;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT(rtable_walk(t, 1, walk_stop, &calls) == 0 && calls == 0);
	rng_seed(7);
	while (m.n < 3000) {
		struct addr_route r;

		memset(&r, 0, sizeof(r));
		r.dst.len = (uint8_t)rng_below(33);
		/* Few distinct addresses, so many share one and differ
		 * only in length. */
		r.dst.addr = (uint32_t)(rng_below(64) * 0x04030201u) &
		    addr_prefix_mask(r.dst.len);
		if (rng_below(2)) {
			r.dst.addr = (uint32_t)rng() &
			    addr_prefix_mask(r.dst.len);
		}
		snprintf(r.ifname, sizeof(r.ifname), "e%u", rng_below(5));
		CU_ASSERT_FATAL(rtable_set(t, &r, RTABLE_REPLACE, NULL,
		    NULL) == 0);
		tu_ref_put(&m, &r);
	}
	CU_ASSERT(rtable_count(t) == m.n);

	/* Sorted: exactly the model's routes, in addr_route_cmp order. */
	CU_ASSERT(rtable_walk(t, 1, walk_collect, &got) == 0);
	CU_ASSERT_FATAL(got.n == m.n);
	for (size_t i = 1; i < got.n; i++)
		sorted_ok &= addr_route_cmp(&got.v[i - 1], &got.v[i]) < 0;
	CU_ASSERT(sorted_ok);
	qsort(m.v, m.n, sizeof(*m.v), cmp_route);
	for (size_t i = 0; i < m.n; i++)
		same &= tu_route_eq(&m.v[i], &got.v[i]);
	CU_ASSERT(same);

	/* Unsorted: the same set, each route once. */
	got.n = 0;
	CU_ASSERT(rtable_walk(t, 0, walk_collect, &got) == 0);
	CU_ASSERT_FATAL(got.n == m.n);
	qsort(got.v, got.n, sizeof(*got.v), cmp_route);
	same = 1;
	for (size_t i = 0; i < m.n; i++)
		same &= tu_route_eq(&m.v[i], &got.v[i]);
	CU_ASSERT(same);

	/* A non-zero return stops the walk and comes back. */
	calls = 0;
	CU_ASSERT(rtable_walk(t, 1, walk_stop, &calls) == 77 && calls == 3);
	calls = 0;
	CU_ASSERT(rtable_walk(t, 0, walk_stop, &calls) == 77 && calls == 3);
	free(m.v);
	free(got.v);
	rtable_free(t);
}

/* A prefix that overlaps others often: near a few anchors, biased lengths. */
static struct addr_prefix
rand_prefix(const uint32_t *anchors, size_t nanchors)
{
	static const uint8_t hot[] = { 0, 8, 9, 15, 16, 17, 23, 24, 25, 27,
	    28, 29, 31, 32 };
	struct addr_prefix p;
	uint32_t	 a = anchors[rng_below((uint32_t)nanchors)];

	switch (rng_below(4)) {
	case 0:
		a = (uint32_t)rng();
		break;
	case 1:
		a ^= (uint32_t)rng() & 0xff;
		break;
	case 2:
		a ^= (uint32_t)rng() & 0xffff;
		break;
	default:
		break;
	}
	if (rng_below(3) == 0)
		p.len = (uint8_t)rng_below(33);
	else
		p.len = hot[rng_below(sizeof(hot))];
	/* The shortest prefixes would cover everything: keep them rarer. */
	if (p.len < 8 && rng_below(4) != 0)
		p.len += 8;
	p.addr = a & addr_prefix_mask(p.len);
	return p;
}

static uint32_t
rand_addr(const struct tu_ref *m, const uint32_t *anchors, size_t nanchors)
{
	const struct addr_route *r;

	switch (rng_below(4)) {
	case 0:
		return (uint32_t)rng();
	case 1:
		if (m->n == 0)
			return (uint32_t)rng();
		r = &m->v[rng_below((uint32_t)m->n)];
		if (rng_below(2))
			return r->dst.addr - rng_below(2);
		return (r->dst.addr | ~addr_prefix_mask(r->dst.len)) +
		    rng_below(2);
	default:
		return anchors[rng_below((uint32_t)nanchors)] ^
		    ((uint32_t)rng() &
		    (uint32_t)(0xffffffffull >> rng_below(33)));
	}
}

#define NANCHORS	48

/* 20k operations and >= 100k lookups compared with the model. */
static void
test_random_differential(void)
{
	struct rtable	*t = rtable_new();
	struct tu_ref	 m = { NULL, 0, 0 };
	uint32_t	 anchors[NANCHORS];
	int		 bad_ops = 0, bad_lookups = 0, lookups = 0;

	CU_ASSERT_FATAL(t != NULL);
	rng_seed(0x5eed);
	anchors[0] = 0x0a000000;
	anchors[1] = 0xc0a80100;
	anchors[2] = 0;
	anchors[3] = 0xffffffff;
	/* Many distinct /8s and /16s, so chunks come and go often. */
	for (size_t i = 4; i < NANCHORS; i++)
		anchors[i] = (uint32_t)rng();

	for (int op = 0; op < 20000; op++) {
		struct addr_route r, old, got;
		struct addr_prefix p = rand_prefix(anchors, NANCHORS);
		uint32_t	 dice = rng_below(100);
		long		 k = tu_ref_find(&m, &p);
		int		 rc, replaced = -1;

		/* Keep the model between a few hundred and ~1500 routes. */
		if (m.n > 1500 && dice < 45)
			dice += 40;
		if (dice < 45) {
			enum rtable_mode mode = (enum rtable_mode)rng_below(3);

			memset(&r, 0, sizeof(r));
			r.dst = p;
			if ((r.has_gw = (uint8_t)rng_below(2)) != 0)
				r.gw = (uint32_t)rng() | 1;
			snprintf(r.ifname, sizeof(r.ifname), "if%u",
			    rng_below(40));
			memset(&old, 0, sizeof(old));
			rc = rtable_set(t, &r, mode, &old, &replaced);
			if (k >= 0 && mode == RTABLE_ADD)
				bad_ops += !(rc == -1 && errno == EEXIST &&
				    replaced == 0);
			else if (k < 0 && mode == RTABLE_CHANGE)
				bad_ops += !(rc == -1 && errno == ENOENT &&
				    replaced == 0);
			else if (k >= 0) {
				bad_ops += !(rc == 0 && replaced == 1 &&
				    tu_route_eq(&old, &m.v[k]));
				tu_ref_put(&m, &r);
			} else {
				bad_ops += !(rc == 0 && replaced == 0);
				tu_ref_put(&m, &r);
			}
		} else if (dice < 85) {
			/* Mostly delete something that is there. */
			if (m.n > 0 && rng_below(4) != 0) {
				k = rng_below((uint32_t)m.n);
				p = m.v[k].dst;
			}
			rc = rtable_del(t, &p, &old);
			if (k >= 0) {
				bad_ops += !(rc == 0 &&
				    tu_route_eq(&old, &m.v[k]));
				tu_ref_del(&m, k);
			} else
				bad_ops += !(rc == -1 && errno == ENOENT);
		} else {
			rc = rtable_find(t, &p, &got);
			if (k >= 0)
				bad_ops += !(rc == 0 &&
				    tu_route_eq(&got, &m.v[k]));
			else
				bad_ops += !(rc == -1 && errno == ENOENT);
		}
		bad_ops += rtable_count(t) != m.n;
		if (op % 1000 == 999) {
			for (int i = 0; i < 1000; i++, lookups++)
				bad_lookups += !check_lookup(t, &m,
				    rand_addr(&m, anchors, NANCHORS));
		}
	}
	for (int i = 0; i < 100000; i++, lookups++)
		bad_lookups += !check_lookup(t, &m, rand_addr(&m, anchors, NANCHORS));
	bad_lookups += check_edges(t, &m);
	CU_ASSERT(bad_ops == 0);
	CU_ASSERT(bad_lookups == 0);
	CU_ASSERT(lookups >= 100000);
	if (bad_ops || bad_lookups)
		fprintf(stderr, "differential: %d bad ops, %d bad lookups\n",
		    bad_ops, bad_lookups);

	/* Draining to empty agrees at every step near the end. */
	while (m.n > 0) {
		long	 k = rng_below((uint32_t)m.n);
		struct addr_prefix p = m.v[k].dst;

		CU_ASSERT_FATAL(rtable_del(t, &p, NULL) == 0);
		tu_ref_del(&m, k);
		if (m.n < 50)
			CU_ASSERT(check_edges(t, &m) == 0);
	}
	CU_ASSERT(rtable_count(t) == 0);
	free(m.v);
	rtable_free(t);
}

/*
 * A /16's 256 slots are a palette of at most 31 distinct values (the
 * chunk's routes, their children, the route above), so a /16 holding
 * hundreds of routes must widen, and one whose routes come and go must
 * collect the values its slots no longer use.  Round 0 fills one /16
 * far past 31 routes, round 1 keeps about 20 alive while hundreds come
 * and go; both with routes around and above the /16, every answer
 * checked against the model.
 */
static void
test_dense_chunks(void)
{
	static const uint8_t lens[] = { 8, 12, 16, 17, 20, 22, 23, 24, 24, 24,
	    24, 24, 25, 26, 28, 29, 30, 32 };

	for (int round = 0; round < 2; round++) {
		struct rtable	*t = rtable_new();
		struct tu_ref	 m = { NULL, 0, 0 };
		uint32_t	 base = round == 0 ? 0x0a010000 : 0xc0a80000;
		size_t		 live = round == 0 ? 600 : 20, empty, peak = 0;
		int		 bad = 0;

		CU_ASSERT_FATAL(t != NULL);
		empty = rtable_memory(t);
		rng_seed(0xd0e5 + (uint64_t)round);
		for (int op = 0; op < 8000; op++) {
			struct addr_route r;
			long		 k;

			memset(&r, 0, sizeof(r));
			r.dst.len = lens[rng_below(sizeof(lens))];
			r.dst.addr = (base | ((uint32_t)rng() & 0xffff)) &
			    addr_prefix_mask(r.dst.len);
			snprintf(r.ifname, sizeof(r.ifname), "d%u",
			    rng_below(5));
			k = tu_ref_find(&m, &r.dst);
			if (m.n < live && rng_below(10) < 6) {
				bad += rtable_set(t, &r, RTABLE_REPLACE, NULL,
				    NULL) != 0;
				tu_ref_put(&m, &r);
			} else if (m.n > 0) {
				k = rng_below((uint32_t)m.n);
				bad += rtable_del(t, &m.v[k].dst, NULL) != 0;
				tu_ref_del(&m, k);
			}
			if (rtable_memory(t) > peak)
				peak = rtable_memory(t);
			if (op % 500 == 499) {
				bad += check_edges(t, &m);
				for (int i = 0; i < 2000; i++)
					bad += !check_lookup(t, &m, base |
					    ((uint32_t)rng() & 0xffff));
			}
		}
		/* Round 0 outgrew the palette: a wide chunk is 1 KiB. */
		if (round == 0)
			CU_ASSERT(peak > empty + 1024);
		while (m.n > 0) {
			long	 k = rng_below((uint32_t)m.n);

			bad += rtable_del(t, &m.v[k].dst, NULL) != 0;
			tu_ref_del(&m, k);
			if (m.n % 16 == 0)
				bad += check_edges(t, &m);
		}
		CU_ASSERT(bad == 0);
		if (bad)
			fprintf(stderr, "dense round %d: %d bad\n", round,
			    bad);
		CU_ASSERT(rtable_count(t) == 0);
		CU_ASSERT(rtable_memory(t) == empty);
		free(m.v);
		rtable_free(t);
	}
}

/*
 * The trie tells a prefix's presence from the leaf at its first address
 * unless a longer route starts there: such hidden prefixes must still
 * be found (through the hash) by every mode of rtable_set().
 */
static void
test_hidden_prefix(void)
{
	struct rtable	*t = rtable_new();
	struct addr_route r, old, got;
	struct addr_prefix p;
	int		 replaced;

	CU_ASSERT_FATAL(t != NULL);
	/* Both halves of 10.0.0.0/23 hold /24s: the /23 shows nowhere. */
	add(t, "10.0.0.0/24", "a");
	add(t, "10.0.1.0/24", "b");
	r = mkroute("10.0.0.0/23", NULL, "c");
	CU_ASSERT(rtable_set(t, &r, RTABLE_CHANGE, NULL, NULL) == -1 &&
	    errno == ENOENT);
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == 0);
	CU_ASSERT(lookup_len(t, "10.0.0.9") == 24);
	CU_ASSERT(lookup_len(t, "10.0.1.9") == 24);
	r = mkroute("10.0.0.0/23", "10.9.9.9", "d");
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == -1 &&
	    errno == EEXIST);
	replaced = -1;
	CU_ASSERT(rtable_set(t, &r, RTABLE_CHANGE, &old, &replaced) == 0);
	CU_ASSERT(replaced == 1 && strcmp(old.ifname, "c") == 0);
	p = mkprefix("10.0.0.0/23");
	CU_ASSERT(rtable_find(t, &p, &got) == 0 && tu_route_eq(&got, &r));
	CU_ASSERT(rtable_count(t) == 3);
	/* It takes its slots back when the /24s go. */
	del(t, "10.0.0.0/24");
	CU_ASSERT(rtable_lookup(t, ip("10.0.0.9"), &got) == 0 &&
	    tu_route_eq(&got, &r));
	del(t, "10.0.1.0/24");
	CU_ASSERT(lookup_len(t, "10.0.1.255") == 23);

	/* A /25 and a /32 at the base address of a /24 and of a /28. */
	add(t, "10.1.0.0/25", "e");
	add(t, "10.1.0.0/32", "f");
	r = mkroute("10.1.0.0/24", NULL, "g");
	CU_ASSERT(rtable_set(t, &r, RTABLE_CHANGE, NULL, NULL) == -1 &&
	    errno == ENOENT);
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, &replaced) == 0 &&
	    replaced == 0);
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == -1 &&
	    errno == EEXIST);
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, &old, &replaced) == 0 &&
	    replaced == 1 && tu_route_eq(&old, &r));
	r = mkroute("10.1.0.0/28", NULL, "h");
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == 0);
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == -1 &&
	    errno == EEXIST);
	CU_ASSERT(lookup_len(t, "10.1.0.0") == 32);
	CU_ASSERT(lookup_len(t, "10.1.0.1") == 28);
	CU_ASSERT(lookup_len(t, "10.1.0.16") == 25);
	CU_ASSERT(lookup_len(t, "10.1.0.128") == 24);
	/* The same prefix as the leaf it finds: present, found directly. */
	r = mkroute("10.1.0.0/32", NULL, "i");
	CU_ASSERT(rtable_set(t, &r, RTABLE_CHANGE, &old, &replaced) == 0 &&
	    replaced == 1 && strcmp(old.ifname, "f") == 0);
	CU_ASSERT(rtable_count(t) == 5);
	/* The default route: kept outside the trie. */
	r = mkroute("0.0.0.0/0", NULL, "j");
	CU_ASSERT(rtable_set(t, &r, RTABLE_CHANGE, NULL, NULL) == -1 &&
	    errno == ENOENT);
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == 0);
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == -1 &&
	    errno == EEXIST);
	CU_ASSERT(lookup_len(t, "10.2.0.0") == 0);
	rtable_free(t);
}

/*
 * On delete the slots go back to the longest shorter route, read from
 * the sibling prefix unless a route inside the sibling hides it.
 */
static void
test_cover_fallback(void)
{
	struct rtable	*t = rtable_new();

	CU_ASSERT_FATAL(t != NULL);
	add(t, "10.0.0.0/16", "s16");
	add(t, "10.0.0.0/20", "s20");
	add(t, "10.0.0.0/24", "r");
	/* The sibling 10.0.1.0/24 starts with a /25 and a /32. */
	add(t, "10.0.1.0/25", "x");
	add(t, "10.0.1.0/32", "y");
	del(t, "10.0.0.0/24");
	CU_ASSERT(lookup_len(t, "10.0.0.0") == 20);
	CU_ASSERT(lookup_len(t, "10.0.0.255") == 20);
	del(t, "10.0.0.0/20");
	CU_ASSERT(lookup_len(t, "10.0.0.0") == 16);
	CU_ASSERT(lookup_len(t, "10.0.15.255") == 16);
	CU_ASSERT(lookup_len(t, "10.0.1.0") == 32);
	CU_ASSERT(lookup_len(t, "10.0.1.1") == 25);
	/* Nothing shorter at all: the slots empty. */
	del(t, "10.0.0.0/16");
	CU_ASSERT(lookup_len(t, "10.0.0.0") == -1);
	CU_ASSERT(lookup_len(t, "10.0.1.128") == -1);
	CU_ASSERT(lookup_len(t, "10.0.1.1") == 25);

	/* Siblings across the top bit and inside the last stride. */
	add(t, "0.0.0.0/1", "lo");
	add(t, "128.0.0.0/1", "hi");
	add(t, "0.0.0.0/2", "lo2");
	add(t, "64.0.0.0/3", "mid");
	del(t, "0.0.0.0/2");
	CU_ASSERT(lookup_len(t, "1.2.3.4") == 1);
	CU_ASSERT(lookup_len(t, "64.0.0.1") == 3);
	add(t, "10.0.2.6/31", "p31");
	add(t, "10.0.2.7/32", "p32");
	add(t, "10.0.2.6/32", "q32");
	del(t, "10.0.2.6/32");
	CU_ASSERT(lookup_len(t, "10.0.2.6") == 31);
	CU_ASSERT(lookup_len(t, "10.0.2.7") == 32);
	del(t, "10.0.2.6/31");
	CU_ASSERT(lookup_len(t, "10.0.2.6") == 1);
	rtable_free(t);
}

/*
 * A name already interned skips the name checks: the other fields are
 * still checked, and a name is only equal to an interned one when it
 * is the same string, whatever follows its terminator.
 */
static void
test_interned_names(void)
{
	struct rtable	*t = rtable_new();
	struct addr_route r, got;
	struct addr_prefix p;
	static const char *const bad[] = { "", ".", "..", "a/b", "a b",
	    "tab\there", "\x7f" };

	CU_ASSERT_FATAL(t != NULL);
	add(t, "10.0.0.0/8", "eth0");
	add(t, "11.0.0.0/8", "eth0123456789ab");	/* 15 characters */

	r = mkroute("12.0.0.0/8", NULL, "eth0");
	r.has_gw = 1;			/* gateway 0 */
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == -1 &&
	    errno == EINVAL);
	r.has_gw = 2;
	r.gw = 1;
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == -1 &&
	    errno == EINVAL);
	r = mkroute("12.0.0.0/8", NULL, "eth0");
	r.dst.addr |= 0x100;
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == -1 &&
	    errno == EINVAL);
	r = mkroute("12.0.0.0/8", NULL, "eth0");
	r.dst.len = 33;
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == -1 &&
	    errno == EINVAL);
	/* 16 characters, the first 15 an interned name: unterminated. */
	r = mkroute("12.0.0.0/8", NULL, "x");
	memcpy(r.ifname, "eth0123456789abc", ADDR_IFNAMSIZ);
	CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == -1 &&
	    errno == EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = mkroute("12.0.0.0/8", NULL, "x");
		memset(r.ifname, 0, sizeof(r.ifname));
		memcpy(r.ifname, bad[i], strlen(bad[i]));
		CU_ASSERT(rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) ==
		    -1 && errno == EINVAL);
	}
	CU_ASSERT(rtable_count(t) == 2);

	/* Bytes after the terminator do not make another name. */
	r = mkroute("12.0.0.0/8", NULL, "eth0");
	memcpy(r.ifname + 5, "garbage!!!", 10);
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == 0);
	p = mkprefix("12.0.0.0/8");
	CU_ASSERT(rtable_find(t, &p, &got) == 0);
	CU_ASSERT(strcmp(got.ifname, "eth0") == 0);
	for (size_t i = 5; i < ADDR_IFNAMSIZ; i++)
		CU_ASSERT(got.ifname[i] == '\0');
	/* The last reference to a name gone, it is checked again. */
	del(t, "11.0.0.0/8");
	r = mkroute("11.0.0.0/8", NULL, "x");
	memcpy(r.ifname, "eth0123456789abc", ADDR_IFNAMSIZ);
	CU_ASSERT(rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == -1 &&
	    errno == EINVAL);
	rtable_free(t);
}

/* Two tables hold the same routes: same walk, same lookups. */
static int
tables_agree(struct rtable *a, struct rtable *b)
{
	struct tu_ref	 x = { NULL, 0, 0 }, y = { NULL, 0, 0 };
	int		 same;

	CU_ASSERT_FATAL(rtable_walk(a, 1, walk_collect, &x) == 0);
	CU_ASSERT_FATAL(rtable_walk(b, 1, walk_collect, &y) == 0);
	same = x.n == y.n && rtable_count(a) == rtable_count(b);
	for (size_t i = 0; same && i < x.n; i++)
		same = tu_route_eq(&x.v[i], &y.v[i]);
	for (size_t i = 0; same && i < x.n; i++) {
		struct addr_route ra, rb;
		uint32_t	 probe = x.v[i].dst.addr |
		    (~addr_prefix_mask(x.v[i].dst.len) & (uint32_t)rng());
		int		 ca = rtable_lookup(a, probe, &ra);
		int		 cb = rtable_lookup(b, probe, &rb);

		same = ca == cb && (ca == -1 || tu_route_eq(&ra, &rb));
	}
	free(x.v);
	free(y.v);
	return same;
}

/*
 * rtable_set_many() is n rtable_set() calls: checked against a twin
 * table fed one route at a time, batch by batch, with duplicates inside
 * batches, every mode, and failures in the middle of a batch.
 */
static void
test_set_many(void)
{
	enum { NB = 300 };
	struct rtable	*t = rtable_new(), *u = rtable_new();
	struct addr_route *r, *old, *uold, probe;
	int		*rep, *urep, bad = 0;
	uint32_t	 anchors[8];
	size_t		 done;

	CU_ASSERT_FATAL(t != NULL && u != NULL);
	r = calloc(NB, sizeof(*r));
	old = calloc(NB, sizeof(*old));
	uold = calloc(NB, sizeof(*uold));
	rep = calloc(NB, sizeof(*rep));
	urep = calloc(NB, sizeof(*urep));
	CU_ASSERT_FATAL(r && old && uold && rep && urep);
	rng_seed(0xba7c);
	for (size_t i = 0; i < 8; i++)
		anchors[i] = (uint32_t)rng();

	CU_ASSERT(rtable_set_many(t, NULL, 0, RTABLE_ADD, NULL, NULL,
	    &done) == 0 && done == 0);
	for (int round = 0; round < 60; round++) {
		enum rtable_mode mode = (enum rtable_mode)rng_below(3);
		size_t	 n = 1 + rng_below(NB), i, ui;
		int	 rc, urc, uerr = 0;

		for (i = 0; i < n; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			r[i].dst = rand_prefix(anchors, 8);
			if ((r[i].has_gw = (uint8_t)rng_below(2)) != 0)
				r[i].gw = (uint32_t)rng() | 1;
			snprintf(r[i].ifname, sizeof(r[i].ifname), "m%u",
			    rng_below(6));
			if (i > 0 && rng_below(10) == 0)	/* duplicate */
				r[i].dst = r[rng_below((uint32_t)i)].dst;
		}
		/* Sometimes an invalid route somewhere in the batch. */
		if (rng_below(8) == 0)
			r[rng_below((uint32_t)n)].has_gw = 7;
		memset(old, 0xa5, n * sizeof(*old));
		memset(uold, 0xa5, n * sizeof(*uold));
		for (i = 0; i < n; i++)
			rep[i] = urep[i] = -7;
		rc = rtable_set_many(t, r, n, mode, old, rep, &done);
		for (ui = 0, urc = 0; ui < n; ui++) {
			if ((urc = rtable_set(u, &r[ui], mode, &uold[ui],
			    &urep[ui])) == -1) {
				uerr = errno;
				break;
			}
		}
		if (rc == -1)
			bad += errno != uerr;
		bad += rc != urc || done != ui;
		for (i = 0; i < n && i <= ui; i++) {
			bad += rep[i] != urep[i];
			if (i < ui && urep[i] == 1)
				bad += !tu_route_eq(&old[i], &uold[i]);
		}
		for (i = ui + 1; i < n; i++)
			bad += rep[i] != -7;
		/* Keep the tables from filling up. */
		if (rtable_count(u) > 2000) {
			rtable_clear(t);
			rtable_clear(u);
		}
		if (round % 10 == 9)
			bad += !tables_agree(t, u);
	}
	CU_ASSERT(bad == 0);
	CU_ASSERT(tables_agree(t, u));

	/* A failure in the middle: those after it are not applied. */
	rtable_clear(t);
	for (size_t i = 0; i < 10; i++) {
		r[i] = mkroute("10.0.0.0/24", NULL, "e0");
		r[i].dst.addr += (uint32_t)i << 8;
	}
	r[6].dst = r[2].dst;
	CU_ASSERT(rtable_set_many(t, r, 10, RTABLE_ADD, NULL, NULL,
	    &done) == -1 && errno == EEXIST && done == 6);
	CU_ASSERT(rtable_count(t) == 6);
	probe = r[7];
	CU_ASSERT(rtable_find(t, &probe.dst, NULL) == -1 && errno == ENOENT);
	CU_ASSERT(rtable_set_many(t, r + 7, 3, RTABLE_ADD, NULL, NULL,
	    NULL) == 0);
	CU_ASSERT(rtable_count(t) == 9);
	free(r);
	free(old);
	free(uold);
	free(rep);
	free(urep);
	rtable_free(t);
	rtable_free(u);
}

/* Hints change nothing, whatever the prefix, and a reserve is room only. */
static void
test_hints(void)
{
	struct rtable	*t = rtable_new(), *u = rtable_new();
	struct addr_prefix p;
	size_t		 empty, mem;
	int		 same = 1;

	CU_ASSERT_FATAL(t != NULL && u != NULL);
	empty = rtable_memory(t);
	rng_seed(0x417);
	/* On an empty table, then on a growing one. */
	for (int i = 0; i < 20000; i++) {
		struct addr_route r;

		p.addr = (uint32_t)rng();
		p.len = (uint8_t)rng();		/* up to 255: any prefix */
		rtable_prefetch(t, &p);
		if (i % 3 == 0)
			continue;
		memset(&r, 0, sizeof(r));
		r.dst.len = (uint8_t)(8 + rng_below(25));
		r.dst.addr = (uint32_t)rng() & addr_prefix_mask(r.dst.len);
		snprintf(r.ifname, sizeof(r.ifname), "h%u", rng_below(3));
		rtable_prefetch(t, &r.dst);
		same &= rtable_set(t, &r, RTABLE_REPLACE, NULL, NULL) == 0;
		same &= rtable_set(u, &r, RTABLE_REPLACE, NULL, NULL) == 0;
		if (i % 7 == 0) {
			rtable_prefetch(t, &r.dst);
			same &= rtable_del(t, &r.dst, NULL) == 0;
			same &= rtable_del(u, &r.dst, NULL) == 0;
		}
	}
	CU_ASSERT(same);
	CU_ASSERT(tables_agree(t, u));
	mem = rtable_memory(t);
	CU_ASSERT(rtable_memory(u) == mem);

	/* Hints outliving the chunks they were about (see ASan builds). */
	{
		struct rtable	*v = rtable_new();
		struct addr_route r = mkroute("10.1.2.0/24", NULL, "e");

		CU_ASSERT_FATAL(v != NULL);
		add(v, "10.1.0.0/16", "e");
		add(v, "10.1.2.128/25", "e");
		CU_ASSERT(rtable_set(v, &r, RTABLE_ADD, NULL, NULL) == 0);
		rtable_prefetch(v, &r.dst);
		p = mkprefix("10.1.2.128/25");
		rtable_prefetch(v, &p);
		del(v, "10.1.2.0/24");
		del(v, "10.1.2.128/25");
		del(v, "10.1.0.0/16");
		rtable_prefetch(v, &r.dst);
		rtable_prefetch(v, &p);
		add(v, "10.1.0.0/16", "e");
		rtable_prefetch(v, &r.dst);
		rtable_clear(v);
		rtable_prefetch(v, &r.dst);
		rtable_prefetch(v, &p);
		rtable_prefetch(v, &r.dst);
		CU_ASSERT(rtable_count(v) == 0 && lookup_len(v, "10.1.2.3") == -1);
		rtable_free(v);
	}

	/* Reserving less than is there changes nothing. */
	CU_ASSERT(rtable_reserve(t, 0) == 0);
	CU_ASSERT(rtable_reserve(t, rtable_count(t)) == 0);
	CU_ASSERT(rtable_memory(t) == mem);
	/*
	 * More: the index gets 2^18 slots of 4 bytes at once (200000 at
	 * most 70% full), replacing one of at most 2^15 (the ~13000 routes
	 * there at least 15% full).
	 */
	CU_ASSERT(rtable_count(t) < 15000);
	CU_ASSERT(rtable_reserve(t, 200000) == 0);
	CU_ASSERT(rtable_memory(t) >= mem + (1u << 20) - (1u << 17));
	CU_ASSERT(tables_agree(t, u));
	mem = rtable_memory(t);
	CU_ASSERT(rtable_reserve(t, 100000) == 0 && rtable_memory(t) == mem);
	/* ...and the table is the same table. */
	p.addr = 0x0a000000;
	p.len = 8;
	CU_ASSERT(rtable_find(t, &p, NULL) == rtable_find(u, &p, NULL));
	rtable_clear(t);
	CU_ASSERT(rtable_memory(t) == empty);
	CU_ASSERT(rtable_reserve(t, 5000) == 0);
	CU_ASSERT(rtable_memory(t) > empty);
	add(t, "10.0.0.0/8", "e");
	CU_ASSERT(lookup_len(t, "10.1.2.3") == 8);
	del(t, "10.0.0.0/8");
	CU_ASSERT(rtable_memory(t) == empty);
	rtable_free(t);
	rtable_free(u);
}

/* Memory follows the table down: all of it back when it empties. */
static void
test_memory_release(void)
{
	struct rtable	*t = rtable_new();
	struct addr_prefix *pfx;
	size_t		 n = 40000, empty, full, half, bad = 0;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_FATAL((pfx = calloc(n, sizeof(*pfx))) != NULL);
	empty = rtable_memory(t);
	CU_ASSERT(empty > 0 && empty < 4096);
	rng_seed(99);
	for (int round = 0; round < 2; round++) {
		size_t	 have = 0;

		while (have < n) {
			struct addr_route r;

			memset(&r, 0, sizeof(r));
			r.dst.len = (uint8_t)(8 + rng_below(25));
			r.dst.addr = (uint32_t)rng() &
			    addr_prefix_mask(r.dst.len);
			snprintf(r.ifname, sizeof(r.ifname), "n%u",
			    rng_below(300));
			if (rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == 0)
				pfx[have++] = r.dst;
			else
				CU_ASSERT_FATAL(errno == EEXIST);
		}
		full = rtable_memory(t);
		CU_ASSERT(full > empty + n * 12);
		/* Remove in a random order. */
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = rng_below((uint32_t)i + 1);
			struct addr_prefix x = pfx[i];

			pfx[i] = pfx[j];
			pfx[j] = x;
		}
		for (size_t i = 0; i < n; i++) {
			struct addr_route got;
			struct addr_prefix *live;

			CU_ASSERT_FATAL(rtable_del(t, &pfx[i], NULL) == 0);
			/* The route is gone from the trie... */
			if (rtable_lookup(t, pfx[i].addr, &got) == 0)
				bad += got.dst.addr == pfx[i].addr &&
				    got.dst.len == pfx[i].len;
			/* ...and a survivor still covers its own prefix. */
			if (i + 1 < n) {
				live = &pfx[i + 1 + rng_below(
				    (uint32_t)(n - i - 1))];
				bad += rtable_lookup(t, live->addr, &got) != 0 ||
				    got.dst.len < live->len ||
				    (got.dst.addr & addr_prefix_mask(
				    live->len)) != live->addr;
			}
			if (i == n * 7 / 8) {
				half = rtable_memory(t);
				CU_ASSERT(half < full / 2);
			}
		}
		CU_ASSERT(bad == 0);
		CU_ASSERT(rtable_count(t) == 0);
		CU_ASSERT(rtable_memory(t) == empty);
		CU_ASSERT(lookup_len(t, "10.0.0.1") == -1);
	}
	free(pfx);
	rtable_free(t);
}

static const struct tu_test rtable_tests[] = {
	{ "crud", test_crud },
	{ "einval", test_einval },
	{ "lpm_overlap", test_lpm_overlap },
	{ "default_host", test_default_host },
	{ "boundaries", test_boundaries },
	{ "siblings", test_siblings },
	{ "replace_names", test_replace_names },
	{ "walk", test_walk },
	{ "random_differential", test_random_differential },
	{ "memory_release", test_memory_release },
	{ "dense_chunks", test_dense_chunks },
	{ "hidden_prefix", test_hidden_prefix },
	{ "cover_fallback", test_cover_fallback },
	{ "interned_names", test_interned_names },
	{ "set_many", test_set_many },
	{ "hints", test_hints },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "rtable", rtable_tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
