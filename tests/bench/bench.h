/*
 * bench.h: what the benchmark programs under tests/bench/ share: the
 * route set and the MAC set (both generated deterministically, so every
 * program sees the same bytes without passing files around), clocks,
 * resident memory, percentiles and the report-line format.
 */
#ifndef RTM_BENCH_H
#define RTM_BENCH_H

#include <sys/types.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define BENCH_NIF		4	/* eth0..eth3 */
#define BENCH_GW_NET		0x0aff0000u	/* 10.255.0.0: gateways */
#define BENCH_MAC_NET		0x0a800000u	/* 10.128.0.0: ARP addresses */
#define BENCH_LINE		256	/* longest report line */

/* CLOCK_MONOTONIC in ns: the same clock in every process. */
uint64_t	 bench_now_ns(void);
/* Reports a deadline (SIGALRM) or an interrupt and exits 124. */
void		 bench_deadline_exit(const char *tag, int sig)
		    __attribute__((noreturn));

/* VmRSS of pid (0: this process) in bytes, or -1 where unknown. */
long long	 bench_rss(pid_t pid);

/* splitmix64 */
uint64_t	 bench_rng(uint64_t *state);

/*
 * n distinct prefixes in random order: 60% /24, 30% /16../23, 10%
 * /25../32, spread over 1.0.0.0-223.255.255.255 except 10/8 (the
 * gateways live there) and 127/8; route i goes via
 * 10.255.(i % 4).(1 + i / 4 % 8) dev eth(i % 4).  NULL with errno.
 */
struct addr_route *bench_routes(size_t n, uint64_t seed);

/* MAC i (0-based) is 02:00:00:hh:hh:hh of i + 1; its address is
 * 10.128.0.0 + i + 1.  bench_mac_index() inverts bench_mac(). */
void		 bench_mac(size_t i, struct addr_mac *m);
uint32_t	 bench_mac_ip(size_t i);
int		 bench_mac_index(const uint8_t mac[ADDR_MAC_LEN], size_t *i);

/* Sorts v (n doubles) and returns the p-quantile, 0 <= p <= 1. */
double		 bench_quantile(double *v, size_t n, double p);

/* Fisher-Yates on an array of n elements of size bytes each. */
void		 bench_shuffle(void *base, size_t n, size_t size,
		    uint64_t *state);

/*
 * A result line on stdout: "R key value".  The shell harness collects
 * them; values are plain numbers or single words.
 */
void		 bench_result(const char *key, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * Where K processes stamp the moment each applied a change (a file
 * mapped shared, made by the driver): each stamps its slot, and only
 * the last of the K to stamp writes a line to the driver, so that the
 * harness wakes once per change rather than K times, its wake-ups
 * competing with what it measures.  The driver clears n before each
 * change and, once told, reads the slots.
 */
#define BENCH_TALLY_MAX		256

struct bench_tally {
	atomic_uint	 n;		/* stamps since cleared */
	unsigned	 k;		/* stampers */
	uint64_t	 seq[BENCH_TALLY_MAX];
	uint64_t	 ns[BENCH_TALLY_MAX];
};

/* Maps the tally at path, made for k stampers when k > 0; NULL, errno. */
struct bench_tally *bench_tally_open(const char *path, unsigned k);
/* Stamps slot i with (seq, ns); 1 when this was the k-th stamp. */
int		 bench_tally_stamp(struct bench_tally *t, unsigned i,
		    uint64_t seq, uint64_t ns);
/* The latest stamp; -1 unless all k slots carry the same seq (*seq). */
int		 bench_tally_last(const struct bench_tally *t, uint64_t *seq,
		    uint64_t *ns);

/* Writes a whole line to fd (pipes: atomic below PIPE_BUF). */
int		 bench_write_line(int fd, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * Line reader over a non-blocking or blocking fd.  bench_lines_read()
 * reads what is there; bench_lines_next() returns the next complete
 * line (NUL terminated, newline removed) or NULL.
 */
struct bench_lines {
	int	 fd;
	char	 buf[8192];
	size_t	 len;
	size_t	 off;
	char	 line[BENCH_LINE];
	int	 eof;
};

void		 bench_lines_init(struct bench_lines *l, int fd);
/* Returns bytes read, 0 at EOF, -1 with errno (EAGAIN: nothing now). */
ssize_t		 bench_lines_read(struct bench_lines *l);
const char	*bench_lines_next(struct bench_lines *l);

#endif
