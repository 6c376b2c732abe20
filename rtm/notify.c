/*
 * notify.c: telling clients about changes.
 *
 * Changes of one loop turn are packed into shared broadcast datagrams,
 * encoded once and queued by reference to every client that is live;
 * a client waiting for a dump skips them, since the dump will show
 * their effect.  Everything for one client alone (its dump, heartbeats)
 * goes after the broadcasts queued so far, so each client sees one
 * ordered stream.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
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

/* Queues a finished broadcast datagram to every live client. */
static void
distribute(struct rtm *env, struct dgram *d)
{
	for (struct peer *p = env->peers; p; p = p->next) {
		if (p->kind != PEER_CLIENT || p->need_dump || p->gone)
			continue;
		/* Keep p's own records in front. */
		peer_close_open(env, p);
		peer_enqueue(env, p, d);
		if (p->qbytes > p->qlimit) {
			/* Too far behind: a dump is cheaper. */
			log_debug("client %d: queue overflow, resync",
			    (int)p->pid);
			env->stats.overflows++;
			peer_drop_queue(env, p);
			p->need_dump = 1;
			p->state = MSG_CS_RESYNCING;
		}
	}
}

/* Keeps d back while a bulk batch runs (see notify_hold()). */
static void
hold(struct rtm *env, struct dgram *d)
{
	if (!env->hold_dump && env->nheld == env->heldcap) {
		size_t	 ncap = env->heldcap ? env->heldcap * 2 : 64;
		struct dgram **nv = realloc(env->held, ncap * sizeof(*nv));

		if (nv == NULL)
			env->hold_dump = 1;	/* clients get a dump instead */
		else {
			env->held = nv;
			env->heldcap = ncap;
		}
	}
	if (!env->hold_dump) {
		d->refs++;
		env->held[env->nheld++] = d;
		env->held_bytes += d->len;
		env->held_records += d->count;
		/*
		 * Each change adds one to held_records and at most one to
		 * the tables' size, so once twice the first reaches the
		 * second it stays there until the release, which will then
		 * send a dump: stop keeping (and encoding) the changes.
		 */
		if (env->held_bytes > RTM_HOLD_MAX_BYTES ||
		    env->held_records * 2 >= rtable_count(env->routes) +
		    mactable_count(env->arp))
			env->hold_dump = 1;
	}
	if (env->hold_dump) {
		for (size_t i = 0; i < env->nheld; i++)
			dgram_unref(env->held[i]);
		env->nheld = 0;
		env->held_bytes = 0;
	}
}

/* Queues the broadcast datagram being filled to every live client. */
void
notify_distribute(struct rtm *env)
{
	struct dgram *d = env->bcast;

	if (d == NULL)
		return;
	env->bcast = NULL;
	if (d->count > 0) {
		dgram_finish(d);
		if (env->hold_since != 0)
			hold(env, d);
		else {
			distribute(env, d);
			env->notified_seq = env->seq;
		}
	}
	dgram_unref(d);
}

/*
 * Bulk batches.  A million changes from one rtm-admin -b would reach
 * every client as a million notifications, each client inserting them
 * in the batch's (random) order while competing with rtm and the other
 * clients for the CPUs.  So once an admin session has made
 * RTM_BULK_MIN changes, the changes that follow are kept back from the
 * clients until the session ends (or RTM_HOLD_MAX_MS pass, or a flush
 * comes); then, if they are many compared with the table (at least half
 * its size), every client gets one shared dump of the result in address
 * order instead, else the kept datagrams go out as they are.  rtm runs
 * the batch at its own speed meanwhile; the journal and the admin's
 * acknowledgements are not affected.  Clients see the batch at its end,
 * whole, as a resync; their heartbeats carry the last seq they were
 * sent, so the pause does not look like a loss.
 */
void
notify_hold(struct rtm *env)
{
	if (env->hold_since != 0 || env->nclients == 0)
		return;
	notify_distribute(env);
	env->hold_since = os_now_ns();
	env->notified_seq = env->seq;
}

void
notify_release(struct rtm *env)
{
	int	 dump;

	if (env->hold_since == 0)
		return;
	notify_distribute(env);
	env->hold_since = 0;
	dump = env->hold_dump || env->held_records * 2 >=
	    rtable_count(env->routes) + mactable_count(env->arp);
	for (size_t i = 0; i < env->nheld; i++) {
		if (!dump)
			distribute(env, env->held[i]);
		dgram_unref(env->held[i]);
	}
	if (dump && env->held_records > 0) {
		env->stats.bulk_dumps++;
		for (struct peer *p = env->peers; p; p = p->next)
			if (p->kind == PEER_CLIENT && !p->gone &&
			    !p->need_dump) {
				p->need_dump = 1;
				p->state = MSG_CS_RESYNCING;
			}
	}
	free(env->held);
	env->held = NULL;
	env->nheld = env->heldcap = 0;
	env->held_bytes = 0;
	env->held_records = 0;
	env->hold_dump = 0;
	env->notified_seq = env->seq;
}

