/*
 * mirror.h: librtmc's copy of rtm's tables (private to client/).
 *
 * Routes live in an rtable, the same structure rtm uses, so lookups
 * give the same longest-prefix answers.  ARP entries live in a mactable
 * whose value says where the MAC's segment is and, once a lookup has
 * needed it, where it is attached.
 *
 * The digest acknowledged to rtm covers the addresses as read from the
 * segments, yet must not attach them (a client maps only the MACs it
 * looks up): each entry's share of it is read once, when the entry is
 * added or changed, through a short-lived attachment if the entry has
 * none, and kept in the entry.  So the digest is a sum kept up to date
 * per change, for ARP entries as for routes, and acknowledging costs
 * nothing.
 */
#ifndef RTMC_MIRROR_H
#define RTMC_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "shm.h"

#define MIRROR_ROUTES	0x1
#define MIRROR_ARP	0x2
#define MIRROR_ALL	(MIRROR_ROUTES | MIRROR_ARP)

struct mirror_arp {
	int32_t			 key;
	int32_t			 shmid;
	const struct seg_header	*seg;	/* NULL until the first lookup */
	uint64_t		 digest;	/* its part of arp_digest; 0
						 * when the segment could not
						 * be read */
};

struct mirror {
	struct rtable		*routes;
	struct mactable		*arp;
	uint64_t		 route_digest;	/* kept up to date per change */
	uint64_t		 arp_digest;	/* sum of the entries' digest */
	size_t			 attached;
};

int	mirror_init(struct mirror *m);
/* Detaches everything and frees the tables. */
void	mirror_free(struct mirror *m);
/* Empties the tables named by what (MIRROR_*), detaching segments. */
void	mirror_clear(struct mirror *m, int what);

/* Inserts or replaces; *replaced and *old say what was there.  EINVAL for
 * an invalid route, ENOMEM. */
int	mirror_route_set(struct mirror *m, const struct addr_route *r,
	    struct addr_route *old, int *replaced);
/* Hints (see rtable_prefetch(), rtable_reserve()); they change nothing. */
void	mirror_route_prefetch(const struct mirror *m,
	    const struct addr_prefix *dst);
void	mirror_route_reserve(struct mirror *m, size_t n);
/* ENOENT when absent. */
int	mirror_route_del(struct mirror *m, const struct addr_prefix *dst,
	    struct addr_route *old);

/*
 * Inserts or updates a MAC's location.  An entry whose segment moved
 * (another shmid) is detached first; the same shmid stays attached,
 * since rtm rewrites a segment in place.  *created is 1 for a new MAC.
 * The entry leaves the digest until mirror_arp_account() reads it.
 */
int	mirror_arp_set(struct mirror *m, const struct addr_mac *mac,
	    int32_t key, int32_t shmid, int *created);
/*
 * Reads mac's address from its segment (through the entry's attachment,
 * else attaching just for the read) and counts the entry in the digest
 * with it.  An entry whose segment cannot be read (a write left
 * incomplete, a segment removed or not this MAC's) is left out until
 * its next change: the digest then disagrees with rtm's, which is what
 * it is for.  Returns 0, or -1 with errno (ENOENT, or the errors of
 * seg_attach() and seg_read_ip()).
 */
int	mirror_arp_account(struct mirror *m, const struct addr_mac *mac);
/* Removes and detaches; *old (may be NULL) gets the entry.  ENOENT. */
int	mirror_arp_del(struct mirror *m, const struct addr_mac *mac,
	    struct mirror_arp *old);
/* Where mac's segment is, or NULL with ENOENT. */
const struct mirror_arp *mirror_arp_find(const struct mirror *m,
	    const struct addr_mac *mac);
/* The address (host order), attaching on first use.  ENOENT, or the
 * errors of seg_attach() and seg_read_ip(). */
int	mirror_arp_read(struct mirror *m, const struct addr_mac *mac,
	    uint32_t *ip);
/* Same, for an entry already found (e.g. during a walk). */
int	mirror_arp_read_entry(struct mirror *m, const struct addr_mac *mac,
	    struct mirror_arp *e, uint32_t *ip);

/*
 * The digest rtm compares with its own: every route, and every ARP
 * entry hashed with the address mirror_arp_account() read.  Touches no
 * segment.
 */
uint64_t mirror_digest(const struct mirror *m);

#endif
