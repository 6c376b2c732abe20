/*
 * peer.c: clients and admin sessions, and their output queues.
 *
 * Each peer gets its own socket connected to its path.  On Linux the
 * datagrams a receiver has not read yet count against the sending
 * socket's buffer, so with one shared socket a few stuck clients would
 * make every send fail; one socket per peer confines a stuck client to
 * its own queue.  Sends never block: what the kernel does not take
 * waits in the peer's queue, which is bounded.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os.h"
#include "rtm.h"

/* The header of the next datagram rtm sends on chan. */
void
peer_header(struct rtm *env, uint8_t chan, struct msg_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = MSG_VERSION;
	h->chan = chan;
	h->pid = (uint32_t)env->pid;
	h->seq = ++env->dgram_seq;
	h->instance = env->instance;
}

struct dgram *
dgram_new(struct rtm *env, uint8_t chan)
{
	struct dgram		*d;
	struct msg_header	 h;
	struct msg_writer	 w;

	if ((d = malloc(sizeof(*d) + MSG_MAX)) == NULL)
		return NULL;
	peer_header(env, chan, &h);
	msg_begin(&w, d->data, MSG_MAX, &h);
	d->refs = 1;
	d->len = w.len;
	d->cap = MSG_MAX;
	d->count = 0;
	return d;
}

void
dgram_unref(struct dgram *d)
{
	if (d != NULL && --d->refs == 0)
		free(d);
}

/* Appends to d; -1/ENOSPC when full. */
int
dgram_put(struct dgram *d, const struct msg_record *r)
{
	struct msg_writer w;

	w.buf = d->data;
	w.cap = d->cap;
	w.len = d->len;
	w.count = d->count;
	if (msg_put(&w, r) == -1)
		return -1;
	d->len = w.len;
	d->count = w.count;
	return 0;
}

/* Patches the header; called once a datagram is complete. */
void
dgram_finish(struct dgram *d)
{
	struct msg_writer w;

	w.buf = d->data;
	w.cap = d->cap;
	w.len = d->len;
	w.count = d->count;
	msg_finish(&w);
}

/* def unless $name is a decimal number in [min, max] (else a warning). */
static size_t
tunable(const char *name, size_t def, size_t min, size_t max)
{
	const char	*s;
	char		*end;
	unsigned long long v;

	if ((s = getenv(name)) == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == 0 && *end == '\0' && v >= min && v <= max)
		return (size_t)v;
	log_warnx("%s=%s: not %zu..%zu; using %zu", name, s, min, max, def);
	return def;
}

/*
 * Small values let tests reach each bound with a small burst: a client
 * that falls RTM_QUEUE_MAX behind, an admin that leaves replies unread,
 * a bulk batch, an idle admin session, a journal due for a snapshot.
 */
void
limits_read(struct rtm_limits *lim)
{
	struct rlimit rl;

	lim->queue_max = tunable("RTM_QUEUE_MAX", RTM_QUEUE_MAX, 64u << 10,
	    1u << 30);
	lim->admin_queue_max = tunable("RTM_ADMIN_QUEUE_MAX",
	    RTM_ADMIN_QUEUE_MAX, 64u << 10, 1u << 30);
	lim->admins_queue_max = tunable("RTM_ADMINS_QUEUE_MAX",
	    RTM_ADMINS_QUEUE_MAX, 64u << 10, 1u << 30);
	lim->bulk_min = tunable("RTM_BULK_MIN", RTM_BULK_MIN, 1, 1u << 30);
	lim->admin_idle_ns = tunable("RTM_ADMIN_IDLE_MS", RTM_ADMIN_IDLE_MS,
	    10, 3600000) * 1000000ULL;
	lim->journal_compact = tunable("RTM_JOURNAL_COMPACT",
	    RTM_JOURNAL_COMPACT, 1, 1u << 30);
	lim->fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : 1u << 20;
}

struct peer *
peer_find(struct rtm *env, const char *path)
{
	for (struct peer *p = env->peers; p; p = p->next)
		if (strcmp(p->path, path) == 0)
			return p;
	return NULL;
}

struct peer *
peer_new(struct rtm *env, enum peer_kind kind, const char *path,
    const struct uds_peer *from)
{
	struct peer	*p;
	struct stat	 st;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->fd = uds_connect_owned(path, from->uid)) == -1) {
		free(p);
		return NULL;
	}
	/* Which file is the peer's, should rtm have to remove it. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		p->dev = st.st_dev;
		p->ino = st.st_ino;
	}
	uds_set_bufs(p->fd, RTM_PEER_SNDBUF, 0);
	p->kind = kind;
	strncpy(p->path, path, sizeof(p->path) - 1);
	p->pid = from->pid;
	p->uid = from->uid;
	p->gid = from->gid;
	p->proc = -1;
	p->qlimit = env->lim.queue_max;	/* clients; see reply_room() */
	p->state = MSG_CS_SYNCING;
	p->last_ns = os_now_ns();
	if (kind == PEER_CLIENT) {
		/* A handle that stays with this process, not its pid. */
		p->proc = os_proc_open(p->pid);
		env->nclients++;
	} else
		env->nadmins++;
	p->next = env->peers;
	if (env->peers)
		env->peers->prev = p;
	env->peers = p;
	return p;
}

