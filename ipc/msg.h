/*
 * msg.h: the versioned wire format of every rtm datagram.
 *
 * A datagram is a fixed 40-byte header followed by `count` records.
 * Every field is packed and unpacked explicitly, big-endian; no C
 * struct is ever copied to or from the wire.  docs/protocol.md gives
 * the byte offsets.
 *
 *  header:  magic u32 | version u8 | chan u8 | flags u16 | length u32 |
 *           pid u32 | seq u64 | instance u64 | count u32 | reserved u32
 *  record:  type u16 | length u16 (record bytes incl. these 4) | body
 *
 * The channel says who talks to whom; a record type that does not
 * belong on the datagram's channel makes the whole datagram invalid.
 * msg_open() checks the header and walks every record before it
 * succeeds, so a caller can validate a whole batch before acting on
 * any of it (no partial updates from a malformed datagram).
 */
#ifndef RTM_MSG_H
#define RTM_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define MSG_MAGIC		0x52544d21u	/* "RTM!" */
#define MSG_VERSION		1
#define MSG_HDR_LEN		40
#define MSG_REC_HDR_LEN		4
#define MSG_MAX			65536		/* largest datagram sent */
#define MSG_TEXT_MAX		256		/* error text bytes */
#define MSG_STAT_NAME_LEN	24

/* Header channel: direction and role of the sender. */
enum msg_chan {
	MSG_CHAN_CLIENT = 1,	/* client -> rtm */
	MSG_CHAN_NOTIFY = 2,	/* rtm -> client */
	MSG_CHAN_ADMIN = 3,	/* rtm-admin -> rtm */
	MSG_CHAN_REPLY = 4,	/* rtm -> rtm-admin */
};

/* Record types. */
enum msg_type {
	MSG_HELLO = 1,		/* CLIENT, ADMIN: register / open session */
	MSG_GOODBYE = 2,	/* CLIENT, ADMIN: leaving; NOTIFY: rtm exits */
	MSG_ROUTE_ADD = 3,	/* NOTIFY */
	MSG_ROUTE_CHANGE = 4,	/* NOTIFY */
	MSG_ROUTE_DEL = 5,	/* NOTIFY */
	MSG_ARP_ADD = 6,	/* NOTIFY */
	MSG_ARP_CHANGE = 7,	/* NOTIFY */
	MSG_ARP_DEL = 8,	/* NOTIFY */
	MSG_FLUSH = 9,		/* NOTIFY */
	MSG_SYNC_BEGIN = 10,	/* NOTIFY */
	MSG_SYNC_END = 11,	/* NOTIFY */
	MSG_RESYNC = 12,	/* CLIENT: please send a full dump */
	MSG_ACK = 13,		/* CLIENT: applied seq + table digest */
	MSG_HEARTBEAT = 14,	/* NOTIFY */
	MSG_ADMIN_REQ = 15,	/* ADMIN */
	MSG_REPLY_ROUTE = 16,	/* REPLY */
	MSG_REPLY_ARP = 17,	/* REPLY */
	MSG_REPLY_CLIENT = 18,	/* REPLY */
	MSG_REPLY_STAT = 19,	/* REPLY */
	MSG_REPLY_END = 20,	/* REPLY: closes one request, with status */
	MSG_ERROR = 21,		/* NOTIFY, REPLY: not tied to a request */
	MSG_TYPE_MAX = 21
};

/* What a FLUSH empties. */
enum msg_flush_what {
	MSG_FLUSH_ROUTE = 1,
	MSG_FLUSH_ARP = 2,
	MSG_FLUSH_ALL = 3,
};

/* Admin operations carried by MSG_ADMIN_REQ. */
enum msg_op {
	MSG_OP_ROUTE_ADD = 1,
	MSG_OP_ROUTE_CHANGE = 2,
	MSG_OP_ROUTE_REPLACE = 3,
	MSG_OP_ROUTE_DEL = 4,
	MSG_OP_ROUTE_GET = 5,
	MSG_OP_ROUTE_SHOW = 6,
	MSG_OP_ROUTE_FLUSH = 7,
	MSG_OP_ARP_ADD = 8,
	MSG_OP_ARP_CHANGE = 9,
	MSG_OP_ARP_REPLACE = 10,
	MSG_OP_ARP_DEL = 11,
	MSG_OP_ARP_GET = 12,
	MSG_OP_ARP_SHOW = 13,
	MSG_OP_ARP_FLUSH = 14,
	MSG_OP_FLUSH = 15,
	MSG_OP_CLIENTS = 16,
	MSG_OP_STATS = 17,
	MSG_OP_MAX = 17
};

/* Status of a request (REPLY_END) or an ERROR record.  Portable codes:
 * errno values differ between systems, so they never go on the wire. */
