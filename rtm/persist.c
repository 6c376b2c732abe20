/*
 * persist.c: durable state.  Every change rtm acknowledges is on disk
 * first.
 *
 * Two files: the snapshot STATEFILE and the journal STATEFILE.journal.
 * Both are sequences of records
 *
 *	length u32 | crc32 u32 | payload (length bytes)
 *
 * big-endian, the CRC over the payload.  The snapshot's first record
 * is a header (magic, version, seq, counts, and since version 2 the
 * journal it follows and how much of it it holds); the rest are "set"
 * records.
 * The journal holds the changes since the snapshot, in order.  Changes
 * are logged as their effect (route set/del, arp set/del, flush), so
 * replaying a journal over a snapshot that already contains part of it
 * gives the same tables: a crash between writing a new snapshot and
 * truncating the journal loses nothing.
 *
 * The journal is written ahead into zeros: once the records of a turn
 * of up to JOURNAL_SMALL bytes (single changes, where the flush is most
 * of the cost) would pass the zeroed part of the file, JOURNAL_AHEAD
 * more bytes of zeros are written first.  Records then overwrite bytes
 * the file already has, its size does not change, and on file systems
 * such as ext4 fdatasync() writes the data alone instead of also
 * committing the inode through the file system's own journal: one
 * flush rather than two, and less kernel work beside the clients.  A
 * bigger turn (a bulk load) just extends the file rather than write
 * its bytes twice.  A zero record header ends the journal cleanly when
 * only zeros follow it.
 *
 * Group commit: the changes of one loop turn are appended to a buffer,
 * written and fdatasync()ed once at the end of the turn, and only then
 * are replies and notifications sent.  A journal whose tail is torn (a
 * record cut short, or a bad CRC) is cut at the last good record: that
 * tail was never acknowledged.  A damaged snapshot is not guessed at:
 * rtm refuses to start and says which file.
 *
 * Compaction: once the journal passes RTM_JOURNAL_COMPACT bytes, a
 * forked child writes the snapshot from its copy-on-write image of the
 * tables while the loop goes on (a million routes took the loop 80 ms
 * when it wrote them itself).  Each journal begins with a P_JHEADER
 * record holding a random id, and a snapshot's header names the
 * journal it follows and how many of its bytes (`cut`) it holds, which
 * loading skips: applied again they would do the tables no harm, but
 * each ARP record would go through a live segment readers hold.  When
 * the child has renamed the snapshot into place, the loop copies the
 * records written since into a new journal with a new id and renames
 * that over the old one.  A crash anywhere in between leaves a snapshot
 * and a journal that load to the acknowledged tables.  The state lock
 * is byte 0 of STATEFILE.lock; a snapshot child holds byte 1 while it
 * lives, and a starting rtm waits for it, so a child outliving its rtm
 * never renames an old snapshot over a newer one.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mactable.h"
#include "os.h"
#include "rtable.h"
#include "rtm.h"

#define SNAP_MAGIC	0x52544d44u	/* "RTMD" */
#define SNAP_VERSION	2		/* 1: no journal id and cut */
#define SNAP_HDR_V1	32
#define SNAP_HDR_V2	48
#define JHDR_LEN	(8 + 9)		/* the P_JHEADER record */
#define REC_MAX		64
#define SNAP_RETRY_MS	60000		/* after a failed snapshot */
#define SNAP_TRICKLE	(4 << 20)	/* a child's bytes between syncs */
#define SNAP_DEADLINE_S	600		/* a child taking longer is killed */
#define SNAP_WAIT_S	30		/* for an old rtm's child, at start */
#define LOCK_STATE	0		/* lock file bytes: rtm's */
#define LOCK_SNAP	1		/* a snapshot child's */
#define JOURNAL_AHEAD	(256u << 10)	/* zeros written ahead of records */
#define JOURNAL_SMALL	4096		/* turns that get zeros ahead */
#define P_ROUTE_LEN	(11 + ADDR_IFNAMSIZ)	/* a route set record */

enum {
	P_HEADER = 1,
	P_ROUTE_SET = 2,
	P_ROUTE_DEL = 3,
	P_ARP_SET = 4,
	P_ARP_DEL = 5,
	P_FLUSH = 6,
	P_JHEADER = 7,		/* a journal's first record: its id */
};

struct persist {
	char		 path[PATH_MAX];
	char		 jpath[PATH_MAX + 16];
	char		 tmp[PATH_MAX + 16];	/* a snapshot being written */
	char		 jtmp[PATH_MAX + 32];	/* a journal being cut */
	int		 jfd;
	int		 lockfd;
	int		 dirfd;		/* the state's directory, for fsync */
	uint8_t		*buf;
	size_t		 len, cap;
	uint64_t	 jbytes;	/* journal records on disk */
	uint64_t	 jsize;		/* journal file size: records, zeros */
	int		 dirty;		/* written, not yet synced */
	uint64_t	 jid;		/* the journal's id (its P_JHEADER) */
	pid_t		 child;		/* writing a snapshot, or 0 */
	int		 chan;		/* to it, until the journal is cut */
	unsigned long long child_ns;	/* when it was forked */
	uint64_t	 cut;		/* journal bytes its snapshot holds */
	unsigned long long retry_ns;	/* no snapshot before, after a failure */
};

/*
 * CRC-32 (IEEE), eight bytes a step ("slicing by 8"): crc_table[k][b]
 * is the CRC of byte b followed by k zero bytes.  Every change rtm makes
 * is checksummed on the loop thread, and every record a restart reads:
 * 7 ns for a route record, against 9 four bytes a step and 35 a byte
 * at a time.
 */