void
peer_drop_queue(struct rtm *env, struct peer *p)
{
	if (p->kind == PEER_ADMIN)
		env->admin_qbytes -= p->qbytes;
	while (p->qlen > 0) {
		dgram_unref(p->q[p->qhead]);
		p->qhead = (p->qhead + 1) % p->qcap;
		p->qlen--;
	}
	p->qhead = 0;
	p->qbytes = 0;
	dgram_unref(p->open);
	p->open = NULL;
}

void
peer_free(struct rtm *env, struct peer *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		env->peers = p->next;
	if (p->next)
		p->next->prev = p->prev;
	if (p->kind == PEER_CLIENT)
		env->nclients--;
	else {
		env->nadmins--;
		notify_bulk_end(env, p);
	}
	peer_drop_queue(env, p);
	free(p->q);
	close(p->fd);
	if (p->proc != -1)
		close(p->proc);
	free(p);
}

/*
 * Removes the socket file of a peer that went without a goodbye (it
 * crashed, or was killed), so that dead peers do not pile up in peers/;
 * 1 if it did.  Only the file registered, and only when nothing
 * receives there: the pid may be a new process's by now, with a socket
 * of its own at the same path.  Probe first, compare the inode last,
 * next to the unlink: a new socket bound before the probe answers it,
 * one bound after has another inode.  What is left is a process with
 * this pid replacing the file between lstat() and unlink(); it needs
 * the pid reused and that bind in those microseconds, and librtmc binds
 * anew when registering again.
 */
int
peer_unlink_dead(const struct peer *p)
{
	struct stat	 st;
	int		 e = errno, r;

	r = p->ino != 0 && uds_dead(p->path) &&
	    lstat(p->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == p->dev && st.st_ino == p->ino &&
	    unlink(p->path) == 0;
	errno = e;
	return r;
}

/* Queues a finished datagram (takes a reference). */
void
peer_enqueue(struct rtm *env, struct peer *p, struct dgram *d)
{
	if (p->qlen == p->qcap) {
		size_t		 ncap = p->qcap ? p->qcap * 2 : 16;
		struct dgram	**nq = malloc(ncap * sizeof(*nq));

		if (nq == NULL) {
			/* Nothing lost for good: the client resyncs. */
			p->need_dump = 1;
			peer_drop_queue(env, p);
			return;
		}
		for (size_t i = 0; i < p->qlen; i++)
			nq[i] = p->q[(p->qhead + i) % p->qcap];
		free(p->q);
		p->q = nq;
		p->qcap = ncap;
		p->qhead = 0;
	}
	d->refs++;
	p->q[(p->qhead + p->qlen) % p->qcap] = d;
	p->qlen++;
	p->qbytes += d->len;
	if (p->kind == PEER_ADMIN)
		env->admin_qbytes += d->len;
}

/* Closes the datagram being filled for p and queues it. */
void
peer_close_open(struct rtm *env, struct peer *p)
{
	if (p->open == NULL)
		return;
	dgram_finish(p->open);
	peer_enqueue(env, p, p->open);
	dgram_unref(p->open);
	p->open = NULL;
}

/* Appends one record for p alone, after everything broadcast so far. */
int
peer_put(struct rtm *env, struct peer *p, const struct msg_record *r)
{
	uint8_t chan = p->kind == PEER_ADMIN ? MSG_CHAN_REPLY : MSG_CHAN_NOTIFY;

	if (p->kind == PEER_CLIENT)
		notify_distribute(env);
	for (int tries = 0; tries < 2; tries++) {
		if (p->open == NULL &&
		    (p->open = dgram_new(env, chan)) == NULL)
			return -1;
		if (dgram_put(p->open, r) == 0)
			return 0;
		if (errno != ENOSPC)
			return -1;
		peer_close_open(env, p);
	}
	return -1;
}

/*
 * Sends what the kernel takes.  A vanished peer is freed by the caller
 * (the state flag tells it); a full one keeps its queue.
 */
void
peer_send(struct rtm *env, struct peer *p)
{
	peer_close_open(env, p);
	while (p->qlen > 0) {
		struct dgram *d = p->q[p->qhead];

		if (uds_send(p->fd, d->data, d->len) == -1) {
			switch (uds_fate(errno)) {
			case UDS_FULL:
				break;
			case UDS_GONE:
				peer_drop_queue(env, p);
				p->gone = 1;	/* reaped by the loop */
				return;
			default:
				log_warn("send to %s", p->path);
				peer_drop_queue(env, p);
				p->gone = 1;
				return;
			}
			break;
		}
		env->stats.dgrams_out++;
		env->stats.records_out += d->count;
		p->qbytes -= d->len;
		if (p->kind == PEER_ADMIN)
			env->admin_qbytes -= d->len;
		p->qhead = (p->qhead + 1) % p->qcap;
		p->qlen--;
		dgram_unref(d);
	}
	if (p->signal_flush)
		notify_signal(env, p);
}
