/*
 * bench_driver.c: drives one rtm measurement against a running rtm.
 *
 * Starts K bench_client processes, waits until each has registered,
 * then runs "rtm-admin -b FILE" and waits until every client reports
 * that its mirror holds the whole table (-n routes, -m MACs).  Then,
 * as asked: -l OPS single route changes sent as ADMIN_REQ datagrams
 * straight to rtm.sock (as rtm-admin does), each timed until all K
 * clients have applied it; -L LOOKUPS longest-prefix matches in client
 * 0; -A ARP lookup timings in client 0.  Prints "R key value" lines
 * for the harness, keys prefixed with -T TAG.
 *
 *	bench_driver -d DIR -c CLIENT -a ADMIN -f FILE -k K -T TAG
 *	    [-n ROUTES] [-m MACS] [-r RTMPID] [-l OPS -x PREFIX]
 *	    [-L LOOKUPS] [-A] [-P PIDFILE] [-t SECONDS]
 *
 * Or, to time any command with a deadline (the kernel's ip -batch):
 *
 *	bench_driver -T TAG -t SECONDS -e COMMAND [ARGS...]
 *
 * Exits 0, 1 on failure (after "R TAG_status error"), 124 when the
 * deadline passed ("R TAG_status timeout"); children die with it.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "bench.h"
#include "msg.h"
#include "peername.h"
#include "uds.h"

#define MAX_CLIENTS	256
#define WARMUP_OPS	200
#define OP_TIMEOUT_MS	5000
#define STOP_MS		5000

struct kid {
	pid_t		 pid;
	int		 cmd;		/* its stdin, client 0 only */
	long long	 rss_ready;
	long long	 rss_done;
	uint64_t	 done_ns;
	int		 ready;
	int		 done;
	int		 exited;
};

static const char	*tag = "bench";
static struct kid	 kids[MAX_CLIENTS];
static int		 nkids;
static volatile pid_t	 extra_pid;	/* rtm-admin or -e command */
static char		 admin_sock[UDS_PATH_MAX + 1];

/* Async-signal-safe: kills what we started, says why, leaves. */
static void
on_deadline(int sig)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid > 0 && !kids[i].exited)
			kill(kids[i].pid, SIGKILL);
	if (extra_pid > 0)
		kill(extra_pid, SIGKILL);
	if (admin_sock[0] != '\0')
		unlink(admin_sock);
	bench_deadline_exit(tag, sig);
}

static void
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
fail(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "bench_driver: %s: ", tag);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	printf("R %s_status error\n", tag);
	fflush(stdout);
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid > 0 && !kids[i].exited)
			kill(kids[i].pid, SIGKILL);
	if (extra_pid > 0)
		kill(extra_pid, SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	if (admin_sock[0] != '\0')
		unlink(admin_sock);
	exit(1);
}

static void
note_pid(const char *pidfile, pid_t pid)
{
	FILE	*f;

	if (pidfile == NULL || (f = fopen(pidfile, "a")) == NULL)
		return;
	fprintf(f, "%ld\n", (long)pid);
	fclose(f);
}

static pid_t
spawn(char *const argv[], int out_null, int fd3, int in)
{
	pid_t	 pid;
	int	 null;

	if ((pid = fork()) == -1)
		fail("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	signal(SIGALRM, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	alarm(0);
	/* Order matters: any of these may already sit on fd 0..3. */
	null = open("/dev/null", O_RDWR);
	dup2(in != -1 ? in : null, 0);
	if (out_null)
		dup2(null, 1);
	if (fd3 != -1 && fd3 != 3) {
		dup2(fd3, 3);
		close(fd3);
	}
	if (null > 3 && null != fd3)
		close(null);
	execvp(argv[0], argv);
	fprintf(stderr, "bench_driver: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static struct kid *
kid_of(long pid)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid == (pid_t)pid)
			return &kids[i];
	return NULL;
}

/* Reaps children that exited; a client that dies is a failure. */
static void
reap(pid_t admin, int *admin_status, uint64_t *admin_end)
{
	pid_t	 pid;
	int	 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct kid *k = kid_of(pid);

		if (pid == admin) {
			*admin_status = status;
			*admin_end = bench_now_ns();
			extra_pid = 0;
		} else if (k != NULL) {
			k->exited = 1;
			fail("client %ld exited (status %d) before the end",
			    (long)pid, status);
		}
	}
}

