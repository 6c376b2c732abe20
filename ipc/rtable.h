/*
 * rtable.h: the IPv4 routing table shared by rtm and the client library.
 *
 * An exact-match index on (prefix, length) plus a longest-prefix-match
 * structure; no operation scans the table linearly except the walks.
 * Interface names are interned, so a route costs a few dozen bytes.
 */
#ifndef RTM_RTABLE_H
#define RTM_RTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct rtable;

struct rtable	*rtable_new(void);
void		 rtable_free(struct rtable *t);

/* Modes of rtable_set(). */
enum rtable_mode {
	RTABLE_ADD,		/* EEXIST when the prefix is present */
	RTABLE_CHANGE,		/* ENOENT when the prefix is absent */
	RTABLE_REPLACE,		/* either */
};

/*
 * Inserts or overwrites the route for r->dst.  When old is not NULL and
 * a route was overwritten, *old receives it and *replaced is 1.
 * The route must be valid (addr_route_valid()); EINVAL otherwise.
 * ENOMEM leaves the table unchanged; so does ENOSPC, returned when the
 * table is full (16,777,215 routes or 65,535 distinct interface names).
 */
int	rtable_set(struct rtable *t, const struct addr_route *r,
	    enum rtable_mode mode, struct addr_route *old, int *replaced);
/*
 * rtable_set() of r[0], r[1] ... r[n - 1], in that order: the same as n
 * calls, but each route's memory is fetched while the routes before it
 * are inserted, so a long run costs about a third less.  old and
 * replaced, when not NULL, have n elements, filled as rtable_set() fills
 * its own for the same route.  Stops at the first failure: -1 with
 * errno as rtable_set() gives it, the routes before it applied, it and
 * those after not.  *done (when not NULL) is the number applied.
 */
int	rtable_set_many(struct rtable *t, const struct addr_route *r,
	    size_t n, enum rtable_mode mode, struct addr_route *old,
	    int *replaced, size_t *done);
/*
 * A hint that dst is about to be set or deleted: starts fetching the
 * memory that will touch and returns at once; the routes are unchanged.
 * Any dst is safe, valid or not.  Called for each change a few changes
 * ahead of its rtable_set() or rtable_del() (4 to 8 ahead), it lets the
 * cache misses of consecutive changes overlap.
 */
void	rtable_prefetch(struct rtable *t, const struct addr_prefix *dst);
/*
 * A hint that the table is about to hold n routes in all (e.g. a dump
 * announced its size): sizes the exact-match index for them at once
 * rather than regrowing it along the way.  The room goes back with
 * rtable_clear(), or as deletes leave the index mostly empty.  ENOMEM
 * (the table is unchanged).
 */
int	rtable_reserve(struct rtable *t, size_t n);
/*
 * Removes the route for dst; *old (if not NULL) receives it.  ENOENT;
 * EINVAL when dst is not a valid prefix (also for rtable_find()).
 */
int	rtable_del(struct rtable *t, const struct addr_prefix *dst,
	    struct addr_route *old);
/* Exact match on (prefix, length).  ENOENT. */
int	rtable_find(const struct rtable *t, const struct addr_prefix *dst,
	    struct addr_route *out);
/* Longest-prefix match for addr (host order).  ENOENT. */
int	rtable_lookup(const struct rtable *t, uint32_t addr,
	    struct addr_route *out);
size_t	rtable_count(const struct rtable *t);
void	rtable_clear(struct rtable *t);
/* Bytes allocated by the table. */
size_t	rtable_memory(const struct rtable *t);

/*
 * Calls cb for every route; in addr_route_cmp() order when sorted is 1,
 * in an unspecified order (faster) otherwise.  The table must not be
 * modified during the walk.  A non-zero return from cb stops the walk
 * and is returned.  A sorted walk needs 16 bytes per route of scratch
 * memory: -1 with ENOMEM before any callback when it cannot get them.
 */
int	rtable_walk(const struct rtable *t, int sorted,
	    int (*cb)(const struct addr_route *r, void *arg), void *arg);

#endif