/*
 * An admin session made one more change, in a datagram of `batched`
 * requests or more (rtm-admin -b packs them; a program making changes
 * one at a time never does, so it is never held back, however many it
 * makes).  From the RTM_BULK_MIN-th such change on, the session is
 * bulk, and each of its batched changes keeps the hold going.
 */
void
notify_bulk_count(struct rtm *env, struct peer *p)
{
	if (!p->bulk && ++p->changes < env->lim.bulk_min)
		return;
	p->bulk = 1;
	/* Stamped by notify_hold_check() at the end of the turn: a
	 * clock read per change was 6% of rtm's time in a 1M batch. */
	env->bulk_turn = 1;
	if (env->hold_since == 0)
		notify_hold(env);
}

/* A bulk session ended: its changes need not wait any longer. */
void
notify_bulk_end(struct rtm *env, struct peer *p)
{
	if (!p->bulk)
		return;
	p->bulk = 0;
	notify_release(env);
}

/* When a hold must end: no batched change for RTM_BULK_IDLE_MS (the
 * batch is over, or its admin stalled), or RTM_HOLD_MAX_MS in all. */
unsigned long long
notify_hold_deadline(const struct rtm *env)
{
	unsigned long long idle = env->bulk_last_ns +
	    RTM_BULK_IDLE_MS * 1000000ULL;
	unsigned long long max = env->hold_since +
	    RTM_HOLD_MAX_MS * 1000000ULL;

	if (env->hold_since == 0)
		return 0;
	return idle < max ? idle : max;
}

/* Called every loop turn. */
void
notify_hold_check(struct rtm *env, unsigned long long now)
{
	if (env->bulk_turn) {
		env->bulk_last_ns = now;
		env->bulk_turn = 0;
	}
	if (env->hold_since != 0 && now >= notify_hold_deadline(env))
		notify_release(env);
}

void
notify_record(struct rtm *env, const struct msg_record *r)
{
	/* Nobody to tell, or the clients get a dump at the release. */
	if (env->nclients == 0 || (env->hold_since != 0 && env->hold_dump))
		return;
	for (int tries = 0; tries < 2; tries++) {
		if (env->bcast == NULL &&
		    (env->bcast = dgram_new(env, MSG_CHAN_NOTIFY)) == NULL)
			break;
		if (dgram_put(env->bcast, r) == 0)
			return;
		if (errno != ENOSPC)
			break;
		notify_distribute(env);
	}
	/* Out of memory: every client must resync to stay correct. */
	log_warnx("notify: cannot queue a change; clients will resync");
	for (struct peer *p = env->peers; p; p = p->next)
		if (p->kind == PEER_CLIENT) {
			peer_drop_queue(env, p);
			p->need_dump = 1;
		}
}

/*
 * Dumps.  A dump is built once and shared: the datagrams of a dump at
 * the current seq are kept (env->dump) and queued by reference to
 * every client that needs one before the tables change, so 64 clients
 * resyncing after a restart cost one walk and one copy of the bytes,
 * not 64.  Routes go out in address order: a client inserting them in
 * that order touches its route table's memory nearly sequentially,
 * which costs it about half as much as the random order of the table's
 * records (tests/bench/rtable_bench.c, 16 processes at once).
 */
struct dump_ctx {
	struct rtm	*env;
	struct dgram	**v;
	size_t		 n, cap;
	int		 failed;
};

static int
dump_put(struct dump_ctx *c, const struct msg_record *r)
{
	struct dgram		*d;

	for (int tries = 0; tries < 2; tries++) {
		if (c->n == 0 || tries > 0) {
			if (c->n == c->cap) {
				size_t	 ncap = c->cap ? c->cap * 2 : 16;
				struct dgram **nv = realloc(c->v,
				    ncap * sizeof(*nv));

				if (nv == NULL)
					return c->failed = -1;
				c->v = nv;
				c->cap = ncap;
			}
			if ((d = dgram_new(c->env, MSG_CHAN_NOTIFY)) == NULL)
				return c->failed = -1;
			c->v[c->n++] = d;
		}
		if (dgram_put(c->v[c->n - 1], r) == 0)
			return 0;
		if (errno != ENOSPC)
			return c->failed = -1;
	}
	return c->failed = -1;
}

