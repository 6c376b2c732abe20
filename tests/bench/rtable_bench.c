/*
 * rtable_bench.c: loads the route table with a million routes and
 * reports insert time, longest-prefix lookups per second on one core
 * and bytes per route, for two tables:
 *   a) random /24s;
 *   b) a realistic mix: 60% /24, 30% /16../23, 10% /25../32.
 * Addresses are spread uniformly over 1.0.0.0-223.255.255.255, which
 * touches nearly every /16: the worst case for the trie's memory.
 *
 * usage: rtable_bench [-n routes] [-l lookups] [-s seed]
 */
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "rtable.h"

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t	 z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident set size in bytes, from /proc where there is one. */
static long
rss(void)
{
	FILE		*f = fopen("/proc/self/statm", "r");
	long		 size, res = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * sysconf(_SC_PAGESIZE);
}

static uint8_t
pick_len(int mix)
{
	uint32_t	 d = (uint32_t)(rng() % 100);

	if (!mix || d < 60)
		return 24;
	if (d < 90)
		return (uint8_t)(16 + rng() % 8);
	return (uint8_t)(25 + rng() % 8);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* n distinct prefixes (addr << 8 | len) in random order. */
static uint64_t *
gen(size_t n, int mix)
{
	size_t		 want = n + n / 8 + 1024, m = 0, i;
	uint64_t	*k = malloc(want * sizeof(*k));

	if (k == NULL)
		return NULL;
	for (;;) {
		while (m < want) {
			uint8_t	 len = pick_len(mix);
			uint32_t a = (uint32_t)(0x01000000u +
			    rng() % (0xe0000000u - 0x01000000u));

			k[m++] = (uint64_t)(a & addr_prefix_mask(len)) << 8 |
			    len;
		}
		qsort(k, m, sizeof(*k), cmp_u64);
		for (i = 1, m = 1; i < want; i++)
			if (k[i] != k[m - 1])
				k[m++] = k[i];
		if (m >= n)
			break;
	}
	for (i = m - 1; i > 0; i--) {
		size_t	 j = (size_t)(rng() % (i + 1));
		uint64_t x = k[i];

		k[i] = k[j];
		k[j] = x;
	}
	return k;
}

static void
fill(struct addr_route *r, uint64_t key, size_t i)
{
	static const char *const ifs[] = { "eth0", "eth1", "eth2", "eth3",
	    "bond0", "wan0", "wan1", "vlan100" };

	memset(r, 0, sizeof(*r));
	r->dst.addr = (uint32_t)(key >> 8);
	r->dst.len = (uint8_t)key;
	r->has_gw = 1;
	r->gw = 0xc0a80001u + (uint32_t)(i % 251);
	snprintf(r->ifname, sizeof(r->ifname), "%s", ifs[i % 8]);
}

#define NADDR	(1u << 22)

/*
 * Lookups/s, best of three rounds of lookups each, over NADDR addresses
 * made up front (read sequentially, so the prefetcher hides them):
 * uniformly random, or inside a random route of keys when keys.
 */
static double
bench_lookup(const struct rtable *t, const uint64_t *keys, size_t n,
    size_t lookups, size_t *hits)
{
	struct addr_route r;
	uint32_t	*addr, sum = 0;
	size_t		 h = 0;
	double		 t0, best = 0;

	if ((addr = malloc(NADDR * sizeof(*addr))) == NULL)
		return 0;
	for (size_t i = 0; i < NADDR; i++) {
		uint64_t	 x = rng(), k;

		addr[i] = (uint32_t)x;
		if (keys != NULL) {
			k = keys[(x >> 32) % n];
			addr[i] = (uint32_t)(k >> 8) |
			    ((uint32_t)x & ~addr_prefix_mask((uint8_t)k));
		}
	}
	for (int round = 0; round < 3; round++) {
		h = 0;
		t0 = now();
		for (size_t i = 0; i < lookups; i++) {
			if (rtable_lookup(t, addr[i & (NADDR - 1)], &r) == 0) {
				h++;
				sum += r.gw;
			}
		}
		t0 = now() - t0;
		if ((double)lookups / t0 > best)
			best = (double)lookups / t0;
	}
	free(addr);
	*hits = h + (sum == 1);		/* keeps sum alive */
	return best;
}

static int
run(const char *name, size_t n, size_t lookups, int mix)
{
	struct rtable	*t;
	struct addr_route r;
	struct addr_prefix p;
	uint64_t	*keys;
	size_t		 hits, mem;
	long		 rss0, rss1;
	double		 t0, tins, tdel, rate;

	if ((keys = gen(n, mix)) == NULL || (t = rtable_new()) == NULL) {
		perror("rtable_bench");
		return -1;
	}
	rss0 = rss();
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		fill(&r, keys[i], i);
		if (rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == -1) {
			fprintf(stderr, "rtable_bench: insert: %s\n",
			    strerror(errno));
			return -1;
		}
	}
	tins = now() - t0;
	rss1 = rss();
	mem = rtable_memory(t);
	printf("%s: %zu routes\n", name, rtable_count(t));
	printf("  insert          %.3f s (%.0f routes/s)\n", tins,
	    (double)n / tins);
	printf("  rtable_memory   %.1f MiB, %.1f bytes/route\n",
	    (double)mem / 1048576.0, (double)mem / (double)n);
	if (rss0 >= 0 && rss1 >= 0)
		printf("  RSS growth      %.1f MiB, %.1f bytes/route\n",
		    (double)(rss1 - rss0) / 1048576.0,
		    (double)(rss1 - rss0) / (double)n);

	rate = bench_lookup(t, NULL, n, lookups, &hits);
	printf("  lookup random   %.2f M/s (%.0f%% hit)\n", rate / 1e6,
	    100.0 * (double)hits / (double)lookups);
	rate = bench_lookup(t, keys, n, lookups, &hits);
	printf("  lookup in-table %.2f M/s (%.0f%% hit)\n", rate / 1e6,
	    100.0 * (double)hits / (double)lookups);

	/* The worst single update: a default route over the whole trie. */
	memset(&r, 0, sizeof(r));
	snprintf(r.ifname, sizeof(r.ifname), "wan0");
	t0 = now();
	if (rtable_set(t, &r, RTABLE_ADD, NULL, NULL) == -1 ||
	    rtable_del(t, &r.dst, NULL) == -1) {
		perror("rtable_bench: default route");
		return -1;
	}
	printf("  0.0.0.0/0 add+del %.1f ms\n", (now() - t0) * 1e3);

	t0 = now();
	for (size_t i = 0; i < n; i++) {
		p.addr = (uint32_t)(keys[i] >> 8);
		p.len = (uint8_t)keys[i];
		if (rtable_del(t, &p, NULL) == -1) {
			perror("rtable_bench: delete");
			return -1;
		}
	}
	tdel = now() - t0;
	printf("  delete all      %.3f s, memory left %zu bytes\n", tdel,
	    rtable_memory(t));
	fflush(stdout);
	rtable_free(t);
	free(keys);
	return 0;
}

int
main(int argc, char *argv[])
{
	size_t		 n = 1000000, lookups = 20000000;
	int		 c;

	rng_state = 1;
	while ((c = getopt(argc, argv, "n:l:s:")) != -1) {
		switch (c) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			lookups = strtoul(optarg, NULL, 10);
			break;
		case 's':
			rng_state = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: rtable_bench [-n routes] "
			    "[-l lookups] [-s seed]\n");
			return 2;
		}
	}
	if (n == 0 || lookups == 0 || n > 10000000) {
		fprintf(stderr, "rtable_bench: bad -n or -l\n");
		return 2;
	}
	/* One process per table, so each starts from a fresh heap. */
	for (int mix = 0; mix < 2; mix++) {
		pid_t	 pid;
		int	 status;

		fflush(stdout);
		if ((pid = fork()) == -1) {
			perror("rtable_bench: fork");
			return 1;
		}
		if (pid == 0)
			_exit(run(mix ? "b) realistic mix" : "a) random /24",
			    n, lookups, mix) == -1);
		if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			return 1;
	}
	return 0;
}
