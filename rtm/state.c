/*
 * state.c: the two tables, the table sequence number and the digest.
 *
 * Every change goes through here: it is applied, counted (seq + 1),
 * folded into the digest and announced to the clients, in that order.
 * A request that fails changes nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "mactable.h"
#include "os.h"
#include "rtable.h"
#include "rtm.h"

int
state_init(struct rtm *env)
{
	env->routes = rtable_new();
	env->arp = mactable_new(sizeof(struct arp_entry));
	env->ring_seq = calloc(RTM_DIGEST_RING, sizeof(uint64_t));
	env->ring_digest = calloc(RTM_DIGEST_RING, sizeof(uint64_t));
	if (env->routes == NULL || env->arp == NULL ||
	    env->ring_seq == NULL || env->ring_digest == NULL)
		return -1;
	env->ring_seq[0] = 0;
	env->ring_digest[0] = 0;
	return 0;
}

void
state_free(struct rtm *env)
{
	rtable_free(env->routes);
	mactable_free(env->arp);
	free(env->ring_seq);
	free(env->ring_digest);
	env->routes = NULL;
	env->arp = NULL;
}

uint64_t
state_digest(const struct rtm *env)
{
	return env->route_digest + env->arp_digest;
}

/* The digest rtm had right after applying change seq, if remembered. */
int
state_digest_at(const struct rtm *env, uint64_t seq, uint64_t *digest)
{
	size_t i = (size_t)(seq % RTM_DIGEST_RING);

	if (seq > env->seq || env->ring_seq[i] != seq)
		return -1;
	*digest = env->ring_digest[i];
	return 0;
}

/*
 * The seq a loaded snapshot was written at, once its records (each
 * counted as a change while applied) are in.  The digests remembered
 * meanwhile belong to no real seq: forgotten, with the current one kept
 * for the seq it is now.
 */
/* The digest at the current seq, remembered for state_digest_at(). */
static void
remember(struct rtm *env)
{
	size_t i = (size_t)(env->seq % RTM_DIGEST_RING);

	env->ring_seq[i] = env->seq;
	env->ring_digest[i] = state_digest(env);
}

void
state_seq_set(struct rtm *env, uint64_t seq)
{
	memset(env->ring_seq, 0xff, RTM_DIGEST_RING * sizeof(uint64_t));
	env->seq = seq;
	remember(env);
}

/* Counts one change: new seq, remembered digest. */
static uint64_t
state_bump(struct rtm *env)
{
	env->seq++;
	remember(env);
	return env->seq;
}

static void
announce_route(struct rtm *env, uint16_t type, const struct addr_route *r)
{
	struct msg_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = type;
	rec.u.route.seq = state_bump(env);
	rec.u.route.route = *r;
	notify_record(env, &rec);
}

static void
announce_arp(struct rtm *env, uint16_t type, const struct addr_mac *mac,
    const struct arp_entry *e)
{
	struct msg_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = type;
	rec.u.arp.seq = state_bump(env);
	rec.u.arp.mac = *mac;
	rec.u.arp.key = (int32_t)e->seg.key;
	rec.u.arp.shmid = e->seg.shmid;
	notify_record(env, &rec);
}

int
state_route_set(struct rtm *env, const struct addr_route *r, int mode,
    uint16_t *status, const char **why)
{
	struct addr_route	 old;
	int			 replaced = 0;

	if (addr_route_valid(r, why) == -1 || (!env->loading && r->has_gw &&
	    addr_gateway_check(r->gw, why) == -1)) {
		*status = MSG_ST_INVAL;
		return -1;
	}
	if (rtable_set(env->routes, r, (enum rtable_mode)mode, &old,
	    &replaced) == -1) {
		switch (errno) {
		case EEXIST:
			*status = MSG_ST_EXIST;
			*why = NULL;	/* the status says it */
			break;
		case ENOENT:
			*status = MSG_ST_NOENT;
			*why = NULL;
			break;
		case EINVAL:
			*status = MSG_ST_INVAL;
			*why = "invalid route";
			break;
		default:
			*status = MSG_ST_NOSPC;
			*why = "out of memory";
			break;
		}
		return -1;
	}
	persist_route_set(env, r);
	if (replaced)
		env->route_digest -= digest_route(&old);
	env->route_digest += digest_route(r);
	announce_route(env, replaced ? MSG_ROUTE_CHANGE : MSG_ROUTE_ADD, r);
	return 0;
}