static int
dump_route(const struct addr_route *r, void *arg)
{
	struct msg_record	 rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_ROUTE_ADD;
	rec.u.route.route = *r;
	return dump_put(arg, &rec);
}

static int
dump_arp(const struct addr_mac *mac, void *value, void *arg)
{
	struct arp_entry	*e = value;
	struct msg_record	 rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_ARP_ADD;
	rec.u.arp.mac = *mac;
	rec.u.arp.key = (int32_t)e->seg.key;
	rec.u.arp.shmid = e->seg.shmid;
	return dump_put(arg, &rec);
}

static void
dump_free(struct dgram **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dgram_unref(v[i]);
	free(v);
}

/* The kept dump no longer shows the tables. */
static int
dump_stale(const struct rtm *env)
{
	return env->dump_seq != env->seq || env->dump_instance != env->instance;
}

/* Forgets the kept dump once it is stale or no client queue holds it. */
void
notify_dump_release(struct rtm *env, int force)
{
	if (env->dump == NULL)
		return;
	if (!force && !dump_stale(env) && env->dump[0]->refs > 1)
		return;
	dump_free(env->dump, env->ndump);
	env->dump = NULL;
	env->ndump = 0;
}

/* Builds the dump of both tables at the current seq. */
static int
dump_build(struct rtm *env)
{
	struct dump_ctx		 c = { env, NULL, 0, 0, 0 };
	struct msg_record	 rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_SYNC_BEGIN;
	rec.u.sync_begin.seq = env->seq;
	rec.u.sync_begin.nroutes = (uint32_t)rtable_count(env->routes);
	rec.u.sync_begin.narp = (uint32_t)mactable_count(env->arp);
	dump_put(&c, &rec);
	if (c.failed == 0 &&
	    rtable_walk(env->routes, 1, dump_route, &c) == -1)
		c.failed = -1;
	if (c.failed == 0)
		mactable_walk(env->arp, 0, dump_arp, &c);
	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_SYNC_END;
	rec.u.sync_end.seq = env->seq;
	rec.u.sync_end.digest = state_digest(env);
	if (c.failed == 0)
		dump_put(&c, &rec);
	if (c.failed) {
		dump_free(c.v, c.n);
		return -1;
	}
	for (size_t i = 0; i < c.n; i++)
		dgram_finish(c.v[i]);
	env->dump = c.v;
	env->ndump = c.n;
	env->dump_seq = env->seq;
	env->dump_instance = env->instance;
	env->stats.dump_builds++;
	return 0;
}

/* Queues a full dump of both tables for p. */
int
notify_dump(struct rtm *env, struct peer *p)
{
	size_t		 bytes = 0;
	int		 built = 0;

	notify_distribute(env);
	peer_drop_queue(env, p);
	if (env->hold_since != 0) {
		/* Mid-batch: the dump comes when the batch ends. */
		p->need_dump = 1;
		p->state = MSG_CS_RESYNCING;
		return 0;
	}
	p->need_dump = 0;
	p->state = MSG_CS_SYNCING;
	p->digest_ok = 0;
	env->stats.dumps++;

	notify_dump_release(env, env->dump != NULL && dump_stale(env));
	if (env->dump == NULL) {
		if (dump_build(env) == -1)
			goto fail;
		built = 1;
	}
	for (size_t i = 0; i < env->ndump; i++) {
		peer_enqueue(env, p, env->dump[i]);
		if (p->need_dump)
			goto fail;	/* peer_enqueue() ran out of memory */
		bytes += env->dump[i]->len;
	}
	/* The dump may be large; the bound is on what comes after it. */
	p->qlimit = env->lim.queue_max + bytes;
	p->last_sent_seq = env->seq;
	/*
	 * Every other client waiting for a dump gets this one now, rather
	 * than a build of its own when its socket drains a turn later,
	 * when the tables may have changed: one build per round, whatever
	 * the number of clients.  (A stopped client keeps the shared
	 * datagrams referenced until it drains them or overflows.)
	 */
	if (built)
		for (struct peer *o = env->peers; o; o = o->next)
			if (o != p && o->kind == PEER_CLIENT && o->need_dump &&
			    !o->gone)
				notify_dump(env, o);
	return 0;
fail:
	log_warnx("client %d: cannot build dump; will retry", (int)p->pid);
	peer_drop_queue(env, p);
	p->need_dump = 1;
	return -1;
}

