/*
 * bench_util.c: helpers shared by the benchmark programs (bench.h).
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

uint64_t
bench_now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long long
bench_rss(pid_t pid)
{
	char		 path[64], line[256];
	FILE		*f;
	long long	 kb = -1;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/status");
	else
		snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtoll(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

uint64_t
bench_rng(uint64_t *state)
{
	uint64_t	 z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint8_t
pick_len(uint64_t *st)
{
	uint32_t	 d = (uint32_t)(bench_rng(st) % 100);

	if (d < 60)
		return 24;
	if (d < 90)
		return (uint8_t)(16 + bench_rng(st) % 8);
	return (uint8_t)(25 + bench_rng(st) % 8);
}

/* Open addressing over addr << 8 | len (never 0: no prefix is 0/x). */
static int
set_add(uint64_t *set, size_t mask, uint64_t key)
{
	size_t	 i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & mask;

	while (set[i] != 0) {
		if (set[i] == key)
			return 0;
		i = (i + 1) & mask;
	}
	set[i] = key;
	return 1;
}

struct addr_route *
bench_routes(size_t n, uint64_t seed)
{
	struct addr_route	*r;
	uint64_t		*set, st = seed;
	size_t			 cap = 1024, i = 0;

	while (cap < 2 * n)
		cap <<= 1;
	if (n == 0 || n > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(n, sizeof(*r))) == NULL)
		return NULL;
	if ((set = calloc(cap, sizeof(*set))) == NULL) {
		free(r);
		return NULL;
	}
	while (i < n) {
		uint8_t		 len = pick_len(&st);
		uint32_t	 a = (uint32_t)(0x01000000u +
		    bench_rng(&st) % (0xe0000000u - 0x01000000u));

		if ((a >> 24) == 10 || (a >> 24) == 127)
			continue;
		a &= addr_prefix_mask(len);
		if (!set_add(set, cap - 1, (uint64_t)a << 8 | len))
			continue;
		r[i].dst.addr = a;
		r[i].dst.len = len;
		r[i].has_gw = 1;
		r[i].gw = BENCH_GW_NET | (uint32_t)(i % BENCH_NIF) << 8 |
		    (uint32_t)(1 + i / BENCH_NIF % 8);
		snprintf(r[i].ifname, sizeof(r[i].ifname), "eth%u",
		    (unsigned)(i % BENCH_NIF));
		i++;
	}
	free(set);
	return r;
}

void
bench_mac(size_t i, struct addr_mac *m)
{
	uint32_t	 v = (uint32_t)(i + 1);

	m->b[0] = 0x02;
	m->b[1] = 0x00;
	m->b[2] = (uint8_t)(v >> 24);
	m->b[3] = (uint8_t)(v >> 16);
	m->b[4] = (uint8_t)(v >> 8);
	m->b[5] = (uint8_t)v;
}

uint32_t
bench_mac_ip(size_t i)
{
	return BENCH_MAC_NET + (uint32_t)(i + 1);
}

