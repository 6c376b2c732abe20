/*
 * mirror.c: librtmc's copy of rtm's tables; see mirror.h.
 */
#include <errno.h>
#include <string.h>

#include "digest.h"
#include "mactable.h"
#include "mirror.h"
#include "rtable.h"

int
mirror_init(struct mirror *m)
{
	int saved;

	memset(m, 0, sizeof(*m));
	m->routes = rtable_new();
	m->arp = mactable_new(sizeof(struct mirror_arp));
	if (m->routes == NULL || m->arp == NULL) {
		saved = errno ? errno : ENOMEM;
		rtable_free(m->routes);
		mactable_free(m->arp);
		memset(m, 0, sizeof(*m));
		errno = saved;
		return -1;
	}
	return 0;
}

static void
arp_detach(struct mirror *m, struct mirror_arp *e)
{
	if (e->seg == NULL)
		return;
	seg_detach(e->seg);
	e->seg = NULL;
	m->attached--;
}

static int
detach_one(const struct addr_mac *mac, void *value, void *arg)
{
	(void)mac;
	arp_detach(arg, value);
	return 0;
}

void
mirror_clear(struct mirror *m, int what)
{
	int saved = errno;

	if ((what & MIRROR_ROUTES) && m->routes != NULL) {
		rtable_clear(m->routes);
		m->route_digest = 0;
	}
	if ((what & MIRROR_ARP) && m->arp != NULL) {
		mactable_walk(m->arp, 0, detach_one, m);
		mactable_clear(m->arp);
		m->arp_digest = 0;
	}
	errno = saved;
}

void
mirror_free(struct mirror *m)
{
	int saved = errno;

	mirror_clear(m, MIRROR_ALL);
	rtable_free(m->routes);
	mactable_free(m->arp);
	memset(m, 0, sizeof(*m));
	errno = saved;
}

int
mirror_route_set(struct mirror *m, const struct addr_route *r,
    struct addr_route *old, int *replaced)
{
	*replaced = 0;
	if (rtable_set(m->routes, r, RTABLE_REPLACE, old, replaced) == -1)
		return -1;
	if (*replaced)
		m->route_digest -= digest_route(old);
	m->route_digest += digest_route(r);
	return 0;
}

void
mirror_route_prefetch(const struct mirror *m, const struct addr_prefix *dst)
{
	rtable_prefetch(m->routes, dst);
}

void
mirror_route_reserve(struct mirror *m, size_t n)
{
	int	 saved = errno;

	(void)rtable_reserve(m->routes, n);	/* a hint: failing is harmless */
	errno = saved;
}

int
mirror_route_del(struct mirror *m, const struct addr_prefix *dst,
    struct addr_route *old)
{
	if (rtable_del(m->routes, dst, old) == -1)
		return -1;
	m->route_digest -= digest_route(old);
	return 0;
}

int
mirror_arp_set(struct mirror *m, const struct addr_mac *mac, int32_t key,
    int32_t shmid, int *created)
{
	struct mirror_arp *e;

	if ((e = mactable_put(m->arp, mac, created)) == NULL)
		return -1;
	if (!*created && e->shmid != shmid)
		arp_detach(m, e);
	e->key = key;
	e->shmid = shmid;
	/* Its address changed, or it moved: what was read is stale. */
	m->arp_digest -= e->digest;
	e->digest = 0;
	return 0;
}

int
mirror_arp_account(struct mirror *m, const struct addr_mac *mac)
{
	struct mirror_arp	*e;
	const struct seg_header	*seg;
	uint32_t		 ip;
	int			 r, saved;

	if ((e = mactable_get(m->arp, mac)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	m->arp_digest -= e->digest;
	e->digest = 0;
	if (e->seg != NULL)
		r = seg_read_ip(e->seg, &ip);
	else {
		/*
		 * Not looked up yet: a mapping only for this read, so
		 * that a client maps just the MACs it uses.
		 */
		if ((seg = seg_attach(e->shmid, mac)) == NULL)
			return -1;
		r = seg_read_ip(seg, &ip);
		saved = errno;
		seg_detach(seg);
		errno = saved;
	}
	if (r == -1)
		return -1;
	e->digest = digest_arp(mac, ip);
	m->arp_digest += e->digest;
	return 0;
}

int
mirror_arp_del(struct mirror *m, const struct addr_mac *mac,
    struct mirror_arp *old)
{
	struct mirror_arp e;

	if (mactable_del(m->arp, mac, &e) == -1)
		return -1;
	arp_detach(m, &e);
	m->arp_digest -= e.digest;
	if (old != NULL)
		*old = e;
	return 0;
}

const struct mirror_arp *
mirror_arp_find(const struct mirror *m, const struct addr_mac *mac)
{
	return mactable_get(m->arp, mac);
}

int
mirror_arp_read_entry(struct mirror *m, const struct addr_mac *mac,
    struct mirror_arp *e, uint32_t *ip)
{
	if (e->seg == NULL) {
		if ((e->seg = seg_attach(e->shmid, mac)) == NULL)
			return -1;
		m->attached++;
	}
	return seg_read_ip(e->seg, ip);
}

int
mirror_arp_read(struct mirror *m, const struct addr_mac *mac, uint32_t *ip)
{
	struct mirror_arp *e;

	if ((e = mactable_get(m->arp, mac)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	return mirror_arp_read_entry(m, mac, e, ip);
}

uint64_t
mirror_digest(const struct mirror *m)
{
	return m->route_digest + m->arp_digest;
}
