/*
 * rtmc.c: librtmc's session with rtm: registration, the notification
 * stream, sequence checking, resyncs, acknowledgements, SIGUSR1.
 *
 * The handle is a small state machine driven only by what arrives on
 * its socket, by time and by the caller's calls:
 *
 *	REGISTER ---SYNC_BEGIN---> LOADING ---SYNC_END---> SYNCED
 *	   ^                         ^   |                   |
 *	   |               SYNC_BEGIN|   | bad dump     gap, SIGUSR1
 *	   |                         |   v                   | w/o FLUSH
 *	   |                       WAITING <-----------------+
 *	   |
 *	   +--- from LOADING, SYNCED or WAITING when rtm is lost: GOODBYE,
 *	        another instance, ERROR, its socket gone, or silence.
 *
 * REGISTER sends HELLO until a dump begins; the mirror is kept (stale)
 * until then, so a restart of rtm costs the caller nothing but a
 * resync.  rtmc_open() is REGISTER for the first time, with a deadline.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "mactable.h"
#include "mirror.h"
#include "msg.h"
#include "os.h"
#include "peername.h"
#include "rtable.h"
#include "rtmc.h"
#include "uds.h"

#define RTMC_SOCK		"rtm.sock"
#define RTMC_PEERDIR		"peers"
#define RTMC_DISPATCH_BURST	4096	/* datagrams per rtmc_dispatch() */
#define RTMC_RETRY_MS		10	/* a send that found rtm's queue full */
#define RTMC_RESYNC_RETRY_MS	2000	/* RESYNC unanswered: ask again */
#define RTMC_HELLO_RETRY_MS	250	/* rtm's socket absent or refusing */
#define RTMC_HELLO_WAIT_MS	1000	/* HELLO sent, no dump: send again */
#define RTMC_REFUSED_RETRY_MS	500	/* rtm answered HELLO with ERROR */
#define RTMC_HELLO_FULL_MS	50	/* rtm's queue was full */
#define RTMC_HELLO_ANSWER_MS	100	/* a live rtm answers HELLO by then */
#define RTMC_GOODBYE_MS		100	/* how long close tries a full queue */

enum rtmc_state {
	ST_REGISTER,		/* HELLO sent or due, no dump begun */
	ST_LOADING,		/* inside a dump */
	ST_SYNCED,		/* applying changes */
	ST_WAITING,		/* RESYNC asked for; ignoring changes */
};

struct rtmc {
	char		 dir[PATH_MAX];
	char		 rtm_path[UDS_PATH_MAX + 1];
	char		 my_path[UDS_PATH_MAX + 1];
	ino_t		 my_ino;	/* of the socket file we bound */
	uid_t		 rtm_uid;	/* owner of rtm.sock: rtm's uid */
	int		 rtm_uid_known;
	int		 fd;
	pid_t		 pid;
	uint8_t		*buf;		/* MSG_MAX bytes */
	uint64_t	 out_seq;	/* our datagram counter */

	struct mirror	 m;
	rtmc_event_cb	*cb;
	void		*cb_arg;
	int		 in_cb;
	int		 closing;	/* rtmc_close() from a callback */

	enum rtmc_state	 state;
	int		 opening;	/* inside rtmc_open() */
	int		 lost;		/* REGISTER after losing rtm */
	uint64_t	 seq;		/* last applied table seq */
	uint64_t	 instance;	/* rtm instance of the current dump */
	uint64_t	 dump_seq;	/* from SYNC_BEGIN */
	uint32_t	 dump_routes;
	uint32_t	 dump_arp;
	int		 synced_once;
	int		 cleared;	/* WAITING: mirror already emptied */

	int		 ack_pending;
	unsigned long long ack_due;	/* ns, monotonic */
	unsigned long long last_ack;
	unsigned long long resync_due;	/* WAITING: when to (re)send RESYNC */
	unsigned long long hello_due;	/* REGISTER: when to (re)send HELLO */
	int		 hello_pending;	/* HELLO sent, not answered yet */
	unsigned long long last_hello;	/* when it was sent */

	unsigned long long last_rx;	/* last valid datagram from rtm */
	unsigned long long idle_ns;	/* silence that means rtm is lost */

	int		 flush_seen;	/* FLUSH since last SIGUSR1 handled */
	int		 sig_pending;

	int		 refused;	/* opening: ERROR from rtm */
	int		 bye;		/* opening: GOODBYE from rtm */
	uint16_t	 err_status;
	char		 err_text[MSG_TEXT_MAX + 1];

	struct rtmc_stats st;
};


static void
seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int	saved = errno;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Conversions between the wire/ipc types and the public ones. */

static void
route_export(const struct addr_route *a, struct rtmc_route *r)
{
	memset(r, 0, sizeof(*r));
	r->dst = a->dst.addr;
	r->len = a->dst.len;
	r->has_gw = a->has_gw ? 1 : 0;
	r->gw = a->has_gw ? a->gw : 0;
	memcpy(r->ifname, a->ifname, sizeof(r->ifname));
	r->ifname[sizeof(r->ifname) - 1] = '\0';
}

static void
arp_export(const struct addr_mac *mac, int32_t key, int32_t shmid,
    struct rtmc_arp *a)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->mac, mac->b, sizeof(a->mac));
	a->key = key;
	a->shmid = shmid;
}

static void
emit(struct rtmc *h, struct rtmc_event *ev)
{
	if (h->cb == NULL)
		return;
	h->in_cb++;
	h->cb(h, ev, h->cb_arg);
	h->in_cb--;
}

static void
emit_simple(struct rtmc *h, enum rtmc_event_type type, uint64_t seq)
{
	struct rtmc_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.seq = seq;
	emit(h, &ev);
}

/* Sending to rtm. */

/*
 * One record in one CLIENT datagram to rtm.sock.  Returns UDS_SENT,
 * UDS_FULL (try later), or UDS_GONE/UDS_FAILED with errno.
 */
