/*
 * bench_fanout.c: the raw baselines rtm is compared with, measured
 * with nothing of rtm in the path.
 *
 *   bench_fanout fanout -d DIR -k K -n N -s SEED
 *	The bytes rtm sends for N route additions (bench.h's route set,
 *	packed as ROUTE_ADD records into 64 KiB NOTIFY datagrams exactly
 *	as rtm packs them, encoded before the clock starts), sent by one
 *	process to K receiver processes over AF_UNIX datagram sockets,
 *	one connected socket per receiver with a 4 MiB send buffer and
 *	non-blocking sends, as rtm does.  Each receiver reads until it
 *	has every byte.  Prints "R fanoutK_s": from the first send until
 *	the last receiver has everything.
 *
 *   bench_fanout ping -d DIR -k K -o OPS
 *	OPS times: one datagram of one ROUTE_CHANGE record to each of K
 *	receivers; timed until the last has it (receiver timestamps).
 *	Prints "R ping_p50_us" and "R ping_p99_us".
 *
 *   bench_fanout shm -m M
 *	shmget(IPC_PRIVATE, 64) + shmat of M segments, timed; all are
 *	removed afterwards.  Prints "R shm_s".
 *
 *   bench_fanout memory -k K -m MIB
 *	What K processes pay for MIB MiB of fresh memory each, as K
 *	clients building their mirrors do: K processes each malloc() and
 *	write one byte per page, released together; timed until the last
 *	has finished.  Prints "R memK_s".
 *
 *   bench_fanout semop
 *	What a reader that locked the segment's semaphore would pay: a
 *	semop lock/unlock pair (SEM_UNDO, as rtm's writer does) on a
 *	private set, median ns over batches.  Prints "R arp_semop_ns".
 *
 * -t SECONDS bounds the run (default 120); on expiry every child is
 * killed and "R <mode>_status timeout" printed.
 */
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "msg.h"
#include "shm.h"
#include "uds.h"

#define MAX_RECV	256
#define WARMUP_OPS	200
#define PEER_SNDBUF	(4 << 20)	/* rtm's RTM_PEER_SNDBUF */
#define SEM_BATCH	2000
#define SEM_BATCHES	51

union bench_semun {
	int		 val;
	struct semid_ds	*buf;
	unsigned short	*array;
};

static pid_t		 kids[MAX_RECV];
static int		 nkids;
static char		 mode_tag[32] = "fanout";
static const char	*sockdir;
static int		*shm_ids;
static struct bench_tally *ping_tally;	/* ping: the receivers' stamps */
static volatile size_t	 shm_n;
static volatile int	 sem_id = -1;

static void
sock_path(char *buf, size_t len, int i)
{
	snprintf(buf, len, "%s/fan.%d.sock", sockdir, i);
}

static void
cleanup(void)
{
	char	 path[UDS_PATH_MAX + 1];

	for (int i = 0; i < nkids; i++) {
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
		sock_path(path, sizeof(path), i);
		unlink(path);
	}
	for (size_t i = 0; i < shm_n; i++)
		shmctl(shm_ids[i], IPC_RMID, NULL);
	shm_n = 0;
	if (sem_id != -1)
		semctl(sem_id, 0, IPC_RMID);
	sem_id = -1;
}

static void
on_deadline(int sig)
{
	cleanup();
	bench_deadline_exit(mode_tag, sig);
}

static void
fail(const char *what)
{
	fprintf(stderr, "bench_fanout: %s: %s: %s\n", mode_tag, what,
	    strerror(errno));
	printf("R %s_status error\n", mode_tag);
	fflush(stdout);
	cleanup();
	while (wait(NULL) > 0 || errno == EINTR)
		;
	exit(1);
}

struct dgrams {
	uint8_t		**buf;
	size_t		 *len;
	size_t		  n;
	size_t		  bytes;
};