static struct bench_tally *tally;	/* the clients' apply stamps */
static uint64_t		 all_seq;	/* the last client said: all, SEQ */
static int		 lpm_done, arp_done;
static char		 lpm_line[BENCH_LINE], arp_line[BENCH_LINE];

static void
report(const char *line)
{
	long		 pid;
	long long	 rss;
	unsigned long long ns, seq, dumps;
	unsigned long	 bad;
	struct kid	*k;

	if (sscanf(line, "ready %ld %lld", &pid, &rss) == 2) {
		if ((k = kid_of(pid)) != NULL && !k->ready) {
			k->ready = 1;
			k->rss_ready = rss;
		}
	} else if (sscanf(line, "done %ld %llu %lld %llu %lu", &pid, &ns, &rss,
	    &dumps, &bad) == 5) {
		if ((k = kid_of(pid)) != NULL && !k->done) {
			k->done = 1;
			k->done_ns = ns;
			k->rss_done = rss;
			/* Its registration's, and a big batch's (rtm sends
			 * one when the batch ends); more: it fell behind. */
			if (dumps > 2)
				fprintf(stderr, "bench_driver: %s: client %ld "
				    "needed %llu dumps (resynced)\n", tag, pid,
				    dumps);
			if (bad > 0)
				fail("client %ld read %lu wrong ARP addresses",
				    pid, bad);
		}
	} else if (sscanf(line, "all %llu", &seq) == 1) {
		all_seq = seq;
	} else if (strncmp(line, "lpm ", 4) == 0) {
		snprintf(lpm_line, sizeof(lpm_line), "%s", line);
		lpm_done = 1;
	} else if (strncmp(line, "arp ", 4) == 0) {
		snprintf(arp_line, sizeof(arp_line), "%s", line);
		arp_done = 1;
	}
}

/* Waits up to ms for report lines (and, when fd >= 0, for fd). */
static int
pump(struct bench_lines *rep, int fd, int ms)
{
	struct pollfd	 pfd[2];
	const char	*line;
	int		 n = 1, r;

	pfd[0] = (struct pollfd){ rep->fd, POLLIN, 0 };
	if (fd >= 0)
		pfd[n++] = (struct pollfd){ fd, POLLIN, 0 };
	if ((r = poll(pfd, (nfds_t)n, ms)) == -1 && errno != EINTR)
		fail("poll: %s", strerror(errno));
	if (r > 0 && pfd[0].revents) {
		if (bench_lines_read(rep) == 0)
			fail("report pipe closed");
		while ((line = bench_lines_next(rep)) != NULL)
			report(line);
	}
	return n == 2 && r > 0 && pfd[1].revents != 0;
}

static int
count(int what)
{
	int	 c = 0;

	for (int i = 0; i < nkids; i++)
		c += what == 0 ? kids[i].ready : kids[i].done;
	return c;
}

static void
stop_clients(void)
{
	uint64_t	 end = bench_now_ns() + STOP_MS * 1000000ull;
	int		 left;

	for (int i = 0; i < nkids; i++) {
		if (kids[i].cmd != -1) {
			close(kids[i].cmd);
			kids[i].cmd = -1;
		}
		if (!kids[i].exited)
			kill(kids[i].pid, SIGTERM);
	}
	do {
		left = 0;
		for (int i = 0; i < nkids; i++) {
			if (kids[i].exited)
				continue;
			if (waitpid(kids[i].pid, NULL, WNOHANG) == kids[i].pid)
				kids[i].exited = 1;
			else
				left++;
		}
		if (left > 0)
			poll(NULL, 0, 10);
	} while (left > 0 && bench_now_ns() < end);
	for (int i = 0; i < nkids; i++)
		if (!kids[i].exited) {
			fprintf(stderr, "bench_driver: %s: client %ld did not "
			    "stop; killed\n", tag, (long)kids[i].pid);
			kill(kids[i].pid, SIGKILL);
			waitpid(kids[i].pid, NULL, 0);
			kids[i].exited = 1;
		}
}