enum msg_status {
	MSG_ST_OK = 0,
	MSG_ST_EXIST = 1,	/* add of an existing entry */
	MSG_ST_NOENT = 2,	/* change/del/get of a missing entry */
	MSG_ST_INVAL = 3,	/* a field is out of range */
	MSG_ST_PERM = 4,	/* caller may not do this */
	MSG_ST_NOSPC = 5,	/* a table or kernel limit was hit */
	MSG_ST_BUSY = 6,	/* try again later */
	MSG_ST_PROTO = 7,	/* malformed or unexpected message */
	MSG_ST_INTERNAL = 8,	/* rtm failed (I/O, kernel) */
	MSG_ST_SKIPPED = 9,	/* not run: an earlier request failed */
	MSG_ST_MAX = 9
};

/* Flags of an admin request. */
#define MSG_AF_STOP	0x01	/* skip (MSG_ST_SKIPPED) when an earlier
				 * request of this session failed */
#define MSG_AF_ALL	MSG_AF_STOP

/* Client states reported by MSG_REPLY_CLIENT. */
enum msg_client_state {
	MSG_CS_SYNCING = 1,	/* full dump queued, not yet acked */
	MSG_CS_IN_SYNC = 2,	/* acked the current seq, digest verified */
	MSG_CS_LAGGING = 3,	/* behind, or digest not (yet) verified */
	MSG_CS_RESYNCING = 4,	/* queue overflowed, dump pending */
	MSG_CS_MAX = 4
};

struct msg_header {
	uint8_t		version;
	uint8_t		chan;		/* enum msg_chan */
	uint16_t	flags;		/* must be 0 in version 1 */
	uint32_t	length;		/* whole datagram, header included */
	uint32_t	pid;		/* sender pid */
	uint64_t	seq;		/* sender's datagram counter on this stream */
	uint64_t	instance;	/* rtm instance id (0 from clients/admin) */
	uint32_t	count;		/* records that follow */
};

/* A table change or dump entry.  seq is the table sequence number the
 * change produced (0 inside a dump). */
struct msg_route {
	uint64_t	seq;
	struct addr_route route;
};

struct msg_arp {
	uint64_t	seq;
	struct addr_mac	mac;
	int32_t		key;		/* SysV key of the MAC's segment */
	int32_t		shmid;		/* its shmid, to attach without probing */
};

struct msg_admin_req {
	uint32_t	reqid;
	uint8_t		op;		/* enum msg_op */
	uint8_t		flags;		/* MSG_AF_* */
	/* Arguments; which ones are on the wire depends on op. */
	struct addr_route route;	/* ROUTE_ADD/CHANGE/REPLACE; DEL: dst */
	uint32_t	addr;		/* ROUTE_GET */
	struct addr_mac	mac;		/* ARP_* except SHOW/FLUSH */
	uint32_t	ip;		/* ARP_ADD/CHANGE/REPLACE */
};

struct msg_record {
	uint16_t	type;		/* enum msg_type */
	union {
		struct {
			uint32_t pid;
			uint32_t flags;	/* 0 in version 1 */
		} hello;
		struct {
			uint32_t pid;
		} goodbye;
		struct msg_route route;	/* ROUTE_ADD/CHANGE/DEL */
		struct msg_arp	arp;	/* ARP_ADD/CHANGE/DEL */
		struct {
			uint64_t seq;
			uint8_t	 what;	/* enum msg_flush_what */
		} flush;
		struct {
			uint64_t seq;	/* table seq the dump shows */
			uint32_t nroutes;
			uint32_t narp;
		} sync_begin;
		struct {
			uint64_t seq;
			uint64_t digest; /* rtm's table digest at seq */
		} sync_end;
		struct {
			uint64_t seq;	/* last seq the client applied */
		} resync;
		struct {
			uint64_t seq;
			uint64_t digest; /* client's table digest at seq */
		} ack;
		struct {
			uint64_t seq;	/* rtm's current table seq */
		} heartbeat;
		struct msg_admin_req admin;
		struct {
			uint32_t reqid;
			struct addr_route route;
		} reply_route;
		struct {
			uint32_t reqid;
			struct addr_mac mac;
			uint32_t ip;
			int32_t	 key;
			int32_t	 shmid;
		} reply_arp;
		struct {
			uint32_t reqid;
			uint32_t pid;
			uint32_t uid;
			uint8_t	 state;	/* enum msg_client_state */
			uint64_t seq;	/* last seq acked by the client */
			uint64_t lag;	/* rtm seq - acked seq */
		} reply_client;
		struct {
			uint32_t reqid;
			/* 1..23 of '!'..'~' (no spaces), NUL terminated */
			char	 name[MSG_STAT_NAME_LEN];
			uint64_t value;
		} reply_stat;
		struct {
			uint32_t reqid;
			uint16_t status;	/* enum msg_status */
			/* 0..MSG_TEXT_MAX of ' '..'~', NUL terminated */
			char	 text[MSG_TEXT_MAX + 1];
		} reply_end;
		struct {
			uint16_t status;
			char	 text[MSG_TEXT_MAX + 1];
		} error;
	} u;
};

