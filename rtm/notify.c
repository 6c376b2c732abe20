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
#include <string.h>
#include <unistd.h>

#include "mactable.h"
#include "os.h"
#include "rtable.h"
#include "rtm.h"

/* Queues the broadcast datagram being filled to every live client. */
void
notify_distribute(struct rtm *env)
{
	struct dgram *d = env->bcast;

	if (d == NULL)
		return;
	env->bcast = NULL;
	if (d->count > 0) {
		struct msg_writer w = { d->data, d->cap, d->len, d->count };

		msg_finish(&w);
		for (struct peer *p = env->peers; p; p = p->next) {
			if (p->kind != PEER_CLIENT || p->need_dump || p->gone)
				continue;
			if (p->open != NULL) {
				/* Keep p's own records in front. */
				struct dgram *o = p->open;
				struct msg_writer ow = { o->data, o->cap,
				    o->len, o->count };

				msg_finish(&ow);
				peer_enqueue(env, p, o);
				dgram_unref(o);
				p->open = NULL;
			}
			peer_enqueue(env, p, d);
			if (p->qbytes > p->qlimit) {
				/* Too far behind: a dump is cheaper. */
				log_debug("client %d: queue overflow, resync",
				    (int)p->pid);
				env->stats.overflows++;
				peer_drop_queue(p);
				p->need_dump = 1;
				p->state = MSG_CS_RESYNCING;
			}
		}
	}
	dgram_unref(d);
}

void
notify_record(struct rtm *env, const struct msg_record *r)
{
	if (env->nclients == 0)
		return;
	for (int tries = 0; tries < 2; tries++) {
		if (env->bcast == NULL &&
		    (env->bcast = dgram_new(env, MSG_CHAN_NOTIFY)) == NULL)
			break;
		{
			struct dgram *d = env->bcast;
			struct msg_writer w = { d->data, d->cap, d->len,
			    d->count };

			if (msg_put(&w, r) == 0) {
				d->len = w.len;
				d->count = w.count;
				return;
			}
			if (errno != ENOSPC)
				break;
		}
		notify_distribute(env);
	}
	/* Out of memory: every client must resync to stay correct. */
	log_warnx("notify: cannot queue a change; clients will resync");
	for (struct peer *p = env->peers; p; p = p->next)
		if (p->kind == PEER_CLIENT) {
			peer_drop_queue(p);
			p->need_dump = 1;
		}
}

struct dump_ctx {
	struct rtm	*env;
	struct peer	*peer;
	int		 failed;
};

static int
dump_route(const struct addr_route *r, void *arg)
{
	struct dump_ctx		*c = arg;
	struct msg_record	 rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_ROUTE_ADD;
	rec.u.route.route = *r;
	if (peer_put(c->env, c->peer, &rec) == -1)
		return c->failed = -1;
	return 0;
}

static int
dump_arp(const struct addr_mac *mac, void *value, void *arg)
{
	struct dump_ctx		*c = arg;
	struct arp_entry	*e = value;
	struct msg_record	 rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_ARP_ADD;
	rec.u.arp.mac = *mac;
	rec.u.arp.key = (int32_t)e->seg.key;
	rec.u.arp.shmid = e->seg.shmid;
	if (peer_put(c->env, c->peer, &rec) == -1)
		return c->failed = -1;
	return 0;
}

/* Queues a full dump of both tables for p. */
int
notify_dump(struct rtm *env, struct peer *p)
{
	struct msg_record	 rec;
	struct dump_ctx		 c = { env, p, 0 };

	notify_distribute(env);
	peer_drop_queue(p);
	p->need_dump = 0;
	p->state = MSG_CS_SYNCING;
	p->digest_ok = 0;
	env->stats.dumps++;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_SYNC_BEGIN;
	rec.u.sync_begin.seq = env->seq;
	rec.u.sync_begin.nroutes = (uint32_t)rtable_count(env->routes);
	rec.u.sync_begin.narp = (uint32_t)mactable_count(env->arp);
	if (peer_put(env, p, &rec) == -1)
		goto fail;
	rtable_walk(env->routes, 0, dump_route, &c);
	if (c.failed == 0)
		mactable_walk(env->arp, 0, dump_arp, &c);
	if (c.failed)
		goto fail;
	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_SYNC_END;
	rec.u.sync_end.seq = env->seq;
	rec.u.sync_end.digest = state_digest(env);
	if (peer_put(env, p, &rec) == -1)
		goto fail;
	/* The dump may be large; the bound is on what comes after it. */
	p->qlimit = peer_queue_max() + p->qbytes +
	    (p->open ? p->open->len : 0);
	p->last_sent_seq = env->seq;
	return 0;
fail:
	log_warnx("client %d: cannot build dump; will retry", (int)p->pid);
	peer_drop_queue(p);
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
	rec.u.heartbeat.seq = env->seq;
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
	rec.u.goodbye.pid = (uint32_t)getpid();
	notify_distribute(env);
	for (struct peer *p = env->peers; p; p = p->next) {
		if (p->kind != PEER_CLIENT || p->gone)
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
		const char *dot = strrchr(de->d_name, '.');
		size_t digits;

		if (strncmp(de->d_name, "client.", 7) != 0 || dot == NULL ||
		    strcmp(dot, ".sock") != 0)
			continue;
		digits = strspn(de->d_name + 7, "0123456789");
		if (digits == 0 || de->d_name + 7 + digits != dot)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", env->peerdir,
		    de->d_name) > UDS_PATH_MAX ||
		    lstat(path, &st) == -1 || !S_ISSOCK(st.st_mode))
			continue;
		if (uds_sendto(env->sock, path, buf, len) == 0)
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
