/*
 * control.c: what arrives on rtm.sock: client registrations, acks and
 * resync requests, and admin sessions with their requests.
 *
 * Every datagram is validated whole (msg_open) before any record in it
 * is acted upon, and its sender is identified from the kernel's
 * credentials, never from what the datagram claims.
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mactable.h"
#include "os.h"
#include "peername.h"
#include "rtable.h"
#include "rtm.h"

/* Who sent a datagram, as far as the kernel vouches for it. */
struct sender {
	pid_t	 pid;
	uid_t	 uid;
	gid_t	 gid;
};

/*
 * A peer must send from DIR/peers/<role>.<pid>.sock, or the fallback
 * DIR/peers/<role>.<pid>.<8 lowercase hex>.sock (peername.h), with the
 * pid the kernel reports.  Without kernel credentials (POSIX fallback)
 * the socket file's owner stands in for the uid, and the pid is the one
 * in the path: weaker, and documented as such.  The suffix lets nobody
 * claim another pid there: the pid checked is still the one the path
 * names (the suffix is hex after it, never read as a pid), and whoever
 * binds <role>.<pid>.<hex>.sock could have bound <role>.<pid>.sock as
 * well (anyone may create files in peers/) unless it was held: by a
 * file, which its creator could as well have made a socket, or by that
 * pid's live peer of the same role, to which a second registration
 * brings only what it takes anyway (a client's SIGUSR1 on a flush).
 * Returns 0, -1, or -2 when the only problem is that the socket file is
 * gone already (fallback only: a client that sent GOODBYE and closed at
 * once).
 */