/* Building a datagram into a caller-supplied buffer. */
struct msg_writer {
	uint8_t		*buf;
	size_t		 cap;		/* at most MSG_MAX */
	size_t		 len;
	uint32_t	 count;
};

/*
 * Writes the header: magic and version from the constants (h->version
 * and h->length are ignored), the rest from h.  cap is clipped to
 * MSG_MAX; with cap < MSG_HDR_LEN nothing is written, msg_put() fails
 * with ENOSPC and msg_finish() returns 0.
 */
void	 msg_begin(struct msg_writer *w, uint8_t *buf, size_t cap,
	    const struct msg_header *h);
/*
 * Appends one record.  Returns 0, or -1 with errno = ENOSPC when it
 * does not fit (the writer is unchanged; finish and start a new
 * datagram), or EINVAL when a field is out of range, the type is
 * unknown or not allowed on the header's channel, or the header itself
 * would be refused (nothing msg_open() would reject is ever packed;
 * EINVAL is reported before ENOSPC).  Bytes the wire does not carry
 * are written as zero: a route's gateway without has_gw, anything
 * after a name's NUL, an ADMIN_REQ's arguments its op does not use.
 */
int	 msg_put(struct msg_writer *w, const struct msg_record *r);
/* Patches length and count into the header; returns the datagram size
 * (0 for a writer msg_begin() could not set up). */
size_t	 msg_finish(struct msg_writer *w);
/* Bytes a record of this type (and op, for ADMIN_REQ; text length for
 * REPLY_END and ERROR) takes on the wire; 0 for an unknown type or op
 * or a text longer than MSG_TEXT_MAX. */
size_t	 msg_record_size(const struct msg_record *r);

/* Reading a datagram. */
struct msg_reader {
	const uint8_t	*p;
	const uint8_t	*end;
	uint32_t	 left;
	uint8_t		 chan;
};

/*
 * Checks the header and every record of the datagram (length, version,
 * channel, record types allowed on that channel, field ranges) and
 * positions the reader on the first record.  Returns 0, or -1 with
 * errno = EBADMSG (EPROTONOSUPPORT for a foreign version) and *why
 * naming the problem; a failed reader yields no records.  h and why
 * may be NULL.  *h is filled whenever len >= MSG_HDR_LEN, even when
 * the datagram is then refused (for logging only: untrusted then).
 * Never reads outside buf[0..len).
 */
int	 msg_open(struct msg_reader *rd, const void *buf, size_t len,
	    struct msg_header *h, const char **why);
/*
 * msg_open() checking only the header and the framing (each record's
 * type allowed on the channel, its length, the count), so that a
 * receiver that can act on a datagram's records one by one decodes
 * them once, not twice: msg_next() still checks each record in full
 * and stops at the first bad one, which msg_done() then tells.  For
 * streams where acting on the records before a bad one is harmless
 * (rtm's notifications: a client follows by seq, and resyncs).
 */
int	 msg_open_stream(struct msg_reader *rd, const void *buf, size_t len,
	    struct msg_header *h, const char **why);
/*
 * Unpacks the next record: 1 when *r was filled, 0 at the end.  Fields
 * the record does not carry are zero.  The buffer must stay unchanged
 * since msg_open(); if it changed into something invalid, 0.  Every
 * record is checked in full as it is unpacked.
 */
int	 msg_next(struct msg_reader *rd, struct msg_record *r);
/* 1 when msg_next() has returned every record, all of them valid. */
int	 msg_done(const struct msg_reader *rd);

/*
 * Reading ahead: msg_ahead_next() returns the reader's records in
 * order, each valid until the next call, while up to depth - 1 records
 * after it are already unpacked and have been passed to hint (when not
 * NULL) as they were.  A receiver that applies many records uses the
 * hint to start fetching the memory a record will touch, so the cache
 * misses of consecutive records overlap.  depth is 1 to MSG_AHEAD_MAX.
 */
#define MSG_AHEAD_MAX	8

struct msg_ahead {
	struct msg_reader *rd;
	void		(*hint)(void *arg, const struct msg_record *r);
	void		 *arg;
	unsigned	  depth;
	unsigned	  n;		/* records in q */
	unsigned	  i;		/* slot of the next one */
	int		  cur;		/* slot last returned, or -1 */
	struct msg_record q[MSG_AHEAD_MAX];
};

void	 msg_ahead_init(struct msg_ahead *a, struct msg_reader *rd,
	    unsigned depth, void (*hint)(void *, const struct msg_record *),
	    void *arg);
const struct msg_record *msg_ahead_next(struct msg_ahead *a);

const char *msg_type_name(uint16_t type);
const char *msg_status_str(uint16_t status);	/* "entry exists", ... */
const char *msg_op_name(uint8_t op);		/* "route add", ... */
/* 1 when the op changes the tables (add, change, replace, del, flush). */
int	 msg_op_mutates(uint8_t op);
const char *msg_client_state_name(uint8_t state); /* "in-sync", ... */

#endif