int
bench_mac_index(const uint8_t mac[ADDR_MAC_LEN], size_t *i)
{
	uint32_t	 v;

	if (mac[0] != 0x02 || mac[1] != 0x00)
		return -1;
	v = (uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 |
	    (uint32_t)mac[4] << 8 | mac[5];
	if (v == 0)
		return -1;
	*i = v - 1;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bench_quantile(double *v, size_t n, double p)
{
	size_t	 i;

	if (n == 0)
		return 0.0;
	qsort(v, n, sizeof(*v), cmp_double);
	/* Nearest rank: p99 of 10,000 is the 9,900th smallest. */
	i = (size_t)(p * (double)n + 0.999999);
	if (i > 0)
		i--;
	if (i >= n)
		i = n - 1;
	return v[i];
}

void
bench_shuffle(void *base, size_t n, size_t size, uint64_t *state)
{
	unsigned char	*b = base, tmp[64];

	if (size > sizeof(tmp))
		return;
	for (size_t i = n; i > 1; i--) {
		size_t	 j = (size_t)(bench_rng(state) % i);

		memcpy(tmp, b + (i - 1) * size, size);
		memcpy(b + (i - 1) * size, b + j * size, size);
		memcpy(b + j * size, tmp, size);
	}
}

void
bench_result(const char *key, const char *fmt, ...)
{
	va_list	 ap;

	printf("R %s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int
bench_write_line(int fd, const char *fmt, ...)
{
	char	 line[BENCH_LINE];
	va_list	 ap;
	int	 n;
	ssize_t	 w;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1) {
		errno = EMSGSIZE;
		return -1;
	}
	line[n++] = '\n';
	while ((w = write(fd, line, (size_t)n)) == -1 && errno == EINTR)
		;
	return w == n ? 0 : -1;
}

void
bench_lines_init(struct bench_lines *l, int fd)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
}

ssize_t
bench_lines_read(struct bench_lines *l)
{
	ssize_t	 n;

	if (l->off > 0) {
		memmove(l->buf, l->buf + l->off, l->len - l->off);
		l->len -= l->off;
		l->off = 0;
	}
	if (l->len == sizeof(l->buf))
		return 1;	/* full: the caller drains lines first */
	n = read(l->fd, l->buf + l->len, sizeof(l->buf) - l->len);
	if (n > 0)
		l->len += (size_t)n;
	else if (n == 0)
		l->eof = 1;
	return n;
}

const char *
bench_lines_next(struct bench_lines *l)
{
	char	*nl;
	size_t	 n;

	nl = memchr(l->buf + l->off, '\n', l->len - l->off);
	if (nl == NULL) {
		if (l->len - l->off == sizeof(l->buf)) {
			l->off = l->len = 0;	/* an overlong line: drop */
		}
		return NULL;
	}
	n = (size_t)(nl - (l->buf + l->off));
	if (n >= sizeof(l->line))
		n = sizeof(l->line) - 1;
	memcpy(l->line, l->buf + l->off, n);
	l->line[n] = '\0';
	l->off = (size_t)(nl - l->buf) + 1;
	return l->line;
}

/*
 * The end of a deadline or interrupt handler: writes "R TAG_status
 * timeout" (SIGALRM) or "... interrupted" for the driver script and
 * exits 124.  Async-signal-safe: only write(2) and _exit(2).
 */
void
bench_deadline_exit(const char *tag, int sig)
{
	char		 msg[96];
	size_t		 n = strlen(tag);
	const char	*why = sig == SIGALRM ? "_status timeout\n" :
			    "_status interrupted\n";
	ssize_t		 w;

	if (n > 40)
		n = 40;
	memcpy(msg, "R ", 2);
	memcpy(msg + 2, tag, n);
	n += 2;
	memcpy(msg + n, why, strlen(why));
	n += strlen(why);
	w = write(1, msg, n);
	(void)w;
	_exit(124);
}

struct bench_tally *
bench_tally_open(const char *path, unsigned k)
{
	struct bench_tally *t;
	int		 fd, saved;

	if (k > BENCH_TALLY_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((fd = open(path, k > 0 ? O_RDWR | O_CREAT | O_TRUNC : O_RDWR,
	    0600)) == -1)
		return NULL;
	if (k > 0 && ftruncate(fd, sizeof(*t)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return NULL;
	}
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	saved = errno;
	close(fd);
	if (t == MAP_FAILED) {
		errno = saved;
		return NULL;
	}
	if (k > 0) {
		t->k = k;
		atomic_store(&t->n, 0);
	}
	return t;
}

int
bench_tally_stamp(struct bench_tally *t, unsigned i, uint64_t seq,
    uint64_t ns)
{
	if (i >= t->k)
		return 0;
	t->seq[i] = seq;
	t->ns[i] = ns;
	return atomic_fetch_add(&t->n, 1) + 1 == t->k;
}

int
bench_tally_last(const struct bench_tally *t, uint64_t *seq, uint64_t *ns)
{
	*seq = t->seq[0];
	*ns = 0;
	for (unsigned i = 0; i < t->k; i++) {
		if (t->seq[i] != *seq)
			return -1;
		if (t->ns[i] > *ns)
			*ns = t->ns[i];
	}
	return 0;
}