/* Packs n route records as rtm would, in datagrams of MSG_MAX bytes. */
static void
encode(struct dgrams *d, const struct addr_route *r, size_t n, uint16_t type)
{
	struct msg_writer	 w;
	struct msg_header	 h;
	struct msg_record	 rec;
	size_t			 cap = 16, i = 0;

	memset(d, 0, sizeof(*d));
	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.chan = MSG_CHAN_NOTIFY;
	h.pid = (uint32_t)getpid();
	h.instance = 1;
	if ((d->buf = malloc(cap * sizeof(*d->buf))) == NULL ||
	    (d->len = malloc(cap * sizeof(*d->len))) == NULL)
		fail("memory");
	while (i < n) {
		if (d->n == cap) {
			cap *= 2;
			if ((d->buf = realloc(d->buf, cap *
			    sizeof(*d->buf))) == NULL ||
			    (d->len = realloc(d->len, cap *
			    sizeof(*d->len))) == NULL)
				fail("memory");
		}
		if ((d->buf[d->n] = malloc(MSG_MAX)) == NULL)
			fail("memory");
		h.seq = d->n + 1;
		msg_begin(&w, d->buf[d->n], MSG_MAX, &h);
		for (; i < n; i++) {
			memset(&rec, 0, sizeof(rec));
			rec.type = type;
			rec.u.route.seq = i + 1;
			rec.u.route.route = r[i];
			if (msg_put(&w, &rec) == -1) {
				if (errno != ENOSPC)
					fail("encode");
				break;
			}
		}
		d->len[d->n] = msg_finish(&w);
		d->bytes += d->len[d->n];
		d->n++;
	}
}

/*
 * A receiver: reads until it has want bytes (fan-out), or forever,
 * reporting each datagram (ping).  Reports on fd rep.
 */
static void
receiver(int i, int rep, size_t want)
{
	char		 path[UDS_PATH_MAX + 1];
	uint8_t		*buf = malloc(MSG_MAX);
	struct pollfd	 pfd;
	size_t		 got = 0;
	unsigned long	 count = 0;
	ssize_t		 n;
	int		 fd;

	sock_path(path, sizeof(path), i);
	if (buf == NULL || (fd = uds_bind(path, 0600)) == -1)
		_exit(1);
	bench_write_line(rep, "ready %d", i);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			_exit(1);
		while ((n = uds_recv(fd, buf, MSG_MAX, NULL)) > 0) {
			uint64_t	 now = bench_now_ns();

			got += (size_t)n;
			count++;
			if (want == 0) {
				if (bench_tally_stamp(ping_tally, (unsigned)i,
				    count, now))
					bench_write_line(rep, "all %lu", count);
			} else if (got >= want) {
				bench_write_line(rep, "done %d %llu", i,
				    (unsigned long long)now);
				_exit(0);
			}
		}
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			_exit(1);
	}
}