struct admin_conn {
	int		 fd;
	char		 rtm_path[UDS_PATH_MAX + 1];
	uint32_t	 pid;
	uint64_t	 dseq;
	uint8_t		 buf[MSG_MAX];
};

static void
admin_send(struct admin_conn *a, const struct msg_record *recs, int n)
{
	struct msg_writer	 w;
	struct msg_header	 h;
	size_t			 len;
	int			 tries = 0;

	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.chan = MSG_CHAN_ADMIN;
	h.pid = a->pid;
	h.seq = ++a->dseq;
	msg_begin(&w, a->buf, sizeof(a->buf), &h);
	for (int i = 0; i < n; i++)
		if (msg_put(&w, &recs[i]) == -1)
			fail("pack request: %s", strerror(errno));
	len = msg_finish(&w);
	while (uds_sendto(a->fd, a->rtm_path, a->buf, len) == -1) {
		if (uds_fate(errno) != UDS_FULL || ++tries > 1000)
			fail("send to %s: %s", a->rtm_path, strerror(errno));
		poll(NULL, 0, 1);
	}
}

/* Reads replies; returns 1 once REPLY_END of reqid came (status OK). */
static int
admin_replies(struct admin_conn *a, uint32_t reqid)
{
	struct msg_reader	 rd;
	struct msg_header	 h;
	struct msg_record	 rec;
	const char		*why;
	ssize_t			 n;
	int			 got = 0;

	while ((n = uds_recv(a->fd, a->buf, sizeof(a->buf), NULL)) >= 0) {
		if (msg_open(&rd, a->buf, (size_t)n, &h, &why) == -1 ||
		    h.chan != MSG_CHAN_REPLY)
			continue;
		while (msg_next(&rd, &rec) == 1) {
			if (rec.type == MSG_ERROR)
				fail("rtm: %s", rec.u.error.text);
			if (rec.type != MSG_REPLY_END ||
			    rec.u.reply_end.reqid != reqid)
				continue;
			if (rec.u.reply_end.status != MSG_ST_OK)
				fail("route change refused: %s (%s)",
				    msg_status_str(rec.u.reply_end.status),
				    rec.u.reply_end.text);
			got = 1;
		}
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		fail("receive: %s", strerror(errno));
	return got;
}

/*
 * ops route changes of prefix, one at a time: each is timed from just
 * before its datagram goes to rtm.sock until the last of the K clients
 * has applied it (the clients' own timestamps), the reply from rtm
 * being waited for too.
 */
static void
latency(struct bench_lines *rep, const char *dir, const char *prefix,
    int ops)
{
	struct admin_conn	*a;
	struct msg_record	 rec[2];
	struct addr_prefix	 p;
	double			*lat, *rlat;
	const char		*why;
	uint64_t		 t0, t_reply = 0, seq_prev = 0, seq, ns;

	if (addr_prefix_parse(prefix, &p, &why) == -1)
		fail("-x %s: %s", prefix, why);
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (lat = calloc((size_t)ops, sizeof(*lat))) == NULL ||
	    (rlat = calloc((size_t)ops, sizeof(*rlat))) == NULL)
		fail("memory");
	a->pid = (uint32_t)getpid();
	if (snprintf(a->rtm_path, sizeof(a->rtm_path), "%s/rtm.sock", dir) >=
	    (int)sizeof(a->rtm_path) || snprintf(admin_sock,
	    sizeof(admin_sock), "%s/peers/admin.%lu.sock", dir,
	    (unsigned long)a->pid) >= (int)sizeof(admin_sock))
		fail("%s: path too long", dir);
	if ((a->fd = peername_bind(admin_sock, sizeof(admin_sock), 0600,
	    0)) == -1) {
		admin_sock[0] = '\0';
		fail("bind: %s", strerror(errno));
	}
	uds_set_bufs(a->fd, 1 << 20, 4 << 20);

	for (int op = 0; op < WARMUP_OPS + ops; op++) {
		int	 n = 0, replied = 0;

		memset(rec, 0, sizeof(rec));
		if (op == 0) {
			rec[n].type = MSG_HELLO;
			rec[n++].u.hello.pid = a->pid;
		}
		rec[n].type = MSG_ADMIN_REQ;
		rec[n].u.admin.reqid = (uint32_t)op + 1;
		rec[n].u.admin.op = MSG_OP_ROUTE_CHANGE;
		rec[n].u.admin.route.dst = p;
		rec[n].u.admin.route.has_gw = 1;
		rec[n].u.admin.route.gw = BENCH_GW_NET |
		    (uint32_t)(1 + (op & 1));
		snprintf(rec[n].u.admin.route.ifname,
		    sizeof(rec[n].u.admin.route.ifname), "eth0");
		n++;
		atomic_store(&tally->n, 0);
		all_seq = 0;
		t0 = bench_now_ns();
		admin_send(a, rec, n);
		while (!replied || all_seq == 0) {
			pump(rep, replied ? -1 : a->fd, 100);
			if (!replied && admin_replies(a, (uint32_t)op + 1)) {
				replied = 1;
				t_reply = bench_now_ns();
			}
			if (bench_now_ns() - t0 > OP_TIMEOUT_MS * 1000000ull)
				fail("route change %d: %u of %d clients "
				    "applied it within %d ms (reply %s)", op,
				    atomic_load(&tally->n), nkids,
				    OP_TIMEOUT_MS,
				    replied ? "came" : "missing");
		}
		if (bench_tally_last(tally, &seq, &ns) == -1 || seq != all_seq)
			fail("route change %d: the clients applied different "
			    "changes", op);
		if (seq_prev != 0 && seq != seq_prev + 1)
			fail("change seq %llu after %llu",
			    (unsigned long long)seq,
			    (unsigned long long)seq_prev);
		seq_prev = seq;
		if (op >= WARMUP_OPS) {
			lat[op - WARMUP_OPS] = (double)(ns - t0) / 1e3;
			rlat[op - WARMUP_OPS] = (double)(t_reply - t0) / 1e3;
		}
	}
	memset(rec, 0, sizeof(rec));
	rec[0].type = MSG_GOODBYE;
	rec[0].u.goodbye.pid = a->pid;
	admin_send(a, rec, 1);
	close(a->fd);
	unlink(admin_sock);
	admin_sock[0] = '\0';
	bench_result("lat_p50_us", "%.1f", bench_quantile(lat, (size_t)ops,
	    0.5));
	bench_result("lat_p99_us", "%.1f", bench_quantile(lat, (size_t)ops,
	    0.99));
	bench_result("lat_max_us", "%.1f", lat[ops - 1]);
	bench_result("lat_reply_p50_us", "%.1f", bench_quantile(rlat,
	    (size_t)ops, 0.5));
	bench_result("lat_reply_max_us", "%.1f", rlat[ops - 1]);
	bench_result("lat_ops", "%d", ops);
	free(lat);
	free(rlat);
	free(a);
}