static enum uds_fate
send_record(struct rtmc *h, const struct msg_record *rec)
{
	uint8_t			 buf[128];
	struct msg_writer	 w;
	struct msg_header	 hdr;
	size_t			 len;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = MSG_VERSION;
	hdr.chan = MSG_CHAN_CLIENT;
	hdr.pid = (uint32_t)h->pid;
	hdr.seq = ++h->out_seq;
	msg_begin(&w, buf, sizeof(buf), &hdr);
	if (msg_put(&w, rec) == -1)
		return UDS_FAILED;
	len = msg_finish(&w);
	if (uds_sendto(h->fd, h->rtm_path, buf, len) == 0)
		return UDS_SENT;
	return uds_fate(errno);
}

/*
 * rtm's uid is its socket's owner (rtm made it, in a directory nobody
 * else may write to): only that uid, or root, may feed the mirror.
 */
static void
learn_rtm_uid(struct rtmc *h)
{
	struct stat st;

	if (lstat(h->rtm_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		h->rtm_uid = st.st_uid;
		h->rtm_uid_known = 1;
	}
}

static int
own_socket_ino(struct rtmc *h)
{
	struct stat st;

	if (lstat(h->my_path, &st) == -1)
		return -1;
	h->my_ino = st.st_ino;
	return 0;
}

/*
 * Our socket file may be removed under us (a /tmp cleaner, an
 * operator); a restarted rtm could then never reach us.  A new socket
 * is bound at the same path (the fallback name, if that is what
 * rtmc_open() got) under the same descriptor number, so the caller's
 * poll set stays valid.
 */
static void
check_own_socket(struct rtmc *h)
{
	struct stat	 st;
	int		 fd, e;

	if (lstat(h->my_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_ino == h->my_ino)
		return;
	e = errno;
	if ((fd = uds_bind_creds(h->my_path, 0600)) != -1) {
		if (dup2(fd, h->fd) != -1 &&
		    fcntl(h->fd, F_SETFD, FD_CLOEXEC) != -1 &&
		    own_socket_ino(h) == 0)
			h->st.rebinds++;
		close(fd);
	}
	errno = e;			/* else: again before the next HELLO */
}

/* HELLO now; when to try again depends on what became of it. */
static enum uds_fate
send_hello(struct rtmc *h, unsigned long long now)
{
	struct msg_record	rec;
	enum uds_fate		f;
	unsigned		ms;

	if (h->lost) {
		/* rtm was restarted, perhaps as another user. */
		learn_rtm_uid(h);
		check_own_socket(h);
	}
	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_HELLO;
	rec.u.hello.pid = (uint32_t)h->pid;
	switch ((f = send_record(h, &rec))) {
	case UDS_SENT:
		h->st.hellos++;
		h->hello_pending = 1;
		h->last_hello = now;
		ms = RTMC_HELLO_WAIT_MS;
		break;
	case UDS_FULL:
		/* rtm is not reading (stopped?), or many clients are
		 * registering at once: its queue holds few datagrams. */
		ms = RTMC_HELLO_FULL_MS;
		break;
	default:
		/* No rtm on the socket (yet): it may be restarting. */
		h->hello_pending = 0;
		ms = RTMC_HELLO_RETRY_MS;
		break;
	}
	h->hello_due = now + ms * 1000000ULL;
	return f;
}

/*
 * rtm shut down, was restarted, forgot us or fell silent.  Keep the
 * mirror (stale, but the caller's lookups still answer) and register
 * again: now, or after a pause when rtm is known to be going away.
 */
static void
session_lost(struct rtmc *h, int hello_now)
{
	unsigned long long now = os_now_ns();

	if (h->state == ST_REGISTER) {
		/* The rtm we asked is going away too. */
		h->hello_pending = 0;
		if (hello_now)
			send_hello(h, now);
		else
			h->hello_due = now + RTMC_HELLO_RETRY_MS * 1000000ULL;
		return;
	}
	h->state = ST_REGISTER;
	h->lost = 1;
	h->hello_pending = 0;
	h->ack_pending = 0;
	h->st.losses++;
	if (h->synced_once)
		emit_simple(h, RTMC_EV_GONE, h->seq);
	if (hello_now)
		send_hello(h, now);
	else
		h->hello_due = now + RTMC_HELLO_RETRY_MS * 1000000ULL;
}

/* A send failure that means rtm's socket is gone loses the session. */
static void
sent_or_lost(struct rtmc *h, enum uds_fate f)
{
	if (f == UDS_GONE)
		session_lost(h, 0);
}

static void
send_ack(struct rtmc *h, unsigned long long now)
{
	struct msg_record	rec;
	enum uds_fate		f;

	if (h->state != ST_SYNCED) {
		h->ack_pending = 0;
		return;
	}
	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_ACK;
	rec.u.ack.seq = h->seq;
	rec.u.ack.digest = mirror_digest(&h->m);
	f = send_record(h, &rec);
	if (f == UDS_SENT) {
		h->ack_pending = 0;
		h->last_ack = now;
		h->st.acks_sent++;
		return;
	}
	/* Full: try again shortly.  Otherwise the next change or
	 * heartbeat sends a fresh one. */
	h->ack_pending = f == UDS_FULL;
	h->ack_due = now + RTMC_RETRY_MS * 1000000ULL;
	if (f != UDS_FULL)
		h->last_ack = now;
	sent_or_lost(h, f);
}

/* Asks for an ack no sooner than RTMC_ACK_INTERVAL after the last. */
static void
schedule_ack(struct rtmc *h, int now_please)
{
	unsigned long long now = os_now_ns();
	unsigned long long next = h->last_ack +
	    RTMC_ACK_INTERVAL * 1000000ULL;

	h->ack_pending = 1;
	h->ack_due = now_please || h->last_ack == 0 || next < now ? now : next;
	if (now_please)
		send_ack(h, now);
}

static void
send_resync(struct rtmc *h, unsigned long long now)
{
	struct msg_record	rec;
	enum uds_fate		f;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_RESYNC;
	rec.u.resync.seq = h->seq;
	f = send_record(h, &rec);
	if (f == UDS_SENT) {
		h->st.resyncs_sent++;
		/* If no dump begins, ask again: the request may be lost
		 * with a queue rtm dropped. */
		h->resync_due = now + RTMC_RESYNC_RETRY_MS * 1000000ULL;
		return;
	}
	h->resync_due = now + RTMC_RETRY_MS * 1000000ULL;
	sent_or_lost(h, f);
}

/* Empties the mirror ahead of a dump, telling the caller once. */
static void
clear_for_resync(struct rtmc *h)
{
	mirror_clear(&h->m, MIRROR_ALL);
	if (!h->cleared) {
		h->cleared = 1;
		emit_simple(h, RTMC_EV_RESYNC, h->seq);
	}
}

/*
 * The mirror can no longer be trusted to follow: ask for a dump.  The
 * mirror keeps answering until the dump begins, unless clear says it
 * must be emptied now.  While registering, the registration's dump is
 * the one to wait for.
 */
static void
request_resync(struct rtmc *h, int clear)
{
	if (h->state == ST_REGISTER) {
		if (clear && h->synced_once)
			clear_for_resync(h);
		return;
	}
	h->st.gaps += !clear;
	h->state = ST_WAITING;
	h->cleared = 0;
	h->ack_pending = 0;
	if (clear)
		clear_for_resync(h);
	send_resync(h, os_now_ns());
}

/* Records. */

static uint64_t
change_seq(const struct msg_record *rec)
{
	switch (rec->type) {
	case MSG_ROUTE_ADD:
	case MSG_ROUTE_CHANGE:
	case MSG_ROUTE_DEL:
		return rec->u.route.seq;
	case MSG_ARP_ADD:
	case MSG_ARP_CHANGE:
	case MSG_ARP_DEL:
		return rec->u.arp.seq;
	case MSG_FLUSH:
		return rec->u.flush.seq;
	}
	return 0;
}

/*
 * Applies one change (or dump entry) to the mirror and reports it.
 * Returns 0, or -1 when the mirror could not follow (no memory).
 */
static int
apply(struct rtmc *h, const struct msg_record *rec, uint64_t seq, int dump)
{
	struct rtmc_event	 ev;
	struct addr_route	 old;
	struct mirror_arp	 olda;
	int			 replaced, created, what;

	memset(&ev, 0, sizeof(ev));
	ev.seq = seq;
	ev.dump = dump;
	switch (rec->type) {
	case MSG_ROUTE_ADD:
	case MSG_ROUTE_CHANGE:
		if (mirror_route_set(&h->m, &rec->u.route.route, &old,
		    &replaced) == -1)
			return -1;
		ev.type = rec->type == MSG_ROUTE_ADD ? RTMC_EV_ROUTE_ADD :
		    RTMC_EV_ROUTE_CHANGE;
		route_export(&rec->u.route.route, &ev.route);
		if (replaced)
			route_export(&old, &ev.old_route);
		break;
	case MSG_ROUTE_DEL:
		/* Report the route as it was, in full. */
		if (mirror_route_del(&h->m, &rec->u.route.route.dst,
		    &old) == -1)
			old = rec->u.route.route;
		ev.type = RTMC_EV_ROUTE_DEL;
		route_export(&old, &ev.route);
		break;
	case MSG_ARP_ADD:
	case MSG_ARP_CHANGE:
		if (mirror_arp_set(&h->m, &rec->u.arp.mac, rec->u.arp.key,
		    rec->u.arp.shmid, &created) == -1)
			return -1;
		ev.type = rec->type == MSG_ARP_ADD ? RTMC_EV_ARP_ADD :
		    RTMC_EV_ARP_CHANGE;
		arp_export(&rec->u.arp.mac, rec->u.arp.key, rec->u.arp.shmid,
		    &ev.arp);
		break;
	case MSG_ARP_DEL:
		if (mirror_arp_del(&h->m, &rec->u.arp.mac, &olda) == -1) {
			olda.key = rec->u.arp.key;
			olda.shmid = rec->u.arp.shmid;
		}
		ev.type = RTMC_EV_ARP_DEL;
		arp_export(&rec->u.arp.mac, olda.key, olda.shmid, &ev.arp);
		break;
	case MSG_FLUSH:
		what = 0;
		if (rec->u.flush.what & MSG_FLUSH_ROUTE)
			what |= MIRROR_ROUTES;
		if (rec->u.flush.what & MSG_FLUSH_ARP)
			what |= MIRROR_ARP;
		mirror_clear(&h->m, what);
		h->flush_seen = 1;
		ev.type = RTMC_EV_FLUSH;
		ev.flush = (rec->u.flush.what & MSG_FLUSH_ROUTE ?
		    RTMC_FLUSH_ROUTE : 0) |
		    (rec->u.flush.what & MSG_FLUSH_ARP ? RTMC_FLUSH_ARP : 0);
		break;
	default:
		return 0;
	}
	emit(h, &ev);
	/*
	 * The entry's address, for the digest: after the callback, so an
	 * entry it looked up is read through that attachment instead of
	 * being attached twice.  An unreadable segment leaves the entry
	 * out of the digest, for rtm to see (mirror.h).
	 */
	if (rec->type == MSG_ARP_ADD || rec->type == MSG_ARP_CHANGE)
		(void)mirror_arp_account(&h->m, &rec->u.arp.mac);
	return 0;
}

static void
on_sync_begin(struct rtmc *h, const struct msg_header *hdr,
    const struct msg_record *rec)
{
	/* Nothing was reported before the first dump: no resync to
	 * announce then.  Later (a gap, a restart of rtm), there is. */
	if (h->state == ST_REGISTER && !h->synced_once &&
	    rtable_count(h->m.routes) == 0 && mactable_count(h->m.arp) == 0)
		mirror_clear(&h->m, MIRROR_ALL);
	else
		clear_for_resync(h);
	h->cleared = 0;
	h->lost = 0;
	h->hello_pending = 0;
	h->state = ST_LOADING;
	h->instance = hdr->instance;
	h->dump_seq = rec->u.sync_begin.seq;
	h->dump_routes = rec->u.sync_begin.nroutes;
	/* Only a hint, and the count is the sender's word: bounded. */
	mirror_route_reserve(&h->m, h->dump_routes < (1u << 22) ?
	    h->dump_routes : (1u << 22));
	h->dump_arp = rec->u.sync_begin.narp;
	h->ack_pending = 0;
}

static void
on_sync_end(struct rtmc *h, const struct msg_header *hdr,
    const struct msg_record *rec)
{
	if (h->state != ST_LOADING) {
		h->st.stale++;
		return;
	}
	if (hdr->instance != h->instance ||
	    rec->u.sync_end.seq != h->dump_seq ||
	    rtable_count(h->m.routes) != h->dump_routes ||
	    mactable_count(h->m.arp) != h->dump_arp) {
		/* Not the dump that began: never trust a mixture. */
		request_resync(h, 0);
		return;
	}
	h->state = ST_SYNCED;
	h->seq = h->dump_seq;
	h->synced_once = 1;
	h->st.dumps++;
	emit_simple(h, RTMC_EV_SYNC, h->seq);
	if (h->state == ST_SYNCED)
		schedule_ack(h, 1);
}

/* Returns 1 when the record changed the mirror. */
static int
on_change(struct rtmc *h, const struct msg_header *hdr,
    const struct msg_record *rec)
{
	uint64_t seq = change_seq(rec);

	switch (h->state) {
	case ST_REGISTER:
		return 0;
	case ST_WAITING:
		/* A flush must empty us now, not when the dump comes. */
		if (rec->type == MSG_FLUSH) {
			h->flush_seen = 1;
			clear_for_resync(h);
		}
		return 0;
	case ST_LOADING:
		if (hdr->instance != h->instance || seq != 0 ||
		    (rec->type != MSG_ROUTE_ADD && rec->type != MSG_ARP_ADD)) {
			request_resync(h, 0);
			return 0;
		}
		if (apply(h, rec, 0, 1) == -1) {
			request_resync(h, 0);
			return 0;
		}
		return 1;
	case ST_SYNCED:
		break;
	}
	if (seq <= h->seq) {
		h->st.stale++;
		return 0;
	}
	if (seq != h->seq + 1) {
		request_resync(h, 0);
		return 0;
	}
	if (apply(h, rec, seq, 0) == -1) {
		request_resync(h, 0);
		return 0;
	}
	h->seq = seq;
	if (h->state == ST_SYNCED && !h->ack_pending)
		schedule_ack(h, 0);
	return 1;
}

static void
on_heartbeat(struct rtmc *h, const struct msg_header *hdr,
    const struct msg_record *rec)
{
	unsigned long long now;

	h->st.heartbeats++;
	switch (h->state) {
	case ST_REGISTER:
		/*
		 * A new rtm announcing itself: no need to wait for the
		 * next retry, unless a HELLO has just gone out (to this
		 * rtm, most likely).  One that went out earlier was lost
		 * with the rtm that was stopped or dying when it came.
		 */
		now = os_now_ns();
		if (hdr->instance != h->instance && (!h->hello_pending ||
		    now >= h->last_hello + RTMC_HELLO_ANSWER_MS * 1000000ULL))
			send_hello(h, now);
		return;
	case ST_SYNCED:
		break;
	default:
		return;
	}
	/* rtm queues a heartbeat behind every change it announced, so one
	 * that is ahead of us means changes were lost. */
	if (rec->u.heartbeat.seq > h->seq)
		request_resync(h, 0);
	else if (rec->u.heartbeat.seq == h->seq && !h->ack_pending)
		schedule_ack(h, 0);	/* the periodic ack of an idle client */
}

static void
on_goodbye(struct rtmc *h)
{
	if (h->opening && !h->synced_once) {
		h->bye = 1;
		return;
	}
	/* Still shutting down: give it a moment before the next HELLO. */
	session_lost(h, 0);
}

static void
on_error(struct rtmc *h, const struct msg_record *rec)
{
	h->err_status = rec->u.error.status;
	memcpy(h->err_text, rec->u.error.text, sizeof(h->err_text));
	h->err_text[sizeof(h->err_text) - 1] = '\0';
	if (h->opening && !h->synced_once) {
		h->refused = 1;
		return;
	}
	if (h->state == ST_REGISTER) {
		h->hello_pending = 0;
		h->hello_due = os_now_ns() + RTMC_REFUSED_RETRY_MS * 1000000ULL;
		return;
	}
	/* Past registration, an error means this rtm does not know us
	 * (it was restarted): register again. */
	session_lost(h, 1);
}

#define RTMC_AHEAD	7

static void
hint(void *arg, const struct msg_record *rec)
{
	struct rtmc *h = arg;

	if (rec->type == MSG_ROUTE_ADD || rec->type == MSG_ROUTE_CHANGE ||
	    rec->type == MSG_ROUTE_DEL)
		mirror_route_prefetch(&h->m, &rec->u.route.route.dst);
}

/*
 * Applies one datagram's records as they are decoded.  A bad record
 * stops it there, after the ones before it were applied and reported,
 * and costs a resync (the dump puts the mirror right).
 */
static int
process(struct rtmc *h, const uint8_t *buf, size_t len)
{
	struct msg_reader	 rd;
	struct msg_header	 hdr;
	struct msg_ahead	 ahead;
	const struct msg_record	*rec;
	const char		*why;
	int			 applied = 0;

	/* Records are checked as they are applied (one decode, not two);
	 * a bad one stops the datagram and costs a resync. */
	if (msg_open_stream(&rd, buf, len, &hdr, &why) == -1 ||
	    hdr.chan != MSG_CHAN_NOTIFY) {
		h->st.malformed++;
		return 0;
	}
	h->st.datagrams++;
	h->last_rx = os_now_ns();
	/* Another rtm than the one whose dump we hold: it was restarted,
	 * and what we have is the old daemon's table. */
	if (h->state != ST_REGISTER && hdr.instance != h->instance)
		session_lost(h, 1);
	/*
	 * Records are decoded up to RTMC_AHEAD - 1 ahead of the one
	 * applied, and the route table is told about each route as it is
	 * decoded, so the cache misses of consecutive routes overlap.  The
	 * records stay in their slots (272 bytes each: no copies).
	 */
	msg_ahead_init(&ahead, &rd, RTMC_AHEAD, hint, h);
	while (!h->refused && !h->bye && !h->closing &&
	    (rec = msg_ahead_next(&ahead)) != NULL) {
		h->st.records++;
		switch (rec->type) {
		case MSG_SYNC_BEGIN:
			on_sync_begin(h, &hdr, rec);
			break;
		case MSG_SYNC_END:
			on_sync_end(h, &hdr, rec);
			break;
		case MSG_ROUTE_ADD:
		case MSG_ROUTE_CHANGE:
		case MSG_ROUTE_DEL:
		case MSG_ARP_ADD:
		case MSG_ARP_CHANGE:
		case MSG_ARP_DEL:
		case MSG_FLUSH:
			applied += on_change(h, &hdr, rec);
			break;
		case MSG_HEARTBEAT:
			on_heartbeat(h, &hdr, rec);
			break;
		case MSG_GOODBYE:
			on_goodbye(h);
			break;
		case MSG_ERROR:
			on_error(h, rec);
			break;
		default:
			break;
		}
	}
	if (!msg_done(&rd) && !h->refused && !h->bye && !h->closing) {
		/* What followed the bad record is lost: start over. */
		h->st.malformed++;
		if (h->state == ST_SYNCED || h->state == ST_LOADING)
			request_resync(h, 0);
	}
	return applied;
}

/*
 * Receives and applies up to max datagrams.  Returns records applied,
 * or -1 with errno on a receive error other than "nothing queued".
 */
static int
drain(struct rtmc *h, int max)
{
	struct uds_peer	 from;
	int		 applied = 0;
	ssize_t		 n;

	for (int i = 0; i < max && !h->refused && !h->bye && !h->closing;
	    i++) {
		n = uds_recv(h->fd, h->buf, MSG_MAX, &from);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EMSGSIZE) {
				h->st.malformed++;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		/* Anyone of our uid may write to our socket: a table is
		 * taken only from rtm's uid (where credentials exist). */
		if (from.has_cred && h->rtm_uid_known &&
		    from.uid != h->rtm_uid && from.uid != 0) {
			h->st.foreign++;
			continue;
		}
		applied += process(h, h->buf, (size_t)n);
	}
	return applied;
}

/* Sends what is due. */
static void
run_timers(struct rtmc *h)
{
	unsigned long long now = os_now_ns();

	switch (h->state) {
	case ST_REGISTER:
		if (now >= h->hello_due)
			send_hello(h, now);
		return;
	case ST_WAITING:
		if (now >= h->resync_due)
			send_resync(h, now);
		break;
	case ST_SYNCED:
		if (h->ack_pending && now >= h->ack_due)
			send_ack(h, now);
		break;
	case ST_LOADING:
		break;
	}
	/* rtm beats every second: this much silence means it is dead,
	 * stopped or restarted without our noticing.  Registering again
	 * finds out, and costs only a dump if rtm was merely slow. */
	if (h->state != ST_REGISTER && now >= h->last_rx + h->idle_ns) {
		h->st.probes++;
		session_lost(h, 1);
	}
}

/* SIGUSR1 handling; see rtmc_flush_signalled() in rtmc.h. */

static int sig_pipe[2] = { -1, -1 };
static pid_t sig_owner;		/* the process that made the pipe */
static dev_t sig_dev;		/* and the pipe itself */
static ino_t sig_ino;
static struct sigaction sig_prev;
/*
 * Set after the byte is written, so every dispatch need not read the
 * pipe to learn that it is empty (a system call per notification).  A
 * lock-free atomic, as the handler may run on another thread.
 */
static atomic_int sig_written;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int is not lock-free");

static void
sig_on_usr1(int sig)
{
	int	saved = errno;
	ssize_t	n;

	(void)sig;
	n = write(sig_pipe[1], "", 1);
	(void)n;
	atomic_store(&sig_written, 1);
	errno = saved;
}

static int
sig_consume(void)
{
	char	buf[64];
	int	got = 0;
	ssize_t	n;

	if (sig_pipe[0] == -1 || atomic_exchange(&sig_written, 0) == 0)
		return 0;
	while ((n = read(sig_pipe[0], buf, sizeof(buf))) > 0 ||
	    (n == -1 && errno == EINTR))
		if (n > 0)
			got = 1;
	return got;
}

/* A descriptor inherited as an end of our pipe that still is one: a
 * child may have closed it since and reused the number. */
static void
sig_forget(int *fd)
{
	struct stat st;

	if (fstat(*fd, &st) == 0 && st.st_dev == sig_dev &&
	    st.st_ino == sig_ino)
		close(*fd);
	*fd = -1;
}

int
rtmc_sigusr1_install(void)
{
	struct sigaction sa, cur;
	struct stat	 st;
	sigset_t	 usr1, mask;
	int		 inherited, e;

	if (sig_pipe[0] != -1 && sig_owner == getpid())
		return sig_pipe[0];
	/* No handler may write to the pipe while it is being replaced. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &mask);
	inherited = sig_pipe[0] != -1;
	if (inherited) {
		/* A child of the process that installed it: its own pipe,
		 * or parent and child would read each other's signals. */
		sig_forget(&sig_pipe[0]);
		sig_forget(&sig_pipe[1]);
		atomic_store(&sig_written, 0);
	}
	if (os_pipe_cloexec(sig_pipe) == -1)
		goto fail;
	if (fstat(sig_pipe[0], &st) == -1)
		goto fail;
	sig_dev = st.st_dev;
	sig_ino = st.st_ino;
	sig_owner = getpid();
	for (int i = 0; i < 2; i++)
		if (fcntl(sig_pipe[i], F_SETFL,
		    fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK) == -1)
			goto fail;
	/* A child keeps the handler it inherited, and with it what the
	 * parent's install saved to restore. */
	if (!inherited || sigaction(SIGUSR1, NULL, &cur) == -1 ||
	    (cur.sa_flags & SA_SIGINFO) || cur.sa_handler != sig_on_usr1) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = sig_on_usr1;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGUSR1, &sa, &sig_prev) == -1)
			goto fail;
	}
	sigprocmask(SIG_SETMASK, &mask, NULL);
	return sig_pipe[0];