static void
start_receivers(int k, int rep[2], size_t want, struct bench_lines *l)
{
	const char	*line;
	int		 ready = 0;

	if (pipe(rep) == -1)
		fail("pipe");
	for (int i = 0; i < k; i++) {
		pid_t	 pid = fork();

		if (pid == -1)
			fail("fork");
		if (pid == 0) {
			signal(SIGALRM, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			close(rep[0]);
			receiver(i, rep[1], want);
		}
		kids[nkids++] = pid;
	}
	close(rep[1]);
	bench_lines_init(l, rep[0]);
	while (ready < k) {
		if (bench_lines_read(l) <= 0)
			fail("receiver start");
		while ((line = bench_lines_next(l)) != NULL)
			ready += strncmp(line, "ready ", 6) == 0;
	}
}

static int *
connect_all(int k)
{
	char	 path[UDS_PATH_MAX + 1];
	int	*fd = calloc((size_t)k, sizeof(*fd));

	if (fd == NULL)
		fail("memory");
	for (int i = 0; i < k; i++) {
		sock_path(path, sizeof(path), i);
		if ((fd[i] = uds_connect(path)) == -1)
			fail(path);
		uds_set_bufs(fd[i], PEER_SNDBUF, 0);
	}
	return fd;
}

static void
reap_all(void)
{
	for (int i = 0; i < nkids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
		kids[i] = 0;
	}
	cleanup();
}

static void
fanout(int k, size_t n, uint64_t seed)
{
	struct addr_route	*r;
	struct dgrams		 d;
	struct bench_lines	 l;
	struct pollfd		*pfd;
	const char		*line;
	size_t			*next;
	uint64_t		 t0, last = 0;
	unsigned long long	 ns;
	int			*fd, rep[2], done = 0, i, left;
	char			 key[48];

	if ((r = bench_routes(n, seed)) == NULL)
		fail("routes");
	encode(&d, r, n, MSG_ROUTE_ADD);
	free(r);
	start_receivers(k, rep, d.bytes, &l);
	fd = connect_all(k);
	next = calloc((size_t)k, sizeof(*next));
	pfd = calloc((size_t)k, sizeof(*pfd));
	if (next == NULL || pfd == NULL)
		fail("memory");

	t0 = bench_now_ns();
	do {
		int	 np = 0;

		left = 0;
		for (i = 0; i < k; i++) {
			while (next[i] < d.n) {
				if (uds_send(fd[i], d.buf[next[i]],
				    d.len[next[i]]) == -1) {
					if (uds_fate(errno) != UDS_FULL)
						fail("send");
					break;
				}
				next[i]++;
			}
			if (next[i] < d.n) {
				pfd[np].fd = fd[i];
				pfd[np].events = POLLOUT;
				pfd[np++].revents = 0;
				left++;
			}
		}
		if (left > 0 && poll(pfd, (nfds_t)np, 100) == -1 &&
		    errno != EINTR)
			fail("poll");
	} while (left > 0);
	while (done < k) {
		if (bench_lines_read(&l) <= 0)
			fail("receiver report");
		while ((line = bench_lines_next(&l)) != NULL)
			if (sscanf(line, "done %d %llu", &i, &ns) == 2) {
				done++;
				if (ns > last)
					last = ns;
			}
	}
	snprintf(key, sizeof(key), "fanout%d_s", k);
	bench_result(key, "%.3f", (double)(last - t0) / 1e9);
	snprintf(key, sizeof(key), "fanout%d_mib", k);
	bench_result(key, "%.1f", (double)d.bytes / 1048576.0);
	snprintf(key, sizeof(key), "fanout%d_dgrams", k);
	bench_result(key, "%zu", d.n);
	reap_all();
}

static void
ping(int k, int ops)
{
	struct addr_route	*r;
	struct dgrams		 d;
	struct bench_lines	 l;
	const char		*line;
	char			 path[UDS_PATH_MAX + 16];
	double			*lat;
	uint64_t		 t0, last, seq;
	unsigned long		 cnt;
	int			*fd, rep[2], i, got;

	if ((r = bench_routes(1, 1)) == NULL)
		fail("routes");
	encode(&d, r, 1, MSG_ROUTE_CHANGE);
	free(r);
	if ((lat = calloc((size_t)ops, sizeof(*lat))) == NULL)
		fail("memory");
	/* The receivers inherit the mapping; the name is not needed. */
	snprintf(path, sizeof(path), "%s/ping.tally", sockdir);
	if ((ping_tally = bench_tally_open(path, (unsigned)k)) == NULL)
		fail("tally");
	unlink(path);
	start_receivers(k, rep, 0, &l);
	fd = connect_all(k);
	for (int op = 0; op < WARMUP_OPS + ops; op++) {
		atomic_store(&ping_tally->n, 0);
		t0 = bench_now_ns();
		for (i = 0; i < k; i++)
			if (uds_send(fd[i], d.buf[0], d.len[0]) == -1)
				fail("send");
		got = 0;
		while (!got) {
			if (bench_lines_read(&l) <= 0)
				fail("receiver report");
			while ((line = bench_lines_next(&l)) != NULL)
				if (sscanf(line, "all %lu", &cnt) == 1 &&
				    cnt == (unsigned long)op + 1)
					got = 1;
		}
		if (bench_tally_last(ping_tally, &seq, &last) == -1 ||
		    seq != (uint64_t)op + 1)
			fail("receivers out of step");
		if (op >= WARMUP_OPS)
			lat[op - WARMUP_OPS] = (double)(last - t0) / 1e3;
	}
	bench_result("ping_p50_us", "%.1f", bench_quantile(lat, (size_t)ops,
	    0.5));
	bench_result("ping_p99_us", "%.1f", bench_quantile(lat, (size_t)ops,
	    0.99));
	bench_result("ping_max_us", "%.1f", lat[ops - 1]);
	free(lat);
	reap_all();
}

static void
shm(size_t m)
{
	void		**at;
	uint64_t	  t0, t1;

	shm_ids = calloc(m, sizeof(*shm_ids));
	at = calloc(m, sizeof(*at));
	if (shm_ids == NULL || at == NULL)
		fail("memory");
	t0 = bench_now_ns();
	for (size_t i = 0; i < m; i++) {
		int	 id = shmget(IPC_PRIVATE, SEG_SIZE, IPC_CREAT | 0600);

		if (id == -1) {
			if (errno == ENOSPC)
				fprintf(stderr, "bench_fanout: shm: the kernel "
				    "allows no more segments after %zu "
				    "(raise kernel.shmmni)\n", i);
			fail("shmget");
		}
		shm_ids[i] = id;
		shm_n = i + 1;
		if ((at[i] = shmat(id, NULL, 0)) == (void *)-1)
			fail("shmat");
	}
	t1 = bench_now_ns();
	for (size_t i = 0; i < m; i++)
		shmdt(at[i]);
	cleanup();
	bench_result("shm_s", "%.3f", (double)(t1 - t0) / 1e9);
	free(at);
	free(shm_ids);
}

static void
semop_pair(void)
{
	double		 v[SEM_BATCHES];
	struct sembuf	 down = { 0, -1, SEM_UNDO }, up = { 0, 1, SEM_UNDO };
	union bench_semun arg;

	if ((sem_id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600)) == -1)
		fail("semget");
	arg.val = 1;
	if (semctl(sem_id, 0, SETVAL, arg) == -1)
		fail("semctl");
	for (int b = 0; b < SEM_BATCHES; b++) {
		uint64_t	 t0 = bench_now_ns();

		for (int i = 0; i < SEM_BATCH; i++)
			if (semop(sem_id, &down, 1) == -1 ||
			    semop(sem_id, &up, 1) == -1)
				fail("semop");
		v[b] = (double)(bench_now_ns() - t0) / SEM_BATCH;
	}
	cleanup();
	bench_result("arp_semop_ns", "%.1f", bench_quantile(v, SEM_BATCHES,
	    0.5));
}

