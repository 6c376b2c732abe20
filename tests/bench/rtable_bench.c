/*
 * rtable_bench.c: loads the route table with a million routes and
 * reports insert time, longest-prefix lookups per second on one core
 * and bytes per route, for two tables:
 *   a) random /24s;
 *   b) a realistic mix: 60% /24, 30% /16../23, 10% /25../32.
 * Addresses are spread uniformly over 1.0.0.0-223.255.255.255, which
 * touches nearly every /16: the worst case for the trie's memory.
 *
 * The routes are made before the clock starts; each way of loading
 * runs in a fresh process (so none inherits a warm heap):
 *   insert           rtable_set(), one route at a time;
 *   insert, hinted   the same, with rtable_prefetch() 6 routes ahead;
 *   insert, batched  rtable_set_many(), 1024 routes a call;
 *   + reserved       the same after rtable_reserve(n).
 * With -j N, each way is also timed with N processes loading their own
 * table at once (as rtm and its clients do): wall time, and the CPU
 * time of an insert averaged over all of them.
 *
 * usage: rtable_bench [-n routes] [-l lookups] [-s seed] [-j procs]
 * build: cc -O2 -Iipc -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700
 *     -o rtable_bench tests/bench/rtable_bench.c ipc/rtable.c ipc/addr.c
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

/* Ways of loading a table, each reported on its own line. */
enum how { HOW_SET, HOW_HINT, HOW_MANY, HOW_RESERVE, HOW_N };

static const char *const how_name[HOW_N] = {
	"insert         ", "insert, hinted ", "insert, batched",
	"  + reserved   ",
};

#define HINT_AHEAD	6
#define BATCH		1024

static int
load(struct rtable *t, const struct addr_route *rs, size_t n, enum how how)
{
	size_t		 i, k;

	switch (how) {
	case HOW_SET:
		for (i = 0; i < n; i++)
			if (rtable_set(t, &rs[i], RTABLE_ADD, NULL, NULL) == -1)
				return -1;
		return 0;
	case HOW_HINT:
		for (i = 0; i < n; i++) {
			if (i + HINT_AHEAD < n)
				rtable_prefetch(t, &rs[i + HINT_AHEAD].dst);
			if (rtable_set(t, &rs[i], RTABLE_ADD, NULL, NULL) == -1)
				return -1;
		}
		return 0;
	case HOW_RESERVE:
		if (rtable_reserve(t, n) == -1)
			return -1;
		/* FALLTHROUGH */
	case HOW_MANY:
		for (i = 0; i < n; i += k) {
			k = n - i < BATCH ? n - i : BATCH;
			if (rtable_set_many(t, rs + i, k, RTABLE_ADD, NULL,
			    NULL, NULL) == -1)
				return -1;
		}
		return 0;
	default:
		errno = EINVAL;
		return -1;
	}
}