static uint32_t crc_table[8][256];

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			crc_table[k][i] = crc_table[0][crc_table[k - 1][i] & 0xff] ^
			    (crc_table[k - 1][i] >> 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint32_t
crc32(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu, lo, hi;

	for (; len >= 8; p += 8, len -= 8) {
		lo = c ^ le32(p);
		hi = le32(p + 4);
		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		    crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
	}
	while (len--)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Payload encoders: return the payload length. */
static size_t
enc_route(uint8_t *p, const struct addr_route *r)
{
	p[0] = P_ROUTE_SET;
	put32(p + 1, r->dst.addr);
	p[5] = r->dst.len;
	p[6] = r->has_gw;
	put32(p + 7, r->gw);
	memset(p + 11, 0, ADDR_IFNAMSIZ);
	memcpy(p + 11, r->ifname, strnlen(r->ifname, ADDR_IFNAMSIZ - 1));
	return P_ROUTE_LEN;
}

static size_t
enc_arp(uint8_t *p, const struct addr_mac *mac, uint32_t ip)
{
	p[0] = P_ARP_SET;
	memcpy(p + 1, mac->b, ADDR_MAC_LEN);
	put32(p + 7, ip);
	return 11;
}

/* Writes the record of payload p at q: length, CRC, payload. */
static size_t
put_record(uint8_t *q, const uint8_t *p, size_t len)
{
	put32(q, (uint32_t)len);
	put32(q + 4, crc32(p, len));
	memcpy(q + 8, p, len);
	return len + 8;
}

/* Appends one record to the commit buffer. */
static void
append(struct rtm *env, const uint8_t *payload, size_t len)
{
	struct persist *ps = env->persist;

	if (ps == NULL || env->loading)
		return;
	if (ps->cap - ps->len < len + 8) {
		size_t	 ncap = ps->cap ? ps->cap * 2 : 1 << 16;
		uint8_t	*nb;

		while (ncap - ps->len < len + 8)
			ncap *= 2;
		if ((nb = realloc(ps->buf, ncap)) == NULL)
			fatal("journal buffer");	/* cannot ack safely */
		ps->buf = nb;
		ps->cap = ncap;
	}
	ps->len += put_record(ps->buf + ps->len, payload, len);
}

void
persist_route_set(struct rtm *env, const struct addr_route *r)
{
	uint8_t p[REC_MAX];

	append(env, p, enc_route(p, r));
}

void
persist_route_del(struct rtm *env, const struct addr_prefix *dst)
{
	uint8_t p[8];

	p[0] = P_ROUTE_DEL;
	put32(p + 1, dst->addr);
	p[5] = dst->len;
	append(env, p, 6);
}

void
persist_arp_set(struct rtm *env, const struct addr_mac *mac, uint32_t ip)
{
	uint8_t p[REC_MAX];

	append(env, p, enc_arp(p, mac, ip));
}

void
persist_arp_del(struct rtm *env, const struct addr_mac *mac)
{
	uint8_t p[8];

	p[0] = P_ARP_DEL;
	memcpy(p + 1, mac->b, ADDR_MAC_LEN);
	append(env, p, 7);
}

void
persist_flush(struct rtm *env, uint8_t what)
{
	uint8_t p[2] = { P_FLUSH, what };

	append(env, p, 2);
}

static int
pwrite_all(int fd, const uint8_t *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Zeros the journal file from its end up to at least size bytes. */
static int
journal_zero_to(struct persist *ps, uint64_t size)
{
	static const uint8_t	 zeros[1 << 16];
	size_t			 n;

	while (ps->jsize < size) {
		n = size - ps->jsize < sizeof(zeros) ?
		    (size_t)(size - ps->jsize) : sizeof(zeros);
		if (pwrite_all(ps->jfd, zeros, n, (off_t)ps->jsize) == -1)
			return -1;
		ps->jsize += n;
	}
	return 0;
}

/* The payload length of a journal record of type t; 0 for none. */
static uint32_t
p_len(uint8_t t)
{
	switch (t) {
	case P_ROUTE_SET:
		return P_ROUTE_LEN;
	case P_ROUTE_DEL:
		return 6;
	case P_ARP_SET:
		return 11;
	case P_ARP_DEL:
		return 7;
	case P_FLUSH:
		return 2;
	case P_JHEADER:
		return 9;
	}
	return 0;
}

/*
 * Applies one record to the tables.  The same code replays journals and
 * loads snapshots; -1 with *why for a record that cannot be right.
 */
static int
apply(struct rtm *env, const uint8_t *p, size_t len, const char **why)
{
	struct addr_route	 r;
	struct addr_prefix	 dst;
	struct addr_mac		 mac;
	uint16_t		 st;

	*why = "bad record";
	if (len == 0 || len != p_len(p[0]))
		return -1;
	switch (p[0]) {
	case P_ROUTE_SET:
		memset(&r, 0, sizeof(r));
		r.dst.addr = get32(p + 1);
		r.dst.len = p[5];
		r.has_gw = p[6];
		r.gw = get32(p + 7);
		memcpy(r.ifname, p + 11, ADDR_IFNAMSIZ);
		r.ifname[ADDR_IFNAMSIZ - 1] = '\0';
		return state_route_set(env, &r, RTABLE_REPLACE, &st, why);
	case P_ROUTE_DEL:
		dst.addr = get32(p + 1);
		dst.len = p[5];
		if (addr_prefix_valid(&dst, why) == -1)
			return -1;
		state_route_del(env, &dst, &st, why);	/* absent is fine */
		return 0;
	case P_ARP_SET:
		memcpy(mac.b, p + 1, ADDR_MAC_LEN);
		return state_arp_set(env, &mac, get32(p + 7), RTABLE_REPLACE,
		    &st, why);
	case P_ARP_DEL:
		memcpy(mac.b, p + 1, ADDR_MAC_LEN);
		if (addr_mac_valid(&mac, why) == -1)
			return -1;
		state_arp_del(env, &mac, &st, why);
		return 0;
	case P_FLUSH:
		if (p[1] < MSG_FLUSH_ROUTE || p[1] > MSG_FLUSH_ALL)
			return -1;
		state_flush(env, p[1]);
		return 0;
	}
	return -1;
}

/*
 * Loading reads a file through a buffer, so that a record costs no
 * system call of its own (two reads each took half of a restart with a
 * million routes), and keeps RD_AHEAD - 1 records read and checked
 * ahead of the one being applied, telling the route table about each
 * as it is read (rtable_prefetch() is only a hint): the cache
 * misses of a journal's inserts, in the (random) order the changes
 * came, then overlap.
 */
#ifndef RD_BUF			/* fuzz_state makes it small */
#define RD_BUF		(1u << 20)
#endif
#define RD_AHEAD	8
#define RD_REC_MAX	(REC_MAX + 64)
_Static_assert(RD_BUF >= 8 + RD_REC_MAX, "a record must fit the buffer");

enum rd_status {
	RD_MORE,	/* a record was read */
	RD_END,		/* the end of the records, clean */
	RD_TORN,	/* not a good record: a torn tail or damage */
	RD_EIO,		/* the file could not be read: errno in err */
};

struct rd_rec {
	uint32_t	 len;
	uint8_t		 p[RD_REC_MAX];
};

struct reader {
	int		 fd;
	uint8_t		*buf;
	size_t		 pos, len;	/* unread bytes: buf[pos..len) */
	int		 err;
	enum rd_status	 st;		/* once not RD_MORE, final */
	const char	*why;		/* for RD_TORN */
	struct rd_rec	 ahead[RD_AHEAD];
	unsigned	 head, n;
};

/* Makes up to want bytes readable at buf + pos; returns how many are. */
static size_t
rd_want(struct reader *r, size_t want)
{
	ssize_t		 got;

	if (r->len - r->pos < want && r->err == 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
		while (r->len < want) {
			got = read(r->fd, r->buf + r->len, RD_BUF - r->len);
			if (got == 0)
				break;
			if (got == -1) {
				if (errno == EINTR)
					continue;
				r->err = errno;
				break;
			}
			r->len += (size_t)got;
		}
	}
	return r->len - r->pos < want ? r->len - r->pos : want;
}

/* 1 when nothing but zero bytes follow, to the end of the file. */
static int
rd_zeros_follow(struct reader *r)
{
	size_t		 n;

	while ((n = rd_want(r, RD_BUF)) > 0) {
		for (size_t i = 0; i < n; i++)
			if (r->buf[r->pos + i] != 0)
				return 0;
		r->pos += n;
	}
	return r->err == 0;
}

/* Reads and checks the next record into rec. */
static enum rd_status
rd_next(struct reader *r, int snapshot, struct rd_rec *rec)
{
	const uint8_t	*h;
	uint32_t	 len;
	size_t		 have;

	if ((have = rd_want(r, 8)) < 8) {
		r->why = "record header cut short";
		return r->err ? RD_EIO : have == 0 ? RD_END : RD_TORN;
	}
	h = r->buf + r->pos;
	len = get32(h);
	if (len == 0 && get32(h + 4) == 0 && !snapshot) {
		/* The zeros written ahead: the end, if only zeros
		 * follow; otherwise something went wrong there. */
		r->pos += 8;
		if (rd_zeros_follow(r))
			return RD_END;
		r->why = "data after the end of the journal";
		return r->err ? RD_EIO : RD_TORN;
	}
	if (len == 0 || len > sizeof(rec->p)) {
		r->why = "record length out of range";
		return RD_TORN;
	}
	if (rd_want(r, 8 + (size_t)len) < 8 + (size_t)len) {
		r->why = "record cut short";
		return r->err ? RD_EIO : RD_TORN;
	}
	h = r->buf + r->pos;		/* the buffer may have moved */
	if (crc32(h + 8, len) != get32(h + 4)) {
		r->why = "checksum mismatch";
		return RD_TORN;
	}
	memcpy(rec->p, h + 8, len);
	rec->len = len;
	r->pos += 8 + (size_t)len;
	return RD_MORE;
}

/* A route record coming up: let the table fetch its memory. */
static void
rd_hint(struct rtm *env, const struct rd_rec *rec)
{
	struct addr_prefix	 dst;

	if ((rec->p[0] != P_ROUTE_SET && rec->p[0] != P_ROUTE_DEL) ||
	    rec->len != p_len(rec->p[0]))
		return;
	dst.addr = get32(rec->p + 1);
	dst.len = rec->p[5];
	if (dst.len <= 32)
		rtable_prefetch(env->routes, &dst);
}

/*
 * The next record, read RD_AHEAD - 1 ahead of it; NULL at the end of
 * the good records, r->st then saying why they ended.
 */
static const struct rd_rec *
rd_take(struct rtm *env, struct reader *r, int snapshot)
{
	const struct rd_rec *rec;

	while (r->st == RD_MORE && r->n < RD_AHEAD) {
		struct rd_rec *next = &r->ahead[(r->head + r->n) % RD_AHEAD];

		if ((r->st = rd_next(r, snapshot, next)) == RD_MORE) {
			rd_hint(env, next);
			r->n++;
		}
	}
	if (r->n == 0)
		return NULL;
	rec = &r->ahead[r->head];
	r->head = (r->head + 1) % RD_AHEAD;
	r->n--;
	return rec;
}

/*
 * Room for the routes a snapshot's header announces, no more than its
 * file can hold: the table then never grows its hash while loading.
 */
static void
reserve(struct rtm *env, const struct reader *r, uint32_t routes)
{
	struct stat	 sb;
	uint64_t	 most;

	if (fstat(r->fd, &sb) == -1 || sb.st_size <= 0)
		return;
	most = (uint64_t)sb.st_size / (8 + P_ROUTE_LEN);
	(void)rtable_reserve(env->routes, routes < most ? routes : most);
}

/*
 * Where the first good journal record past offset bad starts, or -1.
 * A write cut short by a crash leaves nothing good after it (rtm
 * writes each turn's records in order, and zeros lie ahead of them), so
 * a good record past a bad one means the bad one is damage in the
 * middle, whose loss would be silent if it were cut off as a torn tail.
 */
static off_t
good_record_after(int fd, off_t bad)
{
	const size_t	 keep = 8 + RD_REC_MAX;	/* a record across chunks */
	uint8_t		*b;
	off_t		 base = bad + 1, found = -1;
	ssize_t		 n;

	if ((b = malloc(RD_BUF)) == NULL)
		return -1;
	while (found == -1 && (n = pread(fd, b, RD_BUF, base)) > 8) {
		for (size_t i = 0; i + 8 < (size_t)n; i++) {
			uint32_t len = get32(b + i);

			if (len == 0 || len != p_len(b[i + 8]) ||
			    i + 8 + len > (size_t)n)
				continue;
			if (crc32(b + i + 8, len) == get32(b + i + 4)) {
				found = base + (off_t)i;
				break;
			}
		}
		if ((size_t)n < RD_BUF)
			break;
		base += (off_t)(RD_BUF - keep);
	}
	free(b);
	return found;
}

/* A snapshot's first record: its header, of version 1 or 2. */
static int
snap_header_ok(const struct rd_rec *rec)
{
	if (rec->p[0] != P_HEADER || rec->len < 12 ||
	    get32(rec->p + 4) != SNAP_MAGIC)
		return 0;
	switch (get32(rec->p + 8)) {
	case 1:
		return rec->len == SNAP_HDR_V1;
	case 2:
		return rec->len == SNAP_HDR_V2;
	}
	return 0;
}

/*
 * Applies the records of r's file.  Returns the offset just past the
 * last good record; *bad is 1 when something after it was not a good
 * record, 2 when a good record could not be applied, 3 when the file
 * could not be read (r->err).
 */
static off_t
replay(struct rtm *env, struct reader *r, int snapshot, int *bad,
    unsigned *count, const char **why)
{
	const struct rd_rec	*rec;
	off_t			 good = 0;
	uint64_t		 seq = 0;
	int			 first = 1, skip = 0;

	*bad = 0;
	*count = 0;
	while ((rec = rd_take(env, r, snapshot)) != NULL) {
		if (snapshot && first) {
			if (!snap_header_ok(rec)) {
				*bad = 1;
				*why = "not an rtm snapshot";
				return good;
			}
			seq = get64(rec->p + 12);
			env->snap_jid = env->snap_cut = 0;
			if (rec->len == SNAP_HDR_V2) {
				env->snap_jid = get64(rec->p + 32);
				env->snap_cut = get64(rec->p + 40);
			}
			reserve(env, r, get32(rec->p + 20));
		} else if (!snapshot && first && rec->p[0] == P_JHEADER &&
		    rec->len == p_len(P_JHEADER)) {
			/*
			 * Changes the snapshot holds already are not applied
			 * again: harmless for the tables, but each would go
			 * through its MAC's segment, which readers hold.
			 */
			env->load_jid = get64(rec->p + 1);
			skip = env->load_jid != 0 &&
			    env->load_jid == env->snap_jid;
		} else if (skip && (uint64_t)good < env->snap_cut)
			;
		else if (apply(env, rec->p, rec->len, why) == -1) {
			/* A sound record rtm cannot apply now (a kernel limit
			 * lowered since?): it was acknowledged, so it must not
			 * be cut off like a torn tail. */
			*bad = 2;
			return good;
		} else
			(*count)++;
		first = 0;
		good += 8 + (off_t)rec->len;
	}
	if (r->st == RD_TORN) {
		*bad = 1;
		*why = r->why;
	} else if (r->st == RD_EIO)
		*bad = 3;
	/* Its records counted changes as they were applied: the number
	 * is the one the snapshot was written at. */
	if (snapshot && !first)
		state_seq_set(env, seq);
	return good;
}

struct snap_ctx {
	int	 fd;
	off_t	 off;		/* written to fd so far */
	off_t	 synced;	/* of which synced, when trickling */
	int	 trickle;	/* sync every SNAP_TRICKLE bytes */
	uint8_t	*buf;
	size_t	 len, cap;
	int	 err;
};

static void
snap_flush(struct snap_ctx *c)
{
	if (c->err == 0 &&
	    pwrite_all(c->fd, c->buf, c->len, c->off) == -1)
		c->err = errno;
	c->off += (off_t)c->len;
	c->len = 0;
	/*
	 * A child syncs as it goes: one flush of the whole snapshot at
	 * the end kept rtm's journal syncs waiting behind it on the disk
	 * (route change replies 10 ms late for a million routes).
	 */
	if (c->trickle && c->err == 0 && c->off - c->synced >= SNAP_TRICKLE) {
		if (fdatasync(c->fd) == -1)
			c->err = errno;
		c->synced = c->off;
	}
}

static void
snap_put(struct snap_ctx *c, const uint8_t *p, size_t len)
{
	if (c->cap - c->len < len + 8)
		snap_flush(c);
	c->len += put_record(c->buf + c->len, p, len);
}

static int
snap_route(const struct addr_route *r, void *arg)
{
	uint8_t p[REC_MAX];

	snap_put(arg, p, enc_route(p, r));
	return 0;
}

static int
snap_arp(const struct addr_mac *mac, void *value, void *arg)
{
	const struct arp_entry	*e = value;
	uint8_t			 p[REC_MAX];

	snap_put(arg, p, enc_arp(p, mac, e->ip));
	return 0;
}

/* The state directory's entries (a rename) made durable. */
static int
sync_dir(const struct persist *ps)
{
	return fsync(ps->dirfd);
}

/*
 * Locks (F_WRLCK) or unlocks (F_UNLCK) byte `which` of the lock file;
 * with F_GETLK, *holder gets the pid holding it, or 0.
 */
static int
lock_byte(int fd, int cmd, short type, off_t which, pid_t *holder)
{
	struct flock	 fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = which;
	fl.l_len = 1;
	if (fcntl(fd, cmd, &fl) == -1)
		return -1;
	if (holder != NULL)
		*holder = fl.l_type == F_UNLCK ? 0 : fl.l_pid;
	return 0;
}

/*
 * Starts a journal in fd, empty: its P_JHEADER record with a new id at
 * offset 0.  A snapshot names the journal and how much of it it holds,
 * so that loading never applies those records twice.
 */
static int
journal_head(struct persist *ps, int fd)
{
	uint8_t		 p[9], rec[JHDR_LEN];
	uint64_t	 id = 0;

	while (id == 0)
		os_random(&id, sizeof(id));
	p[0] = P_JHEADER;
	put64(p + 1, id);
	put_record(rec, p, sizeof(p));
	if (pwrite_all(fd, rec, sizeof(rec), 0) == -1)
		return -1;
	ps->jid = id;
	return 0;
}

/*
 * Writes the tables to STATEFILE.tmp, fsyncs it and renames it over the
 * snapshot; its header says it holds the first `cut` bytes of journal
 * `jid`.  -1 with errno; the snapshot is then unchanged (or in place
 * but perhaps not durable, when only the directory sync failed).
 */
static int
snapshot_write(struct rtm *env, int trickle, uint64_t jid, uint64_t cut)
{
	struct persist	*ps = env->persist;
	uint8_t		 h[SNAP_HDR_V2];
	struct snap_ctx	 c;

	memset(&c, 0, sizeof(c));
	c.trickle = trickle;
	/* Never through a link or into a FIFO someone left there. */
	(void)unlink(ps->tmp);
	if ((c.fd = open(ps->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
	    0600)) == -1)
		return -1;
	c.cap = 1 << 20;
	if ((c.buf = malloc(c.cap)) == NULL) {
		close(c.fd);
		unlink(ps->tmp);
		errno = ENOMEM;
		return -1;
	}
	memset(h, 0, sizeof(h));
	h[0] = P_HEADER;
	put32(h + 4, SNAP_MAGIC);
	put32(h + 8, SNAP_VERSION);
	put64(h + 12, env->seq);
	put32(h + 20, (uint32_t)rtable_count(env->routes));
	put32(h + 24, (uint32_t)mactable_count(env->arp));
	put64(h + 32, jid);
	put64(h + 40, cut);
	snap_put(&c, h, sizeof(h));
	/* In address order, a restart's inserts walk the trie nearly
	 * sequentially; short of scratch memory, in any order. */
	if (rtable_walk(env->routes, 1, snap_route, &c) == -1)
		rtable_walk(env->routes, 0, snap_route, &c);
	mactable_walk(env->arp, 0, snap_arp, &c);
	snap_flush(&c);
	free(c.buf);
	if (c.err == 0 && fsync(c.fd) == -1)
		c.err = errno;
	close(c.fd);
	if (c.err == 0 && rename(ps->tmp, ps->path) == -1)
		c.err = errno;
	if (c.err != 0) {
		unlink(ps->tmp);
		errno = c.err;
		return -1;
	}
	return sync_dir(ps);
}

/*
 * Writes a snapshot of the tables on the loop, then empties the
 * journal: at start, and when no child can be made.
 */
int
persist_snapshot(struct rtm *env)
{
	struct persist	*ps = env->persist;

	if (ps == NULL)
		return 0;
	if (persist_commit(env) == -1 ||
	    snapshot_write(env, 0, ps->jid, ps->jbytes) == -1)
		return -1;
	if (ftruncate(ps->jfd, 0) == -1 || journal_head(ps, ps->jfd) == -1 ||
	    fsync(ps->jfd) == -1)
		return -1;
	ps->jbytes = ps->jsize = JHDR_LEN;
	return 0;
}

/*
 * The forked child: writes the snapshot, says so on chan, and exits
 * when rtm closes its end, having cut the journal.  The old journal is
 * then this process's to close: its last reference, so the file system
 * frees its blocks here, which for a 35 MB journal on ext4 took rtm's
 * loop 8 ms.
 */
static void
snapshot_child(struct rtm *env, pid_t parent, int chan, const sigset_t *mask)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct persist	*ps = env->persist;
	struct sigaction sa;
	char		 c;

	/* rtm's handlers would wake rtm's loop through its pipe; they
	 * were blocked since before the fork. */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	/* A client probing rtm.sock once rtm is dead must not find us. */
	close(env->sock);
	/*
	 * Checked after the lock is held: from then on an rtm starting on
	 * this state waits for this process, and before, rtm was alive.
	 */
	if (lock_byte(ps->lockfd, F_SETLK, F_WRLCK, LOCK_SNAP, NULL) == -1) {
		log_warn("snapshot: lock %s.lock", ps->path);
		_exit(1);
	}
	if (getppid() != parent) {
		log_warnx("snapshot: rtm is gone; not written");
		_exit(1);
	}
	/* Route changes and clients come first. */
	(void)nice(10);
	if (snapshot_write(env, 1, ps->jid, ps->cut) == -1) {
		log_warn("snapshot %s", ps->path);
		_exit(1);
	}
	if (write(chan, "s", 1) != 1)
		_exit(1);
	while (read(chan, &c, 1) == -1 && errno == EINTR)
		;
	_exit(0);
}

/* No snapshot for a minute: one failed (counted), or the cut after it. */
static void
snapshot_later(struct rtm *env, int failed)
{
	if (failed)
		env->stats.snapshot_failures++;
	env->persist->retry_ns = os_now_ns() + SNAP_RETRY_MS * 1000000ULL;
}

/*
 * Starts a snapshot in a child; on the loop when none can be made.
 * Always a child: forking costs about 2 ms a million routes plus
 * 0.3-0.4 us per mapping (every attached segment is one: 11 ms for
 * 30,000), while on the loop a snapshot costs 80 ns per entry and,
 * worse, emptying a 64 MiB journal on ext4 takes 13 ms however small
 * the table.
 */
static void
snapshot_start(struct rtm *env)
{
	struct persist	*ps = env->persist;
	pid_t		 parent = getpid(), pid = -1;
	sigset_t	 all, old;
	int		 sv[2];

	ps->cut = ps->jbytes;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		log_warn("snapshot: socketpair (rtm writes it itself)");
	else {
		/* No handler of rtm's may run in the child. */
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		if ((pid = fork()) == 0) {
			close(sv[0]);
			snapshot_child(env, parent, sv[1], &old);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (pid == -1)
			log_warn("snapshot: fork (rtm writes it itself)");
		close(sv[1]);
		if (pid == -1)
			close(sv[0]);
	}
	if (pid == -1) {
		if (persist_snapshot(env) == 0) {
			env->stats.snapshots++;
			return;
		}
		log_warn("snapshot %s", ps->path);
		snapshot_later(env, 1);
		return;
	}
	ps->child = pid;
	ps->child_ns = os_now_ns();
	ps->chan = sv[0];
	fcntl(ps->chan, F_SETFD, FD_CLOEXEC);
	/* Read only when poll() says so, but never to block the loop. */
	fcntl(ps->chan, F_SETFL, O_NONBLOCK);
	log_debug("snapshot: child %ld writes %s", (long)pid, ps->path);
}

/*
 * A snapshot when the journal is past its limit, none is being written
 * and none failed in the last minute.  Only with the journal synced and
 * nothing buffered: the tables are then exactly what it holds.
 */
static void
snapshot_due(struct rtm *env)
{
	struct persist	*ps = env->persist;

	if (ps->jbytes > env->lim.journal_compact && ps->child == 0 &&
	    ps->len == 0 && !ps->dirty && os_now_ns() >= ps->retry_ns)
		snapshot_start(env);
}

/*
 * The snapshot holds the journal's first ps->cut bytes: a new journal
 * gets the records after them, and is renamed over the old one.  0, or
 * -1 with the old journal in place (whole, and still right: the
 * snapshot says how much of it to skip).  Past the rename, a failed
 * directory sync could lose changes acknowledged later: rtm stops.
 */
static int
journal_cut(struct persist *ps)
{
	uint8_t		 buf[64 << 10];
	uint64_t	 off, left = ps->jbytes - ps->cut, oldjid = ps->jid;
	int		 fd, saved;
	ssize_t		 n;

	(void)unlink(ps->jtmp);
	if ((fd = open(ps->jtmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW,
	    0600)) == -1)
		return -1;
	if (journal_head(ps, fd) == -1)
		goto fail;
	for (off = 0; off < left; off += (uint64_t)n) {
		size_t want = left - off < sizeof(buf) ? left - off :
		    sizeof(buf);

		n = pread(ps->jfd, buf, want, (off_t)(ps->cut + off));
		if (n == 0)
			errno = EIO;	/* the journal is shorter than written */
		if (n <= 0 || pwrite_all(fd, buf, (size_t)n,
		    (off_t)(JHDR_LEN + off)) == -1)
			goto fail;
	}
	if (fdatasync(fd) == -1 || rename(ps->jtmp, ps->jpath) == -1)
		goto fail;
	if (sync_dir(ps) == -1)
		fatal("journal %s: directory sync after the cut; stopping so "
		    "that no change is acknowledged that may not be on disk",
		    ps->jpath);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	close(ps->jfd);		/* the child closes it last (see there) */
	ps->jfd = fd;
	ps->jbytes = ps->jsize = JHDR_LEN + left;
	ps->dirty = 0;		/* all that was written is in fd, synced */
	return 0;
fail:
	saved = errno;
	close(fd);
	unlink(ps->jtmp);
	ps->jid = oldjid;
	errno = saved;
	return -1;
}

/* The descriptor rtm's loop polls for a child's word, or -1. */
int
persist_pollfd(const struct rtm *env)
{
	return env->persist != NULL ? env->persist->chan : -1;
}

/*
 * The child said its snapshot is in place (or closed chan, failing):
 * the journal is cut, then chan is closed, which lets the child exit.
 */
void
persist_snapshot_done(struct rtm *env)
{
	struct persist	*ps = env->persist;
	ssize_t		 n;
	char		 c;

	if (ps == NULL || ps->chan == -1)
		return;
	while ((n = read(ps->chan, &c, 1)) == -1 && errno == EINTR)
		;
	if (n == -1 && errno == EAGAIN)
		return;
	if (n == 1) {
		env->stats.snapshots++;
		if (journal_cut(ps) == -1) {
			log_warn("journal %s: cut after the snapshot; kept "
			    "whole", ps->jpath);
			snapshot_later(env, 0);
		}
	}
	/* Else the child failed: its exit status tells persist_reap(). */
	close(ps->chan);
	ps->chan = -1;
}

/*
 * Collects a finished snapshot child (SIGCHLD, and each heartbeat), and
 * kills one that has been writing for SNAP_DEADLINE_S (a hung disk?):
 * compaction would stop for good.  With `stop`, kills and collects a
 * running one: rtm is stopping, and the next start writes a snapshot.
 */
void
persist_reap(struct rtm *env, int stop)
{
	struct persist	*ps = env->persist;
	int		 status;
	pid_t		 r;

	if (ps == NULL || ps->child == 0)
		return;
	if (!stop && os_now_ns() - ps->child_ns >
	    SNAP_DEADLINE_S * 1000000000ULL) {
		log_warnx("snapshot %s: child %ld still writing after %d s; "
		    "killing it", ps->path, (long)ps->child, SNAP_DEADLINE_S);
		(void)kill(ps->child, SIGKILL);
		ps->child_ns = os_now_ns();	/* once */
	}
	if (stop)
		(void)kill(ps->child, SIGKILL);
	while ((r = waitpid(ps->child, &status, stop ? 0 : WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	if (r == 0)
		return;
	ps->child = 0;
	if (ps->chan != -1) {
		/* Killed, or its word not read yet: a snapshot it put in
		 * place says how much of the journal it holds. */
		close(ps->chan);
		ps->chan = -1;
	}
	if (stop) {
		(void)unlink(ps->tmp);
		return;
	}
	if (r == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (r != -1 && WIFSIGNALED(status))
			log_warnx("snapshot %s: child killed by signal %d",
			    ps->path, WTERMSIG(status));
		log_warnx("snapshot %s failed: the journal is kept (%llu "
		    "bytes); next try in %d s", ps->path,
		    (unsigned long long)ps->jbytes, SNAP_RETRY_MS / 1000);
		snapshot_later(env, 1);
		return;
	}
	/* What came meanwhile may be due already, and without another
	 * change no commit would start it. */
	snapshot_due(env);
}

/*
 * Group commit, in two steps around the clients' notifications:
 * persist_write() hands the turn's changes to the kernel (they survive
 * rtm dying from then on), the loop notifies clients, then
 * persist_commit() makes them durable with one fdatasync before any
 * admin is acknowledged.  Clients live on this host: a crash that loses
 * the page cache takes them down too.
 */
int
persist_write(struct rtm *env)
{
	struct persist *ps = env->persist;

	if (ps == NULL || ps->len == 0)
		return 0;
	/* The zeros only spare the file system work: without room for
	 * them (a nearly full disk) the records are appended as they are,
	 * rather than rtm stopping for want of bytes it does not need. */
	if (ps->jbytes + ps->len > ps->jsize && ps->len <= JOURNAL_SMALL)
		(void)journal_zero_to(ps, ps->jbytes + ps->len + JOURNAL_AHEAD);
	if (pwrite_all(ps->jfd, ps->buf, ps->len, (off_t)ps->jbytes) == -1)
		return -1;
	ps->jbytes += ps->len;
	if (ps->jsize < ps->jbytes)
		ps->jsize = ps->jbytes;
	ps->len = 0;
	ps->dirty = 1;
	return 0;
}

int
persist_commit(struct rtm *env)
{
	struct persist *ps = env->persist;

	if (ps == NULL)
		return 0;
	if (persist_write(env) == -1)
		return -1;
	if (!ps->dirty)
		return 0;
	if (fdatasync(ps->jfd) == -1)
		return -1;
	ps->dirty = 0;
	snapshot_due(env);
	return 0;
}

static int
load_file(struct rtm *env, const char *path, int snapshot, int *fdp,
    off_t *goodp)
{
	struct reader	 r;
	const char	*why = "";
	unsigned	 count;
	int		 fd, bad;
	off_t		 good, next;

	/* The journal is written at explicit offsets (zeros ahead). */
	fd = open(path, snapshot || env->dry ? O_RDONLY :
	    O_RDWR | O_CREAT, 0600);
	if (fd == -1) {
		if ((snapshot || env->dry) && errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.fd = fd;
	if ((r.buf = malloc(RD_BUF)) == NULL) {
		log_warn("%s: read buffer", path);
		close(fd);
		return -1;
	}
	good = replay(env, &r, snapshot, &bad, &count, &why);
	free(r.buf);
	if (why == NULL)
		why = "record refused";
	if (bad == 2) {
		log_warnx("%s: cannot apply record %u: %s; fix that and start "
		    "rtm again (nothing was discarded)", path, count + 1, why);
		close(fd);
		return -1;
	}
	if (bad == 3) {
		/* Not a torn tail: what could not be read may be good. */
		log_warnx("%s: read error after %u records: %s; nothing was "
		    "discarded", path, count, strerror(r.err));
		close(fd);
		return -1;
	}
	if (bad && snapshot) {
		log_warnx("%s: damaged snapshot (%s after %lld bytes); "
		    "move it aside to start empty", path, why, (long long)good);
		close(fd);
		return -1;
	}
	if (bad == 1 && !snapshot && (next = good_record_after(fd,
	    good)) != -1) {
		log_warnx("%s: damaged at byte %lld (%s) after %u records, "
		    "but a good record follows at byte %lld: not a torn "
		    "tail; nothing was discarded.  Restore the state from a "
		    "backup, or accept losing what follows with: truncate -s "
		    "%lld %s", path, (long long)good, why, count,
		    (long long)next, (long long)good, path);
		close(fd);
		return -1;
	}
	if (bad && env->dry) {
		log_warnx("%s: torn tail after %u records (%s); rtm will "
		    "discard it", path, count, why);
	} else if (bad) {
		/* Never acknowledged: a write cut short by a crash. */
		log_warnx("%s: discarding torn tail after %u records (%s)",
		    path, count, why);
		if (ftruncate(fd, good) == -1) {
			log_warn("%s: truncate", path);
			close(fd);
			return -1;
		}
	}
	if (count > 0)
		log_info("%s: %u records loaded", path, count);
	if (fdp != NULL && !env->dry) {
		/* The zeros after the records go; persist_open() empties
		 * the journal anyway once the snapshot has it all. */
		if (!bad && ftruncate(fd, good) == -1) {
			log_warn("%s: truncate", path);
			close(fd);
			return -1;
		}
		if (goodp != NULL)
			*goodp = good;
		*fdp = fd;
	} else
		close(fd);
	return 0;
}

/*
 * A snapshot child of an rtm that died may still be writing: its
 * snapshot must be in place before this rtm reads the state, or it
 * could land over the one this rtm writes next.
 */
static void
snap_wait(struct persist *ps)
{
	pid_t	 holder;

	if (lock_byte(ps->lockfd, F_GETLK, F_WRLCK, LOCK_SNAP, &holder) ==
	    -1 || holder == 0)
		return;
	log_info("%s: waiting for the snapshot of a previous rtm (pid %ld) "
	    "to finish", ps->path, (long)holder);
	for (int i = 0; i < SNAP_WAIT_S * 10; i++) {
		if (lock_byte(ps->lockfd, F_SETLK, F_WRLCK, LOCK_SNAP, NULL) == 0)
			goto done;
		poll(NULL, 0, 100);
	}
	/* A hung disk, say: its snapshot is not needed (the journal has
	 * it all), only its end. */
	log_warnx("%s: the snapshot of a previous rtm (pid %ld) is still "
	    "not done after %d s; killing it", ps->path, (long)holder,
	    SNAP_WAIT_S);
	if (holder > 0)
		(void)kill(holder, SIGKILL);
	while (lock_byte(ps->lockfd, F_SETLKW, F_WRLCK, LOCK_SNAP, NULL) ==
	    -1 && errno == EINTR)
		;
done:
	(void)lock_byte(ps->lockfd, F_SETLK, F_UNLCK, LOCK_SNAP, NULL);
}

/*
 * Opens (and locks) the state, loads the snapshot, replays the journal,
 * and compacts both into a fresh snapshot.
 */
int
persist_open(struct rtm *env, const char *path)
{
	struct persist	*ps;
	char		 lpath[PATH_MAX + 16], dir[PATH_MAX];
	off_t		 good = 0;

	crc_init();
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return -1;
	snprintf(ps->path, sizeof(ps->path), "%s", path);
	snprintf(ps->jpath, sizeof(ps->jpath), "%s.journal", path);
	snprintf(ps->tmp, sizeof(ps->tmp), "%s.tmp", path);
	snprintf(ps->jtmp, sizeof(ps->jtmp), "%s.tmp", ps->jpath);
	snprintf(lpath, sizeof(lpath), "%s.lock", path);
	snprintf(dir, sizeof(dir), "%s", path);
	ps->jfd = ps->lockfd = ps->chan = -1;
	if ((ps->dirfd = open(dirname(dir), O_RDONLY)) == -1) {
		log_warn("%s", dir);
		goto fail;
	}
	fcntl(ps->dirfd, F_SETFD, FD_CLOEXEC);
	if ((ps->lockfd = open(lpath, O_RDWR | O_CREAT, 0600)) == -1) {
		log_warn("%s", lpath);
		goto fail;
	}
	fcntl(ps->lockfd, F_SETFD, FD_CLOEXEC);
	if (lock_byte(ps->lockfd, F_SETLK, F_WRLCK, LOCK_STATE, NULL) == -1) {
		log_warnx("%s: state in use by another rtm", path);
		goto fail;
	}
	snap_wait(ps);
	/* Left by a crash in journal_cut(): the journal has it all. */
	(void)unlink(ps->jtmp);
	env->loading = 1;
	if (load_file(env, ps->path, 1, NULL, NULL) == -1 ||
	    load_file(env, ps->jpath, 0, &ps->jfd, &good) == -1) {
		env->loading = 0;
		goto fail;
	}
	env->loading = 0;
	ps->jid = env->load_jid;
	ps->jbytes = ps->jsize = (uint64_t)good;
	fcntl(ps->jfd, F_SETFD, FD_CLOEXEC);
	env->persist = ps;
	if (persist_snapshot(env) == -1) {
		log_warn("snapshot %s", ps->path);
		return -1;
	}
	return 0;
fail:
	if (ps->jfd != -1)
		close(ps->jfd);
	if (ps->lockfd != -1)
		close(ps->lockfd);
	if (ps->dirfd != -1)
		close(ps->dirfd);
	free(ps);
	return -1;
}

/*
 * rtm -n: loads the state into the tables without touching segments or
 * writing anything, and reports.  0 when the state would load.
 */
int
persist_check(struct rtm *env, const char *path)
{
	char		 jpath[PATH_MAX + 16];
	struct stat	 st;

	crc_init();
	snprintf(jpath, sizeof(jpath), "%s.journal", path);
	/* A mistyped path must not pass for an empty state. */
	if (stat(path, &st) == -1 && errno == ENOENT &&
	    stat(jpath, &st) == -1 && errno == ENOENT) {
		log_warnx("%s: no such state file (nor its journal); rtm "
		    "would start with empty tables there", path);
		return -1;
	}
	env->dry = 1;
	env->loading = 1;
	if (load_file(env, path, 1, NULL, NULL) == -1 ||
	    load_file(env, jpath, 0, NULL, NULL) == -1)
		return -1;
	log_info("%s: ok: %zu routes, %zu ARP entries, seq %llu", path,
	    rtable_count(env->routes), mactable_count(env->arp),
	    (unsigned long long)env->seq);
	return 0;
}

void
persist_close(struct rtm *env)
{
	struct persist *ps = env->persist;

	if (ps == NULL)
		return;
	persist_reap(env, 1);
	if (persist_commit(env) == -1)
		log_warn("journal %s", ps->jpath);
	close(ps->jfd);
	close(ps->lockfd);
	close(ps->dirfd);
	free(ps->buf);
	free(ps);
	env->persist = NULL;
}