int
state_route_del(struct rtm *env, const struct addr_prefix *dst,
    uint16_t *status, const char **why)
{
	struct addr_route old;

	if (addr_prefix_valid(dst, why) == -1) {
		*status = MSG_ST_INVAL;
		return -1;
	}
	if (rtable_del(env->routes, dst, &old) == -1) {
		*status = MSG_ST_NOENT;
		*why = NULL;
		return -1;
	}
	persist_route_del(env, dst);
	env->route_digest -= digest_route(&old);
	announce_route(env, MSG_ROUTE_DEL, &old);
	return 0;
}

static const char *
seg_error(uint16_t *status)
{
	switch (errno) {
	case ENOSPC:
		*status = MSG_ST_NOSPC;
		return "kernel limit on SysV objects reached (raise "
		    "kernel.shmmni, kernel.shmall or kernel.sem)";
	case EEXIST:
		*status = MSG_ST_BUSY;
		return "every key of this MAC is taken by other IPC objects";
	case ENOMEM:
		*status = MSG_ST_NOSPC;
		return "out of memory for shared segments (kernel.shmall)";
	default:
		*status = MSG_ST_INTERNAL;
		return "cannot create shared segment";
	}
}

int
state_arp_set(struct rtm *env, const struct addr_mac *mac, uint32_t ip,
    int mode, uint16_t *status, const char **why)
{
	struct arp_entry	*e;
	struct arp_entry	 fresh;
	int			 created;

	if (addr_mac_valid(mac, why) == -1) {
		*status = MSG_ST_INVAL;
		return -1;
	}
	e = mactable_get(env->arp, mac);
	if (e != NULL && mode == RTABLE_ADD) {
		*status = MSG_ST_EXIST;
		*why = NULL;
		return -1;
	}
	if (e == NULL && mode == RTABLE_CHANGE) {
		*status = MSG_ST_NOENT;
		*why = NULL;
		return -1;
	}
	if (e != NULL) {
		if (!env->dry && seg_write_ip(&e->seg, ip) == -1) {
			log_warn("arp: write segment %d", e->seg.shmid);
			*status = MSG_ST_INTERNAL;
			*why = "cannot write shared segment";
			return -1;
		}
		persist_arp_set(env, mac, ip);
		env->arp_digest -= digest_arp(mac, e->ip);
		e->ip = ip;
		env->arp_digest += digest_arp(mac, ip);
		announce_arp(env, MSG_ARP_CHANGE, mac, e);
		return 0;
	}

	memset(&fresh, 0, sizeof(fresh));
	if (env->dry)
		fresh.seg.shmid = -1;
	else if (env->loading && seg_adopt(env->dir, mac, &fresh.seg) == 0) {
		/*
		 * Left by an rtm that crashed: readers may still be attached,
		 * so keep it, and make sure it says what the state says.
		 */
		uint32_t cur;

		if ((seg_read_ip(fresh.seg.hdr, &cur) == -1 || cur != ip) &&
		    seg_write_ip(&fresh.seg, ip) == -1) {
			log_warn("arp: repair adopted segment %d",
			    fresh.seg.shmid);
			seg_destroy(env->dir, &fresh.seg);
			memset(&fresh, 0, sizeof(fresh));
		} else
			env->stats.adopted++;
	}
	if (!env->dry && fresh.seg.hdr == NULL && seg_create(env->dir, mac, ip,
	    RTM_SEG_MODE, env->instance, &fresh.seg) == -1) {
		*why = seg_error(status);
		log_warn("arp: create segment");
		return -1;
	}
	/* A snapshot child reads the addresses from the table, and its
	 * fork() would otherwise copy every segment's mapping. */
	if (fresh.seg.hdr != NULL)
		(void)os_nofork(fresh.seg.hdr, sizeof(*fresh.seg.hdr));
	fresh.ip = ip;
	if ((e = mactable_put(env->arp, mac, &created)) == NULL) {
		seg_destroy(env->dir, &fresh.seg);
		*status = MSG_ST_NOSPC;
		*why = "out of memory";
		return -1;
	}
	*e = fresh;
	persist_arp_set(env, mac, ip);
	env->arp_digest += digest_arp(mac, ip);
	announce_arp(env, MSG_ARP_ADD, mac, e);
	return 0;
}