/* The n routes of the table, made up front. */
static struct addr_route *
routes(size_t n, int mix, uint64_t **keysp)
{
	struct addr_route *rs;
	uint64_t	*keys;

	if ((keys = gen(n, mix)) == NULL)
		return NULL;
	if ((rs = malloc(n * sizeof(*rs))) == NULL) {
		free(keys);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		fill(&rs[i], keys[i], i);
	*keysp = keys;
	return rs;
}

/*
 * Loads the table one way; the first way also measures memory,
 * lookups and deletes on the table it loaded.
 */
static int
run(const char *name, size_t n, size_t lookups, int mix, enum how how)
{
	struct rtable	*t;
	struct addr_route r, *rs;
	struct addr_prefix p;
	uint64_t	*keys;
	size_t		 hits, mem;
	long		 rss0, rss1;
	double		 t0, tins, tdel, rate;

	if ((rs = routes(n, mix, &keys)) == NULL ||
	    (t = rtable_new()) == NULL) {
		perror("rtable_bench");
		return -1;
	}
	rss0 = rss();
	t0 = now();
	if (load(t, rs, n, how) == -1) {
		fprintf(stderr, "rtable_bench: insert: %s\n", strerror(errno));
		return -1;
	}
	tins = now() - t0;
	rss1 = rss();
	if (how == HOW_SET)
		printf("%s: %zu routes\n", name, rtable_count(t));
	printf("  %s %.3f s (%.0f routes/s, %.0f ns/route)\n",
	    how_name[how], tins, (double)n / tins, tins * 1e9 / (double)n);
	if (how != HOW_SET)
		goto done;
	mem = rtable_memory(t);
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
	printf("  delete all      %.3f s (%.0f ns/route), memory left %zu "
	    "bytes\n", tdel, tdel * 1e9 / (double)n, rtable_memory(t));
done:
	fflush(stdout);
	rtable_free(t);
	free(rs);
	free(keys);
	return 0;
}

/* CPU seconds this process has used. */
static double
cpu(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * procs processes each load their own table of the realistic mix at
 * once, released together when all have made their routes.
 */
static int
run_concurrent(size_t n, int procs, enum how how)
{
	int		 ready[2], go[2], res[2], status, bad = 0, got = 0;
	double		 t0, wall, c, sum = 0;
	char		 b;
	pid_t		 pid;

	if (pipe(ready) == -1 || pipe(go) == -1 || pipe(res) == -1) {
		perror("rtable_bench: pipe");
		return -1;
	}
	for (int i = 0; i < procs; i++) {
		if ((pid = fork()) == -1) {
			perror("rtable_bench: fork");
			return -1;
		}
		if (pid == 0) {
			struct addr_route *rs;
			struct rtable	*t;
			uint64_t	*keys;

			close(go[1]);
			if ((rs = routes(n, 1, &keys)) == NULL ||
			    (t = rtable_new()) == NULL ||
			    write(ready[1], "", 1) != 1 ||
			    read(go[0], &b, 1) != 0)
				_exit(1);
			c = cpu();
			if (load(t, rs, n, how) == -1)
				_exit(1);
			c = cpu() - c;
			_exit(write(res[1], &c, sizeof(c)) != sizeof(c));
		}
	}
	close(ready[1]);
	close(go[0]);
	close(res[1]);
	for (int i = 0; i < procs; i++)
		if (read(ready[0], &b, 1) != 1)
			bad = 1;
	t0 = now();
	close(go[1]);
	while (read(res[0], &c, sizeof(c)) == sizeof(c)) {
		sum += c;
		got++;
	}
	wall = now() - t0;
	for (int i = 0; i < procs; i++)
		if (wait(&status) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad = 1;
	close(ready[0]);
	close(res[0]);
	if (bad || got != procs) {
		fprintf(stderr, "rtable_bench: a loading process failed\n");
		return -1;
	}
	printf("  %s %.3f s wall, %.0f ns/route CPU\n", how_name[how],
	    wall, sum * 1e9 / ((double)n * procs));
	fflush(stdout);
	return 0;
}

/* Runs f in a child process, so each starts from a fresh heap. */
static int
isolated(const char *name, size_t n, size_t lookups, int mix, enum how how)
{
	pid_t		 pid;
	int		 status;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		perror("rtable_bench: fork");
		return -1;
	}
	if (pid == 0)
		_exit(run(name, n, lookups, mix, how) == -1);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

int
main(int argc, char *argv[])
{
	size_t		 n = 1000000, lookups = 20000000;
	int		 c, procs = 0;

	rng_state = 1;
	while ((c = getopt(argc, argv, "n:l:s:j:")) != -1) {
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
		case 'j':
			procs = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: rtable_bench [-n routes] "
			    "[-l lookups] [-s seed] [-j procs]\n");
			return 2;
		}
	}
	if (n == 0 || lookups == 0 || n > 10000000 || procs < 0 ||
	    procs > 256) {
		fprintf(stderr, "rtable_bench: bad -n, -l or -j\n");
		return 2;
	}
	for (int mix = 0; mix < 2; mix++) {
		for (int how = 0; how < HOW_N; how++) {
			if (isolated(mix ? "b) realistic mix" :
			    "a) random /24", n, lookups, mix,
			    (enum how)how) == -1)
				return 1;
		}
	}
	if (procs == 0)
		return 0;
	printf("b) realistic mix, loaded by %d processes at once\n", procs);
	for (int how = 0; how < HOW_N; how++)
		if (run_concurrent(n, procs, (enum how)how) == -1)
			return 1;
	return 0;
}
