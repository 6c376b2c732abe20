/*
 * bench_client.c: the benchmark's client process, built on librtmc
 * through its public interface only (rtmc.h), like any application.
 *
 * It mirrors rtm's tables and reports to the driver, one line per
 * event, on the file descriptor given with -p (a pipe the driver
 * reads; timestamps are CLOCK_MONOTONIC, which every process shares):
 *
 *	ready PID RSS			registered, first dump loaded
 *	done PID NS RSS DUMPS BAD	the mirror holds -n routes and -m
 *					MACs, every MAC read (attached)
 *					from its segment; BAD: wrong IPs
 *	all SEQ				this client was the last of them
 *					all to apply route change SEQ (each
 *					stamps the time it applied it in the
 *					tally file given with -t, slot -s)
 *	lpm PID RATE HITPCT HASHRATE	after "lpm L" on stdin (-i)
 *	arp PID WS ALL READ SYSCALLS CHECKED
 *					after "arp" on stdin (-i): median ns
 *					per rtmc_arp_get over a 1,024-MAC
 *					working set and over every MAC, a
 *					plain load from the same segments,
 *					system calls seen (0, 1: some, -1:
 *					cannot tell), lookups checked
 *
 * SIGTERM closes the handle (rtm hears goodbye) and exits 0.
 *
 * usage: bench_client -d DIR -p FD [-i] [-n ROUTES] [-m MACS]
 *	      [-t TALLY -s SLOT]
 */
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/prctl.h>
#include <linux/seccomp.h>
#endif

#include "addr.h"
#include "bench.h"
#include "rtmc.h"
#include "shm.h"

#define OPEN_TIMEOUT_MS	30000
#define ARP_WS		1024	/* MACs in the hot working set */
#define ARP_BATCH	10000	/* lookups timed together */
#define ARP_BATCHES	201
#define LPM_ADDRS	(1u << 20)
#define SECCOMP_ROUNDS	10

struct cl {
	struct rtmc	*h;
	struct bench_tally *tally;
	unsigned	 slot;
	int		 rep;
	pid_t		 pid;
	size_t		 want_routes;
	size_t		 want_macs;
	size_t		 arp_ok;
	size_t		 arp_bad;
	int		 done;
};

static volatile sig_atomic_t	 terminated;

static void
on_term(int sig)
{
	(void)sig;
	terminated = 1;
}

static void
on_event(struct rtmc *h, const struct rtmc_event *ev, void *arg)
{
	struct cl	*c = arg;
	uint32_t	 ip;
	size_t		 i;

	switch (ev->type) {
	case RTMC_EV_ROUTE_CHANGE:
		/* The clock first: the write below is not part of it. */
		if (!ev->dump && c->tally != NULL &&
		    bench_tally_stamp(c->tally, c->slot, ev->seq,
		    bench_now_ns()))
			bench_write_line(c->rep, "all %llu",
			    (unsigned long long)ev->seq);
		break;
	case RTMC_EV_ARP_ADD:
		/* Attaches the segment, as an application's first use does. */
		if (rtmc_arp_get(h, ev->arp.mac, &ip) == 0 &&
		    bench_mac_index(ev->arp.mac, &i) == 0 &&
		    ip == bench_mac_ip(i))
			c->arp_ok++;
		else
			c->arp_bad++;
		break;
	case RTMC_EV_RESYNC:
		c->arp_ok = c->arp_bad = 0;
		break;
	default:
		break;
	}
}

struct prefixes {
	uint32_t	*addr;
	uint8_t		*len;
	size_t		 n, cap;
};

static int
collect_route(const struct rtmc_route *r, void *arg)
{
	struct prefixes	*p = arg;

	if (p->n == p->cap)
		return 1;
	p->addr[p->n] = r->dst;
	p->len[p->n] = r->len;
	p->n++;
	return 0;
}

struct hslot {
	uint32_t	 addr;
	uint32_t	 gw;
	uint8_t		 len;
	uint8_t		 used;
};

static size_t
hslot_of(uint32_t addr, uint8_t len, size_t mask)
{
	uint64_t	 k = (uint64_t)addr << 8 | len;

	return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 24) & mask;
}

/*
 * Longest-prefix matches through rtmc_route_get() on addresses inside
 * the mirrored prefixes, then the baseline: one exact-match probe per
 * address (its /24) in an open-addressing hash of the same prefixes.
 */