static void
memory(int k, size_t mib)
{
	long		 pg = sysconf(_SC_PAGESIZE);
	size_t		 len = mib << 20;
	int		 go[2];
	uint64_t	 t0;
	char		 c, key[40];

	if (pg <= 0)
		pg = 4096;
	if (pipe(go) == -1)
		fail("pipe");
	for (int i = 0; i < k; i++) {
		if ((kids[i] = fork()) == -1)
			fail("fork");
		if (kids[i] == 0) {
			volatile char	*p;

			close(go[1]);
			if (read(go[0], &c, 1) != 0 ||
			    (p = malloc(len)) == NULL)
				_exit(1);
			for (size_t o = 0; o < len; o += (size_t)pg)
				p[o] = 1;
			_exit(0);
		}
		nkids = i + 1;
	}
	close(go[0]);
	t0 = bench_now_ns();
	close(go[1]);			/* every child's read returns 0 */
	for (int i = 0; i < k; i++) {
		int	 st;

		if (waitpid(kids[i], &st, 0) == -1 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			fail("a memory toucher failed");
		kids[i] = 0;
	}
	snprintf(key, sizeof(key), "%s_s", mode_tag);
	bench_result(key, "%.3f", (double)(bench_now_ns() - t0) / 1e9);
	nkids = 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: bench_fanout fanout -d DIR -k K -n N -s SEED\n"
	    "       bench_fanout ping -d DIR -k K -o OPS\n"
	    "       bench_fanout memory -k K -m MIB\n"
	    "       bench_fanout shm -m M\n"
	    "       bench_fanout semop\n"
	    "       (each with [-t SECONDS])\n");
	return 2;
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	const char	*mode;
	size_t		 n = 0, m = 0;
	uint64_t	 seed = 1;
	int		 ch, k = 0, ops = 0, seconds = 120;

	if (argc < 2)
		return usage();
	mode = argv[1];
	optind = 2;
	while ((ch = getopt(argc, argv, "d:k:m:n:o:s:t:")) != -1) {
		switch (ch) {
		case 'd':
			sockdir = optarg;
			break;
		case 'k':
			k = atoi(optarg);
			break;
		case 'm':
			m = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'o':
			ops = atoi(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 't':
			seconds = atoi(optarg);
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
	alarm((unsigned)seconds);
	if (strcmp(mode, "fanout") == 0 && sockdir != NULL && k > 0 &&
	    k <= MAX_RECV && n > 0) {
		snprintf(mode_tag, sizeof(mode_tag), "fanout%d", k);
		fanout(k, n, seed);
	} else if (strcmp(mode, "ping") == 0 && sockdir != NULL && k > 0 &&
	    k <= MAX_RECV && ops > 0) {
		snprintf(mode_tag, sizeof(mode_tag), "ping");
		ping(k, ops);
	} else if (strcmp(mode, "memory") == 0 && k > 0 && k <= MAX_RECV &&
	    m > 0) {
		snprintf(mode_tag, sizeof(mode_tag), "mem%d", k);
		memory(k, m);
	} else if (strcmp(mode, "shm") == 0 && m > 0) {
		snprintf(mode_tag, sizeof(mode_tag), "shm");
		shm(m);
	} else if (strcmp(mode, "semop") == 0) {
		snprintf(mode_tag, sizeof(mode_tag), "semop");
		semop_pair();
	} else
		return usage();
	return 0;
}
