/*
 * test_faults_e2e: rtm and its clients under faults.  Clients stopped
 * (SIGSTOP) during a burst of updates, clients killed (SIGKILL) during
 * a stream of updates, rtm restarted and rtm killed in the middle of a
 * batch, and the in-sync verification itself (a client acking a wrong
 * digest is never reported in-sync).
 *
 * Most clients are this program run again as
 *
 *	test_faults_e2e --client DIR N
 *
 * (started with tu_spawn(), so they are killed after every test, pass
 * or fail).  Each holds a librtmc handle in its own poll loop and, on
 * SIGUSR2, writes its mirror to DIR/client.N.tab: a header line with
 * the handle's state, then the routes as "rtm-admin route show" prints
 * them, "--", and the ARP entries as "rtm-admin arp show" prints them,
 * so a client's table is compared byte for byte with rtm's.  Where the
 * program itself is under test, rtm-client monitor runs too, and its
 * output is replayed into tables.
 *
 * Every wait polls a condition with a deadline.  The figures printed
 * ("figure: ...") are for the record, never asserted, except the two
 * bounds the specification sets: a killed client leaves the registry
 * within 1 s, and clients resync within 2 s of rtm coming back.  Those
 * hold for rtm run natively; under valgrind (RTM_VALGRIND) it is many
 * times slower and has no pidfds, so there only that it happens at all
 * is asserted, within a generous deadline, and the figure printed.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "digest.h"
#include "msg.h"
#include "rtmc.h"
#include "shm.h"
#include "testutil.h"
#include "uds.h"

#define OUTSZ		(16 << 20)
#define MAXCL		40
#define NSTALL		30	/* of the stalled-clients test ... */
#define NRUN		4	/* ... and the ones left running */

static const char	*self;		/* argv[0]: clients are this program */
static char		*out;		/* OUTSZ: stdout of the last command */
static char		 err[65536];

/* ------------------------------------------------------------------ */
/* The client program (--client).                                       */

static int	 cl_pipe[2] = { -1, -1 };
static volatile sig_atomic_t cl_quit;

struct cl_counts {
	unsigned	 resyncs;
	unsigned	 gones;
};

static void
cl_on_signal(int sig)
{
	int	 saved = errno;
	char	 c = sig == SIGUSR2 ? 'w' : 'q';
	ssize_t	 n;

	if (sig != SIGUSR2)
		cl_quit = 1;
	n = write(cl_pipe[1], &c, 1);
	(void)n;
	errno = saved;
}

static void
cl_event(struct rtmc *h, const struct rtmc_event *ev, void *arg)
{
	struct cl_counts *c = arg;

	(void)h;
	if (ev->type == RTMC_EV_RESYNC)
		c->resyncs++;
	else if (ev->type == RTMC_EV_GONE)
		c->gones++;
}

static int
cl_route(const struct rtmc_route *r, void *arg)
{
	char buf[RTMC_ROUTE_STRLEN];

	fprintf(arg, "%s\n", rtmc_route_format(r, buf));
	return 0;
}

static int
cl_arp(const struct rtmc_arp *a, void *arg)
{
	char m[RTMC_MAC_STRLEN], ip[RTMC_IPV4_STRLEN];

	fprintf(arg, "%s %s key 0x%08lx shmid %ld\n", rtmc_mac_format(a->mac, m),
	    a->has_ip ? rtmc_ipv4_format(a->ip, ip) : "-",
	    (unsigned long)(uint32_t)a->key, (long)a->shmid);
	return 0;
}

/* The mirror into DIR/client.N.tab, atomically. */
static int
cl_write(struct rtmc *h, const char *dir, const char *name,
    const struct cl_counts *c)
{
	char			 tmp[4096], path[4096];
	struct rtmc_stats	 st;
	FILE			*f;

	snprintf(tmp, sizeof(tmp), "%s/client.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/client.%s.tab", dir, name);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	rtmc_stats(h, &st);
	fprintf(f, "synced %d seq %llu instance %016llx gone %d hellos %llu "
	    "losses %llu probes %llu dumps %llu resyncs %u gones %u "
	    "heartbeats %llu pid %ld\n", rtmc_synced(h),
	    (unsigned long long)st.seq, (unsigned long long)st.instance,
	    st.gone, (unsigned long long)st.hellos,
	    (unsigned long long)st.losses, (unsigned long long)st.probes,
	    (unsigned long long)st.dumps, c->resyncs, c->gones,
	    (unsigned long long)st.heartbeats, (long)getpid());
	rtmc_route_walk(h, 1, cl_route, f);
	fputs("--\n", f);
	rtmc_arp_walk(h, 1, cl_arp, f);
	if (fclose(f) == EOF)
		return -1;
	return rename(tmp, path);
}