/*
 * Every second, to each client that has nothing else queued (a client
 * with queued datagrams has news coming anyway): proof of life, the
 * current seq, and the instance id in the header.  A client that hears
 * nothing for 1.5 s registers again.
 */
void
notify_heartbeat(struct rtm *env)
{
	struct msg_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_HEARTBEAT;
	/* While changes are kept back, the last seq clients were sent. */
	rec.u.heartbeat.seq = env->hold_since ? env->notified_seq : env->seq;
	for (struct peer *p = env->peers; p; p = p->next)
		if (p->kind == PEER_CLIENT && !p->need_dump && !p->gone &&
		    p->qlen == 0)
			peer_put(env, p, &rec);
}

void
notify_goodbye_all(struct rtm *env)
{
	struct msg_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_GOODBYE;
	rec.u.goodbye.pid = (uint32_t)env->pid;
	notify_distribute(env);
	/* Admins too: one in the middle of a batch stops at once and
	 * says how far it got, instead of waiting for replies. */
	for (struct peer *p = env->peers; p; p = p->next) {
		if (p->gone)
			continue;
		peer_put(env, p, &rec);
		peer_send(env, p);
	}
}

/*
 * At start-up, before any client has registered: a HEARTBEAT with the
 * new instance id to every client socket in the peer directory, so the
 * clients of a previous rtm (which crashed, or was restarted) notice at
 * once and register again instead of waiting for their silence timeout.
 * Best effort: sockets nobody reads any more just refuse.  Symlinks and
 * other non-sockets are skipped.
 */
void
notify_announce(struct rtm *env)
{
	uint8_t			 buf[MSG_HDR_LEN + 16];
	char			 path[PATH_MAX];
	struct msg_writer	 w;
	struct msg_header	 h;
	struct msg_record	 rec;
	struct dirent		*de;
	struct stat		 st;
	DIR			*d;
	size_t			 len;
	unsigned		 n = 0;

	peer_header(env, MSG_CHAN_NOTIFY, &h);
	msg_begin(&w, buf, sizeof(buf), &h);
	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_HEARTBEAT;
	rec.u.heartbeat.seq = env->seq;
	if (msg_put(&w, &rec) == -1 || (len = msg_finish(&w)) == 0 ||
	    (d = opendir(env->peerdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		/* Fallback names too: a previous rtm registered those. */
		if (!peername_match(de->d_name, "client", NULL))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", env->peerdir,
		    de->d_name) > UDS_PATH_MAX ||
		    lstat(path, &st) == -1 || !S_ISSOCK(st.st_mode))
			continue;
		if (uds_sendto_owned(env->sock, path, st.st_uid, buf,
		    len) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		log_info("told %u client(s) of a previous rtm about the "
		    "restart", n);
}

/*
 * SIGUSR1 to a client, only while its process is the one registered.
 * With a pidfd that is certain.  The fallback signals the pid, so it
 * first checks that the client's socket is still receiving: a client
 * that died closed it, and its pid may be anybody's by now.
 */
void
notify_signal(struct rtm *env, struct peer *p)
{
	p->signal_flush = 0;
	if (p->proc == -1 && !uds_alive(p->path)) {
		p->gone = 1;
		return;
	}
	if (os_proc_signal(p->proc, p->pid, SIGUSR1) == -1) {
		if (errno == ESRCH)
			p->gone = 1;
		else
			log_warn("signal client %d", (int)p->pid);
		return;
	}
	env->stats.signals++;
}

/*
 * End of a loop turn: everything built goes out.  A client waiting for
 * a dump gets it when its socket drains (the loop polls for POLLOUT),
 * so a stopped client costs nothing while it is stopped.
 */
void
notify_flush_all(struct rtm *env)
{
	notify_flush_kind(env, PEER_CLIENT);
	notify_flush_kind(env, PEER_ADMIN);
}

/*
 * Sends what is queued for one kind of peer.  The loop sends to clients
 * before the journal is synced and to admins after: an admin's reply is
 * the acknowledgement that must wait for the disk, while a client that
 * sees a change a crash then loses is told by the restarted rtm (new
 * instance id) and resyncs to the durable state.
 */
void
notify_flush_kind(struct rtm *env, enum peer_kind kind)
{
	if (kind == PEER_CLIENT)
		notify_distribute(env);
	for (struct peer *p = env->peers; p; p = p->next)
		if (p->kind == kind && !p->gone &&
		    (p->open != NULL || p->qlen > 0 || p->signal_flush))
			peer_send(env, p);
}