static void
ask(struct bench_lines *rep, const char *cmd, int *flag, int seconds)
{
	uint64_t	 end;

	end = bench_now_ns() + (uint64_t)seconds * 1000000000ull;
	if (kids[0].cmd == -1 || bench_write_line(kids[0].cmd, "%s", cmd) == -1)
		fail("cannot ask client 0 for %s", cmd);
	while (!*flag) {
		pump(rep, -1, 100);
		if (bench_now_ns() > end)
			fail("client 0 did not answer \"%s\" in %d s", cmd,
			    seconds);
	}
}

static int
timed_command(char *argv[], int seconds)
{
	uint64_t	 t0 = bench_now_ns();
	int		 status;
	pid_t		 pid;

	alarm((unsigned)seconds);
	pid = spawn(argv, 1, -1, -1);
	extra_pid = pid;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fail("wait: %s", strerror(errno));
	extra_pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("%s failed (status %d)", argv[0], status);
	bench_result(tag, "%.3f", (double)(bench_now_ns() - t0) / 1e9);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: bench_driver -d DIR -c CLIENT -a ADMIN -f FILE -k K "
	    "-T TAG\n"
	    "           [-n ROUTES] [-m MACS] [-r RTMPID] [-l OPS -x PREFIX]\n"
	    "           [-L LOOKUPS] [-A] [-P PIDFILE] [-t SECONDS]\n"
	    "       bench_driver -T TAG -t SECONDS -e COMMAND [ARGS...]\n");
	return 2;
}