static int
identify(struct rtm *env, const struct msg_header *h,
    const struct uds_peer *from, const char *role, struct sender *s,
    const char **why)
{
	struct stat	 st;
	size_t		 n = strlen(env->peerdir);
	pid_t		 pid;

	if (strncmp(from->path, env->peerdir, n) != 0 ||
	    from->path[n] != '/' ||
	    !peername_match(from->path + n + 1, role, &pid) ||
	    (uint32_t)pid != h->pid) {
		*why = "socket path does not match the pid";
		return -1;
	}
	if (from->has_cred) {
		if ((uint32_t)from->pid != h->pid) {
			*why = "pid does not match the sender's credentials";
			return -1;
		}
		s->pid = from->pid;
		s->uid = from->uid;
		s->gid = from->gid;
		return 0;
	}
	if (lstat(from->path, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		*why = "sender socket vanished";
		return -2;
	}
	if (kill((pid_t)h->pid, 0) == -1 && errno == ESRCH) {
		*why = "no such process";
		return -1;
	}
	s->pid = (pid_t)h->pid;
	s->uid = st.st_uid;
	s->gid = st.st_gid;
	return 0;
}

/* Refusals logged, from any peer: see log_allow(). */
static struct log_limit refused;

/*
 * Descriptors kept for admins and for rtm's own files: a client costs
 * two (its socket, its pidfd), and clients, which anyone may start,
 * must not be able to take the last ones and lock root's rtm-admin out.
 */
#define RTM_FD_RESERVE	64

static int
client_room(const struct rtm *env)
{
	return 2ULL * env->nclients + env->nadmins + RTM_FD_RESERVE + 2 <=
	    env->lim.fds;
}

/* Best effort: tells a refused sender why, without ever blocking. */
static void
refuse(struct rtm *env, const struct uds_peer *from, uint8_t chan,
    uint16_t status, const char *text)
{
	uint8_t			 buf[MSG_HDR_LEN + 8 + MSG_TEXT_MAX];
	struct msg_writer	 w;
	struct msg_header	 h;
	struct msg_record	 rec;

	env->stats.refused++;
	if (from->path[0] == '\0')
		return;
	peer_header(env, chan, &h);
	msg_begin(&w, buf, sizeof(buf), &h);
	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_ERROR;
	rec.u.error.status = status;
	snprintf(rec.u.error.text, sizeof(rec.u.error.text), "%s", text);
	if (msg_put(&w, &rec) == 0)
		(void)uds_sendto_owned(env->sock, from->path,
		    from->has_cred ? from->uid : (uid_t)-1, buf,
		    msg_finish(&w));
}

static int
in_group(gid_t want, uid_t uid, gid_t gid)
{
	struct passwd	*pw;
	struct group	*gr;

	if (want == (gid_t)-1)
		return 0;
	if (gid == want)
		return 1;
	if ((pw = getpwuid(uid)) == NULL || (gr = getgrgid(want)) == NULL)
		return 0;
	for (char **m = gr->gr_mem; m && *m; m++)
		if (strcmp(*m, pw->pw_name) == 0)
			return 1;
	return 0;
}

/*
 * in-sync means verified: the client's digest of its tables equals
 * rtm's digest at the seq it says it applied.  The current seq is
 * always known (after a restart the ring may not hold it yet).
 */
static void
client_ack(struct rtm *env, struct peer *p, uint64_t seq, uint64_t digest)
{
	static struct log_limit mismatch;
	uint64_t mine;
	int	 known;

	if (seq > env->seq)
		return;		/* from the future: ignore */
	p->acked_seq = seq;
	p->acked_digest = digest;
	if (seq == env->seq) {
		mine = state_digest(env);
		known = 1;
	} else
		known = state_digest_at(env, seq, &mine) == 0;
	p->digest_ok = known && mine == digest;
	if (seq >= p->last_sent_seq && p->state == MSG_CS_SYNCING)
		p->state = MSG_CS_LAGGING;
	if (!p->digest_ok && seq == env->seq && log_allow(&mismatch))
		log_warnx("client %d: digest mismatch at seq %llu",
		    (int)p->pid, (unsigned long long)seq);
}

/*
 * A registration whose process has exited (its pidfd is readable) is
 * stale even when a new process with the same pid says HELLO: the
 * handle must be the new process's, or a flush would signal nobody.
 */
static int
peer_exited(const struct peer *p)
{
	struct pollfd pfd = { p->proc, POLLIN, 0 };

	if (p->gone)
		return 1;
	return p->proc != -1 && poll(&pfd, 1, 0) == 1;
}

static void
client_dgram(struct rtm *env, const struct msg_header *h,
    struct msg_reader *rd, const struct uds_peer *from)
{
	struct msg_record	 rec;
	struct sender		 s;
	struct peer		*p;
	const char		*why = NULL;

	switch (identify(env, h, from, "client", &s, &why)) {
	case 0:
		break;
	case -2:
		/*
		 * The socket the registered client used is gone: nothing
		 * can reach it any more, so it is gone too, whatever the
		 * datagram says (typically its GOODBYE, sent just before
		 * it closed).  Who sent it matters no more.
		 */
		if ((p = peer_find(env, from->path)) != NULL &&
		    p->pid == (pid_t)h->pid) {
			while (msg_next(rd, &rec) == 1)
				if (rec.type == MSG_GOODBYE) {
					log_info("client %d said goodbye",
					    (int)p->pid);
					peer_free(env, p);
					return;
				}
			p->gone = 1;
			return;
		}
		/* FALLTHROUGH */
	default:
		if (log_allow(&refused))
			log_warnx("refused datagram from pid %u (%s): %s",
			    (unsigned)h->pid,
			    from->path[0] ? log_clean(from->path) : "unbound", why);
		refuse(env, from, MSG_CHAN_NOTIFY, MSG_ST_PERM, why);
		return;
	}
	p = peer_find(env, from->path);
	while (msg_next(rd, &rec) == 1) {
		switch (rec.type) {
		case MSG_HELLO:
			if (rec.u.hello.pid != h->pid) {
				refuse(env, from, MSG_CHAN_NOTIFY, MSG_ST_PERM,
				    "hello pid does not match the sender");
				return;
			}
			if (p != NULL && (p->pid != s.pid ||
			    peer_exited(p))) {
				log_info("client %d gone", (int)p->pid);
				env->stats.clients_gone++;
				peer_free(env, p);
				p = NULL;
			}
			if (p == NULL && !client_room(env)) {
				if (log_allow(&refused))
					log_warnx("client %d refused: %u clients "
					    "use the descriptors rtm may give "
					    "them (raise its ulimit -n)",
					    (int)s.pid, env->nclients);
				refuse(env, from, MSG_CHAN_NOTIFY, MSG_ST_BUSY,
				    "too many clients: rtm is out of file "
				    "descriptors for them");
				return;
			}
			if (p == NULL) {
				struct uds_peer who = *from;

				who.pid = s.pid;
				who.uid = s.uid;
				who.gid = s.gid;
				if ((p = peer_new(env, PEER_CLIENT, from->path,
				    &who)) == NULL) {
					log_warn("client %d: register",
					    (int)s.pid);
					return;
				}
				log_info("client %d (uid %u) registered",
				    (int)s.pid, (unsigned)s.uid);
			}
			notify_dump(env, p);
			break;
		case MSG_GOODBYE:
			if (p != NULL) {
				log_info("client %d said goodbye", (int)p->pid);
				peer_free(env, p);
				p = NULL;
			}
			return;
		case MSG_RESYNC:
			if (p != NULL) {
				log_debug("client %d: resync from seq %llu",
				    (int)p->pid,
				    (unsigned long long)rec.u.resync.seq);
				notify_dump(env, p);
			}
			break;
		case MSG_ACK:
			if (p != NULL)
				client_ack(env, p, rec.u.ack.seq,
				    rec.u.ack.digest);
			break;
		}
		if (p == NULL) {
			/* Not registered (rtm restarted?): say so. */
			refuse(env, from, MSG_CHAN_NOTIFY, MSG_ST_PROTO,
			    "not registered");
			return;
		}
	}
}

struct reply_ctx {
	struct rtm	*env;
	struct peer	*peer;
	uint32_t	 reqid;
};

static int
reply_route(const struct addr_route *r, void *arg)
{
	struct reply_ctx	*c = arg;
	struct msg_record	 rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_REPLY_ROUTE;
	rec.u.reply_route.reqid = c->reqid;
	rec.u.reply_route.route = *r;
	return peer_put(c->env, c->peer, &rec);
}

static int
reply_arp(const struct addr_mac *mac, void *value, void *arg)
{
	struct reply_ctx	*c = arg;
	struct arp_entry	*e = value;
	struct msg_record	 rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_REPLY_ARP;
	rec.u.reply_arp.reqid = c->reqid;
	rec.u.reply_arp.mac = *mac;
	rec.u.reply_arp.ip = e->ip;
	rec.u.reply_arp.key = (int32_t)e->seg.key;
	rec.u.reply_arp.shmid = e->seg.shmid;
	return peer_put(c->env, c->peer, &rec);
}

static uint8_t
client_state(const struct rtm *env, const struct peer *p)
{
	if (p->need_dump)
		return MSG_CS_RESYNCING;
	if (p->state == MSG_CS_SYNCING)
		return MSG_CS_SYNCING;
	if (p->acked_seq == env->seq && p->digest_ok)
		return MSG_CS_IN_SYNC;
	return MSG_CS_LAGGING;
}

static void
reply_clients(struct reply_ctx *c)
{
	struct msg_record rec;

	for (struct peer *p = c->env->peers; p; p = p->next) {
		if (p->kind != PEER_CLIENT || p->gone)
			continue;
		memset(&rec, 0, sizeof(rec));
		rec.type = MSG_REPLY_CLIENT;
		rec.u.reply_client.reqid = c->reqid;
		rec.u.reply_client.pid = (uint32_t)p->pid;
		rec.u.reply_client.uid = (uint32_t)p->uid;
		rec.u.reply_client.state = client_state(c->env, p);
		rec.u.reply_client.seq = p->acked_seq;
		rec.u.reply_client.lag = c->env->seq - p->acked_seq;
		peer_put(c->env, c->peer, &rec);
	}
}

static void
reply_stat(struct reply_ctx *c, const char *name, uint64_t value)
{
	struct msg_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_REPLY_STAT;
	rec.u.reply_stat.reqid = c->reqid;
	snprintf(rec.u.reply_stat.name, sizeof(rec.u.reply_stat.name), "%s",
	    name);
	rec.u.reply_stat.value = value;
	peer_put(c->env, c->peer, &rec);
}

static void
reply_stats(struct reply_ctx *c)
{
	const struct rtm	*env = c->env;
	const struct rtm_stats	*st = &env->stats;

	reply_stat(c, "routes", rtable_count(env->routes));
	reply_stat(c, "arp", mactable_count(env->arp));
	reply_stat(c, "clients", env->nclients);
	reply_stat(c, "seq", env->seq);
	reply_stat(c, "datagrams_in", st->dgrams_in);
	reply_stat(c, "datagrams_out", st->dgrams_out);
	reply_stat(c, "records_out", st->records_out);
	reply_stat(c, "malformed", st->bad_dgrams);
	reply_stat(c, "refused", st->refused);
	reply_stat(c, "requests", st->requests);
	reply_stat(c, "request_errors", st->request_errors);
	reply_stat(c, "queue_overflows", st->overflows);
	reply_stat(c, "dumps", st->dumps);
	reply_stat(c, "dump_builds", st->dump_builds);
	reply_stat(c, "bulk_dumps", st->bulk_dumps);
	reply_stat(c, "snapshots", st->snapshots);
	reply_stat(c, "snapshot_failures", st->snapshot_failures);
	reply_stat(c, "signals", st->signals);
	reply_stat(c, "clients_gone", st->clients_gone);
	reply_stat(c, "route_bytes", rtable_memory(env->routes));
}

/*
 * Replies wait in rtm's memory until their admin reads them, and anyone
 * may read the tables.  So a request runs only if what it may answer
 * fits under the bounds on what one admin, and all of them together,
 * have not read yet ($RTM_ADMIN_QUEUE_MAX, $RTM_ADMINS_QUEUE_MAX), or
 * if nothing of the kind is queued (one table dump always goes).
 */
#define RTM_REPLY_REC	48	/* bytes a reply record takes, at most */

static int
reply_room(struct rtm *env, const struct peer *p, uint8_t op)
{
	size_t	 one = env->lim.admin_queue_max;
	size_t	 all = env->lim.admins_queue_max, need = 256;

	if (op == MSG_OP_ROUTE_SHOW)
		need += rtable_count(env->routes) * RTM_REPLY_REC;
	else if (op == MSG_OP_ARP_SHOW)
		need += mactable_count(env->arp) * RTM_REPLY_REC;
	else if (op == MSG_OP_CLIENTS)
		need += env->nclients * RTM_REPLY_REC;
	if ((p->qbytes > 0 && p->qbytes + need > one) ||
	    (env->admin_qbytes > 0 && env->admin_qbytes + need > all))
		return -1;
	return 0;
}

static void
run_request(struct rtm *env, struct peer *p, const struct msg_admin_req *q,
    int may_write, int batched)
{
	struct reply_ctx	 c = { env, p, q->reqid };
	struct msg_record	 rec;
	struct addr_route	 r;
	struct arp_entry	*e;
	uint16_t		 st = MSG_ST_OK;
	const char		*why = NULL;

	env->stats.requests++;
	if ((q->flags & MSG_AF_STOP) && p->failed) {
		st = MSG_ST_SKIPPED;
		why = "not run: an earlier request failed";
		goto end;
	}
	if (msg_op_mutates(q->op) && !may_write) {
		st = MSG_ST_PERM;
		why = "permission denied";
		goto end;
	}
	if (reply_room(env, p, q->op) == -1) {
		st = MSG_ST_BUSY;
		why = "too many replies not read yet";
		goto end;
	}
	switch (q->op) {
	case MSG_OP_ROUTE_ADD:
		state_route_set(env, &q->route, RTABLE_ADD, &st, &why);
		break;
	case MSG_OP_ROUTE_CHANGE:
		state_route_set(env, &q->route, RTABLE_CHANGE, &st, &why);
		break;
	case MSG_OP_ROUTE_REPLACE:
		state_route_set(env, &q->route, RTABLE_REPLACE, &st, &why);
		break;
	case MSG_OP_ROUTE_DEL:
		state_route_del(env, &q->route.dst, &st, &why);
		break;
	case MSG_OP_ROUTE_GET:
		if (rtable_lookup(env->routes, q->addr, &r) == -1) {
			st = MSG_ST_NOENT;
			why = "no matching route";
		} else
			reply_route(&r, &c);
		break;
	case MSG_OP_ROUTE_SHOW:
		rtable_walk(env->routes, 1, reply_route, &c);
		break;
	case MSG_OP_ROUTE_FLUSH:
		state_flush(env, MSG_FLUSH_ROUTE);
		break;
	case MSG_OP_ARP_ADD:
		state_arp_set(env, &q->mac, q->ip, RTABLE_ADD, &st, &why);
		break;
	case MSG_OP_ARP_CHANGE:
		state_arp_set(env, &q->mac, q->ip, RTABLE_CHANGE, &st, &why);
		break;
	case MSG_OP_ARP_REPLACE:
		state_arp_set(env, &q->mac, q->ip, RTABLE_REPLACE, &st, &why);
		break;
	case MSG_OP_ARP_DEL:
		state_arp_del(env, &q->mac, &st, &why);
		break;
	case MSG_OP_ARP_GET:
		if ((e = mactable_get(env->arp, &q->mac)) == NULL) {
			st = MSG_ST_NOENT;
			why = "no such ARP entry";
		} else
			reply_arp(&q->mac, e, &c);
		break;
	case MSG_OP_ARP_SHOW:
		mactable_walk(env->arp, 1, reply_arp, &c);
		break;
	case MSG_OP_ARP_FLUSH:
		state_flush(env, MSG_FLUSH_ARP);
		break;
	case MSG_OP_FLUSH:
		state_flush(env, MSG_FLUSH_ALL);
		break;
	case MSG_OP_CLIENTS:
		reply_clients(&c);
		break;
	case MSG_OP_STATS:
		reply_stats(&c);
		break;
	default:
		st = MSG_ST_PROTO;
		why = "unknown operation";
		break;
	}
end:
	if (st != MSG_ST_OK) {
		p->failed = 1;
		env->stats.request_errors++;
	} else if (msg_op_mutates(q->op) && batched)
		notify_bulk_count(env, p);
	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_REPLY_END;
	rec.u.reply_end.reqid = q->reqid;
	rec.u.reply_end.status = st;
	if (why != NULL)
		snprintf(rec.u.reply_end.text, sizeof(rec.u.reply_end.text),
		    "%s", why);
	peer_put(env, p, &rec);
}

#define RTM_AHEAD	8

/* A route request coming up: let the table fetch its memory. */
static void
hint(void *arg, const struct msg_record *rec)
{
	struct rtm *env = arg;

	if (rec->type != MSG_ADMIN_REQ)
		return;
	switch (rec->u.admin.op) {
	case MSG_OP_ROUTE_ADD:
	case MSG_OP_ROUTE_CHANGE:
	case MSG_OP_ROUTE_REPLACE:
	case MSG_OP_ROUTE_DEL:
		rtable_prefetch(env->routes, &rec->u.admin.route.dst);
		break;
	}
}

/*
 * Every admin session holds a socket in rtm.  A user other than root
 * and rtm's own may have RTM_ADMIN_SESSIONS at once: the idlest of them
 * with nothing left to read makes room for a new one; if none can, the
 * new one is refused.
 */
static int
admin_session_room(struct rtm *env, uid_t uid)
{
	struct peer	*idle = NULL;
	unsigned	 n = 0;

	if (uid == 0 || uid == env->uid)
		return 0;
	for (struct peer *q = env->peers; q; q = q->next) {
		if (q->kind != PEER_ADMIN || q->uid != uid)
			continue;
		n++;
		if (q->qlen == 0 && q->open == NULL &&
		    (idle == NULL || q->last_ns < idle->last_ns))
			idle = q;
	}
	if (n < RTM_ADMIN_SESSIONS)
		return 0;
	if (idle == NULL)
		return -1;
	peer_free(env, idle);
	return 0;
}

static void
admin_dgram(struct rtm *env, const struct msg_header *h,
    struct msg_reader *rd, const struct uds_peer *from)
{
	struct msg_ahead	 ahead;
	const struct msg_record	*rec;
	struct sender		 s;
	struct peer		*p;
	const char		*why = NULL;
	unsigned long long	 now = os_now_ns();
	int			 may_write, known;

	if ((known = identify(env, h, from, "admin", &s, &why)) == -2 &&
	    (p = peer_find(env, from->path)) != NULL &&
	    p->pid == (pid_t)h->pid) {
		/* Fallback only: the session's socket is gone (rtm-admin
		 * said GOODBYE and left); no reply could reach it. */
		peer_free(env, p);
		return;
	}
	if (known != 0) {
		if (log_allow(&refused))
			log_warnx("refused admin datagram from pid %u: %s",
			    (unsigned)h->pid, why);
		refuse(env, from, MSG_CHAN_REPLY, MSG_ST_PERM, why);
		return;
	}
	may_write = s.uid == 0 || s.uid == env->uid ||
	    in_group(env->admin_gid, s.uid, s.gid);
	if ((p = peer_find(env, from->path)) != NULL && p->pid != s.pid) {
		peer_free(env, p);
		p = NULL;
	}
	/*
	 * Requests are decoded RTM_AHEAD - 1 ahead of the one run, and the
	 * route table is told about each route then, so in a batch the
	 * cache misses of consecutive inserts overlap.
	 */
	msg_ahead_init(&ahead, rd, RTM_AHEAD, hint, env);
	while ((rec = msg_ahead_next(&ahead)) != NULL) {
		if (p == NULL) {
			struct uds_peer who = *from;

			who.pid = s.pid;
			who.uid = s.uid;
			who.gid = s.gid;
			if (admin_session_room(env, s.uid) == -1) {
				refuse(env, from, MSG_CHAN_REPLY, MSG_ST_BUSY,
				    "too many admin sessions of this user");
				return;
			}
			if ((p = peer_new(env, PEER_ADMIN, from->path,
			    &who)) == NULL) {
				log_warn("admin %d: session", (int)s.pid);
				return;
			}
		}
		p->last_ns = now;	/* idle for RTM_ADMIN_IDLE_MS: freed */
		switch (rec->type) {
		case MSG_HELLO:
			p->failed = 0;
			break;
		case MSG_GOODBYE:
			peer_free(env, p);
			return;
		case MSG_ADMIN_REQ:
			run_request(env, p, &rec->u.admin, may_write,
			    h->count >= RTM_BULK_DGRAM);
			break;
		}
	}
}

void
control_recv(struct rtm *env)
{
	static uint8_t		 buf[MSG_MAX];
	struct uds_peer		 from;
	struct msg_header	 h;
	struct msg_reader	 rd;
	const char		*why;
	ssize_t			 n;

	for (int i = 0; i < RTM_RECV_BURST; i++) {
		if ((n = uds_recv(env->sock, buf, sizeof(buf), &from)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			if (errno == EMSGSIZE) {
				env->stats.bad_dgrams++;
				log_debug("dropped a datagram longer than %zu "
				    "bytes", sizeof(buf));
				continue;
			}
			log_warn("recv");
			return;
		}
		env->stats.dgrams_in++;
		if (msg_open(&rd, buf, (size_t)n, &h, &why) == -1) {
			env->stats.bad_dgrams++;
			log_debug("dropped datagram from %s: %s",
			    from.path[0] ? log_clean(from.path) : "unbound", why);
			continue;
		}
		switch (h.chan) {
		case MSG_CHAN_CLIENT:
			client_dgram(env, &h, &rd, &from);
			break;
		case MSG_CHAN_ADMIN:
			admin_dgram(env, &h, &rd, &from);
			break;
		default:
			env->stats.bad_dgrams++;
			log_debug("dropped datagram from %s: channel %u is "
			    "not for rtm", from.path[0] ?
			    log_clean(from.path) : "unbound", (unsigned)h.chan);
			break;
		}
	}
}