static void
bench_lpm(struct cl *c, size_t lookups)
{
	struct prefixes		 p;
	struct rtmc_route	 r;
	struct rtmc_stats	 st;
	struct hslot		*hs = NULL;
	uint32_t		*addrs = NULL, sum = 0;
	uint64_t		 rs = 42, t0;
	size_t			 hits = 0, hcap = 1024, hmask, i;
	double			 rate, hrate;

	rtmc_stats(c->h, &st);
	memset(&p, 0, sizeof(p));
	p.cap = st.routes;
	p.addr = malloc((p.cap + 1) * sizeof(*p.addr));
	p.len = malloc(p.cap + 1);
	addrs = malloc(LPM_ADDRS * sizeof(*addrs));
	while (hcap < 2 * p.cap)
		hcap <<= 1;
	hs = calloc(hcap, sizeof(*hs));
	if (p.addr == NULL || p.len == NULL || addrs == NULL || hs == NULL ||
	    st.routes == 0 || lookups == 0) {
		bench_write_line(c->rep, "lpm %ld 0 0 0", (long)c->pid);
		goto out;
	}
	rtmc_route_walk(c->h, 0, collect_route, &p);
	for (i = 0; i < LPM_ADDRS; i++) {
		size_t	 k = (size_t)(bench_rng(&rs) % p.n);

		addrs[i] = p.addr[k] |
		    ((uint32_t)bench_rng(&rs) & ~addr_prefix_mask(p.len[k]));
	}
	for (i = 0; i < LPM_ADDRS; i++)		/* warm up */
		if (rtmc_route_get(c->h, addrs[i], &r) == 0)
			sum += r.gw;
	t0 = bench_now_ns();
	for (i = 0; i < lookups; i++)
		if (rtmc_route_get(c->h, addrs[i & (LPM_ADDRS - 1)], &r) == 0) {
			hits++;
			sum += r.gw;
		}
	rate = (double)lookups * 1e9 / (double)(bench_now_ns() - t0);

	hmask = hcap - 1;
	for (i = 0; i < p.n; i++) {
		size_t	 s = hslot_of(p.addr[i], p.len[i], hmask);

		while (hs[s].used)
			s = (s + 1) & hmask;
		hs[s].addr = p.addr[i];
		hs[s].len = p.len[i];
		hs[s].gw = (uint32_t)i;
		hs[s].used = 1;
	}
	t0 = bench_now_ns();
	for (i = 0; i < lookups; i++) {
		uint32_t	 a = addrs[i & (LPM_ADDRS - 1)] & 0xffffff00u;
		size_t		 s = hslot_of(a, 24, hmask);

		while (hs[s].used) {
			if (hs[s].addr == a && hs[s].len == 24) {
				sum += hs[s].gw;
				break;
			}
			s = (s + 1) & hmask;
		}
	}
	hrate = (double)lookups * 1e9 / (double)(bench_now_ns() - t0);
	bench_write_line(c->rep, "lpm %ld %.0f %.1f %.0f %u", (long)c->pid,
	    rate, 100.0 * (double)hits / (double)lookups, hrate,
	    (unsigned)(sum & 1));
out:
	free(p.addr);
	free(p.len);
	free(addrs);
	free(hs);
}

struct shmids {
	int	*id;
	size_t	 n;
};

static int
collect_shmid(const struct rtmc_arp *a, void *arg)
{
	struct shmids	*s = arg;
	size_t		 i;

	if (bench_mac_index(a->mac, &i) == 0 && i < s->n)
		s->id[i] = a->shmid;
	return 0;
}

/* Median ns per rtmc_arp_get over batches cycling through macs[]. */
static double
arp_median(struct cl *c, const struct addr_mac *macs, size_t n,
    uint32_t *sink)
{
	double		 v[ARP_BATCHES];
	uint32_t	 ip, sum = 0;
	size_t		 k = 0;

	for (int b = 0; b < ARP_BATCHES; b++) {
		uint64_t	 t0 = bench_now_ns();

		for (int i = 0; i < ARP_BATCH; i++) {
			if (rtmc_arp_get(c->h, macs[k].b, &ip) == 0)
				sum += ip;
			if (++k == n)
				k = 0;
		}
		v[b] = (double)(bench_now_ns() - t0) / ARP_BATCH;
	}
	*sink += sum;
	return bench_quantile(v, ARP_BATCHES, 0.5);
}