int
state_arp_del(struct rtm *env, const struct addr_mac *mac, uint16_t *status,
    const char **why)
{
	struct arp_entry old;
	int		 shmid;

	if (addr_mac_valid(mac, why) == -1) {
		*status = MSG_ST_INVAL;
		return -1;
	}
	if (mactable_del(env->arp, mac, &old) == -1) {
		*status = MSG_ST_NOENT;
		*why = NULL;
		return -1;
	}
	persist_arp_del(env, mac);
	env->arp_digest -= digest_arp(mac, old.ip);
	announce_arp(env, MSG_ARP_DEL, mac, &old);
	shmid = old.seg.shmid;		/* seg_destroy() forgets it */
	seg_retire(&old.seg);
	if (!env->dry && seg_destroy(env->dir, &old.seg) == -1)
		log_warn("arp: remove segment %d", shmid);
	return 0;
}

static int
destroy_one(const struct addr_mac *mac, void *value, void *arg)
{
	struct arp_entry	*e = value;
	struct rtm		*env = arg;
	char			 m[ADDR_MAC_STRLEN];

	if (!env->dry && seg_destroy(env->dir, &e->seg) == -1)
		log_warn("arp: remove segment of %s",
		    addr_mac_format(mac, m));
	return 0;
}

static int
retire_one(const struct addr_mac *mac, void *value, void *arg)
{
	struct arp_entry *e = value;

	(void)mac;
	(void)arg;
	seg_retire(&e->seg);
	return 0;
}

void
state_destroy_segments(struct rtm *env)
{
	mactable_walk(env->arp, 0, destroy_one, env);
	mactable_clear(env->arp);
	env->arp_digest = 0;
}

void
state_flush(struct rtm *env, uint8_t what)
{
	struct msg_record rec;

	/*
	 * A flush and its signal must not wait for a bulk batch: what was
	 * kept goes out before it, and a bulk session's next batched
	 * change starts keeping again (notify_hold() sends the flush first).
	 */
	notify_release(env);
	persist_flush(env, what);
	if (what & MSG_FLUSH_ROUTE) {
		rtable_clear(env->routes);
		env->route_digest = 0;
	}
	if (what & MSG_FLUSH_ARP) {
		mactable_walk(env->arp, 0, retire_one, NULL);
		state_destroy_segments(env);
	}
	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_FLUSH;
	rec.u.flush.seq = state_bump(env);
	rec.u.flush.what = what;
	notify_record(env, &rec);
	for (struct peer *p = env->peers; p; p = p->next)
		if (p->kind == PEER_CLIENT)
			p->signal_flush = 1;
}

/*
 * After loading the state: segments whose MAC is not in the table were
 * left by an rtm that crashed; remove them (only ones whose header
 * names the key file's MAC: others are not ours).
 */
void
state_sweep_stale(struct rtm *env)
{
	char		 path[PATH_MAX], name[ADDR_MAC_STRLEN];
	DIR		*d;
	struct dirent	*de;
	struct addr_mac	 mac;
	struct seg	 s;
	unsigned	 removed = 0;

	if (snprintf(path, sizeof(path), "%s/%s", env->dir, SEG_KEYDIR) >=
	    (int)sizeof(path) || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 12 ||
		    strspn(de->d_name, "0123456789abcdef") != 12)
			continue;
		snprintf(name, sizeof(name), "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s",
		    de->d_name, de->d_name + 2, de->d_name + 4, de->d_name + 6,
		    de->d_name + 8, de->d_name + 10);
		if (addr_mac_parse(name, &mac, NULL) == -1 ||
		    mactable_get(env->arp, &mac) != NULL)
			continue;
		/*
		 * A key file without a valid segment may still lead to crash
		 * remnants that only rtm -C (seg_sweep) recognises: keep it.
		 */
		if (seg_adopt(env->dir, &mac, &s) == 0) {
			seg_destroy(env->dir, &s);
			removed++;
		}
	}
	closedir(d);
	if (removed > 0)
		log_info("removed %u stale segment(s) left by a previous rtm",
		    removed);
}