fail:
	e = errno;
	if (sig_pipe[0] != -1)
		close(sig_pipe[0]);
	if (sig_pipe[1] != -1)
		close(sig_pipe[1]);
	sig_pipe[0] = sig_pipe[1] = -1;
	sigprocmask(SIG_SETMASK, &mask, NULL);
	errno = e;
	return -1;
}

void
rtmc_sigusr1_uninstall(void)
{
	int saved = errno;

	if (sig_pipe[0] == -1)
		return;
	sigaction(SIGUSR1, &sig_prev, NULL);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	sig_pipe[0] = sig_pipe[1] = -1;
	errno = saved;
}

static void
handle_signal(struct rtmc *h)
{
	h->sig_pending = 0;
	h->st.signals++;
	/*
	 * A flag, not a count: signals that arrive together merge, and a
	 * count left over would let a later signal whose FLUSH never comes
	 * (its queue overflowed) pass, leaving the flushed tables served
	 * until the dump.  Two flushes close together may cost a needless
	 * resync instead, which is safe.
	 */
	if (h->flush_seen) {
		h->flush_seen = 0;
		return;
	}
	switch (h->state) {
	case ST_REGISTER:
		/* The dump of the registration will show the flush. */
		if (h->synced_once) {
			h->st.signal_clears += !h->cleared;
			clear_for_resync(h);
		}
		return;
	case ST_LOADING:
	case ST_SYNCED:
		h->st.signal_clears++;
		request_resync(h, 1);
		return;
	case ST_WAITING:
		if (!h->cleared)
			h->st.signal_clears++;
		clear_for_resync(h);
		return;
	}
}