/* The same access pattern as plain loads from the same segments. */
static double
read_median(const volatile uint32_t *const *ptr, size_t n, uint32_t *sink)
{
	double		 v[ARP_BATCHES];
	uint32_t	 sum = 0;
	size_t		 k = 0;

	for (int b = 0; b < ARP_BATCHES; b++) {
		uint64_t	 t0 = bench_now_ns();

		for (int i = 0; i < ARP_BATCH; i++) {
			sum += *ptr[k];
			if (++k == n)
				k = 0;
		}
		v[b] = (double)(bench_now_ns() - t0) / ARP_BATCH;
	}
	*sink += sum;
	return bench_quantile(v, ARP_BATCHES, 0.5);
}

/*
 * Proves that lookups of attached segments make no system call: a
 * child in seccomp strict mode (only read, write, exit, sigreturn;
 * anything else kills it) does them and writes how many succeeded.
 * Returns 0 (none), 1 (the child was killed first) or -1 (cannot tell).
 */
static int
syscall_check(struct cl *c, const struct addr_mac *macs, size_t n,
    size_t *checked)
{
#ifdef __linux__
	char		 buf[64];
	ssize_t		 got;
	size_t		 len = 0;
	unsigned long	 ok = 0;
	pid_t		 pid;
	int		 p[2], status;

	*checked = 0;
	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		uint32_t	 ip;
		size_t		 i, idx, good = 0;
		int		 m;

		close(p[0]);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) == -1) {
			got = write(p[1], "noseccomp\n", 10);
			_exit(got == 10 ? 1 : 2);
		}
		for (int r = 0; r < SECCOMP_ROUNDS; r++)
			for (i = 0; i < n; i++)
				if (rtmc_arp_get(c->h, macs[i].b, &ip) == 0 &&
				    bench_mac_index(macs[i].b, &idx) == 0 &&
				    ip == bench_mac_ip(idx))
					good++;
		m = snprintf(buf, sizeof(buf), "ok %lu\n",
		    (unsigned long)good);
		got = write(p[1], buf, (size_t)m);
		/* exit_group is not allowed either: SIGKILL, as expected. */
		_exit(got == m ? 0 : 1);
	}
	close(p[1]);
	while (len < sizeof(buf) - 1 &&
	    ((got = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0 ||
	    (got == -1 && errno == EINTR)))
		if (got > 0)
			len += (size_t)got;
	buf[len] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (strncmp(buf, "noseccomp", 9) == 0)
		return -1;
	if (sscanf(buf, "ok %lu", &ok) != 1)
		return 1;
	*checked = ok;
	return ok == (unsigned long)n * SECCOMP_ROUNDS ? 0 : 1;
#else
	(void)c;
	(void)macs;
	(void)n;
	*checked = 0;
	return -1;
#endif
}

static void
bench_arp(struct cl *c)
{
	struct addr_mac		*all = NULL, *ws;
	const volatile uint32_t	**ptr = NULL;
	void			**base = NULL;
	struct shmids		 ids = { NULL, 0 };
	uint64_t		 rs = 7;
	uint32_t		 sink = 0;
	size_t			 n = c->want_macs, nws, i, checked = 0;
	double			 t_ws, t_all, t_read = -1;
	int			 sc;

	nws = n < ARP_WS ? n : ARP_WS;
	all = calloc(n + 1, sizeof(*all));
	ids.id = calloc(n + 1, sizeof(*ids.id));
	ptr = calloc(nws + 1, sizeof(*ptr));
	base = calloc(nws + 1, sizeof(*base));
	if (n == 0 || all == NULL || ids.id == NULL || ptr == NULL ||
	    base == NULL) {
		bench_write_line(c->rep, "arp %ld -1 -1 -1 -1 0",
		    (long)c->pid);
		goto out;
	}
	for (i = 0; i < n; i++)
		bench_mac(i, &all[i]);
	bench_shuffle(all, n, sizeof(*all), &rs);
	ws = all;
	t_ws = arp_median(c, ws, nws, &sink);
	t_all = arp_median(c, all, n, &sink);

	ids.n = n;
	for (i = 0; i < n; i++)
		ids.id[i] = -1;
	rtmc_arp_walk(c->h, 0, collect_shmid, &ids);
	for (i = 0; i < nws; i++) {
		size_t		 idx;
		void		*p;

		if (bench_mac_index(ws[i].b, &idx) == -1 ||
		    ids.id[idx] == -1 ||
		    (p = shmat(ids.id[idx], NULL, SHM_RDONLY)) == (void *)-1)
			break;
		base[i] = p;
		ptr[i] = (const volatile uint32_t *)(void *)
		    ((char *)p + offsetof(struct seg_header, ip));
	}
	if (i == nws)
		t_read = read_median(ptr, nws, &sink);
	for (i = 0; i < nws && base[i] != NULL; i++)
		shmdt(base[i]);
	sc = syscall_check(c, all, n, &checked);
	bench_write_line(c->rep, "arp %ld %.2f %.2f %.2f %d %lu %u",
	    (long)c->pid, t_ws, t_all, t_read, sc,
	    (unsigned long)checked, (unsigned)(sink & 1));
out:
	free(all);
	free(ids.id);
	free(ptr);
	free(base);
}

