/*
 * mactable.h: a hash table keyed by MAC address holding fixed-size
 * values, used for the ARP table by rtm (value: the segment) and by the
 * client library (value: the attachment).
 *
 * Values live inside the table: pointers returned by mactable_get() and
 * mactable_put() stay valid until the next put, del or clear.
 */
#ifndef RTM_MACTABLE_H
#define RTM_MACTABLE_H

#include <stddef.h>

#include "addr.h"

struct mactable;

struct mactable	*mactable_new(size_t value_size);
void		 mactable_free(struct mactable *t);
/* The value for mac, or NULL (errno = ENOENT). */
void		*mactable_get(const struct mactable *t, const struct addr_mac *mac);
/*
 * The value slot for mac, created zero-filled when absent (*created = 1).
 * NULL with ENOMEM.
 */
void		*mactable_put(struct mactable *t, const struct addr_mac *mac,
		    int *created);
/* Removes mac; copies its value to out when out is not NULL.  ENOENT. */
int		 mactable_del(struct mactable *t, const struct addr_mac *mac,
		    void *out);
size_t		 mactable_count(const struct mactable *t);
void		 mactable_clear(struct mactable *t);
/*
 * Calls cb for every entry, ordered by MAC when sorted is 1.  cb must
 * not modify the table; a non-zero return stops the walk and is returned.
 * A sorted walk returns -1 with ENOMEM, before any callback, when it
 * cannot allocate its 16 bytes per entry of scratch memory.
 */
int		 mactable_walk(const struct mactable *t, int sorted,
		    int (*cb)(const struct addr_mac *mac, void *value, void *arg),
		    void *arg);

#endif
