/*
 * digest.h: an order-independent 64-bit digest of the tables.
 *
 * Each entry hashes to 64 bits and a table's digest is the sum of its
 * entries' hashes modulo 2^64, so it is updated in O(1) on every change
 * (add the new entry's hash, subtract the old one's) and any two holders
 * of the same set of entries agree whatever order they applied them in.
 * Routes and ARP entries hash with distinct domain tags, so a route can
 * never cancel an ARP entry.
 */
#ifndef RTM_DIGEST_H
#define RTM_DIGEST_H

#include <stdint.h>

#include "addr.h"

uint64_t digest_route(const struct addr_route *r);
uint64_t digest_arp(const struct addr_mac *mac, uint32_t ip);

#endif