static void
check_done(struct cl *c)
{
	struct rtmc_stats	 st;

	if (c->done)
		return;
	rtmc_stats(c->h, &st);
	if (!st.synced || st.routes < c->want_routes ||
	    st.arp < c->want_macs || c->arp_ok < c->want_macs)
		return;
	c->done = 1;
	bench_write_line(c->rep, "done %ld %llu %lld %llu %lu", (long)c->pid,
	    (unsigned long long)bench_now_ns(), bench_rss(0),
	    (unsigned long long)st.dumps, (unsigned long)c->arp_bad);
}

static int
command(struct cl *c, const char *line)
{
	unsigned long	 n;

	if (sscanf(line, "lpm %lu", &n) == 1)
		bench_lpm(c, n);
	else if (strcmp(line, "arp") == 0)
		bench_arp(c);
	else if (strcmp(line, "quit") == 0)
		return 1;
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: bench_client -d DIR -p FD [-i] [-n ROUTES] "
	    "[-m MACS] [-t TALLY -s SLOT]\n");
	return 2;
}

int
main(int argc, char *argv[])
{
	struct rtmc_opts	 opts;
	struct cl		 c;
	struct sigaction	 sa;
	struct bench_lines	 in;
	struct pollfd		 pfd[3];
	const char		*dir = NULL, *line;
	char			 err[RTMC_ERRLEN];
	int			 ch, sigfd, cmds = 0, rc = 0, t;

	memset(&c, 0, sizeof(c));
	c.rep = -1;
	c.pid = getpid();
	while ((ch = getopt(argc, argv, "d:ip:n:m:s:t:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'i':
			cmds = 1;
			break;
		case 'p':
			c.rep = atoi(optarg);
			break;
		case 'n':
			c.want_routes = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			c.want_macs = strtoul(optarg, NULL, 10);
			break;
		case 's':
			c.slot = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			if ((c.tally = bench_tally_open(optarg, 0)) == NULL) {
				fprintf(stderr, "bench_client: %s: %s\n",
				    optarg, strerror(errno));
				return 1;
			}
			break;
		default:
			return usage();
		}
	}
	if (dir == NULL || c.rep < 0 || optind != argc)
		return usage();

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_term;	/* no SA_RESTART: poll sees EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sigfd = rtmc_sigusr1_install()) == -1) {
		fprintf(stderr, "bench_client: SIGUSR1: %s\n", strerror(errno));
		return 1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.cb = on_event;
	opts.cb_arg = &c;
	if ((c.h = rtmc_open(dir, &opts, OPEN_TIMEOUT_MS, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "bench_client: %s\n", err);
		return 1;
	}
	bench_write_line(c.rep, "ready %ld %lld", (long)c.pid, bench_rss(0));
	check_done(&c);
	bench_lines_init(&in, 0);
	while (!terminated) {
		int	 n = 2;

		pfd[0] = (struct pollfd){ rtmc_fd(c.h), POLLIN, 0 };
		pfd[1] = (struct pollfd){ sigfd, POLLIN, 0 };
		if (cmds && !in.eof)
			pfd[n++] = (struct pollfd){ 0, POLLIN, 0 };
		t = rtmc_timeout(c.h);
		if (t < 0 || t > 100)
			t = 100;
		if (poll(pfd, (nfds_t)n, t) == -1 && errno != EINTR) {
			rc = 1;
			break;
		}
		if (terminated)
			break;
		if (rtmc_dispatch(c.h) == -1) {
			fprintf(stderr, "bench_client: %s\n",
			    errno == ECONNRESET ? "rtm went away" :
			    strerror(errno));
			rc = 1;
			break;
		}
		check_done(&c);
		if (n == 3 && pfd[2].revents) {
			if (bench_lines_read(&in) == -1 && errno != EINTR)
				in.eof = 1;
			while ((line = bench_lines_next(&in)) != NULL)
				if (command(&c, line))
					terminated = 1;
		}
	}
	rtmc_close(c.h);
	rtmc_sigusr1_uninstall();
	return rc;
}