static int
client_main(const char *dir, const char *name)
{
	struct rtmc_opts	 opts;
	struct cl_counts	 counts = { 0, 0 };
	struct sigaction	 sa;
	struct pollfd		 pfd[3];
	struct rtmc		*h;
	char			 e[RTMC_ERRLEN], c;
	int			 sigfd;

	if (pipe(cl_pipe) == -1 ||
	    fcntl(cl_pipe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(cl_pipe[1], F_SETFL, O_NONBLOCK) == -1)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cl_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR2, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    (sigfd = rtmc_sigusr1_install()) == -1)
		return 1;
	memset(&opts, 0, sizeof(opts));
	opts.cb = cl_event;
	opts.cb_arg = &counts;
	if ((h = rtmc_open(dir, &opts, 10000, e, sizeof(e))) == NULL) {
		fprintf(stderr, "client %s: %s\n", name, e);
		return 1;
	}
	while (!cl_quit) {
		pfd[0] = (struct pollfd){ rtmc_fd(h), POLLIN, 0 };
		pfd[1] = (struct pollfd){ sigfd, POLLIN, 0 };
		pfd[2] = (struct pollfd){ cl_pipe[0], POLLIN, 0 };
		if (poll(pfd, 3, rtmc_timeout(h)) == -1 && errno != EINTR)
			break;
		if (rtmc_dispatch(h) == -1) {
			fprintf(stderr, "client %s: %s\n", name,
			    strerror(errno));
			break;
		}
		while (read(cl_pipe[0], &c, 1) == 1)
			if (c == 'w' && cl_write(h, dir, name, &counts) == -1)
				fprintf(stderr, "client %s: write: %s\n",
				    name, strerror(errno));
	}
	rtmc_close(h);
	rtmc_sigusr1_uninstall();
	return cl_quit ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* Driving rtm and rtm-admin.                                           */

/* rtm-admin -d tu_dir ARGS (split on spaces); stdout in out. */
#define admin(input, ...) \
	tu_admin((input), out, OUTSZ, err, sizeof(err), 180000, __VA_ARGS__)

static unsigned long long
stat_of(const char *name)
{
	char			 key[64];
	const char		*p;
	unsigned long long	 v = 0;

	if (admin(NULL, "stats") != 0)
		return (unsigned long long)-1;
	snprintf(key, sizeof(key), "\n%s ", name);
	if (strncmp(out, key + 1, strlen(key + 1)) == 0)
		p = out + strlen(key + 1);
	else if ((p = strstr(out, key)) != NULL)
		p += strlen(key);
	else
		return (unsigned long long)-1;
	sscanf(p, "%llu", &v);
	return v;
}

/*
 * These tests are about changes streamed to clients: queues, overflows,
 * losses.  A big rtm-admin -b batch would reach the clients as one dump
 * at its end instead (RTM_BULK_MIN changes make a session bulk), so
 * that is turned off here; test_client_e2e covers bulk batches.
 */
static pid_t
rtm_start(void)
{
	pid_t pid;

	setenv("RTM_BULK_MIN", "1000000000", 1);
	pid = tu_rtm_start(NULL);
	unsetenv("RTM_BULK_MIN");
	CU_ASSERT_FATAL(pid > 0);
	return pid;
}

static void
rtm_crash(pid_t pid)
{
	int status;

	CU_ASSERT(kill(pid, SIGKILL) == 0);
	status = tu_reap(pid, 10000);
	CU_ASSERT(status != -1 && WIFSIGNALED(status));
}

/* rtm's tables as rtm-admin prints them: routes, "--", ARP. */
static char *
rtm_tables(void)
{
	char	*routes, *s;
	size_t	 n;

	CU_ASSERT_FATAL(admin(NULL, "route show") == 0);
	CU_ASSERT_FATAL((routes = strdup(out)) != NULL);
	if (admin(NULL, "arp show") != 0) {
		free(routes);
		CU_FAIL_FATAL("rtm-admin arp show failed");
	}
	n = strlen(routes) + 3 + strlen(out) + 1;
	if ((s = malloc(n)) == NULL) {
		free(routes);
		CU_FAIL_FATAL("out of memory");
	}
	snprintf(s, n, "%s--\n%s", routes, out);
	free(routes);
	return s;
}

/* ------------------------------------------------------------------ */
/* Clients.                                                             */

struct cl {
	pid_t	 pid;
	int	 n;
	int	 monitor;	/* rtm-client monitor, not --client */
};

static struct cl
client_start(int n)
{
	char		 name[16], e[32];
	char		*argv[] = { TU_S(self), TU_S("--client"), tu_dir,
			    name, NULL };
	struct cl	 c = { -1, n, 0 };

	snprintf(name, sizeof(name), "%d", n);
	snprintf(e, sizeof(e), "client.%d.err", n);
	c.pid = tu_spawn(argv, NULL, tu_path(e));
	CU_ASSERT_FATAL(c.pid > 0);
	return c;
}

static struct cl
monitor_start(int n)
{
	char		 o[32], e[32];
	char		*argv[] = { TU_S(tu_bin("client/rtm-client")),
			    TU_S("-d"), tu_dir, TU_S("monitor"), NULL };
	struct cl	 c = { -1, n, 1 };

	snprintf(o, sizeof(o), "mon.%d.out", n);
	snprintf(e, sizeof(e), "mon.%d.err", n);
	c.pid = tu_spawn(argv, tu_path(o), tu_path(e));
	CU_ASSERT_FATAL(c.pid > 0);
	return c;
}

struct sync_want {
	const struct cl	*cl;
	int		 n;
	int		 all;		/* nobody else may be out of sync */
	int		 rounds;
};

/* `rtm-admin clients`: each of want's pids is listed, in-sync, lag 0. */
static int
clients_in_sync(void *arg)
{
	struct sync_want	*w = arg;
	char			*save = NULL, state[32];
	long			 pid;
	unsigned long		 uid;
	unsigned long long	 seq, lag;
	int			 ok = 0, bad = 0;

	if (w->rounds++ > 0)
		tu_sleep_ms(10);
	if (admin(NULL, "clients") != 0)
		return 0;
	for (char *l = strtok_r(out, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		int mine = 0, good;

		if (sscanf(l, "%ld %lu %llu %llu %31s", &pid, &uid, &seq, &lag,
		    state) != 5)
			continue;
		good = strcmp(state, "in-sync") == 0 && lag == 0;
		for (int i = 0; i < w->n; i++)
			if (w->cl[i].pid == (pid_t)pid)
				mine = 1;
		if (mine && good)
			ok++;
		else if (!good && (mine || w->all))
			bad = 1;
	}
	return !bad && ok == w->n;
}

static int
wait_in_sync(const struct cl *cl, int n, int all, int timeout_ms)
{
	struct sync_want w = { cl, n, all, 0 };

	return tu_wait_until(clients_in_sync, &w, timeout_ms);
}

/* The state column of `rtm-admin clients` for pid ("" if unlisted). */
static const char *
client_state(pid_t pid)
{
	static char	 state[32];
	char		*save = NULL, st[32];
	long		 p;
	unsigned long	 uid;
	unsigned long long seq, lag;

	state[0] = '\0';
	if (admin(NULL, "clients") != 0)
		return state;
	for (char *l = strtok_r(out, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save))
		if (sscanf(l, "%ld %lu %llu %llu %31s", &p, &uid, &seq, &lag,
		    st) == 5 && p == (long)pid)
			snprintf(state, sizeof(state), "%s", st);
	return state;
}

struct tab_wait {
	const char	*path;
};

static int
tab_there(void *arg)
{
	struct tab_wait *t = arg;

	return access(t->path, F_OK) == 0;
}

struct tab {
	int			 synced, gone;
	unsigned long long	 seq, instance, hellos, losses, probes, dumps;
	unsigned long long	 heartbeats;
	unsigned		 resyncs, gones;
	long			 pid;
	char			*text;	/* whole file */
	const char		*body;	/* after the header line */
};

/* Asks a --client for its mirror and reads it; -1 if none came. */
static int
client_table(const struct cl *c, struct tab *t)
{
	char		 name[32];
	struct tab_wait	 w;
	char		*nl;

	memset(t, 0, sizeof(*t));
	snprintf(name, sizeof(name), "client.%d.tab", c->n);
	w.path = tu_path(name);
	unlink(w.path);
	if (kill(c->pid, SIGUSR2) == -1 || !tu_wait_until(tab_there, &w, 10000))
		return -1;
	if ((t->text = tu_slurp(w.path)) == NULL ||
	    (nl = strchr(t->text, '\n')) == NULL ||
	    sscanf(t->text, "synced %d seq %llu instance %llx gone %d hellos "
	    "%llu losses %llu probes %llu dumps %llu resyncs %u gones %u "
	    "heartbeats %llu pid %ld", &t->synced, &t->seq, &t->instance,
	    &t->gone, &t->hellos, &t->losses, &t->probes, &t->dumps,
	    &t->resyncs, &t->gones, &t->heartbeats, &t->pid) != 12) {
		free(t->text);
		t->text = NULL;
		return -1;
	}
	t->body = nl + 1;
	return 0;
}

/*
 * Each client's mirror is exactly rtm's tables at rtm's seq.  Call once
 * rtm is quiet and `clients` said in-sync.  Returns how many matched.
 */
static int
check_tables(const struct cl *cl, int n)
{
	char			*want = rtm_tables();
	unsigned long long	 seq = stat_of("seq");
	int			 same = 0;

	for (int i = 0; i < n; i++) {
		struct tab t;

		if (cl[i].monitor)
			continue;
		if (client_table(&cl[i], &t) == -1) {
			CU_FAIL("a client did not write its table");
			continue;
		}
		CU_ASSERT(t.synced == 1 && t.gone == 0 && t.seq == seq);
		CU_ASSERT(t.pid == (long)cl[i].pid);
		if (strcmp(t.body, want) == 0)
			same++;
		else
			fprintf(stderr, "client %d (pid %ld): table differs "
			    "from rtm's\n", cl[i].n, (long)cl[i].pid);
		free(t.text);
	}
	free(want);
	return same;
}

/* ------------------------------------------------------------------ */
/* Replaying rtm-client monitor output.                                 */

/* A small string map: key (first word of an entry) -> entry. */
struct smap {
	char	**key;
	char	**val;
	size_t	  cap, used;	/* used counts tombstones too */
};

static char tomb[] = "";

static size_t
smap_hash(const char *s)
{
	size_t h = 1469598103934665603ULL & (size_t)-1;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void smap_put(struct smap *, const char *, const char *);

static void
smap_grow(struct smap *m)
{
	struct smap	 n = { NULL, NULL, m->cap ? m->cap * 2 : 1024, 0 };

	n.key = calloc(n.cap, sizeof(char *));
	n.val = calloc(n.cap, sizeof(char *));
	CU_ASSERT_FATAL(n.key != NULL && n.val != NULL);
	for (size_t i = 0; i < m->cap; i++) {
		if (m->key[i] != NULL && m->key[i] != tomb) {
			smap_put(&n, m->key[i], m->val[i]);
			free(m->key[i]);
			free(m->val[i]);
		}
	}
	free(m->key);
	free(m->val);
	*m = n;
}

static void
smap_put(struct smap *m, const char *key, const char *val)
{
	size_t i, t = (size_t)-1;

	if ((m->used + 1) * 2 > m->cap)
		smap_grow(m);
	for (i = smap_hash(key) & (m->cap - 1); m->key[i] != NULL;
	    i = (i + 1) & (m->cap - 1)) {
		if (m->key[i] == tomb) {
			if (t == (size_t)-1)
				t = i;
			continue;
		}
		if (strcmp(m->key[i], key) == 0) {
			free(m->val[i]);
			m->val[i] = strdup(val);
			return;
		}
	}
	if (t == (size_t)-1) {
		t = i;
		m->used++;
	}
	m->key[t] = strdup(key);
	m->val[t] = strdup(val);
}

static void
smap_del(struct smap *m, const char *key)
{
	if (m->cap == 0)
		return;
	for (size_t i = smap_hash(key) & (m->cap - 1); m->key[i] != NULL;
	    i = (i + 1) & (m->cap - 1)) {
		if (m->key[i] != tomb && strcmp(m->key[i], key) == 0) {
			free(m->key[i]);
			free(m->val[i]);
			m->key[i] = tomb;
			m->val[i] = NULL;
			return;
		}
	}
}

static void
smap_free(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->key[i] != NULL && m->key[i] != tomb) {
			free(m->key[i]);
			free(m->val[i]);
		}
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted lines into one string. */
static char *
lines_join(char **v, size_t n)
{
	size_t	 len = 1;
	char	*s, *p;

	qsort(v, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	CU_ASSERT_FATAL((s = p = malloc(len)) != NULL);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		memcpy(p, v[i], l);
		p[l] = '\n';
		p += l + 1;
	}
	*p = '\0';
	return s;
}

static char *
smap_lines(const struct smap *m)
{
	char	**v = calloc(m->cap + 1, sizeof(char *)), *s;
	size_t	  n = 0;

	CU_ASSERT_FATAL(v != NULL);
	for (size_t i = 0; i < m->cap; i++)
		if (m->key[i] != NULL && m->key[i] != tomb)
			v[n++] = m->val[i];
	s = lines_join(v, n);
	free(v);
	return s;
}

/* "ROUTES(sorted)--\nMAC IP(sorted)" from canonical text of rtm. */
static char *
canon_rtm(const char *tables)
{
	char	 *copy = strdup(tables), *save = NULL, *res, *a, *b;
	char	**rv, **av, mac[32], ip[32];
	size_t	  nr = 0, na = 0, max = 1;
	int	  arp = 0;

	CU_ASSERT_FATAL(copy != NULL);
	for (const char *p = tables; *p; p++)
		max += *p == '\n';
	rv = calloc(max, sizeof(char *));
	av = calloc(max, sizeof(char *));
	CU_ASSERT_FATAL(rv != NULL && av != NULL);
	for (char *l = strtok_r(copy, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		if (strcmp(l, "--") == 0)
			arp = 1;
		else if (!arp)
			rv[nr++] = strdup(l);
		else if (sscanf(l, "%31s %31s", mac, ip) == 2) {
			char line[80];

			snprintf(line, sizeof(line), "%s %s", mac, ip);
			av[na++] = strdup(line);
		}
	}
	a = lines_join(rv, nr);
	b = lines_join(av, na);
	CU_ASSERT_FATAL((res = malloc(strlen(a) + strlen(b) + 4)) != NULL);
	sprintf(res, "%s--\n%s", a, b);
	for (size_t i = 0; i < nr; i++)
		free(rv[i]);
	for (size_t i = 0; i < na; i++)
		free(av[i]);
	free(rv);
	free(av);
	free(a);
	free(b);
	free(copy);
	return res;
}

/*
 * Replays monitor n's output (whole lines only) into the canon_rtm()
 * form; counts "gone" and "resync" lines.
 */
static char *
monitor_replay(int n, int *gones, int *resyncs)
{
	struct smap	 routes = { NULL, NULL, 0, 0 }, arp = routes;
	char		 name[32], *text, *save = NULL, *res, *a, *b;
	char		 key[64], rest[256];

	*gones = *resyncs = 0;
	snprintf(name, sizeof(name), "mon.%d.out", n);
	CU_ASSERT_FATAL((text = tu_slurp(tu_path(name))) != NULL);
	if (strrchr(text, '\n') != NULL)
		strrchr(text, '\n')[1] = '\0';
	else
		text[0] = '\0';
	for (char *l = strtok_r(text, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		if (sscanf(l, "route add %63s %255[^\n]", key, rest) == 2 ||
		    sscanf(l, "route change %63s %255[^\n]", key, rest) == 2) {
			char line[400];

			snprintf(line, sizeof(line), "%s %s", key, rest);
			smap_put(&routes, key, line);
		} else if (sscanf(l, "route del %63s", key) == 1)
			smap_del(&routes, key);
		else if (sscanf(l, "arp add %63s %255s", key, rest) == 2 ||
		    sscanf(l, "arp change %63s %255s", key, rest) == 2) {
			char line[400];

			snprintf(line, sizeof(line), "%s %s", key, rest);
			smap_put(&arp, key, line);
		} else if (sscanf(l, "arp del %63s", key) == 1)
			smap_del(&arp, key);
		else if (strcmp(l, "flush route") == 0)
			smap_free(&routes);
		else if (strcmp(l, "flush arp") == 0)
			smap_free(&arp);
		else if (strcmp(l, "flush") == 0 || strcmp(l, "resync") == 0) {
			*resyncs += l[0] == 'r';
			smap_free(&routes);
			smap_free(&arp);
		} else if (strcmp(l, "gone") == 0)
			(*gones)++;
		else if (strcmp(l, "sync") != 0)
			CU_FAIL("unexpected monitor line");
	}
	a = smap_lines(&routes);
	b = smap_lines(&arp);
	CU_ASSERT_FATAL((res = malloc(strlen(a) + strlen(b) + 4)) != NULL);
	sprintf(res, "%s--\n%s", a, b);
	free(a);
	free(b);
	smap_free(&routes);
	smap_free(&arp);
	free(text);
	return res;
}

/* ------------------------------------------------------------------ */
/* Scripts.                                                             */

static void
write_file(const char *name, const char *text)
{
	FILE *f = fopen(tu_path(name), "w");

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT(fputs(text, f) != EOF);
	CU_ASSERT(fclose(f) == 0);
}

/* Appends a printf'd line to a growing buffer. */
struct buf {
	char	*s;
	size_t	 len, cap;
};

static void
bprintf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (b->cap - b->len < 256) {
		b->cap = b->cap ? b->cap * 2 : 1 << 20;
		CU_ASSERT_FATAL((b->s = realloc(b->s, b->cap)) != NULL);
	}
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* The i-th route of a script: 10.x.y.0/24 then 11.x.y.0/24 ... */
static const char *
pfx(int base, int i)
{
	static char buf[4][32];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%d.%d.%d.0/24", base + i / 65536,
	    (i >> 8) & 0xff, i & 0xff);
	return buf[k];
}

/* ------------------------------------------------------------------ */
/* Tests.                                                               */

enum { B_ADD = 50000, B_CHG = 25000, B_DEL = 30000, B_NARP = 40 };
#define B_UPDATES	(B_ADD + B_CHG + B_DEL + B_NARP + B_NARP / 2 + B_NARP / 4)

/*
 * A burst of route updates (adds, changes, then deletions) under
 * prefix base, with some ARP churn (MACs 02:00:00:00:mb:xx), written
 * to tu_dir/name; run with rtm-admin -b.  Returns how long it took.
 */
static long long
burst(const char *name, int base, int mb)
{
	struct buf	 b = { NULL, 0, 0 };
	char		*argv[] = { TU_S(tu_bin("admin/rtm-admin")),
			    TU_S("-d"), tu_dir, TU_S("-b"),
			    TU_S(tu_path(name)), NULL };
	long long	 t0;
	int		 rc;

	for (int i = 0; i < B_ADD; i++)
		bprintf(&b, "route add %s dev eth%d\n", pfx(base, i), i % 4);
	for (int i = 0; i < B_NARP; i++)
		bprintf(&b, "arp add 02:00:00:00:%02x:%02x 10.254.%d.%d\n", mb,
		    i, mb, i + 1);
	for (int i = 0; i < B_CHG; i++)
		bprintf(&b, "route change %s via 10.0.%d.1 dev eth%d\n",
		    pfx(base, i), i % 200, (i + 1) % 4);
	for (int i = 0; i < B_NARP / 2; i++)
		bprintf(&b, "arp change 02:00:00:00:%02x:%02x 10.253.%d.%d\n",
		    mb, i, mb, i + 1);
	for (int i = B_ADD - B_DEL; i < B_ADD; i++)
		bprintf(&b, "route del %s\n", pfx(base, i));
	for (int i = 0; i < B_NARP / 4; i++)
		bprintf(&b, "arp del 02:00:00:00:%02x:%02x\n", mb,
		    B_NARP - 1 - i);
	write_file(name, b.s);
	free(b.s);
	t0 = tu_now_ms();
	rc = tu_run(argv, NULL, out, OUTSZ, err, sizeof(err), 300000);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		fprintf(stderr, "rtm-admin -b %s: %s\n", name, err);
	return tu_now_ms() - t0;
}

/* A stopped client that overflowed is "resyncing" or "syncing". */
static int
stopped_state(pid_t pid)
{
	const char	*s = client_state(pid);

	if (strcmp(s, "resyncing") == 0 || strcmp(s, "syncing") == 0)
		return 1;
	fprintf(stderr, "[client %ld: %s] ", (long)pid, s);
	return 0;
}

/*
 * 34 clients and a burst of 105,000 route updates and 70 ARP updates,
 * first with all of them running, then with 30 stopped: the 4 running
 * ones converge while the 30 are still stopped (their queues overflow
 * and are dropped: with RTM_QUEUE_MAX at 1 MiB the burst is four times
 * that), then the 30 are continued and converge through a dump each.
 */
static void
test_stalled_clients(void)
{
	struct cl		 cl[NSTALL + NRUN];
	long long		 base, t1, t2, t3, t4;
	unsigned long long	 overflows, dumps;
	pid_t			 rtm;
	int			 n = NSTALL + NRUN;

	setenv("RTM_QUEUE_MAX", "1048576", 1);
	rtm = rtm_start();
	unsetenv("RTM_QUEUE_MAX");
	for (int i = 0; i < 4; i++)
		CU_ASSERT(admin(NULL, "arp add 02:00:00:00:01:%02x 10.255.1.%d",
		    i, i + 1) == 0);
	for (int i = 0; i < n; i++)
		cl[i] = client_start(i);
	CU_ASSERT_FATAL(wait_in_sync(cl, n, 1, 30000));

	/* For comparison: everybody running. */
	base = burst("burst1", 10, 2);
	CU_ASSERT(wait_in_sync(cl, n, 1, 60000));
	/* A running client may fall behind too (34 of them share two
	 * cores here); it then resyncs the same way. */
	overflows = stat_of("queue_overflows");
	dumps = stat_of("dumps");

	/* Clients 0..29 stop; 30..33 keep running. */
	for (int i = 0; i < NSTALL; i++)
		CU_ASSERT(kill(cl[i].pid, SIGSTOP) == 0);
	t1 = burst("burst2", 40, 3);
	CU_ASSERT(stat_of("routes") == 2 * (B_ADD - B_DEL));
	/* The running ones converge while the others are still stopped. */
	t2 = tu_now_ms();
	CU_ASSERT(wait_in_sync(cl + NSTALL, NRUN, 0, 60000));
	t2 = tu_now_ms() - t2;
	CU_ASSERT_EQUAL(check_tables(cl + NSTALL, NRUN), NRUN);
	/* The stopped ones overflowed and wait for a dump. */
	overflows = stat_of("queue_overflows") - overflows;
	CU_ASSERT(overflows >= NSTALL && overflows < (1ULL << 32));
	/* Owed a dump, or already sent one while stopped: when a running
	 * client overflowed too, the dump built for it is shared. */
	CU_ASSERT(stopped_state(cl[0].pid));
	CU_ASSERT(stopped_state(cl[NSTALL - 1].pid));
	for (int i = 0; i < NSTALL; i++) {
		int status;

		CU_ASSERT(waitpid(cl[i].pid, &status, WNOHANG) == 0);
	}

	/* Continued, they converge through a dump each. */
	t3 = tu_now_ms();
	for (int i = 0; i < NSTALL; i++)
		CU_ASSERT(kill(cl[i].pid, SIGCONT) == 0);
	CU_ASSERT(wait_in_sync(cl, n, 1, 60000));
	t4 = tu_now_ms();
	CU_ASSERT_EQUAL(check_tables(cl, n), n);
	CU_ASSERT(stat_of("dumps") >= dumps + NSTALL);
	CU_ASSERT(stat_of("clients") == (unsigned long long)n);
	printf("\nfigure: stalled: burst of %d updates to %d clients: %lld ms "
	    "all running, %lld ms with %d stopped; running clients in sync "
	    "%lld ms after it; %llu queue overflows; stopped clients in sync "
	    "%lld ms after SIGCONT\n", B_UPDATES, n, base, t1, NSTALL, t2,
	    overflows, t4 - t3);
	CU_ASSERT_EQUAL(tu_rtm_stop(rtm), 0);
}

struct gone_want {
	const struct cl	*cl;
	int		 n;
};

/* None of the clients is listed by `rtm-admin clients` any more. */
static int
clients_unlisted(void *arg)
{
	struct gone_want	*g = arg;
	char			*save = NULL;
	long			 pid;
	int			 listed = 0;

	if (admin(NULL, "clients") != 0)
		return 0;
	for (char *l = strtok_r(out, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save))
		if (sscanf(l, "%ld", &pid) == 1)
			for (int i = 0; i < g->n; i++)
				listed += g->cl[i].pid == (pid_t)pid;
	return listed == 0;
}

/* rtm's seq is at least *arg. */
static int
seq_reached(void *arg)
{
	unsigned long long s = stat_of("seq");

	return s != (unsigned long long)-1 &&
	    s >= *(unsigned long long *)arg;
}

/*
 * Clients killed with SIGKILL while updates stream in: gone from the
 * registry within 1 s, their segment attachments with them, counted
 * in clients_gone, never signalled again; rtm keeps serving and the
 * survivors converge.
 */
static void
test_killed_clients(void)
{
	enum { N = 8, K = 4, STREAM = 60000 };
	struct cl		 cl[N];
	struct buf		 b = { NULL, 0, 0 };
	char			*argv[] = { TU_S(tu_bin("admin/rtm-admin")),
				    TU_S("-d"), tu_dir, TU_S("-b"),
				    TU_S(tu_path("stream")), NULL };
	struct gone_want	 g = { cl, K };
	char			 m[32], ip[32];
	unsigned		 key;
	int			 shmid[2], status;
	unsigned long long	 want, sig0, sig1;
	long long		 t0, t1;
	pid_t			 rtm, stream;

	rtm = rtm_start();
	for (int i = 0; i < 2; i++) {
		CU_ASSERT(admin(NULL, "arp add 02:00:00:00:00:%02x 10.9.9.%d",
		    i + 1, i + 1) == 0);
		CU_ASSERT(admin(NULL, "arp get 02:00:00:00:00:%02x", i + 1) ==
		    0);
		CU_ASSERT_FATAL(sscanf(out, "%31s %31s key 0x%x shmid %d", m,
		    ip, &key, &shmid[i]) == 4);
	}
	for (int i = 0; i < N; i++)
		cl[i] = client_start(i);
	CU_ASSERT_FATAL(wait_in_sync(cl, N, 1, 20000));
	/* In sync, yet nothing attached but rtm: a client maps a segment
	 * on its first lookup.  Writing their tables looks both MACs up,
	 * so then every client has both segments attached. */
	for (int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(seg_nattch(shmid[i]), 1);
	CU_ASSERT_EQUAL(check_tables(cl, N), N);
	for (int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(seg_nattch(shmid[i]), 1 + N);

	for (int i = 0; i < STREAM; i++)
		bprintf(&b, i % 3 == 2 ? "route del %s\n" :
		    "route add %s dev eth0\n", pfx(20, i % 3 == 2 ? i - 1 : i));
	write_file("stream", b.s);
	free(b.s);
	want = stat_of("seq") + 2000;
	stream = tu_spawn(argv, tu_path("stream.out"), tu_path("stream.err"));
	CU_ASSERT_FATAL(stream > 0);
	CU_ASSERT_FATAL(tu_wait_until(seq_reached, &want, 60000));

	/* Kill half of the clients in the middle of the stream, one of
	 * them stopped at the time (its queue may be full). */
	CU_ASSERT(kill(cl[0].pid, SIGSTOP) == 0);
	t0 = tu_now_ms();
	for (int i = 0; i < K; i++)
		CU_ASSERT(kill(cl[i].pid, SIGKILL) == 0);
	/* The bound the specification sets: out of the registry in 1 s.
	 * Under valgrind rtm has no pidfd (it notices a killed client
	 * only when a send to it fails) and each poll here runs rtm-admin
	 * against the slowed rtm: there, only that they go. */
	CU_ASSERT(tu_wait_until(clients_unlisted, &g,
	    tu_valgrind() ? 15000 : 1000));
	t1 = tu_now_ms();
	for (int i = 0; i < K; i++) {
		status = tu_reap(cl[i].pid, 5000);
		CU_ASSERT(status != -1 && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL);
	}
	/* rtm kept serving: the stream completes, the others converge. */
	status = tu_reap(stream, 120000);
	CU_ASSERT(status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	CU_ASSERT(wait_in_sync(cl + K, N - K, 1, 30000));
	CU_ASSERT_EQUAL(check_tables(cl + K, N - K), N - K);
	CU_ASSERT_EQUAL(stat_of("clients_gone"), K);
	CU_ASSERT_EQUAL(stat_of("clients"), N - K);
	/* Their attachments went with them. */
	for (int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(seg_nattch(shmid[i]), 1 + N - K);
	/* A flush signals exactly the live clients. */
	sig0 = stat_of("signals");
	CU_ASSERT(admin(NULL, "route flush") == 0);
	CU_ASSERT(wait_in_sync(cl + K, N - K, 1, 30000));
	sig1 = stat_of("signals");
	CU_ASSERT_EQUAL(sig1 - sig0, N - K);
	CU_ASSERT_EQUAL(check_tables(cl + K, N - K), N - K);
	printf("\nfigure: killed: %d of %d clients SIGKILLed during a stream "
	    "of %d updates were out of the registry %lld ms later\n", K, N,
	    STREAM, t1 - t0);
	CU_ASSERT_EQUAL(tu_rtm_stop(rtm), 0);
}

/* Monitor n has printed text (anywhere in its output). */
struct says {
	int		 n;
	const char	*text;
	int		 times;
};

static int
monitor_says(void *arg)
{
	struct says	*s = arg;
	char		 name[32], *text, *p;
	int		 k = 0;

	snprintf(name, sizeof(name), "mon.%d.out", s->n);
	if ((text = tu_slurp(tu_path(name))) == NULL)
		return 0;
	for (p = text; (p = strstr(p, s->text)) != NULL; p++)
		k++;
	free(text);
	return k >= s->times;
}

/*
 * The monitors' replayed output equals rtm's tables, they still run,
 * and each time they lost rtm (at least min_gones times; more only if
 * a loaded machine kept rtm silent for 1.5 s) they resynced once.
 */
static void
check_monitors(const struct cl *cl, int n, int min_gones)
{
	char	*want = NULL, *got;
	int	 gones, resyncs, status;

	for (int i = 0; i < n; i++) {
		if (!cl[i].monitor)
			continue;
		if (want == NULL) {
			char *t = rtm_tables();

			want = canon_rtm(t);
			free(t);
		}
		got = monitor_replay(cl[i].n, &gones, &resyncs);
		CU_ASSERT_STRING_EQUAL(got, want);
		CU_ASSERT(gones >= min_gones);
		CU_ASSERT_EQUAL(resyncs, gones);
		CU_ASSERT(waitpid(cl[i].pid, &status, WNOHANG) == 0);
		free(got);
	}
	free(want);
}

/*
 * The bound on all clients being back in sync once rtm is up
 * again: 2 s.  rtm under valgrind builds and sends every dump many
 * times slower, and each poll's rtm-admin waits on it: there, only
 * that they all resync.
 */
static int
resync_bound_ms(void)
{
	return tu_valgrind() ? 20000 : 2000;
}

/*
 * Starts rtm again; every client must be back in sync within 2 s (the
 * issue's bound; see resync_bound_ms()), with tables and monitor
 * replays matching rtm's.  Prints the figure after `what`.  Returns
 * rtm's pid.
 */
static pid_t
restart_resynced(struct cl *cl, int n, int restarts, const char *what)
{
	long long	 t0, t1, t2;
	pid_t		 rtm;
	int		 ok;

	t0 = tu_now_ms();
	rtm = rtm_start();
	t1 = tu_now_ms();
	ok = wait_in_sync(cl, n, 1, resync_bound_ms());
	t2 = tu_now_ms();
	CU_ASSERT(ok);
	if (!ok)
		CU_ASSERT(wait_in_sync(cl, n, 1, 20000));
	CU_ASSERT_EQUAL(check_tables(cl, n), 3);
	check_monitors(cl, n, restarts);
	printf("%s, rtm up in %lld ms, all %d clients in sync %lld ms later\n",
	    what, t1 - t0, n, t2 - t1);
	return rtm;
}

/*
 * rtm stopped and restarted, then killed and restarted: clients (three
 * handles and two rtm-client monitors) keep running, notice, register
 * again and resync by themselves within 2 s of rtm being back.
 */
static void
test_rtm_restart(void)
{
	enum { NC = 5 };
	struct cl	 cl[NC];
	struct tab	 t;
	long long	 t0, t1, t2, t3, t4;
	pid_t		 rtm;
	int		 ok;

	rtm = rtm_start();
	CU_ASSERT(admin(NULL, "route add 10.0.0.0/24 via 10.0.0.1 dev eth0") ==
	    0);
	CU_ASSERT(admin(NULL, "arp add 02:00:00:00:00:01 10.0.0.5") == 0);
	for (int i = 0; i < 3; i++)
		cl[i] = client_start(i);
	cl[3] = monitor_start(3);
	cl[4] = monitor_start(4);
	CU_ASSERT_FATAL(wait_in_sync(cl, NC, 1, 20000));
	/*
	 * An idle client hears a heartbeat every second and stays put: it
	 * gives rtm up only after 1.5 s of silence.  rtm under valgrind
	 * may well be that silent now and then (slowed 20 times, and
	 * translating code it had not run yet), and the client then rightly
	 * registers again; there every loss must be such a silence (a
	 * probe, never rtm saying anything that loses the session) costing
	 * no more than one dump, and the client is back in sync after.
	 */
	{
		unsigned long long hb = 0;
		long long end = tu_now_ms() + 10000;

		while (hb < 2 && tu_now_ms() < end) {
			CU_ASSERT_FATAL(client_table(&cl[0], &t) == 0);
			hb = t.heartbeats;
			if (!tu_valgrind())
				CU_ASSERT(t.losses == 0 && t.hellos == 1);
			CU_ASSERT(t.losses == t.probes &&
			    t.dumps <= t.losses + 1);
			free(t.text);
			if (hb < 2)
				tu_sleep_ms(100);
		}
		CU_ASSERT(hb >= 2);
		if (tu_valgrind())
			CU_ASSERT(wait_in_sync(cl, 1, 0, 30000));
		CU_ASSERT_STRING_EQUAL(client_state(cl[0].pid), "in-sync");
	}

	/* Stopped cleanly: rtm says goodbye; the clients keep running. */
	CU_ASSERT_EQUAL(tu_rtm_stop(rtm), 0);
	{
		struct says s3 = { 3, "\ngone\n", 1 }, s4 = { 4, "\ngone\n", 1 };

		CU_ASSERT(tu_wait_until(monitor_says, &s3, 10000));
		CU_ASSERT(tu_wait_until(monitor_says, &s4, 10000));
	}
	rtm = restart_resynced(cl, NC, 1, "\nfigure: restart: after rtm stop");

	/* Changes, then killed: no goodbye this time. */
	CU_ASSERT(admin(NULL, "route add 10.0.1.0/24 dev eth1") == 0);
	CU_ASSERT(admin(NULL, "arp change 02:00:00:00:00:01 10.0.0.6") == 0);
	CU_ASSERT(wait_in_sync(cl, NC, 1, 10000));
	rtm_crash(rtm);
	rtm = restart_resynced(cl, NC, 2, "figure: restart: after kill -9");

	/* Killed and left down for longer than the clients' silence
	 * timeout: they notice by themselves, keep trying, and resync
	 * once it is back. */
	rtm_crash(rtm);
	t0 = tu_now_ms();
	{
		long long end = tu_now_ms() + 10000;

		do {
			tu_sleep_ms(100);
			CU_ASSERT_FATAL(client_table(&cl[0], &t) == 0);
			ok = t.gone;
			free(t.text);
		} while (!ok && tu_now_ms() < end);
		CU_ASSERT(ok);
	}
	t1 = tu_now_ms();
	rtm = rtm_start();
	t2 = tu_now_ms();
	ok = wait_in_sync(cl, NC, 1, resync_bound_ms());
	t3 = tu_now_ms();
	CU_ASSERT(ok);
	CU_ASSERT(admin(NULL, "route del 10.0.0.0/24") == 0);
	CU_ASSERT(wait_in_sync(cl, NC, 1, 10000));
	t4 = tu_now_ms();
	CU_ASSERT_EQUAL(check_tables(cl, NC), 3);
	check_monitors(cl, NC, 3);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_FATAL(client_table(&cl[i], &t) == 0);
		/* Same process; one registration and one dump per loss
		 * of rtm (no storms). */
		CU_ASSERT(t.pid == (long)cl[i].pid);
		CU_ASSERT(t.losses >= 3 && t.dumps == t.losses + 1 &&
		    t.gones == t.losses && t.resyncs == t.losses &&
		    t.hellos >= t.losses + 1);
		free(t.text);
	}
	printf("figure: restart: after kill -9 with rtm left down, a client "
	    "noticed by itself within %lld ms; rtm up in %lld ms, all %d "
	    "clients in sync %lld ms later, and %lld ms after a change\n",
	    t1 - t0, t2 - t1, NC, t3 - t2, t4 - t3);
	CU_ASSERT_EQUAL(tu_rtm_stop(rtm), 0);
}

/*
 * rtm killed with SIGKILL in the middle of a batch and restarted: the
 * clients (four handles, one monitor) reconverge to the restarted
 * rtm's tables without being restarted, and nothing a client had seen
 * before the crash is missing afterwards (rtm tells clients only what
 * is on disk).
 */
static void
test_rtm_killed_mid_batch(void)
{
	enum { NC = 5, BATCH = 200000 };
	struct cl		 cl[NC];
	struct buf		 b = { NULL, 0, 0 };
	char			*argv[] = { TU_S(tu_bin("admin/rtm-admin")),
				    TU_S("-d"), tu_dir, TU_S("-b"),
				    TU_S(tu_path("batch")), NULL };
	struct tab		 seen;
	unsigned long long	 want, survived;
	long long		 t0, t1;
	char			*now, *save = NULL;
	pid_t			 rtm, batch;
	int			 lost = 0, nseen = 0;

	rtm = rtm_start();
	CU_ASSERT(admin(NULL, "arp add 02:00:00:00:00:07 10.7.7.7") == 0);
	for (int i = 0; i < NC - 1; i++)
		cl[i] = client_start(i);
	cl[NC - 1] = monitor_start(NC - 1);
	CU_ASSERT_FATAL(wait_in_sync(cl, NC, 1, 20000));
	for (int i = 0; i < BATCH; i++)
		bprintf(&b, "route add %s dev eth%d\n", pfx(30, i), i % 8);
	write_file("batch", b.s);
	free(b.s);

	batch = tu_spawn(argv, tu_path("batch.out"), tu_path("batch.err"));
	CU_ASSERT_FATAL(batch > 0);
	/* What client 0 holds once it has seen a good part of the batch,
	 * a moment before the crash. */
	want = 10000;
	for (long long end = tu_now_ms() + 60000;; tu_sleep_ms(10)) {
		CU_ASSERT_FATAL(client_table(&cl[0], &seen) == 0);
		if (seen.seq >= want || tu_now_ms() >= end)
			break;
		free(seen.text);
	}
	CU_ASSERT_FATAL(seen.seq >= want);
	rtm_crash(rtm);
	/* rtm-admin would wait for its replies until its timeout. */
	kill(batch, SIGKILL);
	CU_ASSERT(tu_reap(batch, 10000) != -1);

	t0 = tu_now_ms();
	rtm = rtm_start();
	CU_ASSERT(wait_in_sync(cl, NC, 1, 20000));
	t1 = tu_now_ms();
	CU_ASSERT_EQUAL(check_tables(cl, NC), NC - 1);
	check_monitors(cl, NC, 1);
	survived = stat_of("routes");
	CU_ASSERT(survived < BATCH);
	/* Every route client 0 had seen survived the crash. */
	CU_ASSERT(admin(NULL, "route show") == 0);
	now = strdup(out);
	CU_ASSERT_FATAL(now != NULL);
	{
		char *body = strdup(seen.body);

		CU_ASSERT_FATAL(body != NULL);
		for (char *l = strtok_r(body, "\n", &save); l != NULL;
		    l = strtok_r(NULL, "\n", &save)) {
			char line[128];

			if (strcmp(l, "--") == 0)
				break;
			nseen++;
			snprintf(line, sizeof(line), "%s\n", l);
			if (strstr(now, line) == NULL)
				lost++;
		}
		free(body);
	}
	CU_ASSERT(nseen >= (int)want - 1);
	CU_ASSERT_EQUAL(lost, 0);
	free(now);
	free(seen.text);
	for (int i = 0; i < NC - 1; i++) {
		struct tab t;

		CU_ASSERT_FATAL(client_table(&cl[i], &t) == 0);
		CU_ASSERT(t.pid == (long)cl[i].pid && t.losses >= 1 &&
		    t.dumps == t.losses + 1);
		free(t.text);
	}
	printf("\nfigure: mid-batch: rtm killed during a %d-route batch (a "
	    "client had seen %d routes; %llu survived), all %d clients in "
	    "sync %lld ms after restart began\n", BATCH, nseen, survived,
	    NC, t1 - t0);
	CU_ASSERT_EQUAL(tu_rtm_stop(rtm), 0);
}

/* A client speaking the wire protocol itself, to ack what it likes. */
struct fake {
	int		 fd;
	char		 path[UDS_PATH_MAX + 1];
	uint64_t	 seq;		/* applied */
	uint64_t	 digest;	/* of the tables as received */
	uint64_t	 rtm_digest;	/* from SYNC_END */
	uint64_t	 dseq;
};

static void
fake_send(struct fake *f, const struct msg_record *rec)
{
	uint8_t			 buf[256];
	struct msg_writer	 w;
	struct msg_header	 h;

	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.chan = MSG_CHAN_CLIENT;
	h.pid = (uint32_t)getpid();
	h.seq = ++f->dseq;
	msg_begin(&w, buf, sizeof(buf), &h);
	CU_ASSERT_FATAL(msg_put(&w, rec) == 0);
	CU_ASSERT(uds_sendto(f->fd, tu_path("rtm.sock"), buf,
	    msg_finish(&w)) == 0);
}

static void
fake_ack(struct fake *f, uint64_t seq, uint64_t digest)
{
	struct msg_record r;

	memset(&r, 0, sizeof(r));
	r.type = MSG_ACK;
	r.u.ack.seq = seq;
	r.u.ack.digest = digest;
	fake_send(f, &r);
}

/* The digest of an ARP entry, with the address read from its segment
 * as a client would. */
static uint64_t
fake_arp_digest(const struct msg_record *r)
{
	const struct seg_header	*s = seg_attach(r->u.arp.shmid, &r->u.arp.mac);
	uint32_t		 ip = 0;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT(seg_read_ip(s, &ip) == 0);
	seg_detach(s);
	return digest_arp(&r->u.arp.mac, ip);
}

/* Reads what rtm sends until *done says stop; applies it to f. */
static void
fake_recv(struct fake *f, int until_sync_end, uint64_t until_seq)
{
	static uint8_t		 buf[MSG_MAX];
	struct msg_reader	 rd;
	struct msg_record	 r;
	long long		 end = tu_now_ms() + 10000;

	for (;;) {
		struct pollfd	 pfd = { f->fd, POLLIN, 0 };
		ssize_t		 n;

		if (!until_sync_end && f->seq >= until_seq)
			return;
		CU_ASSERT_FATAL(tu_now_ms() < end);
		if (poll(&pfd, 1, 100) != 1)
			continue;
		if ((n = uds_recv(f->fd, buf, sizeof(buf), NULL)) <= 0)
			continue;
		CU_ASSERT_FATAL(msg_open(&rd, buf, (size_t)n, NULL, NULL) == 0);
		while (msg_next(&rd, &r) == 1) {
			switch (r.type) {
			case MSG_SYNC_BEGIN:
				f->digest = 0;
				break;
			case MSG_ROUTE_ADD:
				f->digest += digest_route(&r.u.route.route);
				if (r.u.route.seq != 0)
					f->seq = r.u.route.seq;
				break;
			case MSG_ARP_ADD:
				f->digest += fake_arp_digest(&r);
				break;
			case MSG_SYNC_END:
				f->seq = r.u.sync_end.seq;
				f->rtm_digest = r.u.sync_end.digest;
				if (until_sync_end)
					return;
				break;
			case MSG_HEARTBEAT:
				break;
			default:
				CU_FAIL("unexpected record from rtm");
				break;
			}
		}
	}
}

struct state_want {
	pid_t		 pid;
	const char	*state;
	unsigned long long seq, lag;
};

static int
state_is(void *arg)
{
	struct state_want	*w = arg;
	char			*save = NULL, st[32];
	long			 p;
	unsigned long		 uid;
	unsigned long long	 seq, lag;

	tu_sleep_ms(5);
	if (admin(NULL, "clients") != 0)
		return 0;
	for (char *l = strtok_r(out, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save))
		if (sscanf(l, "%ld %lu %llu %llu %31s", &p, &uid, &seq, &lag,
		    st) == 5 && p == (long)w->pid)
			return strcmp(st, w->state) == 0 && seq == w->seq &&
			    lag == w->lag;
	return 0;
}

/*
 * in-sync is verified, not claimed: a client that acks rtm's seq with a
 * digest other than rtm's at that seq is never reported in-sync.
 */
static void
test_wrong_digest(void)
{
	struct fake		 f;
	struct msg_record	 r;
	struct state_want	 w;
	pid_t			 rtm;

	rtm = rtm_start();
	CU_ASSERT(admin(NULL, "route add 10.0.0.0/24 via 10.0.0.1 dev eth0") ==
	    0);
	CU_ASSERT(admin(NULL, "route add 10.1.0.0/16 dev eth1") == 0);
	CU_ASSERT(admin(NULL, "arp add 02:00:00:00:00:01 10.0.0.5") == 0);
	memset(&f, 0, sizeof(f));
	snprintf(f.path, sizeof(f.path), "%s/peers/client.%ld.sock", tu_dir,
	    (long)getpid());
	CU_ASSERT_FATAL((f.fd = uds_bind(f.path, 0600)) != -1);
	memset(&r, 0, sizeof(r));
	r.type = MSG_HELLO;
	r.u.hello.pid = (uint32_t)getpid();
	fake_send(&f, &r);
	fake_recv(&f, 1, 0);
	/* What we computed from the dump is what rtm says it is. */
	CU_ASSERT(f.seq == 3);
	CU_ASSERT(f.digest == f.rtm_digest);

	/* Registered, not acked yet: syncing. */
	w = (struct state_want){ getpid(), "syncing", 0, 3 };
	CU_ASSERT(tu_wait_until(state_is, &w, 5000));
	/* A wrong digest at the current seq: lagging, not in-sync. */
	fake_ack(&f, 3, f.digest ^ 1);
	w = (struct state_want){ getpid(), "lagging", 3, 0 };
	CU_ASSERT(tu_wait_until(state_is, &w, 5000));
	/* The right one: in-sync. */
	fake_ack(&f, 3, f.digest);
	w.state = "in-sync";
	CU_ASSERT(tu_wait_until(state_is, &w, 5000));
	/* Wrong again, e.g. an ARP address read wrong: not any more. */
	fake_ack(&f, 3, f.digest + digest_route(&(struct addr_route){
	    { 0x0b000000, 8 }, 0, 0, "eth9" }));
	w.state = "lagging";
	CU_ASSERT(tu_wait_until(state_is, &w, 5000));
	/* A change we have not applied: right digest, old seq: lagging. */
	CU_ASSERT(admin(NULL, "route add 10.2.0.0/16 dev eth2") == 0);
	fake_ack(&f, 3, f.digest);
	w = (struct state_want){ getpid(), "lagging", 3, 1 };
	CU_ASSERT(tu_wait_until(state_is, &w, 5000));
	/* Applied and acked with the right digest: in-sync again. */
	fake_recv(&f, 0, 4);
	fake_ack(&f, 4, f.digest);
	w = (struct state_want){ getpid(), "in-sync", 4, 0 };
	CU_ASSERT(tu_wait_until(state_is, &w, 5000));
	/* An ack from the future is ignored. */
	fake_ack(&f, 99, f.digest);
	CU_ASSERT(tu_wait_until(state_is, &w, 5000));

	memset(&r, 0, sizeof(r));
	r.type = MSG_GOODBYE;
	r.u.goodbye.pid = (uint32_t)getpid();
	fake_send(&f, &r);
	close(f.fd);
	unlink(f.path);
	CU_ASSERT(tu_rtm_logged("digest mismatch"));
	CU_ASSERT_EQUAL(tu_rtm_stop(rtm), 0);
}

static const struct tu_test tests[] = {
	{ "wrong_digest", test_wrong_digest },
	{ "killed_clients", test_killed_clients },
	{ "rtm_restart", test_rtm_restart },
	{ "rtm_killed_mid_batch", test_rtm_killed_mid_batch },
	{ "stalled_clients", test_stalled_clients },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "faults_e2e", tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	int rc;

	if (argc == 4 && strcmp(argv[1], "--client") == 0)
		return client_main(argv[2], argv[3]);
	self = argv[0];
	if ((out = malloc(OUTSZ)) == NULL) {
		perror("malloc");
		return 1;
	}
	rc = tu_main(argc, argv, suites);
	free(out);
	return rc;
}