/* The public interface. */

/*
 * rtm knows a client by the exact path of its socket, and rtm's own run
 * directory is canonical: so is ours (also makes a relative -d work).
 */
static void
canonical_dir(char *dir, size_t size)
{
	char *real = realpath(dir, NULL);

	if (real != NULL && strlen(real) < size)
		memcpy(dir, real, strlen(real) + 1);
	free(real);
}

int
rtmc_default_dir(char *buf, size_t size)
{
	/* A set-id program must not be pointed elsewhere by its caller. */
	int		 trust = getuid() == geteuid() && getgid() == getegid();
	const char	*env = trust ? getenv("RTM_DIR") : NULL;
	const char	*tmp;
	int		 n;

	if (env != NULL && env[0] != '\0')
		n = snprintf(buf, size, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, size, "/var/run/rtm");
	else {
		if (!trust || (tmp = getenv("TMPDIR")) == NULL ||
		    tmp[0] == '\0')
			tmp = "/tmp";
		n = snprintf(buf, size, "%s/rtm-%lu", tmp,
		    (unsigned long)geteuid());
	}
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void
handle_free(struct rtmc *h)
{
	int saved = errno;

	mirror_free(&h->m);
	if (h->fd != -1) {
		close(h->fd);
		if (getpid() == h->pid)
			unlink(h->my_path);
	}
	free(h->buf);
	free(h);
	errno = saved;
}

static void
send_goodbye(struct rtmc *h, int wait_ms)
{
	struct msg_record	 rec;
	unsigned long long	 end = os_now_ns() + (unsigned long long)wait_ms *
	    1000000ULL;
	int			 saved = errno;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_GOODBYE;
	rec.u.goodbye.pid = (uint32_t)h->pid;
	while (send_record(h, &rec) == UDS_FULL && os_now_ns() < end)
		poll(NULL, 0, 1);
	errno = saved;
}

static int
errno_of_status(uint16_t status)
{
	switch (status) {
	case MSG_ST_PERM:
		return EACCES;
	case MSG_ST_NOSPC:
		return ENOSPC;
	case MSG_ST_BUSY:
		return EAGAIN;
	case MSG_ST_INVAL:
		return EINVAL;
	case MSG_ST_PROTO:
		return EPROTO;
	default:
		return EIO;
	}
}

/*
 * Whoever owns the run directory can play rtm there, and the uid check
 * on datagrams trusts the owner of its rtm.sock: a directory that rtm
 * itself would refuse (group or world writable), or, for a user other
 * than root, one of a third user's (a squatted ${TMPDIR}/rtm-UID), is
 * not trusted.  One that cannot be looked at is left to the bind.
 */
static int
dir_untrusted(const char *dir, char *err, size_t errlen)
{
	struct stat	 st;
	uid_t		 me = geteuid();

	if (stat(dir, &st) == -1)
		return 0;
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		seterr(err, errlen, "run directory %s is group or world "
		    "writable: not trusted", dir);
		return 1;
	}
	if (me != 0 && st.st_uid != me && st.st_uid != 0) {
		seterr(err, errlen, "run directory %s belongs to uid %lu, not "
		    "to this user or root: not trusted", dir,
		    (unsigned long)st.st_uid);
		return 1;
	}
	return 0;
}

