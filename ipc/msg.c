/*
 * msg.c: packing and validation of rtm datagrams (see msg.h and
 * docs/protocol.md for the layout).
 *
 * One decoder, rec_decode(), both validates and unpacks a record, and
 * msg_put() runs it on every record it has just packed.  So whatever
 * msg_put() emits msg_open() accepts, and the two can never drift apart
 * as the format grows.  Every accepted record has exactly one encoding
 * (pads, reserved fields, the gateway of a route without one and the
 * bytes after a name's NUL must all be zero), so a record unpacked by
 * msg_next() packs back to the same bytes.
 *
 * The decoder is the datagram's only reader and it never trusts a
 * length it has not compared with the bytes actually present: the
 * fuzzer's view of this file is that every read is bounded by `n`.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "msg.h"

/* Longest record: REPLY_END with a full text. */
#define REC_MAX		(MSG_REC_HDR_LEN + 8 + MSG_TEXT_MAX)

#define ROUTE_BODY	26	/* prefix, len, rflags, gw, ifname[16] */
#define RFLAG_GW	0x01

/* Body bytes (record minus its 4-byte header) per type; ADMIN_REQ,
 * REPLY_END and ERROR add their variable part to this. */
static const uint16_t body_size[MSG_TYPE_MAX + 1] = {
	[MSG_HELLO] = 8,
	[MSG_GOODBYE] = 4,
	[MSG_ROUTE_ADD] = 8 + ROUTE_BODY,
	[MSG_ROUTE_CHANGE] = 8 + ROUTE_BODY,
	[MSG_ROUTE_DEL] = 8 + ROUTE_BODY,
	[MSG_ARP_ADD] = 24,
	[MSG_ARP_CHANGE] = 24,
	[MSG_ARP_DEL] = 24,
	[MSG_FLUSH] = 12,
	[MSG_SYNC_BEGIN] = 16,
	[MSG_SYNC_END] = 16,
	[MSG_RESYNC] = 8,
	[MSG_ACK] = 16,
	[MSG_HEARTBEAT] = 8,
	[MSG_ADMIN_REQ] = 8,
	[MSG_REPLY_ROUTE] = 4 + ROUTE_BODY,
	[MSG_REPLY_ARP] = 24,
	[MSG_REPLY_CLIENT] = 32,
	[MSG_REPLY_STAT] = 4 + MSG_STAT_NAME_LEN + 8,
	[MSG_REPLY_END] = 8,
	[MSG_ERROR] = 4,
};

/* Argument bytes after the 8 fixed ADMIN_REQ bytes, per op. */
static const uint8_t admin_args[MSG_OP_MAX + 1] = {
	[MSG_OP_ROUTE_ADD] = ROUTE_BODY,
	[MSG_OP_ROUTE_CHANGE] = ROUTE_BODY,
	[MSG_OP_ROUTE_REPLACE] = ROUTE_BODY,
	[MSG_OP_ROUTE_DEL] = 8,
	[MSG_OP_ROUTE_GET] = 4,
	[MSG_OP_ARP_ADD] = 12,
	[MSG_OP_ARP_CHANGE] = 12,
	[MSG_OP_ARP_REPLACE] = 12,
	[MSG_OP_ARP_DEL] = 8,
	[MSG_OP_ARP_GET] = 8,
};

#define T(x)	(1u << (x))
static const uint32_t chan_types[MSG_CHAN_REPLY + 1] = {
	[MSG_CHAN_CLIENT] = T(MSG_HELLO) | T(MSG_GOODBYE) | T(MSG_RESYNC) |
	    T(MSG_ACK),
	[MSG_CHAN_NOTIFY] = T(MSG_GOODBYE) | T(MSG_ROUTE_ADD) |
	    T(MSG_ROUTE_CHANGE) | T(MSG_ROUTE_DEL) | T(MSG_ARP_ADD) |
	    T(MSG_ARP_CHANGE) | T(MSG_ARP_DEL) | T(MSG_FLUSH) |
	    T(MSG_SYNC_BEGIN) | T(MSG_SYNC_END) | T(MSG_HEARTBEAT) |
	    T(MSG_ERROR),
	[MSG_CHAN_ADMIN] = T(MSG_HELLO) | T(MSG_GOODBYE) | T(MSG_ADMIN_REQ),
	[MSG_CHAN_REPLY] = T(MSG_GOODBYE) | T(MSG_REPLY_ROUTE) |
	    T(MSG_REPLY_ARP) | T(MSG_REPLY_CLIENT) | T(MSG_REPLY_STAT) |
	    T(MSG_REPLY_END) | T(MSG_ERROR),
};
#undef T

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Two's complement on the wire; the conversion back is done without
 * relying on implementation-defined unsigned-to-signed casts. */