static double
per_unit(long long before, long long after, size_t units)
{
	if (before < 0 || after < 0 || units == 0)
		return -1;
	return (double)(after - before) / (double)units;
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	struct bench_lines	 rep;
	const char		*dir = NULL, *client = NULL, *admin = NULL;
	const char		*file = NULL, *prefix = NULL, *pidfile = NULL;
	char			 nbuf[32], mbuf[32], key[96], slot[16];
	char			 tpath[UDS_PATH_MAX + 16];
	char			*av[20];
	size_t			 nroutes = 0, nmacs = 0, units;
	unsigned long		 lookups = 0;
	long long		 rtm_rss0 = -1, rtm_rss1 = -1;
	uint64_t		 t0, last = 0, admin_end = 0;
	pid_t			 rtm_pid = 0, admin_pid;
	int			 ch, k = 0, ops = 0, do_arp = 0, seconds = 120;
	int			 exec_mode = 0, admin_status = -1, p[2];
	double			 worst = -1, sum = 0;

	while ((ch = getopt(argc, argv, "+a:Ac:d:ef:k:l:L:m:n:P:r:t:T:x:")) !=
	    -1) {
		switch (ch) {
		case 'a':
			admin = optarg;
			break;
		case 'A':
			do_arp = 1;
			break;
		case 'c':
			client = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'e':
			exec_mode = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'k':
			k = atoi(optarg);
			break;
		case 'l':
			ops = atoi(optarg);
			break;
		case 'L':
			lookups = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			nmacs = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			nroutes = strtoul(optarg, NULL, 10);
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'r':
			rtm_pid = (pid_t)atol(optarg);
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		case 'T':
			tag = optarg;
			break;
		case 'x':
			prefix = optarg;
			break;
		default:
			return usage();
		}
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_deadline;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (seconds <= 0)
		return usage();
	if (exec_mode) {
		if (optind >= argc)
			return usage();
		return timed_command(argv + optind, seconds);
	}
	if (dir == NULL || client == NULL || admin == NULL || file == NULL ||
	    k < 1 || k > MAX_CLIENTS || ops < 0 || (ops > 0 && prefix == NULL))
		return usage();
	alarm((unsigned)seconds);

	if (pipe(p) == -1)
		fail("pipe: %s", strerror(errno));
	/* Unlinked once every client has mapped it (they are ready). */
	if (snprintf(tpath, sizeof(tpath), "%s/bench.tally", dir) >=
	    (int)sizeof(tpath) ||
	    (tally = bench_tally_open(tpath, (unsigned)k)) == NULL)
		fail("%s/bench.tally: %s", dir, strerror(errno));
	snprintf(nbuf, sizeof(nbuf), "%zu", nroutes);
	snprintf(mbuf, sizeof(mbuf), "%zu", nmacs);
	for (int i = 0; i < k; i++) {
		int	 cmd[2] = { -1, -1 }, n = 0;

		if (i == 0 && (lookups > 0 || do_arp) && pipe(cmd) == -1)
			fail("pipe: %s", strerror(errno));
		av[n++] = (char *)(uintptr_t)client;
		av[n++] = (char *)(uintptr_t)"-d";
		av[n++] = (char *)(uintptr_t)dir;
		av[n++] = (char *)(uintptr_t)"-p";
		av[n++] = (char *)(uintptr_t)"3";
		av[n++] = (char *)(uintptr_t)"-n";
		av[n++] = nbuf;
		av[n++] = (char *)(uintptr_t)"-m";
		av[n++] = mbuf;
		snprintf(slot, sizeof(slot), "%d", i);
		av[n++] = (char *)(uintptr_t)"-t";
		av[n++] = tpath;
		av[n++] = (char *)(uintptr_t)"-s";
		av[n++] = slot;
		if (cmd[0] != -1)
			av[n++] = (char *)(uintptr_t)"-i";
		av[n] = NULL;
		fcntl(p[0], F_SETFD, FD_CLOEXEC);
		if (cmd[1] != -1)
			fcntl(cmd[1], F_SETFD, FD_CLOEXEC);
		kids[i].cmd = cmd[1];
		kids[i].pid = spawn(av, 1, p[1], cmd[0]);
		nkids++;
		note_pid(pidfile, kids[i].pid);
		if (cmd[0] != -1)
			close(cmd[0]);
	}
	close(p[1]);
	bench_lines_init(&rep, p[0]);
	while (count(0) < k) {
		pump(&rep, -1, 100);
		reap(-1, &admin_status, &admin_end);
	}
	unlink(tpath);

	rtm_rss0 = rtm_pid > 0 ? bench_rss(rtm_pid) : -1;
	av[0] = (char *)(uintptr_t)admin;
	av[1] = (char *)(uintptr_t)"-d";
	av[2] = (char *)(uintptr_t)dir;
	av[3] = (char *)(uintptr_t)"-b";
	av[4] = (char *)(uintptr_t)file;
	av[5] = NULL;
	t0 = bench_now_ns();
	admin_pid = spawn(av, 1, -1, -1);
	extra_pid = admin_pid;
	while (count(1) < k || extra_pid != 0) {
		pump(&rep, -1, extra_pid != 0 ? 5 : 100);
		reap(admin_pid, &admin_status, &admin_end);
		if (extra_pid == 0 && (!WIFEXITED(admin_status) ||
		    WEXITSTATUS(admin_status) != 0))
			fail("rtm-admin -b %s failed (status %d)", file,
			    admin_status);
	}
	for (int i = 0; i < k; i++)
		if (kids[i].done_ns > last)
			last = kids[i].done_ns;
	if (rtm_pid > 0)
		rtm_rss1 = bench_rss(rtm_pid);
	bench_result(tag, "%.3f", (double)(last - t0) / 1e9);
	snprintf(key, sizeof(key), "%s_admin_s", tag);
	bench_result(key, "%.3f", (double)(admin_end - t0) / 1e9);

	units = nroutes + nmacs;
	for (int i = 0; i < k; i++) {
		double	 b = per_unit(kids[i].rss_ready, kids[i].rss_done,
		    units);

		if (b > worst)
			worst = b;
		sum += b;
	}
	if (units > 0 && rtm_rss0 >= 0) {
		snprintf(key, sizeof(key), "%s_rss_rtm_bpu", tag);
		bench_result(key, "%.1f", per_unit(rtm_rss0, rtm_rss1, units));
		snprintf(key, sizeof(key), "%s_rss_rtm_mib", tag);
		bench_result(key, "%.1f", (double)rtm_rss1 / 1048576.0);
	}
	if (units > 0 && worst >= 0) {
		snprintf(key, sizeof(key), "%s_rss_client_bpu", tag);
		bench_result(key, "%.1f", worst);
		snprintf(key, sizeof(key), "%s_rss_client_avg_bpu", tag);
		bench_result(key, "%.1f", sum / k);
	}

	if (ops > 0)
		latency(&rep, dir, prefix, ops);
	if (lookups > 0) {
		double		 rate, hit, hrate;
		long		 pid;

		snprintf(key, sizeof(key), "lpm %lu", lookups);
		ask(&rep, key, &lpm_done, 120);
		if (sscanf(lpm_line, "lpm %ld %lf %lf %lf", &pid, &rate, &hit,
		    &hrate) != 4 || rate <= 0)
			fail("lookup benchmark failed: %s", lpm_line);
		bench_result("lpm_mps", "%.2f", rate / 1e6);
		bench_result("lpm_hit_pct", "%.1f", hit);
		bench_result("hash_mps", "%.2f", hrate / 1e6);
	}
	if (do_arp) {
		double		 ws, all, rd;
		long		 pid;
		int		 sc;
		unsigned long	 checked;

		ask(&rep, "arp", &arp_done, 120);
		if (sscanf(arp_line, "arp %ld %lf %lf %lf %d %lu", &pid,
		    &ws, &all, &rd, &sc, &checked) != 6 || ws < 0)
			fail("ARP benchmark failed: %s", arp_line);
		bench_result("arp_ns", "%.1f", ws);
		bench_result("arp_all_ns", "%.1f", all);
		bench_result("arp_read_ns", "%.1f", rd);
		bench_result("arp_syscalls", "%s", sc == 0 ? "0" :
		    sc == 1 ? "some" : "unknown");
		bench_result("arp_checked", "%lu", checked);
	}
	alarm(0);
	stop_clients();
	return 0;
}