/* rtm announces every flush with SIGUSR1, whose default action kills. */
static int
usr1_kills(void)
{
	struct sigaction sa;
	sigset_t	 mask;

	if (sigaction(SIGUSR1, NULL, &sa) == -1 ||
	    sa.sa_handler != SIG_DFL || (sa.sa_flags & SA_SIGINFO))
		return 0;
	/* Blocked, it is taken by sigwait() or a signalfd: harmless. */
	return sigprocmask(SIG_BLOCK, NULL, &mask) == -1 ||
	    !sigismember(&mask, SIGUSR1);
}

struct rtmc *
rtmc_open(const char *dir, const struct rtmc_opts *opts, int timeout_ms,
    char *err, size_t errlen)
{
	struct rtmc		*h;
	struct pollfd		 pfd;
	unsigned long long	 end, now;
	enum uds_fate		 f;
	int			 e, hello_sent = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (usr1_kills()) {
		errno = EINVAL;
		seterr(err, errlen, "SIGUSR1 is not handled: the first flush "
		    "would kill this process (rtmc_sigusr1_install() first, "
		    "or ignore it)");
		return NULL;
	}
	if (timeout_ms <= 0)
		timeout_ms = RTMC_TIMEOUT_DEFAULT;
	end = os_now_ns() + (unsigned long long)timeout_ms * 1000000ULL;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		seterr(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	h->fd = -1;
	h->pid = getpid();
	h->idle_ns = RTMC_IDLE_DEFAULT * 1000000ULL;
	if (opts != NULL) {
		h->cb = opts->cb;
		h->cb_arg = opts->cb_arg;
		if (opts->idle_ms > 0)
			h->idle_ns = (unsigned long long)opts->idle_ms *
			    1000000ULL;
	}
	if (dir == NULL) {
		if (rtmc_default_dir(h->dir, sizeof(h->dir)) == -1) {
			seterr(err, errlen, "run directory: %s",
			    strerror(errno));
			goto fail;
		}
	} else if ((size_t)snprintf(h->dir, sizeof(h->dir), "%s", dir) >=
	    sizeof(h->dir)) {
		errno = ENAMETOOLONG;
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	canonical_dir(h->dir, sizeof(h->dir));
	if (dir_untrusted(h->dir, err, errlen)) {
		errno = EPERM;
		goto fail;
	}
	e = snprintf(h->rtm_path, sizeof(h->rtm_path), "%s/%s", h->dir,
	    RTMC_SOCK);
	if (e < 0 || (size_t)e >= sizeof(h->rtm_path) ||
	    (e = snprintf(h->my_path, sizeof(h->my_path),
	    "%s/%s/client.%ld.sock", h->dir, RTMC_PEERDIR,
	    (long)h->pid)) < 0 || (size_t)e >= sizeof(h->my_path)) {
		errno = ENAMETOOLONG;
		seterr(err, errlen, "%s: run directory path too long for a "
		    "socket", h->dir);
		goto fail;
	}
	if ((h->buf = malloc(MSG_MAX)) == NULL ||
	    mirror_init(&h->m) == -1) {
		seterr(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	learn_rtm_uid(h);
	/* Another user's file at our name: a fallback name (peername.h). */
	if ((h->fd = peername_bind(h->my_path, sizeof(h->my_path), 0600,
	    1)) == -1 || own_socket_ino(h) == -1) {
		if (errno == ENOENT)
			seterr(err, errlen, "cannot reach rtm at %s: %s",
			    h->rtm_path, strerror(errno));
		else
			seterr(err, errlen, "cannot bind %s: %s", h->my_path,
			    strerror(errno));
		goto fail;
	}

	h->opening = 1;
	h->state = ST_REGISTER;
	h->last_rx = os_now_ns();
	while ((f = send_hello(h, os_now_ns())) == UDS_FULL && os_now_ns() < end)
		poll(NULL, 0, 1);
	if (f != UDS_SENT) {
		if (f == UDS_FULL)
			errno = ETIMEDOUT;
		seterr(err, errlen, "cannot reach rtm at %s: %s",
		    h->rtm_path, strerror(errno));
		goto fail;
	}
	hello_sent = 1;

	while (h->state != ST_SYNCED) {
		if (h->refused) {
			errno = errno_of_status(h->err_status);
			seterr(err, errlen, "rtm refused the registration: %s",
			    h->err_text[0] ? h->err_text :
			    msg_status_str(h->err_status));
			hello_sent = 0;
			goto fail;
		}
		if (h->bye) {
			errno = ECONNRESET;
			seterr(err, errlen, "rtm at %s is shutting down",
			    h->rtm_path);
			hello_sent = 0;
			goto fail;
		}
		if ((now = os_now_ns()) >= end) {
			/* Before errno is set: the owner's stat() may fail. */
			long owner = h->st.datagrams == 0 ?
			    uds_foreign_owner(h->rtm_path) : -1;

			errno = ETIMEDOUT;
			if (owner != -1)
				seterr(err, errlen, "rtm at %s runs as uid %ld, "
				    "which cannot write to a socket of uid %ld: "
				    "no answer within %d ms", h->rtm_path, owner,
				    (long)geteuid(), timeout_ms);
			else if (h->st.datagrams == 0)
				seterr(err, errlen, "cannot reach rtm at %s: "
				    "no answer within %d ms", h->rtm_path,
				    timeout_ms);
			else
				seterr(err, errlen, "rtm at %s did not "
				    "complete the table dump within %d ms",
				    h->rtm_path, timeout_ms);
			goto fail;
		}
		pfd.fd = h->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		e = (int)((end - now + 999999ULL) / 1000000ULL);
		{
			int t = rtmc_timeout(h);

			if (t >= 0 && t < e)
				e = t;
		}
		if (poll(&pfd, 1, e) == -1 && errno != EINTR) {
			seterr(err, errlen, "poll: %s", strerror(errno));
			goto fail;
		}
		if (drain(h, RTMC_DISPATCH_BURST) == -1) {
			seterr(err, errlen, "receive: %s", strerror(errno));
			goto fail;
		}
		if (h->closing) {
			errno = ECANCELED;
			seterr(err, errlen, "closed by its own callback");
			goto fail;
		}
		if (!h->refused && !h->bye)
			run_timers(h);
	}
	h->opening = 0;
	return h;
fail:
	e = errno;
	if (hello_sent)
		send_goodbye(h, 0);
	handle_free(h);
	errno = e;
	return NULL;
}

void
rtmc_close(struct rtmc *h)
{
	int saved = errno;

	if (h == NULL)
		return;
	if (h->in_cb) {
		/* From a callback: the call that ran it closes, after it. */
		h->closing = 1;
		return;
	}
	mirror_clear(&h->m, MIRROR_ALL);
	if (getpid() == h->pid)
		send_goodbye(h, RTMC_GOODBYE_MS);
	handle_free(h);
	errno = saved;
}

int
rtmc_fd(const struct rtmc *h)
{
	return h->fd;
}

int
rtmc_timeout(const struct rtmc *h)
{
	unsigned long long	 now, due;

	switch (h->state) {
	case ST_REGISTER:
		due = h->hello_due;
		break;
	default:
		/* Noticing silence is always pending once registered. */
		due = h->last_rx + h->idle_ns;
		if (h->state == ST_WAITING && h->resync_due < due)
			due = h->resync_due;
		if (h->state == ST_SYNCED && h->ack_pending &&
		    h->ack_due < due)
			due = h->ack_due;
		break;
	}
	now = os_now_ns();
	if (due <= now)
		return 0;
	/* Round up, so a poll that times out finds the work due. */
	return (int)((due - now + 999999ULL) / 1000000ULL);
}

/* After a call that may have run callbacks: one may have closed h. */
static int
closed_by_callback(struct rtmc *h)
{
	if (!h->closing)
		return 0;
	h->closing = 0;
	rtmc_close(h);
	return 1;
}

static int
dispatch(struct rtmc *h)
{
	int applied;

	if (h->in_cb) {
		errno = EDEADLK;
		return -1;
	}
	if (sig_consume())
		h->sig_pending = 1;
	applied = drain(h, RTMC_DISPATCH_BURST);
	if (closed_by_callback(h))
		return 0;
	if (applied == -1)
		return -1;
	if (h->sig_pending)
		handle_signal(h);
	if (closed_by_callback(h))
		return 0;
	run_timers(h);
	if (closed_by_callback(h))
		return 0;
	return applied;
}

int
rtmc_dispatch(struct rtmc *h)
{
	return dispatch(h);
}

int
rtmc_flush_signalled(struct rtmc *h)
{
	if (!h->in_cb)
		h->sig_pending = 1;
	return dispatch(h);
}

int
rtmc_resync(struct rtmc *h)
{
	if (h->in_cb) {
		errno = EDEADLK;
		return -1;
	}
	request_resync(h, 1);
	(void)closed_by_callback(h);
	return 0;
}

int
rtmc_synced(const struct rtmc *h)
{
	return h->state == ST_SYNCED;
}

void
rtmc_set_callback(struct rtmc *h, rtmc_event_cb *cb, void *arg)
{
	h->cb = cb;
	h->cb_arg = arg;
}

int
rtmc_route_get(const struct rtmc *h, uint32_t addr, struct rtmc_route *out)
{
	struct addr_route r;

	if (rtable_lookup(h->m.routes, addr, &r) == -1)
		return -1;
	route_export(&r, out);
	return 0;
}

int
rtmc_arp_get(struct rtmc *h, const uint8_t mac[RTMC_MAC_LEN], uint32_t *ip)
{
	struct addr_mac m;

	memcpy(m.b, mac, sizeof(m.b));
	return mirror_arp_read(&h->m, &m, ip);
}

struct route_walk {
	int	(*cb)(const struct rtmc_route *, void *);
	void	*arg;
};

static int
route_walk_one(const struct addr_route *r, void *arg)
{
	struct route_walk	*w = arg;
	struct rtmc_route	 out;

	route_export(r, &out);
	return w->cb(&out, w->arg);
}

int
rtmc_route_walk(const struct rtmc *h, int sorted,
    int (*cb)(const struct rtmc_route *r, void *arg), void *arg)
{
	struct route_walk w = { cb, arg };

	return rtable_walk(h->m.routes, sorted, route_walk_one, &w);
}

struct arp_walk {
	struct rtmc	*h;
	int		(*cb)(const struct rtmc_arp *, void *);
	void		*arg;
};

static int
arp_walk_one(const struct addr_mac *mac, void *value, void *arg)
{
	struct arp_walk		*w = arg;
	struct mirror_arp	*e = value;
	struct rtmc_arp		 out;
	uint32_t		 ip;

	arp_export(mac, e->key, e->shmid, &out);
	if (mirror_arp_read_entry(&w->h->m, mac, e, &ip) == 0) {
		out.has_ip = 1;
		out.ip = ip;
	} else
		out.ip_errno = errno;
	return w->cb(&out, w->arg);
}

int
rtmc_arp_walk(struct rtmc *h, int sorted,
    int (*cb)(const struct rtmc_arp *a, void *arg), void *arg)
{
	struct arp_walk w = { h, cb, arg };

	return mactable_walk(h->m.arp, sorted, arp_walk_one, &w);
}

void
rtmc_stats(const struct rtmc *h, struct rtmc_stats *st)
{
	*st = h->st;
	st->seq = h->seq;
	st->instance = h->instance;
	st->synced = h->state == ST_SYNCED;
	st->gone = h->lost;
	st->routes = rtable_count(h->m.routes);
	st->arp = mactable_count(h->m.arp);
	st->attached = h->m.attached;
}

const char *
rtmc_dir(const struct rtmc *h)
{
	return h->dir;
}