static inline int32_t
get_i32(const uint8_t *p)
{
	uint32_t	 u = get32(p);

	return u <= INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

static int
bad(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	errno = EBADMSG;
	return -1;
}

static int
chan_valid(unsigned chan)
{
	return chan >= MSG_CHAN_CLIENT && chan <= MSG_CHAN_REPLY;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Copies a NUL-padded string of up to n bytes (n - 1 characters). */
static void
put_padded(uint8_t *p, const char *s, size_t n)
{
	size_t		 l = strnlen(s, n);

	memcpy(p, s, l);
	memset(p + l, 0, n - l);
}

/*
 * Checks a NUL-padded field: a NUL within n, only zeros after it.
 * Copies it (NUL-padded) to out.
 */
static int
get_padded(const uint8_t *p, size_t n, char *out, const char **why,
    const char *unterminated, const char *junk)
{
	size_t		 i = 0;

	/* Names are short: a plain loop beats two library calls. */
	while (i < n && p[i] != 0)
		i++;
	if (i == n)
		return bad(why, unterminated);
	if (!all_zero(p + i, n - i))
		return bad(why, junk);
	memcpy(out, p, n);
	return 0;
}

static void
put_route(uint8_t *p, const struct addr_route *rt)
{
	put32(p, rt->dst.addr);
	p[4] = rt->dst.len;
	/* A stray has_gw value lands in reserved flag bits and is refused. */
	p[5] = rt->has_gw;
	put32(p + 6, rt->has_gw ? rt->gw : 0);
	put_padded(p + 10, rt->ifname, ADDR_IFNAMSIZ);
}

static int
get_route(const uint8_t *p, struct addr_route *rt, const char **why)
{
	const char	*w;

	if (p[5] & ~RFLAG_GW)
		return bad(why, "bad route flags");
	rt->dst.addr = get32(p);
	rt->dst.len = p[4];
	rt->has_gw = p[5] & RFLAG_GW;
	rt->gw = get32(p + 6);
	if (!rt->has_gw && rt->gw != 0)
		return bad(why, "gateway set without gateway flag");
	if (get_padded(p + 10, ADDR_IFNAMSIZ, rt->ifname, why,
	    "interface name not terminated",
	    "junk after interface name") == -1)
		return -1;
	if (addr_route_valid(rt, &w) == -1)
		return bad(why, w);
	return 0;
}

static int
get_mac(const uint8_t *p, struct addr_mac *m, const char **why)
{
	const char	*w;

	memcpy(m->b, p, ADDR_MAC_LEN);
	if (addr_mac_valid(m, &w) == -1)
		return bad(why, w);
	if (p[6] != 0 || p[7] != 0)
		return bad(why, "MAC padding not zero");
	return 0;
}

static int
get_text(const uint8_t *p, size_t n, char *out, const char **why)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return bad(why, "bad character in text");
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int
get_status(const uint8_t *p, uint16_t *st, const char **why)
{
	*st = get16(p);
	if (*st > MSG_ST_MAX)
		return bad(why, "status out of range");
	return 0;
}

static int
get_admin(const uint8_t *b, struct msg_admin_req *a, const char **why)
{
	const char	*w;
	const uint8_t	*arg = b + 8;

	a->reqid = get32(b);
	a->op = b[4];
	a->flags = b[5];
	if (a->flags & ~MSG_AF_ALL)
		return bad(why, "bad request flags");
	if (get16(b + 6) != 0)
		return bad(why, "request reserved field not zero");
	switch (a->op) {
	case MSG_OP_ROUTE_ADD:
	case MSG_OP_ROUTE_CHANGE:
	case MSG_OP_ROUTE_REPLACE:
		return get_route(arg, &a->route, why);
	case MSG_OP_ROUTE_DEL:
		a->route.dst.addr = get32(arg);
		a->route.dst.len = arg[4];
		if (!all_zero(arg + 5, 3))
			return bad(why, "prefix padding not zero");
		if (addr_prefix_valid(&a->route.dst, &w) == -1)
			return bad(why, w);
		return 0;
	case MSG_OP_ROUTE_GET:
		a->addr = get32(arg);
		return 0;
	case MSG_OP_ARP_ADD:
	case MSG_OP_ARP_CHANGE:
	case MSG_OP_ARP_REPLACE:
		a->ip = get32(arg + 8);
		return get_mac(arg, &a->mac, why);
	case MSG_OP_ARP_DEL:
	case MSG_OP_ARP_GET:
		return get_mac(arg, &a->mac, why);
	default:
		return 0;
	}
}

/*
 * Checks the frame of the record of n bytes at p (4 <= n, all n bytes
 * readable) on channel chan: its type is allowed there and its length
 * is the type's.  The fields are rec_decode()'s business.
 */
static int
rec_frame(const uint8_t *p, size_t n, uint8_t chan, const char **why)
{
	const uint8_t	*b = p + MSG_REC_HDR_LEN;
	size_t		 blen = n - MSG_REC_HDR_LEN, want;
	uint16_t	 type = get16(p), tl;

	if (type == 0 || type > MSG_TYPE_MAX)
		return bad(why, "unknown record type");
	if (!chan_valid(chan) || !(chan_types[chan] & 1u << type))
		return bad(why, "record type not allowed on channel");
	want = body_size[type];
	if (blen < want)
		return bad(why, "bad record length");
	/* The fixed part is present: the variable part's size can be read. */
	if (type == MSG_ADMIN_REQ) {
		if (b[4] == 0 || b[4] > MSG_OP_MAX)
			return bad(why, "unknown request op");
		want += admin_args[b[4]];
	} else if (type == MSG_REPLY_END || type == MSG_ERROR) {
		tl = get16(b + want - 2);
		if (tl > MSG_TEXT_MAX)
			return bad(why, "text too long");
		want += tl;
	}
	if (blen != want)
		return bad(why, "bad record length");
	return 0;
}

/*
 * Validates the record of n bytes at p (4 <= n, all n bytes readable)
 * on channel chan, and unpacks it into *r.  Only the fields of r's type
 * are written.
 */
static int
rec_decode(const uint8_t *p, size_t n, uint8_t chan, struct msg_record *r,
    const char **why)
{
	const uint8_t	*b = p + MSG_REC_HDR_LEN;
	size_t		 blen = n - MSG_REC_HDR_LEN;
	uint16_t	 type = get16(p);

	if (rec_frame(p, n, chan, why) == -1)
		return -1;
	r->type = type;
	switch (type) {
	case MSG_HELLO:
		r->u.hello.pid = get32(b);
		r->u.hello.flags = get32(b + 4);
		if (r->u.hello.flags != 0)
			return bad(why, "hello flags not zero");
		return 0;
	case MSG_GOODBYE:
		r->u.goodbye.pid = get32(b);
		return 0;
	case MSG_ROUTE_ADD:
	case MSG_ROUTE_CHANGE:
	case MSG_ROUTE_DEL:
		r->u.route.seq = get64(b);
		return get_route(b + 8, &r->u.route.route, why);
	case MSG_ARP_ADD:
	case MSG_ARP_CHANGE:
	case MSG_ARP_DEL:
		r->u.arp.seq = get64(b);
		r->u.arp.key = get_i32(b + 16);
		r->u.arp.shmid = get_i32(b + 20);
		if (get_mac(b + 8, &r->u.arp.mac, why) == -1)
			return -1;
		if (r->u.arp.shmid < 0)
			return bad(why, "negative shmid");
		return 0;
	case MSG_FLUSH:
		r->u.flush.seq = get64(b);
		r->u.flush.what = b[8];
		if (r->u.flush.what < MSG_FLUSH_ROUTE ||
		    r->u.flush.what > MSG_FLUSH_ALL)
			return bad(why, "bad flush target");
		if (!all_zero(b + 9, 3))
			return bad(why, "flush padding not zero");
		return 0;
	case MSG_SYNC_BEGIN:
		r->u.sync_begin.seq = get64(b);
		r->u.sync_begin.nroutes = get32(b + 8);
		r->u.sync_begin.narp = get32(b + 12);
		return 0;
	case MSG_SYNC_END:
		r->u.sync_end.seq = get64(b);
		r->u.sync_end.digest = get64(b + 8);
		return 0;
	case MSG_RESYNC:
		r->u.resync.seq = get64(b);
		return 0;
	case MSG_ACK:
		r->u.ack.seq = get64(b);
		r->u.ack.digest = get64(b + 8);
		return 0;
	case MSG_HEARTBEAT:
		r->u.heartbeat.seq = get64(b);
		return 0;
	case MSG_ADMIN_REQ:
		return get_admin(b, &r->u.admin, why);
	case MSG_REPLY_ROUTE:
		r->u.reply_route.reqid = get32(b);
		return get_route(b + 4, &r->u.reply_route.route, why);
	case MSG_REPLY_ARP:
		r->u.reply_arp.reqid = get32(b);
		r->u.reply_arp.ip = get32(b + 12);
		r->u.reply_arp.key = get_i32(b + 16);
		r->u.reply_arp.shmid = get_i32(b + 20);
		if (get_mac(b + 4, &r->u.reply_arp.mac, why) == -1)
			return -1;
		if (r->u.reply_arp.shmid < 0)
			return bad(why, "negative shmid");
		return 0;
	case MSG_REPLY_CLIENT:
		r->u.reply_client.reqid = get32(b);
		r->u.reply_client.pid = get32(b + 4);
		r->u.reply_client.uid = get32(b + 8);
		r->u.reply_client.state = b[12];
		r->u.reply_client.seq = get64(b + 16);
		r->u.reply_client.lag = get64(b + 24);
		if (b[12] == 0 || b[12] > MSG_CS_MAX)
			return bad(why, "client state out of range");
		if (!all_zero(b + 13, 3))
			return bad(why, "client padding not zero");
		return 0;
	case MSG_REPLY_STAT:
		r->u.reply_stat.reqid = get32(b);
		r->u.reply_stat.value = get64(b + 4 + MSG_STAT_NAME_LEN);
		if (get_padded(b + 4, MSG_STAT_NAME_LEN, r->u.reply_stat.name,
		    why, "stat name not terminated",
		    "junk after stat name") == -1)
			return -1;
		if (r->u.reply_stat.name[0] == '\0')
			return bad(why, "empty stat name");
		for (const char *s = r->u.reply_stat.name; *s != '\0'; s++)
			if (*s <= ' ' || *s > '~')
				return bad(why, "bad character in stat name");
		return 0;
	case MSG_REPLY_END:
		r->u.reply_end.reqid = get32(b);
		if (get_status(b + 4, &r->u.reply_end.status, why) == -1)
			return -1;
		return get_text(b + 8, blen - 8, r->u.reply_end.text, why);
	case MSG_ERROR:
		if (get_status(b, &r->u.error.status, why) == -1)
			return -1;
		return get_text(b + 4, blen - 4, r->u.error.text, why);
	}
	return bad(why, "unknown record type");	/* not reached */
}

size_t
msg_record_size(const struct msg_record *r)
{
	size_t		 n, tl;

	if (r->type == 0 || r->type > MSG_TYPE_MAX)
		return 0;
	n = MSG_REC_HDR_LEN + body_size[r->type];
	switch (r->type) {
	case MSG_ADMIN_REQ:
		if (r->u.admin.op == 0 || r->u.admin.op > MSG_OP_MAX)
			return 0;
		return n + admin_args[r->u.admin.op];
	case MSG_REPLY_END:
	case MSG_ERROR:
		tl = strnlen(r->type == MSG_ERROR ? r->u.error.text :
		    r->u.reply_end.text, MSG_TEXT_MAX + 1);
		return tl > MSG_TEXT_MAX ? 0 : n + tl;
	}
	return n;
}

/*
 * Packs r into p (REC_MAX bytes) without judging field values, which
 * rec_decode() does afterwards.  Returns the size, 0 if r cannot even be
 * laid out (unknown type or op, unterminated text).
 */
static size_t
rec_encode(uint8_t *p, const struct msg_record *r)
{
	const struct msg_admin_req *a = &r->u.admin;
	uint8_t		*b = p + MSG_REC_HDR_LEN;
	size_t		 n = msg_record_size(r), tl;

	if (n == 0)
		return 0;
	memset(p, 0, n);
	put16(p, r->type);
	put16(p + 2, (uint16_t)n);
	switch (r->type) {
	case MSG_HELLO:
		put32(b, r->u.hello.pid);
		put32(b + 4, r->u.hello.flags);
		break;
	case MSG_GOODBYE:
		put32(b, r->u.goodbye.pid);
		break;
	case MSG_ROUTE_ADD:
	case MSG_ROUTE_CHANGE:
	case MSG_ROUTE_DEL:
		put64(b, r->u.route.seq);
		put_route(b + 8, &r->u.route.route);
		break;
	case MSG_ARP_ADD:
	case MSG_ARP_CHANGE:
	case MSG_ARP_DEL:
		put64(b, r->u.arp.seq);
		memcpy(b + 8, r->u.arp.mac.b, ADDR_MAC_LEN);
		put32(b + 16, (uint32_t)r->u.arp.key);
		put32(b + 20, (uint32_t)r->u.arp.shmid);
		break;
	case MSG_FLUSH:
		put64(b, r->u.flush.seq);
		b[8] = r->u.flush.what;
		break;
	case MSG_SYNC_BEGIN:
		put64(b, r->u.sync_begin.seq);
		put32(b + 8, r->u.sync_begin.nroutes);
		put32(b + 12, r->u.sync_begin.narp);
		break;
	case MSG_SYNC_END:
		put64(b, r->u.sync_end.seq);
		put64(b + 8, r->u.sync_end.digest);
		break;
	case MSG_RESYNC:
		put64(b, r->u.resync.seq);
		break;
	case MSG_ACK:
		put64(b, r->u.ack.seq);
		put64(b + 8, r->u.ack.digest);
		break;
	case MSG_HEARTBEAT:
		put64(b, r->u.heartbeat.seq);
		break;
	case MSG_ADMIN_REQ:
		put32(b, a->reqid);
		b[4] = a->op;
		b[5] = a->flags;
		switch (a->op) {
		case MSG_OP_ROUTE_ADD:
		case MSG_OP_ROUTE_CHANGE:
		case MSG_OP_ROUTE_REPLACE:
			put_route(b + 8, &a->route);
			break;
		case MSG_OP_ROUTE_DEL:
			put32(b + 8, a->route.dst.addr);
			b[12] = a->route.dst.len;
			break;
		case MSG_OP_ROUTE_GET:
			put32(b + 8, a->addr);
			break;
		case MSG_OP_ARP_ADD:
		case MSG_OP_ARP_CHANGE:
		case MSG_OP_ARP_REPLACE:
			put32(b + 16, a->ip);
			/* FALLTHROUGH */
		case MSG_OP_ARP_DEL:
		case MSG_OP_ARP_GET:
			memcpy(b + 8, a->mac.b, ADDR_MAC_LEN);
			break;
		}
		break;
	case MSG_REPLY_ROUTE:
		put32(b, r->u.reply_route.reqid);
		put_route(b + 4, &r->u.reply_route.route);
		break;
	case MSG_REPLY_ARP:
		put32(b, r->u.reply_arp.reqid);
		memcpy(b + 4, r->u.reply_arp.mac.b, ADDR_MAC_LEN);
		put32(b + 12, r->u.reply_arp.ip);
		put32(b + 16, (uint32_t)r->u.reply_arp.key);
		put32(b + 20, (uint32_t)r->u.reply_arp.shmid);
		break;
	case MSG_REPLY_CLIENT:
		put32(b, r->u.reply_client.reqid);
		put32(b + 4, r->u.reply_client.pid);
		put32(b + 8, r->u.reply_client.uid);
		b[12] = r->u.reply_client.state;
		put64(b + 16, r->u.reply_client.seq);
		put64(b + 24, r->u.reply_client.lag);
		break;
	case MSG_REPLY_STAT:
		put32(b, r->u.reply_stat.reqid);
		put_padded(b + 4, r->u.reply_stat.name, MSG_STAT_NAME_LEN);
		put64(b + 4 + MSG_STAT_NAME_LEN, r->u.reply_stat.value);
		break;
	case MSG_REPLY_END:
		tl = n - MSG_REC_HDR_LEN - 8;
		put32(b, r->u.reply_end.reqid);
		put16(b + 4, r->u.reply_end.status);
		put16(b + 6, (uint16_t)tl);
		memcpy(b + 8, r->u.reply_end.text, tl);
		break;
	case MSG_ERROR:
		tl = n - MSG_REC_HDR_LEN - 4;
		put16(b, r->u.error.status);
		put16(b + 2, (uint16_t)tl);
		memcpy(b + 4, r->u.error.text, tl);
		break;
	}
	return n;
}

void
msg_begin(struct msg_writer *w, uint8_t *buf, size_t cap,
    const struct msg_header *h)
{
	static const struct msg_header zero;

	if (h == NULL)
		h = &zero;
	w->buf = buf;
	w->cap = cap > MSG_MAX ? MSG_MAX : cap;
	w->len = 0;
	w->count = 0;
	/* Too small for a header: msg_put says ENOSPC, msg_finish 0. */
	if (buf == NULL || w->cap < MSG_HDR_LEN) {
		w->cap = 0;
		return;
	}
	put32(buf, MSG_MAGIC);
	buf[4] = MSG_VERSION;
	buf[5] = h->chan;
	put16(buf + 6, h->flags);
	put32(buf + 8, MSG_HDR_LEN);
	put32(buf + 12, h->pid);
	put64(buf + 16, h->seq);
	put64(buf + 24, h->instance);
	put32(buf + 32, 0);
	put32(buf + 36, 0);
	w->len = MSG_HDR_LEN;
}

int
msg_put(struct msg_writer *w, const struct msg_record *r)
{
	uint8_t		 tmp[REC_MAX];
	struct msg_record scratch;
	size_t		 n;

	if (w->buf == NULL || w->len < MSG_HDR_LEN || w->len > w->cap) {
		errno = ENOSPC;
		return -1;
	}
	/* A datagram msg_open() would refuse as a whole takes no record. */
	if (!chan_valid(w->buf[5]) || get16(w->buf + 6) != 0 || r == NULL ||
	    (n = rec_encode(tmp, r)) == 0 ||
	    rec_decode(tmp, n, w->buf[5], &scratch, NULL) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (n > w->cap - w->len || w->count == UINT32_MAX) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(w->buf + w->len, tmp, n);
	w->len += n;
	w->count++;
	return 0;
}

size_t
msg_finish(struct msg_writer *w)
{
	if (w->buf == NULL || w->len < MSG_HDR_LEN || w->len > w->cap)
		return 0;
	put32(w->buf + 8, (uint32_t)w->len);
	put32(w->buf + 32, w->count);
	return w->len;
}

static int
open_reader(struct msg_reader *rd, const void *buf, size_t len,
    struct msg_header *h, const char **why, int deep)
{
	struct msg_record scratch;
	const uint8_t	*b = buf, *p, *end;
	struct msg_header hd;
	uint32_t	 magic, reserved;
	size_t		 n;

	/* A failed open leaves a reader that yields nothing. */
	rd->p = rd->end = b;
	rd->left = 0;
	rd->chan = 0;
	if (b == NULL || len < MSG_HDR_LEN)
		return bad(why, "short datagram");
	magic = get32(b);
	hd.version = b[4];
	hd.chan = b[5];
	hd.flags = get16(b + 6);
	hd.length = get32(b + 8);
	hd.pid = get32(b + 12);
	hd.seq = get64(b + 16);
	hd.instance = get64(b + 24);
	hd.count = get32(b + 32);
	reserved = get32(b + 36);
	if (h != NULL)
		*h = hd;
	if (magic != MSG_MAGIC)
		return bad(why, "bad magic");
	if (hd.version != MSG_VERSION) {
		if (why != NULL)
			*why = "unsupported protocol version";
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if (!chan_valid(hd.chan))
		return bad(why, "bad channel");
	if (hd.flags != 0)
		return bad(why, "header flags not zero");
	if (reserved != 0)
		return bad(why, "header reserved field not zero");
	if (hd.length > len)
		return bad(why, "truncated datagram");
	if (hd.length < len)
		return bad(why, "bytes after datagram end");
	if (len > MSG_MAX)
		return bad(why, "datagram too long");

	end = b + len;
	p = b + MSG_HDR_LEN;
	for (uint32_t i = 0; i < hd.count; i++) {
		if ((size_t)(end - p) < MSG_REC_HDR_LEN)
			return bad(why, "fewer records than count");
		n = get16(p + 2);
		if (n < MSG_REC_HDR_LEN)
			return bad(why, "record length too short");
		if (n > (size_t)(end - p))
			return bad(why, "record overruns datagram");
		if (deep ? rec_decode(p, n, hd.chan, &scratch, why) == -1 :
		    rec_frame(p, n, hd.chan, why) == -1)
			return -1;
		p += n;
	}
	if (p != end)
		return bad(why, "more records than count");
	rd->p = b + MSG_HDR_LEN;
	rd->end = end;
	rd->left = hd.count;
	rd->chan = hd.chan;
	return 0;
}

int
msg_open(struct msg_reader *rd, const void *buf, size_t len,
    struct msg_header *h, const char **why)
{
	return open_reader(rd, buf, len, h, why, 1);
}

int
msg_open_stream(struct msg_reader *rd, const void *buf, size_t len,
    struct msg_header *h, const char **why)
{
	return open_reader(rd, buf, len, h, why, 0);
}

int
msg_done(const struct msg_reader *rd)
{
	return rd->left == 0 && rd->p == rd->end;
}

/* Unpacks the next record into slot k; counts it out at the end. */
static void
ahead_fill(struct msg_ahead *a, unsigned k)
{
	if (msg_next(a->rd, &a->q[k]) == 1) {
		if (a->hint != NULL)
			a->hint(a->arg, &a->q[k]);
	} else
		a->n--;
}

void
msg_ahead_init(struct msg_ahead *a, struct msg_reader *rd, unsigned depth,
    void (*hint)(void *, const struct msg_record *), void *arg)
{
	a->rd = rd;
	a->hint = hint;
	a->arg = arg;
	a->depth = depth < 1 ? 1 : depth > MSG_AHEAD_MAX ? MSG_AHEAD_MAX :
	    depth;
	a->i = 0;
	a->cur = -1;
	for (a->n = 0; a->n < a->depth; a->n++) {
		if (msg_next(rd, &a->q[a->n]) != 1)
			break;
		if (hint != NULL)
			hint(arg, &a->q[a->n]);
	}
}

const struct msg_record *
msg_ahead_next(struct msg_ahead *a)
{
	/* The slot returned last is free now: the next record goes in. */
	if (a->cur >= 0) {
		ahead_fill(a, (unsigned)a->cur);
		a->i = ((unsigned)a->cur + 1) % a->depth;
		a->cur = -1;
	}
	if (a->n == 0)
		return NULL;
	a->cur = (int)a->i;
	return &a->q[a->i];
}

#define REC_USIZE(m)	(offsetof(struct msg_record, u) + \
	    sizeof(((struct msg_record *)NULL)->u.m))

/* How much of a record of this type rec_decode() can set. */
static size_t
rec_zero_size(uint16_t type)
{
	static const uint16_t size[MSG_TYPE_MAX + 1] = {
		[MSG_HELLO] = REC_USIZE(hello),
		[MSG_GOODBYE] = REC_USIZE(goodbye),
		[MSG_ROUTE_ADD] = REC_USIZE(route),
		[MSG_ROUTE_CHANGE] = REC_USIZE(route),
		[MSG_ROUTE_DEL] = REC_USIZE(route),
		[MSG_ARP_ADD] = REC_USIZE(arp),
		[MSG_ARP_CHANGE] = REC_USIZE(arp),
		[MSG_ARP_DEL] = REC_USIZE(arp),
		[MSG_FLUSH] = REC_USIZE(flush),
		[MSG_SYNC_BEGIN] = REC_USIZE(sync_begin),
		[MSG_SYNC_END] = REC_USIZE(sync_end),
		[MSG_RESYNC] = REC_USIZE(resync),
		[MSG_ACK] = REC_USIZE(ack),
		[MSG_HEARTBEAT] = REC_USIZE(heartbeat),
		[MSG_ADMIN_REQ] = REC_USIZE(admin),
		[MSG_REPLY_ROUTE] = REC_USIZE(reply_route),
		[MSG_REPLY_ARP] = REC_USIZE(reply_arp),
		[MSG_REPLY_CLIENT] = REC_USIZE(reply_client),
		[MSG_REPLY_STAT] = REC_USIZE(reply_stat),
		[MSG_REPLY_END] = REC_USIZE(reply_end),
		[MSG_ERROR] = REC_USIZE(error),
	};

	return type <= MSG_TYPE_MAX && size[type] != 0 ? size[type] :
	    sizeof(struct msg_record);
}

int
msg_next(struct msg_reader *rd, struct msg_record *r)
{
	size_t		 n;

	if (rd->left == 0)
		return 0;
	/* msg_open() checked all this; recheck in case the buffer changed. */
	if ((size_t)(rd->end - rd->p) < MSG_REC_HDR_LEN ||
	    (n = get16(rd->p + 2)) < MSG_REC_HDR_LEN ||
	    n > (size_t)(rd->end - rd->p))
		goto stop;
	/* Clearing all 272 bytes of every record shows in a profile. */
	memset(r, 0, rec_zero_size(get16(rd->p)));
	if (rec_decode(rd->p, n, rd->chan, r, NULL) == -1)
		goto stop;
	rd->p += n;
	rd->left--;
	return 1;
stop:
	rd->left = 0;
	return 0;
}

const char *
msg_type_name(uint16_t type)
{
	static const char *const names[MSG_TYPE_MAX + 1] = {
		[MSG_HELLO] = "HELLO",
		[MSG_GOODBYE] = "GOODBYE",
		[MSG_ROUTE_ADD] = "ROUTE_ADD",
		[MSG_ROUTE_CHANGE] = "ROUTE_CHANGE",
		[MSG_ROUTE_DEL] = "ROUTE_DEL",
		[MSG_ARP_ADD] = "ARP_ADD",
		[MSG_ARP_CHANGE] = "ARP_CHANGE",
		[MSG_ARP_DEL] = "ARP_DEL",
		[MSG_FLUSH] = "FLUSH",
		[MSG_SYNC_BEGIN] = "SYNC_BEGIN",
		[MSG_SYNC_END] = "SYNC_END",
		[MSG_RESYNC] = "RESYNC",
		[MSG_ACK] = "ACK",
		[MSG_HEARTBEAT] = "HEARTBEAT",
		[MSG_ADMIN_REQ] = "ADMIN_REQ",
		[MSG_REPLY_ROUTE] = "REPLY_ROUTE",
		[MSG_REPLY_ARP] = "REPLY_ARP",
		[MSG_REPLY_CLIENT] = "REPLY_CLIENT",
		[MSG_REPLY_STAT] = "REPLY_STAT",
		[MSG_REPLY_END] = "REPLY_END",
		[MSG_ERROR] = "ERROR",
	};

	if (type == 0 || type > MSG_TYPE_MAX)
		return "unknown";
	return names[type];
}

const char *
msg_status_str(uint16_t status)
{
	static const char *const names[MSG_ST_MAX + 1] = {
		[MSG_ST_OK] = "ok",
		[MSG_ST_EXIST] = "entry exists",
		[MSG_ST_NOENT] = "no such entry",
		[MSG_ST_INVAL] = "invalid argument",
		[MSG_ST_PERM] = "permission denied",
		[MSG_ST_NOSPC] = "table full",
		[MSG_ST_BUSY] = "busy",
		[MSG_ST_PROTO] = "protocol error",
		[MSG_ST_INTERNAL] = "internal error",
		[MSG_ST_SKIPPED] = "skipped",
	};

	if (status > MSG_ST_MAX)
		return "unknown";
	return names[status];
}

const char *
msg_op_name(uint8_t op)
{
	static const char *const names[MSG_OP_MAX + 1] = {
		[MSG_OP_ROUTE_ADD] = "route add",
		[MSG_OP_ROUTE_CHANGE] = "route change",
		[MSG_OP_ROUTE_REPLACE] = "route replace",
		[MSG_OP_ROUTE_DEL] = "route del",
		[MSG_OP_ROUTE_GET] = "route get",
		[MSG_OP_ROUTE_SHOW] = "route show",
		[MSG_OP_ROUTE_FLUSH] = "route flush",
		[MSG_OP_ARP_ADD] = "arp add",
		[MSG_OP_ARP_CHANGE] = "arp change",
		[MSG_OP_ARP_REPLACE] = "arp replace",
		[MSG_OP_ARP_DEL] = "arp del",
		[MSG_OP_ARP_GET] = "arp get",
		[MSG_OP_ARP_SHOW] = "arp show",
		[MSG_OP_ARP_FLUSH] = "arp flush",
		[MSG_OP_FLUSH] = "flush",
		[MSG_OP_CLIENTS] = "clients",
		[MSG_OP_STATS] = "stats",
	};

	if (op == 0 || op > MSG_OP_MAX)
		return "unknown";
	return names[op];
}

int
msg_op_mutates(uint8_t op)
{
	switch (op) {
	case MSG_OP_ROUTE_GET:
	case MSG_OP_ROUTE_SHOW:
	case MSG_OP_ARP_GET:
	case MSG_OP_ARP_SHOW:
	case MSG_OP_CLIENTS:
	case MSG_OP_STATS:
		return 0;
	default:
		return 1;
	}
}

const char *
msg_client_state_name(uint8_t state)
{
	static const char *const names[MSG_CS_MAX + 1] = {
		[MSG_CS_SYNCING] = "syncing",
		[MSG_CS_IN_SYNC] = "in-sync",
		[MSG_CS_LAGGING] = "lagging",
		[MSG_CS_RESYNCING] = "resyncing",
	};

	if (state == 0 || state > MSG_CS_MAX)
		return "unknown";
	return names[state];
}
